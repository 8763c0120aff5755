import { Worker } from "node:worker_threads";

/**
 * Starts the ONNX Runtime thread (ort-worker.ts, driven by ort-host.ts). Its own module
 * loading (a TypeScript loader of its own, ONNX Runtime) takes about as long as the main
 * thread's, so the entrypoint starts it before loading anything else (docs/worker.md, cold start).
 */
export function startOrtThread(): Worker {
  return new Worker(new URL("./ort-worker.ts", import.meta.url));
}
