import { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MODEL_FORMAT, type ModelManifest, type TensorSpec } from "../engine/manifest.ts";
import { alphasCumprod } from "../engine/scheduler.ts";
import { buildBank } from "./bank.ts";
import { buildDir, REFERENCE_SIZES, type ReferenceSize, type ReferenceSizeName } from "./sizes.ts";
import { GraphBuilder } from "./graph.ts";
import {
  DEFAULT_BG,
  DEFAULT_FG,
  DEFAULT_MOTION_LOGITS,
  DEFAULT_SHAPE_LOGITS,
  DIM,
  EMBED_DIM,
  LEXICON,
  MOTIONS,
  SHAPES,
  embedWord,
  rgbToLatent,
} from "./semantics.ts";

/**
 * Builds the reference model package: a genuine diffusion model under the package contract
 * (docs/engine.md), small enough for a CPU.
 *
 * - text encoder: token ids → per-token embeddings (a lookup table of word meanings).
 * - denoiser: an epsilon predictor whose x₀ estimate is the exact posterior mean under a
 *   Gaussian prior N(μ(text, frame), σ²I), where μ is the clip the prompt describes, drawn
 *   from a procedural bank of shapes × motions. Exact for that prior, so DDIM converges to
 *   μ plus seed-dependent texture of scale σ.
 * - VAE decoder: a 1×1 channel mix, bilinear ×4 upsampling (as matrices) and tanh.
 */

/**
 * How the package presents itself: real exports differ in exactly these ways, so the engine's
 * tests build the same model each way and expect the same clip.
 */
export interface ReferenceVariant {
  /** epsilon (DDIM/Euler) or flow (x_s = (1−s)x₀ + sε, predicts ε − x₀; flow matching). */
  prediction: "epsilon" | "flow";
  /** Latent layout of denoiser and VAE inputs; BFCHW also makes the VAE output [B,F,3,H,W]. */
  layout: "BCFHW" | "BFCHW";
  /** float32 [batch] (diffusers' UNets) or int64 [] (one timestep per run). */
  timestep: "float32[batch]" | "int64[]";
  /** Latent frames of the previous chunk at the start of each window. */
  conditioningFrames: number;
}
export const DEFAULT_VARIANT: ReferenceVariant = {
  prediction: "epsilon",
  layout: "BCFHW",
  timestep: "float32[batch]",
  conditioningFrames: 2,
};

export const REFERENCE_MODEL_ID = REFERENCE_SIZES.tiny.id;
export const DEFAULT_BUILD_DIR = buildDir("tiny");

const CHANNELS = 4;
/** New video frames per chunk (temporal factor 1); the window adds the conditioning frames. */
const CHUNK_FRAMES = 12;
const PERIOD = 24;
const PRIOR_SIGMA = 0.015;
const TRAIN_STEPS = 1000;
const BETA_START = 0.00085;
const BETA_END = 0.012;
const MAX_TOKENS = 32;

/** The training noise schedule, as the manifest states it; the engine's scheduler reads the same. */
const SCHEDULER = {
  type: "ddim",
  num_train_timesteps: TRAIN_STEPS,
  beta_start: BETA_START,
  beta_end: BETA_END,
  beta_schedule: "scaled_linear",
} as const;

function vocabulary(): string[] {
  return ["<pad>", "<unk>", ...Object.keys(LEXICON).sort()];
}

function textEncoder(vocab: string[]): Uint8Array {
  const g = new GraphBuilder("text_encoder");
  const ids = g.input("input_ids", "int64", ["batch", "tokens"]);
  const table = new Float32Array(vocab.length * EMBED_DIM);
  vocab.forEach((word, i) => {
    const meaning = LEXICON[word];
    if (meaning) table.set(embedWord(meaning), i * EMBED_DIM);
  });
  const emb = g.constant("token_embedding", [vocab.length, EMBED_DIM], table);
  g.op("Gather", [emb, ids], { axis: 0 }, "last_hidden_state");
  g.output("last_hidden_state", "float32", ["batch", "tokens", EMBED_DIM]);
  return g.encode("reelmesh reference text encoder: word meanings as embeddings");
}

/** A [rows, cols] weight matrix that copies `count` dims starting at `from`. */
function selector(from: number, count: number): Float32Array {
  const w = new Float32Array(EMBED_DIM * count);
  for (let i = 0; i < count; i++) w[(from + i) * count + i] = 1;
  return w;
}

