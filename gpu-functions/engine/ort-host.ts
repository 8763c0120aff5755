import type { Worker } from "node:worker_threads";
import { startOrtThread } from "./ort-thread.ts";
import type { ExecutionProvider, RuntimeOptions } from "./runtime.ts";
import { ort } from "./runtime.ts";

/**
 * ONNX Runtime on its own thread. onnxruntime-node's `session.run` executes on the calling
 * JavaScript thread (its promise only defers the start with setImmediate), so a long denoiser
 * run would freeze everything else in the worker process: SQS heartbeats, S3 uploads, event
 * posts, and the engine's own host work. The sessions therefore live in a worker thread; the
 * main thread sends feeds (copied: latents are small next to the compute) and receives
 * outputs by transfer. While ORT computes, the main thread prepares the next chunk's noise,
 * turns the last decoded chunk into rgb24, runs other jobs' sampler steps and does I/O.
 */
type TensorData = Float32Array | BigInt64Array | Int32Array;
export interface WireTensor {
  type: string;
  dims: number[];
  data: TensorData;
}

/**
 * A feed assembled on the ORT thread from parts along dim 0, each part repeated: the rows of
 * classifier-free guidance share one sample, and batched jobs are concatenated, without the
 * main thread copying anything. With `lend`, the parts' buffers are transferred (not cloned:
 * a 4 MB clone costs ~3 ms, a transfer ~0.1 ms) and come back in RunResult.returned; until
 * then they are detached. Each lent part must own its whole ArrayBuffer.
 */
export interface TiledTensor {
  tiled: true;
  type: "float32";
  dims: number[];
  parts: TiledPart[];
  lend?: boolean;
  /**
   * The sampler step, done on the ORT thread right after the run: each part with an `update`
   * becomes a·x + Σ coef[r]·output row r (its rows of this output), in place, and the output
   * itself is not sent back. The latents never wait on the main thread between steps.
   */
  updateFrom?: string;
}

interface TiledPart {
  data: Float32Array;
  repeat: number;
  /** The model sees scale·data (Euler's input scaling); default 1. */
  scale?: number;
  update?: { a: number; coef: number[] };
}
type WireFeed = WireTensor | TiledTensor;

export type HostRequest =
  | { id: number; op: "create"; path: string; options: Omit<RuntimeOptions, "log"> }
  | { id: number; op: "run"; session: number; feeds: Record<string, WireFeed> }
  | { id: number; op: "release"; session: number };

export type HostResponse =
  | { op: "log"; msg: string; fields?: Record<string, unknown> }
  | { op: "reply"; id: number; ok: false; error: string }
  | {
      op: "reply";
      id: number;
      ok: true;
      session?: number;
      provider?: ExecutionProvider;
      ms?: number;
      inputMetadata?: readonly ort.InferenceSession.ValueMetadata[];
      outputMetadata?: readonly ort.InferenceSession.ValueMetadata[];
      outputs?: Record<string, WireTensor>;
      returned?: Record<string, Float32Array[]>;
    };

interface RunResult {
  outputs: Record<string, ort.Tensor>;
  /** Lent parts, by feed name, in order. */
  returned: Record<string, Float32Array[]>;
  /** Milliseconds inside ONNX Runtime for this run, measured on its thread. */
  ms: number;
}

/** A session on the ORT thread, with the parts of ort.InferenceSession the engine uses. */
export interface RemoteSession {
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly provider: ExecutionProvider;
  run(feeds: Record<string, ort.Tensor | TiledTensor>): Promise<RunResult>;
  release(): Promise<void>;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Pending = { resolve(r: Extract<HostResponse, { ok: true }>): void; reject(e: Error): void };

export class OrtHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failed: Error | undefined;
  private readonly log: RuntimeOptions["log"];

  /** `worker`: a thread from startOrtThread(), started earlier to boot beside other start-up work. */
  constructor(log?: RuntimeOptions["log"], worker: Worker = startOrtThread()) {
    this.log = log;
    this.worker = worker;
    this.worker.on("message", (msg: HostResponse) => {
      if (msg.op === "log") {
        this.log?.(msg.msg, msg.fields);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(msg.error));
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the ONNX Runtime thread exited (code ${code})`)));
  }

  private call(req: WithoutId<HostRequest>, transfer: ArrayBuffer[] = []): Promise<Extract<HostResponse, { ok: true }>> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async createSession(path: string, options: RuntimeOptions): Promise<RemoteSession> {
    const { log: _log, ...plain } = options;
    const res = await this.call({ op: "create", path, options: plain });
    const session = res.session!;
    return {
      inputMetadata: res.inputMetadata!,
      outputMetadata: res.outputMetadata!,
      provider: res.provider!,
      run: async (feeds) => {
        const wire: Record<string, WireFeed> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, t] of Object.entries(feeds)) {
          wire[name] = "tiled" in t ? t : { type: t.type, dims: [...t.dims], data: t.data as Float32Array };
          if ("tiled" in t && t.lend) {
            for (const part of t.parts) {
              if (part.data.byteOffset !== 0 || part.data.byteLength !== part.data.buffer.byteLength)
                throw new Error(`feed ${name}: a lent part must own its buffer`);
              if (!transfer.includes(part.data.buffer as ArrayBuffer)) transfer.push(part.data.buffer as ArrayBuffer);
            }
          }
        }
        const r = await this.call({ op: "run", session, feeds: wire }, transfer);
        const outputs: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(r.outputs!))
          outputs[name] = new ort.Tensor(t.type as "float32", t.data as Float32Array, t.dims);
        return { outputs, returned: r.returned ?? {}, ms: r.ms! };
      },
      release: async () => {
        if (!this.failed) await this.call({ op: "release", session });
      },
    };
  }

  /** False once the thread has failed or been closed (readiness, gpu-functions/health.ts). */
  get healthy(): boolean {
    return this.failed === undefined;
  }

  async close(): Promise<void> {
    this.failed ??= new Error("the ONNX Runtime thread is closed");
    await this.worker.terminate();
  }
}
