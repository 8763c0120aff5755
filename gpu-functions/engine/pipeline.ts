import type { Tier } from "../../shared/schemas/request.ts";
import { DenoiseBatcher } from "./batcher.ts";
import type { LoadedModel } from "./model.ts";
import { gaussianNoise } from "./noise.ts";
import { ort } from "./runtime.ts";
import { plan, type SchedulerName } from "./scheduler.ts";

/**
 * Text → video, one chunk at a time: tokenize, encode the prompt and
 * the negative prompt once, then for each chunk denoise a window of latents with
 * classifier-free guidance (cond and uncond rows in one run, shared with other jobs by the
 * batcher) and decode the window's new frames. Each chunk is yielded as soon as it is
 * decoded, so the caller encodes and uploads chunk k while chunk k+1 is computed. ORT runs
 * on its own thread (ort-host.ts), so the engine's host work (noise, rgb conversion, the
 * sampler update of other jobs) overlaps the model's compute instead of adding to it.
 *
 * Chunk k's window starts with the last `conditioning_frames` clean latents of chunk k−1,
 * brought to each step's noise level (replacement conditioning); the other frames are new.
 * Chunk 0 generates its first window whole and keeps only the frames after that context, so
 * every chunk has the same length. Latents stay in the model's layout (BCFHW or BFCHW): the
 * sampler update is elementwise, and only context frames need addressing by frame.
 */
export interface GenerateRequest {
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  numChunks: number;
  /** Default: the model's own (manifest `scheduler.type`). */
  scheduler?: SchedulerName;
  /** Batching priority; default standard. */
  tier?: Tier;
  /** Called as chunk `chunk` starts denoising. */
  onChunkStart?: (chunk: number, steps: number) => void;
  /** Called after each denoising step (1-based `step` of `steps`) of chunk `chunk`. */
  onStep?: (chunk: number, step: number, steps: number) => void;
  /**
   * Resume: start at this chunk (default 0). With conditioning frames, `tail` must be the
   * previous chunk's GeneratedChunk.tail; noise depends only on (seed, chunk), so the clip is
   * the same as if it had run through.
   */
  firstChunk?: number;
  tail?: Float32Array;
  /** Stops between steps (cancel): no further chunk is produced. */
  signal?: AbortSignal;
  /** Drain (SIGTERM): stop at a chunk boundary, or sooner; see DrainSignals. */
  drain?: DrainSignals;
}

/**
 * How a draining worker stops a job that another worker will resume (gpu-functions/jobs/drain.ts).
 * Either way every chunk already decoded is still yielded, so the resuming worker redoes at
 * most the chunk that was in progress.
 */
export interface DrainSignals {
  /** Aborted: no chunk starts after the one in progress, which completes. */
  afterChunk: AbortSignal;
  /** Aborted: the chunk in progress is dropped between steps. */
  now: AbortSignal;
}

export interface GeneratedChunk {
  index: number;
  /** rgb24, frame after frame. */
  frames: Uint8Array;
  frameCount: number;
  width: number;
  height: number;
  /** Milliseconds inside ONNX Runtime for this chunk (denoise + decode). */
  onnxMs: number;
  denoiseMs: number;
  /** Each denoiser run this chunk waited for, in order (a shared run counts whole). */
  stepMs: number[];
  decodeMs: number;
  /** Clean latents of this chunk's last conditioning frames: what chunk index+1 starts from. */
  tail: Float32Array | null;
  /**
   * Engine time per chunk on the critical path: the ORT thread's hand-off (wait for a run
   * minus the run itself: transfer, feed assembly, the guided sampler update), and the main
   * thread's own work between steps (conditioning frames).
   */
  handoffMs: number;
  updateMs: number;
}

export interface GenerateStats {
  textEncoderMs: number;
}

export interface EngineOptions {
  /** Shares denoiser runs with other jobs; default: a private one (no batching). */
  batcher?: DenoiseBatcher;
}

type Layout = "BCFHW" | "BFCHW";

