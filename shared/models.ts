/**
 * The model catalogue both sides agree on: what the edge may accept for each model and the
 * geometry the GPU function will produce. A worker checks each job against its model package's
 * own manifest (model.json) and fails a job the package cannot make (unsupported_geometry,
 * unsupported_timing, unsupported_scheduler) rather than produce something else.
 */

/** Aspect ratios a mobile short-video app asks for; 9:16 (portrait) is the default. */
export const ASPECT_RATIOS = ["9:16", "16:9", "1:1"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/** Samplers the engine implements (gpu-functions/engine/scheduler.ts). */
export const SCHEDULERS = ["ddim", "euler", "flow_match_euler"] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

export interface ModelSpec {
  /** Frames per second of the decoded clip. */
  fps: number;
  /** Video frames produced per chunk; one chunk becomes one HLS segment. */
  chunkFrames: number;
  /** Resolution presets, named by their short side in pixels. */
  resolutions: Record<string, number>;
  defaultResolution: string;
  /** Aspect ratios the model's latent grid is built for. */
  aspectRatios: readonly AspectRatio[];
  /** Samplers that suit the model's prediction type; the first is its default. */
  schedulers: readonly SchedulerName[];
  defaultSteps: number;
  maxSteps: number;
  defaultGuidance: number;
  maxDurationS: number;
}

export const MODELS = {
  "reelmesh-ref-tiny": {
    fps: 12,
    chunkFrames: 12,
    resolutions: { "144p": 144 },
    defaultResolution: "144p",
    aspectRatios: ["9:16"],
    schedulers: ["ddim", "euler"],
    defaultSteps: 12,
    maxSteps: 50,
    defaultGuidance: 3,
    maxDurationS: 20,
  },
} as const satisfies Record<string, ModelSpec>;

export type ModelId = keyof typeof MODELS;
export const MODEL_IDS = Object.keys(MODELS) as [ModelId, ...ModelId[]];
export const DEFAULT_MODEL: ModelId = "reelmesh-ref-tiny";

/**
 * Width and height in pixels for a short side and aspect ratio. The long side is a multiple
 * of 16 and both are even: yuv420p needs even sizes and latent grids need multiples of 8.
 */
export function frameSize(shortSide: number, aspect: AspectRatio): { width: number; height: number } {
  const [a, b] = aspect.split(":").map(Number) as [number, number];
  const long = Math.round((shortSide * Math.max(a, b)) / Math.min(a, b) / 16) * 16;
  const even = (n: number) => n - (n % 2);
  return a < b ? { width: even(shortSide), height: even(long) } : { width: even(long), height: even(shortSide) };
}