/** Deterministic pseudo-random weights in [-1, 1) (a fixed LCG: same bytes on every build). */
function fixedWeights(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 31 - 1) * scale;
  }
  return out;
}

/**
 * The heavy size's backbone cost: `layers` self-attention layers over 8x8 latent patches of
 * every frame in the window (tokens = frames·(h/8)·(w/8), width 256), as a video DiT's
 * attention does. Each layer's attention rows sum to 1 up to rounding, and that row sum gates
 * the prediction, so the runtime must compute it all, while the clip stays the exact
 * posterior mean (to float rounding). Returns a [B,1,1,1,1] gate ≈ 1.
 */
function attentionGate(g: GraphBuilder, x: string, layers: number, h: number, w: number): string {
  const P = 8;
  const D = CHANNELS * P * P;
  const patches = g.op("Reshape", [
    g.op("Transpose", [g.op("Reshape", [x, g.ints("patch_split", [0, CHANNELS, -1, h / P, P, w / P, P])])], {
      perm: [0, 2, 3, 5, 1, 4, 6],
    }),
    g.ints("patch_tokens", [0, -1, D]),
  ]); // [B, T, D]
  let gate = g.scalar("gate_one", 1);
  for (let l = 0; l < layers; l++) {
    const q = g.op("MatMul", [patches, g.constant(`attn${l}_wq`, [D, D], fixedWeights(D * D, 17 + l, 1 / Math.sqrt(D)))]);
    const k = g.op("MatMul", [patches, g.constant(`attn${l}_wk`, [D, D], fixedWeights(D * D, 91 + l, 1 / Math.sqrt(D)))]);
    const scores = g.op("Mul", [
      g.op("MatMul", [q, g.op("Transpose", [k], { perm: [0, 2, 1] })]),
      g.scalar(`attn${l}_scale`, 1 / Math.sqrt(D)),
    ]);
    const rowSums = g.op("ReduceSum", [g.op("Softmax", [scores], { axis: -1 }), g.ints(`attn${l}_axis`, [-1])], { keepdims: 0 }); // [B, T] ≈ 1
    gate = g.op("Mul", [gate, g.op("ReduceMean", [rowSums], { axes: [1], keepdims: 1 })]); // [B, 1]
  }
  return g.op("Reshape", [gate, g.ints("gate_shape", [-1, 1, 1, 1, 1])]);
}