/** Frames [from, to) of `pixels` into `out`: one sequential pass per frame over three planes. */
function toRgb24Frames(out: Uint8Array, pixels: Float32Array, frames: number, hw: number, layout: Layout, from: number, to: number): void {
  for (let f = from; f < to; f++) {
    const plane = (c: number) => (layout === "BCFHW" ? c * frames + f : f * 3 + c) * hw;
    const r = pixels.subarray(plane(0), plane(0) + hw);
    const g = pixels.subarray(plane(1), plane(1) + hw);
    const b = pixels.subarray(plane(2), plane(2) + hw);
    // Uint8Array's store does not clamp, so clamp first; +0.5 then truncation rounds (values
    // are non-negative by then).
    for (let i = 0, o = f * hw * 3; i < hw; i++, o += 3) {
      let v = (r[i]! + 1) * 127.5 + 0.5;
      out[o] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      v = (g[i]! + 1) * 127.5 + 0.5;
      out[o + 1] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      v = (b[i]! + 1) * 127.5 + 0.5;
      out[o + 2] = v <= 0 ? 0 : v >= 255 ? 255 : v;
    }
  }
}

/** [offset, length] spans holding latent frames [from, to) of one sample. */
function frameSpans(layout: Layout, channels: number, frames: number, plane: number, from: number, to: number): [number, number][] {
  if (to <= from) return [];
  if (layout === "BFCHW") return [[from * channels * plane, (to - from) * channels * plane]];
  return Array.from({ length: channels }, (_, c) => [(c * frames + from) * plane, (to - from) * plane] as [number, number]);
}

/** Decoded chunks the engine may hold ahead of a slow consumer. */
const MAX_READY = 2;

/**
 * The chunks, in order, as soon as each is decoded. A producer computes ahead of the consumer
 * (at most MAX_READY chunks), so host work overlaps the ORT thread's runs.
 */
