import type { Worker } from "node:worker_threads";
import { z } from "zod";
import { loadConfig } from "./config.ts";
import { DenoiseBatcher } from "./engine/batcher.ts";
import { loadModel } from "./engine/model.ts";
import { OrtHost } from "./engine/ort-host.ts";
import { Health, serveProbes } from "./health.ts";
import { Drain } from "./jobs/drain.ts";
import { jsonLogger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { ensureReferenceModel } from "./reference-model/ensure.ts";

/**
 * A GPU function (docs/worker.md), started by main.ts with its ONNX Runtime thread already
 * booting: probes up first, then the model loaded once, then jobs consumed until
 * REELMESH_MAX_JOBS (it exits to be replaced) or a SIGTERM, which drains: no new job, each running
 * one stopped at a chunk boundary within REELMESH_DRAIN_S and handed back to the queue for
 * another worker to resume, then exit 0.
 */
/** A drain that overruns its bound (a hung upload) still ends; its messages return after their visibility timeout. */
const DRAIN_OVERRUN_GRACE_MS = 5_000;

/** What a malformed message must still say for its job to be told it failed. */
const NamedJobSchema = z.object({ job_id: z.string().min(1).max(64), events_url: z.url() });
const parseOrNull = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
};

export async function runWorker(ortThread: Worker): Promise<never> {
  const config = loadConfig();
  const log = jsonLogger({ worker_id: config.REELMESH_WORKER_ID });
  // The cold start's critical path is the ONNX Runtime thread (its start, then the sessions): this
  // thread imports the AWS SDK and the job code meanwhile (docs/worker.md).
  const ortHost = new OrtHost(log, ortThread);
  const health = new Health();
  const metrics = new Metrics();

  const drain = new Drain();
  /** Set once jobs may be taken: until then a SIGTERM has nothing to hand back. */
  const running: { consumer: { stop(): void } | null } = { consumer: null };
  const shutdown = (signal: NodeJS.Signals) => {
    if (drain.begun) return;
    log("draining", { signal, bound_s: config.REELMESH_DRAIN_S });
    health.drain();
    drain.begin(config.REELMESH_DRAIN_S * 1000);
    if (!running.consumer) {
      log("worker stopped", { jobs: 0 });
      return process.exit(0);
    }
    running.consumer.stop();
    setTimeout(
      () => {
        log("drain overran its bound", { bound_s: config.REELMESH_DRAIN_S });
        process.exit(1);
      },
      config.REELMESH_DRAIN_S * 1000 + DRAIN_OVERRUN_GRACE_MS,
    ).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  const probes = config.REELMESH_METRICS_PORT > 0 ? await serveProbes(config.REELMESH_METRICS_PORT, "0.0.0.0", { health, metrics }) : null;

  const loadStarted = performance.now();
  const loading = (async () => {
    const runtime = {
      providers: config.REELMESH_EXECUTION_PROVIDERS,
      allowCpuFallback: config.REELMESH_ALLOW_CPU_FALLBACK,
      intraOpThreads: config.REELMESH_INTRA_OP_THREADS,
      log,
    };
    const model = await loadModel(config.REELMESH_MODEL_DIR ?? (await ensureReferenceModel()), runtime, ortHost);
    const loadMs = performance.now() - loadStarted;
    const batcher = new DenoiseBatcher(model, { maxJobs: config.REELMESH_BATCH_MAX_JOBS, maxWaitMs: config.REELMESH_BATCH_MAX_WAIT_MS });
    return { model, batcher, loadMs };
  })();
  // A failed load surfaces where it is awaited, below.
  loading.catch(() => {});
  const [{ SQSClient }, { Consumer }, { JobError, reportFailure, runJob }, { s3Client }, { loadSafetyHook }, scaleIn] = await Promise.all([
    import("@aws-sdk/client-sqs"),
    import("./consumer/consumer.ts"),
    import("./jobs/run-job.ts"),
    import("./storage/output.ts"),
    import("./safety/hook.ts"),
    import("./scale-in/protection.ts"),
  ]);
  const endpoint = config.AWS_ENDPOINT_URL;
  const sqs = new SQSClient({ region: config.AWS_REGION, ...(endpoint ? { endpoint } : {}) });
  const s3 = s3Client(config.AWS_REGION, endpoint, config.REELMESH_S3_MAX_ATTEMPTS);
  // Credentials resolved now (the task role's, on ECS), and Node's HTTP client for events (which
  // loads on the first fetch) made ready, rather than on the first job's critical path.
  await fetch("data:,");
  await Promise.all([sqs.config.credentials(), s3.config.credentials()]).catch((err: unknown) =>
    log("credentials not resolved at start", { error: (err as Error).message }),
  );
  const safety = await loadSafetyHook(config.REELMESH_SAFETY_HOOK);
  if (safety) log("safety hook loaded", { hook: safety.name ?? config.REELMESH_SAFETY_HOOK });
  const protection = await scaleIn.createProtection(config, log);
  const { model, batcher, loadMs } = await loading;
  const deps = {
    model,
    batcher,
    safety,
    s3,
    eventsSecret: config.REELMESH_EVENTS_SECRET,
    workerId: config.REELMESH_WORKER_ID,
    ffmpegPath: config.FFMPEG_PATH,
    videoCodec: config.REELMESH_VIDEO_CODEC,
    drain,
    eventRetryMs: config.REELMESH_EVENT_RETRY_S * 1000,
    eventBackoffMaxMs: config.REELMESH_EVENT_BACKOFF_MAX_S * 1000,
    log,
  };

  const jobs = new Consumer({
    sqs,
    standardQueueUrl: config.SQS_QUEUE_URL_STANDARD,
    ...(config.SQS_QUEUE_URL_ECONOMY ? { economyQueueUrl: config.SQS_QUEUE_URL_ECONOMY } : {}),
    visibilityTimeoutS: config.REELMESH_VISIBILITY_TIMEOUT_S,
    maxAttempts: config.REELMESH_MAX_ATTEMPTS,
    maxJobs: config.REELMESH_MAX_JOBS,
    concurrency: config.REELMESH_CONCURRENT_JOBS,
    releaseVisibilityS: config.REELMESH_DRAIN_VISIBILITY_S,
    protection,
    log,
    async onInvalid(body, { lastAttempt }) {
      // Its next receive dead-letters it: the job it names (if any) fails now, refunded, its webhook sent.
      const named = lastAttempt ? NamedJobSchema.safeParse(parseOrNull(body)) : null;
      if (named?.success)
        await reportFailure(named.data, deps, "invalid_job_message", "the job message is malformed; it was dead-lettered");
    },
    async handle(job, { attempt, lastAttempt, messageId }) {
      if (drain.begun) return "release";
      log("job started", { job_id: job.job_id, tier: job.tier, attempt, chunks: job.num_chunks, steps: job.steps });
      try {
        const r = await runJob(job, deps, messageId);
        // Told to stop before computing: owned by another run (back off), or for nobody (settled).
        if (r.backOffS !== null) return { releaseAfterS: r.backOffS };
        if (r.overtaken) return "leave";
        if (r.dropped) return "done";
        const tier = { tier: job.tier };
        metrics.add("reelmesh_jobs_total", 1, { ...tier, outcome: r.handedBack ? "handed_back" : r.canceled ? "canceled" : "succeeded" });
        metrics.add("reelmesh_gpu_seconds_total", (r.textEncoderMs + r.denoiseMs + r.decodeMs) / 1000, tier);
        metrics.add("reelmesh_encode_seconds_total", r.encodeMs / 1000, tier);
        metrics.add("reelmesh_video_seconds_total", r.videoS, tier);
        metrics.add("reelmesh_bytes_stored_total", r.bytesStored, tier);
        // Handed back: another worker resumes it; the edge hears nothing from this one.
        if (r.handedBack) return "release";
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
        // Draining: another worker retries it now rather than after the retry delay.
        if (!permanent && drain.begun) return "release";
        if (permanent || lastAttempt) {
          // Deleted only once the edge has the failure; else left to be retried (or dead-lettered).
          return (await reportFailure(job, deps, code, (err as Error).message)) ? "done" : "retry";
        }
        return "retry";
      }
    },
  });

  running.consumer = jobs;
  health.modelLoaded(model);
  log("worker ready", {
    model: model.manifest.id,
    provider: model.provider,
    concurrent_jobs: config.REELMESH_CONCURRENT_JOBS,
    scale_in_protection: scaleIn.protectionMode(config),
    load_ms: Math.round(loadMs),
    // performance.now() counts from the process's start: the cold start up to here.
    since_start_ms: Math.round(performance.now()),
  });
  await jobs.run();
  const drainedMs = drain.begun ? Math.round(performance.now() - drain.startedAt) : undefined;
  await model.release();
  probes?.close();
  log("worker stopped", { jobs: jobs.jobsHandled, ...(drainedMs !== undefined ? { drain_ms: drainedMs } : {}) });
  return process.exit(0);
}
