import type { LoadedModel } from "./model.ts";
import { gaussianNoise } from "./noise.ts";
import { ort } from "./runtime.ts";
import { ddim } from "./scheduler.ts";

/**
 * Text → video, one chunk at a time (DESIGN.md, issue 3): tokenize, encode the prompt and
 * the negative prompt once, then for each chunk denoise its latents with classifier-free
 * guidance (cond and uncond in one batch) and decode them. Each chunk's frames are yielded
 * as soon as they are decoded, so the caller encodes and uploads chunk k while chunk k+1
 * is computed (ONNX runs off the main thread).
 */
export interface GenerateRequest {
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  numChunks: number;
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
  /** Each denoiser run, in order (one per step; cond and uncond share a run). */
  stepMs: number[];
  decodeMs: number;
}

export interface GenerateStats {
  textEncoderMs: number;
}

/** Float planes [3, F, H, W] in [-1, 1] → interleaved rgb24 frames. */
export function toRgb24(planes: Float32Array, frames: number, height: number, width: number): Uint8Array {
  const plane = frames * height * width;
  const out = new Uint8Array(plane * 3);
  // One pass per channel over contiguous memory; Uint8Array's store does not clamp, so clamp
  // first; +0.5 then truncation rounds (values are non-negative after the clamp).
  for (let c = 0; c < 3; c++) {
    const src = planes.subarray(c * plane, (c + 1) * plane);
    for (let i = 0, o = c; i < plane; i++, o += 3) {
      const v = (src[i]! + 1) * 127.5 + 0.5;
      out[o] = v <= 0 ? 0 : v >= 255 ? 255 : v;
    }
  }
  return out;
}

export async function* generate(model: LoadedModel, req: GenerateRequest, stats?: GenerateStats): AsyncGenerator<GeneratedChunk> {
  const m = model.manifest;
  if (m.latent.layout !== "BCFHW") throw new Error(`latent layout ${m.latent.layout} is not supported yet`);
  const { channels: C, frames: F, height: h, width: w } = m.latent;
  const useCfg = req.guidance > 1;
  const batch = useCfg ? 2 : 1;
  const io = m.io;

  // Text: row 0 is the prompt, row 1 (with guidance) the negative prompt / empty prompt.
  const tokens = model.tokenizer.config.maxLength;
  const ids = new BigInt64Array(batch * tokens);
  ids.set(model.tokenizer.encode(req.prompt), 0);
  if (useCfg) ids.set(model.tokenizer.encode(req.negativePrompt), tokens);
  let t0 = performance.now();
  const text = (await model.sessions.textEncoder.run({ [io.text_encoder.input_ids]: new ort.Tensor("int64", ids, [batch, tokens]) }))[
    io.text_encoder.hidden_states
  ]!;
  if (stats) stats.textEncoderMs = performance.now() - t0;

  const size = C * F * h * w;
  const latentDims = [batch, C, F, h, w];
  for (let k = 0; k < req.numChunks; k++) {
    const scheduler = ddim(m.scheduler, m.prediction_type, req.steps);
    const x = gaussianNoise(req.seed, k, size);
    const input = new Float32Array(batch * size);
    const frameIndex = BigInt64Array.from({ length: F }, (_, i) => BigInt(k * F + i));
    const feeds: Record<string, ort.Tensor> = { [io.denoiser.encoder_hidden_states]: text };
    if (io.denoiser.frame_index) feeds[io.denoiser.frame_index] = new ort.Tensor("int64", frameIndex, [F]);
    const guided = new Float32Array(size);
    let denoiseMs = 0;
    const stepMs: number[] = [];
    for (let i = 0; i < scheduler.timesteps.length; i++) {
      for (let b = 0; b < batch; b++) input.set(x, b * size);
      feeds[io.denoiser.sample] = new ort.Tensor("float32", input, latentDims);
      feeds[io.denoiser.timestep] = new ort.Tensor("float32", new Float32Array(batch).fill(scheduler.timesteps[i]!), [batch]);
      t0 = performance.now();
      const out = (await model.sessions.denoiser.run(feeds))[io.denoiser.out]!.data as Float32Array;
      stepMs.push(performance.now() - t0);
      denoiseMs += stepMs.at(-1)!;
      if (useCfg) {
        // ε = ε_uncond + g · (ε_cond − ε_uncond)
        for (let j = 0; j < size; j++) guided[j] = out[size + j]! + req.guidance * (out[j]! - out[size + j]!);
        scheduler.step(i, guided, x);
      } else {
        scheduler.step(i, out.subarray(0, size), x);
      }
    }
    if (m.vae.scaling_factor !== 1) for (let j = 0; j < size; j++) x[j] = x[j]! / m.vae.scaling_factor;
    t0 = performance.now();
    const decoded = (await model.sessions.vaeDecoder.run({ [io.vae_decoder.latent]: new ort.Tensor("float32", x, [1, C, F, h, w]) }))[
      io.vae_decoder.sample
    ]!;
    const decodeMs = performance.now() - t0;
    const [, , frames, height, width] = decoded.dims as number[];
    yield {
      index: k,
      frames: toRgb24(decoded.data as Float32Array, frames!, height!, width!),
      frameCount: frames!,
      width: width!,
      height: height!,
      onnxMs: denoiseMs + decodeMs,
      denoiseMs,
      stepMs,
      decodeMs,
    };
  }
}