export async function* generate(
  model: LoadedModel,
  req: GenerateRequest,
  stats?: GenerateStats,
  opts: EngineOptions = {},
): AsyncGenerator<GeneratedChunk> {
  const ready: GeneratedChunk[] = [];
  let finished = false;
  let stopped = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let space: (() => void) | undefined;
  const producer = (async () => {
    try {
      await produce(
        model,
        req,
        stats,
        opts,
        async (chunk) => {
          ready.push(chunk);
          wake?.();
          while (ready.length >= MAX_READY && !stopped) await new Promise<void>((r) => (space = r));
        },
        () => stopped,
      );
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    } finally {
      finished = true;
      wake?.();
    }
  })();
  try {
    for (;;) {
      if (ready.length > 0) {
        const chunk = ready.shift()!;
        space?.();
        yield chunk;
        continue;
      }
      if (finished) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    stopped = true;
    space?.();
    await producer;
  }
}

interface Decoded {
  index: number;
  pixels: ort.Tensor;
  denoiseMs: number;
  stepMs: number[];
  decodeMs: number;
  handoffMs: number;
  updateMs: number;
  tail: Float32Array | null;
}

/**
 * A decoded chunk being turned into rgb24 a few frames at a time, in the shadow of the next
 * chunk's denoiser runs (on a GPU one run hides it all; on a CPU a run may be shorter).
 */
class Conversion {
  readonly chunk: GeneratedChunk;
  private readonly pixels: Float32Array;
  private readonly hw: number;
  private readonly layout: Layout;
  private done = 0;

  constructor(d: Decoded, layout: Layout) {
    const dims = d.pixels.dims as number[];
    const frames = layout === "BCFHW" ? dims[2]! : dims[1]!;
    const [height, width] = [dims[3]!, dims[4]!];
    this.pixels = d.pixels.data as Float32Array;
    this.hw = height * width;
    this.layout = layout;
    this.chunk = {
      index: d.index,
      frames: new Uint8Array(frames * height * width * 3),
      frameCount: frames,
      width,
      height,
      onnxMs: d.denoiseMs + d.decodeMs,
      denoiseMs: d.denoiseMs,
      stepMs: d.stepMs,
      decodeMs: d.decodeMs,
      handoffMs: d.handoffMs,
      updateMs: d.updateMs,
      tail: d.tail,
    };
  }

  /** Converts frames until `budgetMs` is spent (at least one); true when all are done. */
  advance(budgetMs: number): boolean {
    const t0 = performance.now();
    const n = this.chunk.frameCount;
    while (this.done < n) {
      toRgb24Frames(this.chunk.frames, this.pixels, n, this.hw, this.layout, this.done, this.done + 1);
      this.done++;
      if (performance.now() - t0 >= budgetMs) break;
    }
    return this.done === n;
  }
}

async function produce(
  model: LoadedModel,
  req: GenerateRequest,
  stats: GenerateStats | undefined,
  opts: EngineOptions,
  emit: (chunk: GeneratedChunk) => Promise<void>,
  isStopped: () => boolean,
): Promise<void> {
  const m = model.manifest;
  const { channels: C, frames: F, height: h, width: w, layout } = m.latent;
  const n = m.conditioning_frames;
  const fresh = F - n;
  const plane = h * w;
  const size = C * F * plane;
  const useCfg = req.guidance > 1;
  const rows = useCfg ? 2 : 1;
  const io = m.io;
  const p = plan(req.scheduler ?? m.scheduler.type, m.scheduler, m.prediction_type, req.steps);
  const batcher = opts.batcher ?? new DenoiseBatcher(model, { maxJobs: 1 });
  // Noise is drawn in [C,F,h,w] order whatever the model's layout: a seed means one clip.
  const noise = (k: number) =>
    layout === "BCFHW" ? gaussianNoise(req.seed, k, size) : toFrameMajor(gaussianNoise(req.seed, k, size), C, F, plane);

  // Text: row 0 is the prompt, row 1 (with guidance) the negative prompt / empty prompt.
  const tokens = model.tokenizer.config.maxLength;
  const ids = new BigInt64Array(rows * tokens);
  ids.set(model.tokenizer.encode(req.prompt), 0);
  if (useCfg) ids.set(model.tokenizer.encode(req.negativePrompt), tokens);
  const textRun = model.sessions.textEncoder.run({ [io.text_encoder.input_ids]: new ort.Tensor("int64", ids, [rows, tokens]) });
  const firstChunk = req.firstChunk ?? 0;
  if (!Number.isInteger(firstChunk) || firstChunk < 0 || firstChunk >= req.numChunks)
    throw new Error(`firstChunk ${firstChunk} is outside 0..${req.numChunks - 1}`);
  if (
    firstChunk > 0 &&
    m.conditioning_frames > 0 &&
    req.tail?.length !== m.conditioning_frames * m.latent.channels * m.latent.height * m.latent.width
  ) {
    throw new Error(`resuming at chunk ${firstChunk} needs the previous chunk's tail latents`);
  }
  let nextNoise = noise(firstChunk); // while the text encoder runs
  const encoded = await textRun;
  const text = encoded.outputs[io.text_encoder.hidden_states]!;
  if (stats) stats.textEncoderMs = encoded.ms;

  // Guided update x' = a·x + b·(o_u + g·(o_c − o_u)) = a·x + b·g·o_c + b·(1−g)·o_u, applied on
  // the ORT thread (ort-worker.ts) right after each run.
  const g = useCfg ? req.guidance : 1;
  const context = frameSpans(layout, C, F, plane, 0, n);
  const newFrames = frameSpans(layout, C, F, plane, n, F);
  const tailFrames = frameSpans(layout, C, F, plane, F - n, F);
  // Clean latents of the previous chunk's last n frames, packed.
  let tail: Float32Array | undefined = firstChunk > 0 && n > 0 ? Float32Array.from(req.tail!) : undefined;
  const timesteps = new Array<number>(rows);
  let previous: Conversion | undefined;
  let noiseDue: boolean;
  let lastStepMs = 0;
  const drainNow = () => req.drain?.now.aborted === true;

  chunks: for (
    let k = firstChunk;
    k < req.numChunks && !isStopped() && !req.signal?.aborted && !drainNow() && !req.drain?.afterChunk.aborted;
    k++
  ) {
    const eps = nextNoise;
    let x: Float32Array = new Float32Array(size);
    for (let j = 0; j < size; j++) x[j] = p.initNoiseScale * eps[j]!;
    const frameIndex = BigInt64Array.from({ length: F }, (_, i) => BigInt(k * fresh + i));
    // Context frames at step i's noise level: alpha[i]·tail + sigma[i]·ε (ε fixed per chunk).
    const placeContext = (i: number) => {
      if (!tail) return;
      const al = p.alpha[i]!,
        si = p.sigma[i]!;
      let q = 0;
      for (const [off, len] of context) {
        for (let j = off; j < off + len; j++, q++) x[j] = al * tail[q]! + si * eps[j]!;
      }
    };
    placeContext(0);

    noiseDue = k + 1 < req.numChunks;
    req.onChunkStart?.(k, p.steps);
    const lane = batcher.lane({ tier: req.tier ?? "standard", text, ...(io.denoiser.frame_index ? { frameIndex } : {}) });
    let denoiseMs = 0;
    let handoffMs = 0;
    let updateMs = 0;
    const stepMs: number[] = [];
    try {
      for (let i = 0; i < p.steps; i++) {
        timesteps.fill(p.timesteps[i]!);
        // The latents are lent to the ORT thread, which runs the model on inputScale·x and applies
        // the guided sampler step to x in place before handing it back.
        const submitted = performance.now();
        const run = lane.run(x, timesteps, {
          inputScale: p.inputScale[i]!,
          a: p.a[i]!,
          coef: rows === 2 ? [p.b[i]! * g, p.b[i]! * (1 - g)] : [p.b[i]! * g],
        });
        // Host work while the ORT thread computes: finish the previous chunk (within about
        // one run's time per step), then draw the next chunk's noise.
        // The job's first chunk is finished at once: its playable segment waits for nothing else.
        const budget = previous?.chunk.index === firstChunk ? Infinity : 0.8 * lastStepMs;
        if (previous && previous.advance(budget)) {
          await emit(previous.chunk);
          previous = undefined;
        } else if (!previous && noiseDue) {
          nextNoise = noise(k + 1);
          noiseDue = false;
        }
        const { ms, sample } = await run;
        const updating = performance.now();
        handoffMs += updating - submitted - ms;
        x = sample;
        stepMs.push(ms);
        denoiseMs += ms;
        lastStepMs = ms;
        if (isStopped() || req.signal?.aborted) return;
        if (drainNow()) break chunks;
        if (i + 1 < p.steps) placeContext(i + 1);
        updateMs += performance.now() - updating;
        req.onStep?.(k, i + 1, p.steps);
      }
    } finally {
      lane.close();
    }
    // A chunk with few steps may not have finished its predecessor or its noise.
    if (previous) {
      previous.advance(Infinity);
      await emit(previous.chunk);
    }
    if (noiseDue) nextNoise = noise(k + 1);

    if (n > 0) tail = pack(x, tailFrames, n * C * plane);
    // The VAE sees the window's new frames only, divided by its scaling factor.
    const latent = n > 0 ? pack(x, newFrames, fresh * C * plane) : x;
    if (m.vae.scaling_factor !== 1) {
      const inv = 1 / m.vae.scaling_factor;
      for (let j = 0; j < latent.length; j++) latent[j] = latent[j]! * inv;
    }
    const latentDims = layout === "BCFHW" ? [1, C, fresh, h, w] : [1, fresh, C, h, w];
    const decodeStart = performance.now();
    const decoded = await model.sessions.vaeDecoder.run({ [io.vae_decoder.latent]: new ort.Tensor("float32", latent, latentDims) });
    handoffMs += performance.now() - decodeStart - decoded.ms;
    previous = new Conversion(
      {
        index: k,
        pixels: decoded.outputs[io.vae_decoder.sample]!,
        denoiseMs,
        stepMs,
        decodeMs: decoded.ms,
        handoffMs,
        updateMs,
        tail: tail ?? null,
      },
      m.vae.output_layout,
    );
  }
  if (previous && !isStopped()) {
    previous.advance(Infinity);
    await emit(previous.chunk);
  }
}

function pack(x: Float32Array, spans: [number, number][], total: number): Float32Array {
  const out = new Float32Array(total);
  let q = 0;
  for (const [off, len] of spans) {
    out.set(x.subarray(off, off + len), q);
    q += len;
  }
  return out;
}

/** [C,F,plane] → [F,C,plane]. */
function toFrameMajor(src: Float32Array, channels: number, frames: number, plane: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let c = 0; c < channels; c++) {
    for (let f = 0; f < frames; f++)
      out.set(src.subarray((c * frames + f) * plane, (c * frames + f + 1) * plane), (f * channels + c) * plane);
  }
  return out;
}
