import { startOrtThread } from "./engine/ort-thread.ts";

/**
 * The GPU function's entrypoint (the images' CMD). Its ONNX Runtime thread is the cold start's
 * critical path (its own module loading, then the sessions), so it starts before
 * anything else is loaded; run-worker.ts does the rest (docs/worker.md).
 */
const ortThread = startOrtThread();
// Stopped while still loading: nothing taken, nothing to hand back. run-worker.ts drains after.
const stopEarly = () => process.exit(0);
process.once("SIGTERM", stopEarly).once("SIGINT", stopEarly);
const { runWorker } = await import("./run-worker.ts");
process.off("SIGTERM", stopEarly).off("SIGINT", stopEarly);
await runWorker(ortThread);
