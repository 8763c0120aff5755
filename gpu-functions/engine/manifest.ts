import { z } from "zod";
import { SCHEDULERS } from "./scheduler.ts";

/**
 * `model.json`: the model-package contract (docs/engine.md). A folder with this manifest,
 * ONNX graphs for the text encoder, denoiser and VAE decoder, and tokenizer data, close to
 * the layout Hugging Face Optimum exports for diffusers. The engine reads only this to run a
 * model; nothing about the reference model is hard-coded.
 */
export const MODEL_FORMAT = "reelmesh-model/1";

const TensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(["float32", "float16", "int64", "int32"]),
  /** Dimensions; a string is a symbolic (free) dimension. */
  shape: z.array(z.union([z.int().min(1), z.string().min(1)])),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

const GraphSpecSchema = z.object({
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  inputs: z.array(TensorSpecSchema).min(1),
  outputs: z.array(TensorSpecSchema).min(1),
});
export type GraphSpec = z.infer<typeof GraphSpecSchema>;

export const ModelManifestSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  id: z.string().min(1),
  version: z.string().min(1),
  description: z.string().default(""),
  graphs: z.object({
    text_encoder: GraphSpecSchema,
    denoiser: GraphSpecSchema,
    vae_decoder: GraphSpecSchema,
  }),
  /** Which denoiser input is which (real exports name them differently). */
  io: z.object({
    text_encoder: z.object({ input_ids: z.string(), hidden_states: z.string() }),
    denoiser: z.object({
      sample: z.string(),
      timestep: z.string(),
      encoder_hidden_states: z.string(),
      /** Absolute latent frame index of each frame in the chunk, if the model takes it. */
      frame_index: z.string().optional(),
      out: z.string(),
    }),
    vae_decoder: z.object({ latent: z.string(), sample: z.string() }),
  }),
  tokenizer: z.object({
    type: z.literal("word-level"),
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    max_length: z.int().min(1),
    pad_id: z.int().min(0),
    unk_id: z.int().min(0),
  }),
  latent: z.object({
    channels: z.int().min(1),
    /** Latent frames per denoiser window (conditioning frames included). */
    frames: z.int().min(1),
    height: z.int().min(1),
    width: z.int().min(1),
    layout: z.enum(["BCFHW", "BFCHW"]),
  }),
  /**
   * Latent frames of chunk k−1 that condition chunk k: the first n frames of every denoiser
   * window hold the previous chunk's last n clean latents, re-noised to each step's level,
   * and only the window's other frames are new (0: continuity comes from frame_index alone).
   */
  conditioning_frames: z.int().min(0),
  prediction_type: z.enum(["epsilon", "v_prediction", "flow"]),
  /** The default sampler and the training noise schedule (betas: ε/v models; shift: flow). */
  scheduler: z.object({
    type: z.enum(SCHEDULERS),
    num_train_timesteps: z.int().min(1),
    beta_start: z.number().positive().default(0.00085),
    beta_end: z.number().positive().default(0.012),
    beta_schedule: z.enum(["linear", "scaled_linear"]).default("scaled_linear"),
    shift: z.number().positive().default(1),
  }),
  vae: z.object({
    scaling_factor: z.number().positive(),
    spatial_factor: z.int().min(1),
    temporal_factor: z.int().min(1),
    /** Layout of the decoded pixels, [B,3,F,H,W] or [B,F,3,H,W]; values in [-1, 1]. */
    output_layout: z.enum(["BCFHW", "BFCHW"]).default("BCFHW"),
  }),
  defaults: z.object({ steps: z.int().min(1), guidance: z.number().min(0) }),
  fps: z.int().min(1),
  /** Output frame size in pixels, derived from the latent and the VAE factors. */
  resolution: z.object({ width: z.int().min(1), height: z.int().min(1) }),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;
