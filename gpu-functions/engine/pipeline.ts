import type { Tier } from "../../shared/schemas/request.ts";
import { DenoiseBatcher } from "./batcher.ts";
import type { LoadedModel } from "./model.ts";
import { gaussianNoise } from "./noise.ts";
import { ort } from "./runtime.ts";
import { plan, type SchedulerName } from "./scheduler.ts";

/**
 * Text → video, one chunk at a time (DESIGN.md, issue 3): tokenize, encode the prompt and
 * the negative prompt once, then for each chunk denoise a window of latents with
 * classifier-free guidance (cond and uncond rows in one run, shared with other jobs by the
 * batcher) and decode the window's new frames. Each chunk is yielded as soon as it is
 * decoded, so the caller encodes and uploads chunk k while chunk k+1 is computed.
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
}

export interface GenerateStats {
  textEncoderMs: number;
}

export interface EngineOptions {
  /** Shares denoiser runs with other jobs; default: a private one (no batching). */
  batcher?: DenoiseBatcher;
}

type Layout = "BCFHW" | "BFCHW";

/** Float pixels in [-1, 1] ([3,F,H,W] or [F,3,H,W]) → interleaved rgb24 frames. */
export function toRgb24(pixels: Float32Array, frames: number, height: number, width: number, layout: Layout = "BCFHW"): Uint8Array {
  const hw = height * width;
  const out = new Uint8Array(frames * hw * 3);
  // One pass per (frame, channel) plane over contiguous memory; Uint8Array's store does not
  // clamp, so clamp first; +0.5 then truncation rounds (values are non-negative by then).
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < 3; c++) {
      const from = (layout === "BCFHW" ? c * frames + f : f * 3 + c) * hw;
      const src = pixels.subarray(from, from + hw);
      for (let i = 0, o = f * hw * 3 + c; i < hw; i++, o += 3) {
        const v = (src[i]! + 1) * 127.5 + 0.5;
        out[o] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** [offset, length] spans holding latent frames [from, to) of one sample. */
export function frameSpans(layout: Layout, channels: number, frames: number, plane: number, from: number, to: number): [number, number][] {
  if (to <= from) return [];
  if (layout === "BFCHW") return [[from * channels * plane, (to - from) * channels * plane]];
  return Array.from({ length: channels }, (_, c) => [(c * frames + from) * plane, (to - from) * plane] as [number, number]);
}

export async function* generate(model: LoadedModel, req: GenerateRequest, stats?: GenerateStats, opts: EngineOptions = {}): AsyncGenerator<GeneratedChunk> {
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

  // Text: row 0 is the prompt, row 1 (with guidance) the negative prompt / empty prompt.
  const tokens = model.tokenizer.config.maxLength;
  const ids = new BigInt64Array(rows * tokens);
  ids.set(model.tokenizer.encode(req.prompt), 0);
  if (useCfg) ids.set(model.tokenizer.encode(req.negativePrompt), tokens);
  let t0 = performance.now();
  const text = (await model.sessions.textEncoder.run({ [io.text_encoder.input_ids]: new ort.Tensor("int64", ids, [rows, tokens]) }))[
    io.text_encoder.hidden_states
  ]!;
  if (stats) stats.textEncoderMs = performance.now() - t0;

  // Guided update x' = a·x + b·(o_u + g·(o_c − o_u)) as x' = a·x + bc·o_c + bu·o_u.
  const g = useCfg ? req.guidance : 1;
  const context = frameSpans(layout, C, F, plane, 0, n);
  const newFrames = frameSpans(layout, C, F, plane, n, F);
  const tailFrames = frameSpans(layout, C, F, plane, F - n, F);
  let tail: Float32Array | undefined; // clean latents of the previous chunk's last n frames, packed
  const input = new Float32Array(rows * size);
  const timesteps = new Array<number>(rows);

  for (let k = 0; k < req.numChunks; k++) {
    // Noise is drawn in [C,F,h,w] order whatever the model's layout: a seed means one clip.
    const eps = layout === "BCFHW" ? gaussianNoise(req.seed, k, size) : toFrameMajor(gaussianNoise(req.seed, k, size), C, F, plane);
    const x = new Float32Array(size);
    for (let j = 0; j < size; j++) x[j] = p.initNoiseScale * eps[j]!;
    const frameIndex = BigInt64Array.from({ length: F }, (_, i) => BigInt(k * fresh + i));
    const lane = batcher.lane({ tier: req.tier ?? "standard", text, ...(io.denoiser.frame_index ? { frameIndex } : {}) });
    // Context frames at step i's noise level: alpha[i]·tail + sigma[i]·ε (ε fixed per chunk).
    const placeContext = (i: number) => {
      if (!tail) return;
      const al = p.alpha[i]!, si = p.sigma[i]!;
      let q = 0;
      for (const [off, len] of context) {
        for (let j = off; j < off + len; j++, q++) x[j] = al * tail[q]! + si * eps[j]!;
      }
    };
    placeContext(0);
    const scale0 = p.inputScale[0]!;
    for (let j = 0; j < size; j++) input[j] = scale0 * x[j]!;
    if (rows === 2) input.copyWithin(size, 0, size);

    let denoiseMs = 0;
    const stepMs: number[] = [];
    try {
      for (let i = 0; i < p.steps; i++) {
        timesteps.fill(p.timesteps[i]!);
        t0 = performance.now();
        const out = await lane.run(input, timesteps);
        stepMs.push(performance.now() - t0);
        denoiseMs += stepMs.at(-1)!;
        const a = p.a[i]!, bc = p.b[i]! * g, bu = p.b[i]! * (1 - g);
        const next = i + 1 < p.steps ? p.inputScale[i + 1]! : 0;
        if (rows === 2) {
          for (let j = 0; j < size; j++) {
            const v = a * x[j]! + bc * out[j]! + bu * out[size + j]!;
            x[j] = v;
            input[j] = next * v;
          }
        } else {
          for (let j = 0; j < size; j++) {
            const v = a * x[j]! + bc * out[j]!;
            x[j] = v;
            input[j] = next * v;
          }
        }
        if (i + 1 < p.steps) {
          if (tail) {
            placeContext(i + 1);
            for (const [off, len] of context) for (let j = off; j < off + len; j++) input[j] = next * x[j]!;
          }
          if (rows === 2) input.copyWithin(size, 0, size);
        }
      }
    } finally {
      lane.close();
    }

    if (n > 0) tail = pack(x, tailFrames, n * C * plane);
    // The VAE sees the window's new frames only, divided by its scaling factor.
    const latent = n > 0 ? pack(x, newFrames, fresh * C * plane) : x;
    if (m.vae.scaling_factor !== 1) {
      const inv = 1 / m.vae.scaling_factor;
      for (let j = 0; j < latent.length; j++) latent[j] = latent[j]! * inv;
    }
    const latentDims = layout === "BCFHW" ? [1, C, fresh, h, w] : [1, fresh, C, h, w];
    t0 = performance.now();
    const decoded = (await model.sessions.vaeDecoder.run({ [io.vae_decoder.latent]: new ort.Tensor("float32", latent, latentDims) }))[
      io.vae_decoder.sample
    ]!;
    const decodeMs = performance.now() - t0;
    const d = decoded.dims as number[];
    const outLayout = m.vae.output_layout;
    const frames = outLayout === "BCFHW" ? d[2]! : d[1]!;
    const [height, width] = [d[3]!, d[4]!];
    yield {
      index: k,
      frames: toRgb24(decoded.data as Float32Array, frames, height, width, outLayout),
      frameCount: frames,
      width,
      height,
      onnxMs: denoiseMs + decodeMs,
      denoiseMs,
      stepMs,
      decodeMs,
    };
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
    for (let f = 0; f < frames; f++) out.set(src.subarray((c * frames + f) * plane, (c * frames + f + 1) * plane), (f * channels + c) * plane);
  }
  return out;
}