function denoiser(size: ReferenceSize, variant: ReferenceVariant): Uint8Array {
  const { latentH: LATENT_H, latentW: LATENT_W } = size;
  const g = new GraphBuilder("denoiser");
  const bcfhw = variant.layout === "BCFHW";
  const sample = g.input(
    "sample",
    "float32",
    bcfhw ? ["batch", CHANNELS, "frames", LATENT_H, LATENT_W] : ["batch", "frames", CHANNELS, LATENT_H, LATENT_W],
  );
  const x = bcfhw ? sample : g.op("Transpose", [sample], { perm: [0, 2, 1, 3, 4] });
  const t = variant.timestep === "float32[batch]" ? g.input("timestep", "float32", ["batch"]) : g.input("timestep", "int64", []);
  const text = g.input("encoder_hidden_states", "float32", ["batch", "tokens", EMBED_DIM]);
  const frameIndex = g.input("frame_index", "int64", ["frames"]);
  const pooled = g.op("ReduceSum", [text, g.ints("axis_tokens", [1])], { keepdims: 0 }); // [B, D]
  const pick = (name: string, from: number, count: number) =>
    g.op("MatMul", [pooled, g.constant(`${name}_select`, [EMBED_DIM, count], selector(from, count))]);
  const one = g.scalar("one", 1);

  // A colour given n times is averaged; with none, the default is used.
  const colour = (name: string, from: number, setDim: number, fallback: readonly [number, number, number]) => {
    const sum = pick(`${name}_sum`, from, 3);
    const n = pick(`${name}_count`, setDim, 1);
    const missing = g.op("Relu", [g.op("Sub", [one, n])]);
    const withDefault = g.op("Add", [
      sum,
      g.op("Mul", [missing, g.constant(`${name}_default`, [3], Float32Array.from(rgbToLatent(fallback)))]),
    ]);
    const mean = g.op("Div", [withDefault, g.op("Max", [n, one])]);
    return g.op("Reshape", [mean, g.ints(`${name}_shape5`, [0, 3, 1, 1, 1])]);
  };
  const fg = colour("fg", DIM.fg, DIM.fgSet, DEFAULT_FG);
  const bg = colour("bg", DIM.bg, DIM.bgSet, DEFAULT_BG);

  const weights = (name: string, from: number, defaults: number[]) =>
    g.op(
      "Softmax",
      [g.op("Add", [pick(name, from, defaults.length), g.constant(`${name}_prior`, [defaults.length], Float32Array.from(defaults))])],
      { axis: 1 },
    );
  const shapeW = weights("shape", DIM.shape, DEFAULT_SHAPE_LOGITS);
  const motionW = weights("motion", DIM.motion, DEFAULT_MOTION_LOGITS);
  const K = SHAPES.length * MOTIONS.length;
  const pairW = g.op("Reshape", [
    g.op("Mul", [g.op("Unsqueeze", [shapeW, g.ints("ax2", [2])]), g.op("Unsqueeze", [motionW, g.ints("ax1", [1])])]),
    g.ints("pair_shape", [0, K]),
  ]); // [B, K]

  const plane = LATENT_H * LATENT_W;
  const bank = g.constant("clip_bank", [K, PERIOD, plane], buildBank({ h: LATENT_H, w: LATENT_W, period: PERIOD }));
  const phase = g.op("Mod", [frameIndex, g.constant("period", [], BigInt64Array.of(BigInt(PERIOD)))]);
  const frames = g.op("Reshape", [g.op("Gather", [bank, phase], { axis: 1 }), g.ints("bank_flat", [K, -1])]);
  // An empty prompt (the unconditional branch of guidance) describes no object: the mask is
  // scaled by min(1, object words), so guidance does not subtract a phantom average object.
  const presence = g.op("Min", [pick("object_count", DIM.object, 1), one]); // [B, 1]
  const mask = g.op("Reshape", [
    g.op("Mul", [g.op("MatMul", [pairW, frames]), presence]),
    g.ints("mask_shape", [0, 1, -1, LATENT_H, LATENT_W]),
  ]);

  // μ: background + mask · (object − background); the 4th channel carries the mask (alpha).
  const rgb = g.op("Add", [bg, g.op("Mul", [mask, g.op("Sub", [fg, bg])])]);
  const mu = g.op("Concat", [rgb, g.op("Sub", [mask, g.scalar("half", 0.5)])], { axis: 1 });

  // The posterior mean of x₀ under the prior N(μ, σ²I) given x = α·x₀ + s·ε:
  // x̂₀ = μ + κ (x − α μ), κ = σ²α / (α²σ² + s²); ε̂ = (x − α x̂₀) / s.
  // ε models: α = √ᾱ_t, s = √(1 − ᾱ_t), output ε̂. Flow models: t = 1000·s, α = 1 − s, output ε̂ − x̂₀.
  let alpha: string, sig: string;
  if (variant.prediction === "epsilon") {
    const abar = g.op("Reshape", [
      g.op(
        "Gather",
        [g.constant("alphas_cumprod", [TRAIN_STEPS], Float32Array.from(alphasCumprod(SCHEDULER))), g.op("Cast", [t], { to: 7 })],
        { axis: 0 },
      ),
      g.ints("abar_shape", [-1, 1, 1, 1, 1]),
    ]);
    alpha = g.op("Sqrt", [abar]);
    sig = g.op("Sqrt", [g.op("Sub", [one, abar])]);
  } else {
    sig = g.op("Reshape", [
      g.op("Div", [g.op("Cast", [t], { to: 1 }), g.scalar("train_steps", TRAIN_STEPS)]),
      g.ints("sigma_shape", [-1, 1, 1, 1, 1]),
    ]);
    alpha = g.op("Sub", [one, sig]);
  }
  const s2 = g.scalar("prior_var", PRIOR_SIGMA * PRIOR_SIGMA);
  const kappa = g.op("Div", [
    g.op("Mul", [s2, alpha]),
    g.op("Add", [g.op("Mul", [g.op("Mul", [alpha, alpha]), s2]), g.op("Mul", [sig, sig])]),
  ]);
  const x0 = g.op("Add", [mu, g.op("Mul", [kappa, g.op("Sub", [x, g.op("Mul", [alpha, mu])])])]);
  const epsHat = g.op("Div", [g.op("Sub", [x, g.op("Mul", [alpha, x0])]), sig]);
  let pred = variant.prediction === "epsilon" ? epsHat : g.op("Sub", [epsHat, x0]);
  if (size.attentionLayers > 0) pred = g.op("Mul", [pred, attentionGate(g, x, size.attentionLayers, LATENT_H, LATENT_W)]);
  if (bcfhw) g.op("Identity", [pred], {}, "out_sample");
  else g.op("Transpose", [pred], { perm: [0, 2, 1, 3, 4] }, "out_sample");
  g.output(
    "out_sample",
    "float32",
    bcfhw ? ["batch", CHANNELS, "frames", LATENT_H, LATENT_W] : ["batch", "frames", CHANNELS, LATENT_H, LATENT_W],
  );
  return g.encode("reelmesh reference denoiser: exact posterior mean over a procedural clip bank");
}

