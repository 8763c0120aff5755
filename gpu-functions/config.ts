import { hostname } from "node:os";
import { z } from "zod";
import { parseProviders } from "./engine/runtime.ts";

/** The GPU function's configuration, from the environment, checked once at start. */
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const WorkerConfigSchema = z.object({
  AWS_REGION: z.string().default("us-east-1"),
  /** Set for the local emulator; unset on AWS. */
  AWS_ENDPOINT_URL: z.url().optional(),
  SQS_QUEUE_URL_STANDARD: z.url(),
  SQS_QUEUE_URL_ECONOMY: z.url().optional(),
  REELMESH_EVENTS_SECRET: z.string().min(16),
  REELMESH_WORKER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** A model package folder; default: the reference model, built if missing. */
  REELMESH_MODEL_DIR: z.string().optional(),
  REELMESH_EXECUTION_PROVIDERS: z
    .string()
    .default("cpu")
    .transform((v, ctx) => {
      try {
        return parseProviders(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  REELMESH_ALLOW_CPU_FALLBACK: flag.default(false),
  REELMESH_INTRA_OP_THREADS: z.coerce.number().int().min(0).default(0),
  /**
   * Jobs this process runs at once. More than one lets step-compatible jobs share denoiser
   * runs (dynamic batching); a GPU image sets 4, a CPU has nothing to gain from it.
   */
  REELMESH_CONCURRENT_JOBS: z.coerce.number().int().min(1).max(16).default(1),
  /** Most jobs in one denoiser run, and the longest a run waits for them. */
  REELMESH_BATCH_MAX_JOBS: z.coerce.number().int().min(1).max(16).default(4),
  REELMESH_BATCH_MAX_WAIT_MS: z.coerce.number().min(0).max(1000).default(5),
  /** Exit (to be replaced) after this many jobs: ORT's memory grows across sessions. 0 = never. */
  REELMESH_MAX_JOBS: z.coerce.number().int().min(0).default(100),
  /** SQS visibility while a job runs; extended by a heartbeat at a third of it. */
  REELMESH_VISIBILITY_TIMEOUT_S: z.coerce.number().int().min(5).max(43_200).default(60),
  /** Receives before a failing job is given up (the queue's redrive count should match). */
  REELMESH_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  FFMPEG_PATH: z.string().default("ffmpeg"),
  /** Prometheus metrics on this port (GET /metrics); 0 = off. */
  REELMESH_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** A module whose default export is a SafetyHook (gpu-functions/safety/hook.ts); none by default. */
  REELMESH_SAFETY_HOOK: z.string().optional(),
  /** H.264 encoder: libx264 (CPU) or h264_nvenc (GPU images whose FFmpeg and driver have it). */
  REELMESH_VIDEO_CODEC: z.enum(["libx264", "h264_nvenc"]).default("libx264"),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = WorkerConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`invalid GPU function configuration:\n${lines}`);
  }
  return parsed.data;
}
