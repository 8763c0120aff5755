import { hostname } from "node:os";
import { z } from "zod";
import { POLICY, QUEUES } from "../infra/scaling/policy.ts";
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
  REELMESH_VISIBILITY_TIMEOUT_S: z.coerce.number().int().min(5).max(43_200).default(QUEUES.visibilityTimeoutS),
  /** Receives before a failing job is given up: the queue's redrive count. */
  REELMESH_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(QUEUES.maxReceiveCount),
  /**
   * Drain (SIGTERM): seconds from the signal to the exit. A running job finishes its chunk when
   * it is committed in time, else drops it (gpu-functions/jobs/drain.ts); either way its message
   * is handed back.
   */
  REELMESH_DRAIN_S: z.coerce.number().min(0).max(3_600).default(POLICY.drainBoundS),
  /**
   * Visibility a drained job's message gets: 0 makes it receivable at once. The local stack sets
   * 1 (a fauxqs bug loses a message set to 0: docs/worker.md).
   */
  REELMESH_DRAIN_VISIBILITY_S: z.coerce.number().int().min(0).max(43_200).default(0),
  /** `ecs`, `kubernetes` or `none`; unset: what the environment shows (scale-in/protection.ts). */
  REELMESH_SCALE_IN_PROTECTION: z.enum(["ecs", "kubernetes", "none"]).optional(),
  /** ECS task protection's expiry, renewed while busy: about twice the longest job (docs/worker.md). */
  REELMESH_PROTECTION_EXPIRES_MIN: z.coerce.number().int().min(1).max(2_880).default(60),
  /** Injected by ECS into every task. */
  ECS_AGENT_URI: z.url().optional(),
  /** Injected by Kubernetes into every pod; POD_NAME and POD_NAMESPACE come from the downward API. */
  KUBERNETES_SERVICE_HOST: z.string().min(1).optional(),
  KUBERNETES_SERVICE_PORT: z.coerce.number().int().min(1).max(65_535).default(443),
  POD_NAME: z.string().min(1).optional(),
  POD_NAMESPACE: z.string().min(1).optional(),
  FFMPEG_PATH: z.string().default("ffmpeg"),
  /** Prometheus metrics (GET /metrics) and the probes (GET /healthz, /readyz) on this port; 0 = off. */
  REELMESH_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** A module whose default export is a SafetyHook (gpu-functions/safety/hook.ts); none by default. */
  REELMESH_SAFETY_HOOK: z.string().optional(),
  /**
   * How long an event the edge must not miss (a chunk, the end of the job) is retried before the
   * attempt gives up and its message is retried: by default as long as the edge waits for the job
   * (its REELMESH_JOB_TIMEOUT_S). The pause between tries doubles up to REELMESH_EVENT_BACKOFF_MAX_S.
   */
  REELMESH_EVENT_RETRY_S: z.coerce
    .number()
    .min(1)
    .max(86_400)
    .default(6 * 3600),
  REELMESH_EVENT_BACKOFF_MAX_S: z.coerce.number().min(0.1).max(300).default(5),
  /** Tries of one S3 call (5xx, throttling, a reset connection are retried with backoff and jitter). */
  REELMESH_S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
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