/** Bilinear interpolation matrix [out, in] (half-pixel centres, edges clamped). */
function upsampleMatrix(n: number, factor: number): Float32Array {
  const out = n * factor;
  const m = new Float32Array(out * n);
  for (let i = 0; i < out; i++) {
    const src = Math.min(n - 1, Math.max(0, (i + 0.5) / factor - 0.5));
    const lo = Math.floor(src);
    const hi = Math.min(n - 1, lo + 1);
    m[i * n + lo]! += 1 - (src - lo);
    m[i * n + hi]! += src - lo;
  }
  return m;
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

function vaeDecoder(size: ReferenceSize, variant: ReferenceVariant): Uint8Array {
  const { latentH: LATENT_H, latentW: LATENT_W, spatial: SPATIAL } = size;
  const g = new GraphBuilder("vae_decoder");
  const H = LATENT_H * SPATIAL;
  const W = LATENT_W * SPATIAL;
  const bcfhw = variant.layout === "BCFHW";
  const z = g.input(
    "latent_sample",
    "float32",
    bcfhw ? ["batch", CHANNELS, "frames", LATENT_H, LATENT_W] : ["batch", "frames", CHANNELS, LATENT_H, LATENT_W],
  );
  // Channel mix: latent rgb ×2 (the decoder is tanh(2·l)). The 4th channel is the object's
  // alpha; it shapes the latents but does not add colour (guidance would tint it).
  const mix = new Float32Array([2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0]);
  const channelsLast = g.op("Transpose", [z], { perm: bcfhw ? [0, 2, 3, 4, 1] : [0, 1, 3, 4, 2] }); // [B, F, h, w, C]
  const mixed = g.op("Transpose", [g.op("MatMul", [channelsLast, g.constant("channel_mix", [CHANNELS, 3], mix)])], {
    perm: bcfhw ? [0, 4, 1, 2, 3] : [0, 1, 4, 2, 3],
  });
  const wide = g.op("MatMul", [mixed, g.constant("upsample_w", [LATENT_W, W], transpose(upsampleMatrix(LATENT_W, SPATIAL), W, LATENT_W))]);
  const tall = g.op("MatMul", [g.constant("upsample_h", [H, LATENT_H], upsampleMatrix(LATENT_H, SPATIAL)), wide]);
  g.op("Tanh", [tall], {}, "sample");
  g.output("sample", "float32", bcfhw ? ["batch", 3, "frames", H, W] : ["batch", "frames", 3, H, W]);
  return g.encode(`reelmesh reference VAE decoder: channel mix, bilinear x${SPATIAL}, tanh`);
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** Writes the package to `dir` (atomically: built aside, then renamed). Returns its manifest. */
export async function buildReferenceModel(
  sizeName: ReferenceSizeName = "tiny",
  dir = buildDir(sizeName),
  variant: ReferenceVariant = DEFAULT_VARIANT,
): Promise<ModelManifest> {
  const size: ReferenceSize = REFERENCE_SIZES[sizeName];
  const { latentH: LATENT_H, latentW: LATENT_W, spatial: SPATIAL } = size;
  const bcfhw = variant.layout === "BCFHW";
  const vocab = vocabulary();
  const tokenizer = JSON.stringify({ type: "word-level", lowercase: true, vocab }, null, 1);
  const files = {
    "text_encoder/model.onnx": textEncoder(vocab),
    "denoiser/model.onnx": denoiser(size, variant),
    "vae_decoder/model.onnx": vaeDecoder(size, variant),
  };
  const latent = (name: string): TensorSpec => ({
    name,
    dtype: "float32",
    shape: bcfhw ? ["batch", CHANNELS, "frames", LATENT_H, LATENT_W] : ["batch", "frames", CHANNELS, LATENT_H, LATENT_W],
  });
  const pixels = bcfhw
    ? ["batch", 3, "frames", LATENT_H * SPATIAL, LATENT_W * SPATIAL]
    : ["batch", "frames", 3, LATENT_H * SPATIAL, LATENT_W * SPATIAL];
  const text: TensorSpec = { name: "last_hidden_state", dtype: "float32", shape: ["batch", "tokens", EMBED_DIM] };
  const timestep: TensorSpec =
    variant.timestep === "float32[batch]"
      ? { name: "timestep", dtype: "float32", shape: ["batch"] }
      : { name: "timestep", dtype: "int64", shape: [] };
  const flow = variant.prediction === "flow";
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    id: size.id,
    version: "2",
    description: "Reference model: colours, shapes and motions in English and Chinese; exact posterior-mean denoiser.",
    graphs: {
      text_encoder: {
        file: "text_encoder/model.onnx",
        sha256: sha256(files["text_encoder/model.onnx"]),
        inputs: [{ name: "input_ids", dtype: "int64", shape: ["batch", "tokens"] }],
        outputs: [text],
      },
      denoiser: {
        file: "denoiser/model.onnx",
        sha256: sha256(files["denoiser/model.onnx"]),
        inputs: [
          latent("sample"),
          timestep,
          { ...text, name: "encoder_hidden_states" },
          { name: "frame_index", dtype: "int64", shape: ["frames"] },
        ],
        outputs: [latent("out_sample")],
      },
      vae_decoder: {
        file: "vae_decoder/model.onnx",
        sha256: sha256(files["vae_decoder/model.onnx"]),
        inputs: [latent("latent_sample")],
        outputs: [{ name: "sample", dtype: "float32", shape: pixels }],
      },
    },
    io: {
      text_encoder: { input_ids: "input_ids", hidden_states: "last_hidden_state" },
      denoiser: {
        sample: "sample",
        timestep: "timestep",
        encoder_hidden_states: "encoder_hidden_states",
        frame_index: "frame_index",
        out: "out_sample",
      },
      vae_decoder: { latent: "latent_sample", sample: "sample" },
    },
    tokenizer: {
      type: "word-level",
      file: "tokenizer/tokenizer.json",
      sha256: sha256(tokenizer),
      max_length: MAX_TOKENS,
      pad_id: 0,
      unk_id: 1,
    },
    latent: {
      channels: CHANNELS,
      frames: CHUNK_FRAMES + variant.conditioningFrames,
      height: LATENT_H,
      width: LATENT_W,
      layout: variant.layout,
    },
    conditioning_frames: variant.conditioningFrames,
    prediction_type: variant.prediction,
    scheduler: flow ? { ...SCHEDULER, type: "flow_match_euler", shift: 1 } : { ...SCHEDULER, shift: 1 },
    vae: { scaling_factor: 1, spatial_factor: SPATIAL, temporal_factor: 1, output_layout: variant.layout },
    defaults: { steps: 12, guidance: 3 },
    fps: 12,
    resolution: { width: LATENT_W * SPATIAL, height: LATENT_H * SPATIAL },
  };

  const staging = `${dir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  for (const [file, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(staging, file)), { recursive: true });
    await writeFile(join(staging, file), bytes);
  }
  await mkdir(join(staging, "tokenizer"), { recursive: true });
  await writeFile(join(staging, manifest.tokenizer.file), tokenizer);
  await writeFile(join(staging, "model.json"), JSON.stringify(manifest, null, 2) + "\n");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await rename(staging, dir);
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // npm run build:model [-- tiny|heavy [dir]]
  const sizeName = (process.argv[2] ?? "tiny") as ReferenceSizeName;
  if (!(sizeName in REFERENCE_SIZES)) {
    console.error(`unknown size "${sizeName}"; valid: ${Object.keys(REFERENCE_SIZES).join(", ")}`);
    process.exit(2);
  }
  const dir = resolve(process.argv[3] ?? buildDir(sizeName));
  const started = performance.now();
  const manifest = await buildReferenceModel(sizeName, dir);
  console.log(`built ${manifest.id} v${manifest.version} in ${dir} (${Math.round(performance.now() - started)} ms)`);
}
