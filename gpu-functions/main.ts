import { SQSClient } from "@aws-sdk/client-sqs";
import { loadConfig } from "./config.ts";
import { Consumer } from "./consumer/consumer.ts";
import { DenoiseBatcher } from "./engine/batcher.ts";
import { loadModel } from "./engine/model.ts";
import { loadSafetyHook } from "./safety/hook.ts";
import { Metrics } from "./metrics.ts";
import { JobError, reportFailure, runJob } from "./jobs/run-job.ts";
import { jsonLogger } from "./log.ts";
import { ensureReferenceModel } from "./reference-model/ensure.ts";
import { s3Client } from "./storage/output.ts";

/**
 * A GPU function: load the model once, then consume jobs until told to stop (SIGTERM drains:
 * the current job finishes) or until REELMESH_MAX_JOBS, when it exits to be replaced.
 */
const config = loadConfig();
const log = jsonLogger({ worker_id: config.REELMESH_WORKER_ID });

const modelDir = config.REELMESH_MODEL_DIR ?? (await ensureReferenceModel());
const loadStarted = performance.now();
const model = await loadModel(modelDir, {
  providers: config.REELMESH_EXECUTION_PROVIDERS,
  allowCpuFallback: config.REELMESH_ALLOW_CPU_FALLBACK,
  intraOpThreads: config.REELMESH_INTRA_OP_THREADS,
  log,
});
const endpoint = config.AWS_ENDPOINT_URL;
const sqs = new SQSClient({ region: config.AWS_REGION, ...(endpoint ? { endpoint } : {}) });
const s3 = s3Client(config.AWS_REGION, endpoint);
const batcher = new DenoiseBatcher(model, { maxJobs: config.REELMESH_BATCH_MAX_JOBS, maxWaitMs: config.REELMESH_BATCH_MAX_WAIT_MS });
const metrics = new Metrics();
if (config.REELMESH_METRICS_PORT > 0) await metrics.serve(config.REELMESH_METRICS_PORT);
const safety = await loadSafetyHook(config.REELMESH_SAFETY_HOOK);
if (safety) log("safety hook loaded", { hook: safety.name ?? config.REELMESH_SAFETY_HOOK });
const deps = {
  model,
  batcher,
  safety,
  s3,
  eventsSecret: config.REELMESH_EVENTS_SECRET,
  workerId: config.REELMESH_WORKER_ID,
  ffmpegPath: config.FFMPEG_PATH,
  videoCodec: config.REELMESH_VIDEO_CODEC,
  log,
};

const consumer = new Consumer({
  sqs,
  standardQueueUrl: config.SQS_QUEUE_URL_STANDARD,
  ...(config.SQS_QUEUE_URL_ECONOMY ? { economyQueueUrl: config.SQS_QUEUE_URL_ECONOMY } : {}),
  visibilityTimeoutS: config.REELMESH_VISIBILITY_TIMEOUT_S,
  maxAttempts: config.REELMESH_MAX_ATTEMPTS,
  maxJobs: config.REELMESH_MAX_JOBS,
  concurrency: config.REELMESH_CONCURRENT_JOBS,
  log,
  async handle(job, { attempt, lastAttempt }) {
    log("job started", { job_id: job.job_id, tier: job.tier, attempt, chunks: job.num_chunks, steps: job.steps });
    try {
      const r = await runJob(job, deps);
      const tier = { tier: job.tier };
      metrics.add("reelmesh_jobs_total", 1, { ...tier, outcome: r.canceled ? "canceled" : "succeeded" });
      metrics.add("reelmesh_gpu_seconds_total", (r.textEncoderMs + r.denoiseMs + r.decodeMs) / 1000, tier);
      metrics.add("reelmesh_encode_seconds_total", r.encodeMs / 1000, tier);
      metrics.add("reelmesh_video_seconds_total", r.videoS, tier);
      metrics.add("reelmesh_bytes_stored_total", r.bytesStored, tier);
      log("job succeeded", {
        job_id: job.job_id,
        wall_ms: Math.round(r.wallMs),
        first_chunk_ms: Math.round(r.firstChunkMs),
        text_encoder_ms: Math.round(r.textEncoderMs),
        denoise_ms: Math.round(r.denoiseMs),
        decode_ms: Math.round(r.decodeMs),
        encode_ms: Math.round(r.encodeMs),
        upload_ms: Math.round(r.uploadMs),
      });
      return "done";
    } catch (err) {
      const permanent = err instanceof JobError && !err.retryable;
      const code = err instanceof JobError ? err.code : "generation_failed";
      log("job failed", { job_id: job.job_id, attempt, code, error: (err as Error).message, will_retry: !permanent && !lastAttempt });
      if (permanent || lastAttempt) {
        await reportFailure(job, deps, code, (err as Error).message);
        return "done";
      }
      return "retry";
    }
  },
});

const shutdown = (signal: string) => {
  log("draining", { signal });
  consumer.stop();
};
process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));

log("worker ready", {
  model: model.manifest.id,
  provider: model.provider,
  concurrent_jobs: config.REELMESH_CONCURRENT_JOBS,
  load_ms: Math.round(performance.now() - loadStarted),
});
await consumer.run();
await model.release();
log("worker stopped", { jobs: consumer.jobsHandled });
process.exit(0);
