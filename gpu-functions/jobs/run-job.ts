import { randomUUID } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { JobMessage } from "../../shared/schemas/job-message.ts";
import { finalMp4, posterJpeg } from "../encoder/finalize.ts";
import { StreamEncoder, type VideoCodec } from "../encoder/stream-encoder.ts";
import type { SafetyHook } from "../safety/hook.ts";
import type { DenoiseBatcher } from "../engine/batcher.ts";
import type { LoadedModel } from "../engine/model.ts";
import { compatibleSchedulers } from "../engine/scheduler.ts";
import { generate, type GenerateStats } from "../engine/pipeline.ts";
import { EventSender, type StopReason } from "../events/client.ts";
import type { Logger } from "../log.ts";
import { JobOutput } from "../storage/output.ts";
import { ChunkClock, watchDrain, type Drain } from "./drain.ts";

/**
 * One job, start to finish: generate chunk by chunk; each chunk is encoded, stored and
 * announced while the engine computes the next (the first playable second does not wait
 * for the last). Stage timings go to the log for the operator.
 */
export interface JobDeps {
  model: LoadedModel;
  /** Shared by the jobs this process runs at once, so they share denoiser runs. */
  batcher?: DenoiseBatcher;
  s3: S3Client;
  eventsSecret: string;
  workerId: string;
  ffmpegPath: string;
  /** h264_nvenc on GPU images that have it. */
  videoCodec?: VideoCodec;
  /** Second-stage safety classifier (prompt and/or frames), if the deployment has one. */
  safety?: SafetyHook | null;
  /** The worker's drain: when it begins, the job stops at a chunk boundary (or sooner) and is handed back. */
  drain?: Drain;
  /** How long an event the edge must not miss is retried (REELMESH_EVENT_RETRY_S), and the longest pause between tries. */
  eventRetryMs?: number;
  eventBackoffMaxMs?: number;
  log: Logger;
}

export interface JobResult {
  wallMs: number;
  firstChunkMs: number;
  textEncoderMs: number;
  denoiseMs: number;
  decodeMs: number;
  encodeMs: number;
  uploadMs: number;
  /** Seconds of video committed by this attempt; bytes it stored. */
  videoS: number;
  bytesStored: number;
  canceled: boolean;
  /**
   * Stopped by the worker's drain before its last chunk: its checkpoint stays for another worker
   * to resume from, and nothing was reported to the edge as the end of the job.
   */
  handedBack: boolean;
  /**
   * Stopped for nobody: the edge does not know the job (`unknown`), it has ended (`ended`, a cancel
   * before it started included), or this message duplicates the one another run carries the job
   * with (`duplicate`). Nothing more was written; the message is settled (deleted).
   */
  dropped: Exclude<StopReason, "canceled" | "not_owner"> | null;
  /** Another run owns the job (a duplicate delivery): hand the message back for this many seconds, computing nothing. */
  backOffS: number | null;
  /**
   * Another run took the job over mid-run (its message was redelivered to it): this run's receipt
   * is stale, and its message is left alone (deleting it could delete the new owner's).
   */
  overtaken: boolean;
}

/** Chunks allowed between "decoded" and "stored"; bounds memory if S3 is slow. */
const MAX_CHUNKS_IN_FLIGHT = 2;

export class JobError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

/** `messageId`: the SQS message that delivered the job (the edge's lease compares it). */
export async function runJob(job: JobMessage, deps: JobDeps, messageId?: string): Promise<JobResult> {
  const started = performance.now();
  const m = deps.model.manifest;
  if (job.width !== m.resolution.width || job.height !== m.resolution.height) {
    throw new JobError(
      "unsupported_geometry",
      `model ${m.id} renders ${m.resolution.width}x${m.resolution.height}, job asks ${job.width}x${job.height}`,
      false,
    );
  }
  const framesPerChunk = (m.latent.frames - m.conditioning_frames) * m.vae.temporal_factor;
  if (job.chunk_frames !== framesPerChunk || job.fps !== m.fps) {
    throw new JobError(
      "unsupported_timing",
      `model ${m.id} makes ${framesPerChunk} frames per chunk at ${m.fps} fps; job asks ${job.chunk_frames} at ${job.fps}`,
      false,
    );
  }
  if (job.scheduler && !compatibleSchedulers(m.prediction_type).includes(job.scheduler)) {
    throw new JobError("unsupported_scheduler", `model ${m.id} predicts ${m.prediction_type}; ${job.scheduler} does not suit it`, false);
  }
  if (deps.safety?.checkPrompt) {
    const verdict = await deps.safety.checkPrompt(job.prompt, job.negative_prompt);
    if (verdict.flagged)
      throw new JobError("prompt_rejected", `the safety classifier flagged the prompt: ${verdict.categories.join(", ")}`, false);
  }
  if (deps.drain?.begun) return { ...emptyResult(), handedBack: true };
  const canceled = new AbortController();
  let stopReason: StopReason | null = null;
  let backOffS: number | null = null;
  const events = new EventSender({
    url: job.events_url,
    secret: deps.eventsSecret,
    jobId: job.job_id,
    workerId: deps.workerId,
    run: randomUUID(),
    ...(messageId ? { message: messageId } : {}),
    log: deps.log,
    ...(deps.eventRetryMs !== undefined ? { retryWindowMs: deps.eventRetryMs } : {}),
    ...(deps.eventBackoffMaxMs !== undefined ? { maxBackoffMs: deps.eventBackoffMaxMs } : {}),
    onStop: (reason, answer) => {
      stopReason ??= reason;
      if (reason === "not_owner") backOffS = answer.retry_after_s ?? 1;
      canceled.abort();
    },
  });
  // Nothing is computed before the edge knows the job and grants this run its lease:
  // no GPU time for a job nobody waits for, nor for a second delivery of one that runs elsewhere.
  const start = await events.send({ type: "started" });
  if (start.outcome === "undelivered") throw new JobError("edge_unreachable", "the edge did not take the started event", true);
  if (start.outcome === "refused") throw new JobError("event_refused", `the edge refused the started event (${start.status})`, false);
  if (stopReason) return settleEarly(job, deps, stopReason, backOffS);
  const leaseS = start.outcome === "taken" ? start.answer.lease_s : undefined;
  const heartbeat = leaseS ? setInterval(() => void events.notify({ type: "heartbeat" }), (leaseS * 1000) / LEASE_HEARTBEATS) : undefined;
  try {
    return await runOwned(job, deps, events, canceled, () => ({ stopReason, backOffS }), started);
  } finally {
    clearInterval(heartbeat);
  }
}

/** A job the edge told this run not to do: nothing written; the message settled or handed back. */
function settleEarly(job: JobMessage, deps: JobDeps, reason: StopReason, backOffS: number | null): JobResult {
  deps.log(reason === "not_owner" ? "job owned elsewhere" : "job dropped", {
    job_id: job.job_id,
    reason,
    ...(backOffS !== null ? { retry_after_s: backOffS } : {}),
  });
  if (reason === "not_owner") return { ...emptyResult(), backOffS: backOffS ?? 1 };
  return { ...emptyResult(), dropped: reason === "canceled" ? "ended" : reason };
}

async function runOwned(
  job: JobMessage,
  deps: JobDeps,
  events: EventSender,
  canceled: AbortController,
  stopped: () => { stopReason: StopReason | null; backOffS: number | null },
  started: number,
): Promise<JobResult> {
  const m = deps.model.manifest;
  const framesPerChunk = (m.latent.frames - m.conditioning_frames) * m.vae.temporal_factor;
  const output = await JobOutput.open(deps.s3, {
    jobId: job.job_id,
    bucket: job.output.bucket,
    prefix: job.output.prefix,
    model: job.model,
    width: job.width,
    height: job.height,
    fps: job.fps,
    totalChunks: job.num_chunks,
  });
  // A retried job continues after the chunks a previous attempt committed (same noise per
  // chunk, the previous chunk's tail latents from S3): nothing committed is redone or rewritten.
  const from = output.committedChunks();
  let tail: Float32Array | undefined;
  if (from > 0) {
    deps.log("resuming", { job_id: job.job_id, from_chunk: from, total_chunks: job.num_chunks });
    if (from < job.num_chunks && m.conditioning_frames > 0) {
      tail = (await output.getTail(from - 1)) ?? undefined;
      if (!tail) throw new JobError("resume_state_missing", `chunk ${from - 1} is committed but its tail latents are not stored`, false);
    }
  }
  if (from > 0) {
    // The previous attempt may have died between committing a chunk and announcing it: say
    // again what S3 holds (the edge applies each chunk once).
    const { chunks, init, codecs } = output.committed();
    for (const chunk of chunks) if (init) void events.send({ type: "chunk", chunk, init, codecs, total_chunks: job.num_chunks });
  }
  // The encoder starts now, so FFmpeg's start-up hides behind the first chunk's compute.
  const encoder =
    from < job.num_chunks
      ? new StreamEncoder({
          width: job.width,
          height: job.height,
          fps: job.fps,
          framesPerChunk,
          firstChunk: from,
          codec: deps.videoCodec ?? "libx264",
          ffmpegPath: deps.ffmpegPath,
        })
      : null;

  const result = emptyResult();
  const stats: GenerateStats = { textEncoderMs: 0 };
  const inFlight: Promise<void>[] = [];
  const media: Uint8Array[] = [];
  let stored = Promise.resolve();
  let poster: Promise<unknown> = Promise.resolve();
  let lastProgress = 0;
  const clock = new ChunkClock();
  const drain = deps.drain ? watchDrain(deps.drain, clock) : null;
  let produced = from;
  const onStep = (chunk: number, step: number, steps: number) => {
    clock.onStep(chunk, step, steps);
    // Throttled: a client wants to see movement, not one HTTP call per step.
    const now = performance.now();
    if (now - lastProgress < PROGRESS_INTERVAL_MS && step < steps) return;
    lastProgress = now;
    void events.notify({ type: "progress", chunk, step, steps });
  };

  try {
    if (encoder)
      for await (const chunk of generate(
        deps.model,
        {
          prompt: job.prompt,
          negativePrompt: job.negative_prompt,
          seed: job.seed,
          steps: job.steps,
          guidance: job.guidance,
          numChunks: job.num_chunks,
          tier: job.tier,
          ...(job.scheduler ? { scheduler: job.scheduler } : {}),
          onChunkStart: (chunk, steps) => clock.onChunkStart(chunk, steps),
          onStep,
          firstChunk: from,
          ...(tail ? { tail } : {}),
          signal: canceled.signal,
          ...(drain ? { drain: drain.signals } : {}),
        },
        stats,
        deps.batcher ? { batcher: deps.batcher } : {},
      )) {
        produced = chunk.index + 1;
        result.denoiseMs += chunk.denoiseMs;
        result.decodeMs += chunk.decodeMs;
        if (deps.safety?.checkFrames) {
          // Before anything of this chunk is encoded, stored or announced.
          const verdict = await deps.safety.checkFrames(chunk);
          if (verdict.flagged) {
            throw new JobError(
              "content_rejected",
              `the safety classifier flagged chunk ${chunk.index}: ${verdict.categories.join(", ")}`,
              false,
            );
          }
        }
        if (chunk.index === 0) {
          const first = chunk.frames.subarray(0, chunk.width * chunk.height * 3);
          poster = posterJpeg(first, chunk.width, chunk.height, deps.ffmpegPath).then((jpeg) => output.putPoster(jpeg));
          poster.catch(() => {});
        }
        const previous = stored;
        const encoded = encoder.encode(chunk.index, chunk.frames);
        const chunkTail = chunk.tail;
        // Encoding runs beside the next chunk's compute; storing stays in order so the manifest
        // and the playlist only ever grow at their end.
        stored = (async () => {
          const seg = await encoded;
          result.encodeMs += seg.encodeMs;
          media[chunk.index] = seg.media;
          await previous;
          const t0 = performance.now();
          const init = await output.putInit(seg.init, seg.codecs);
          if (chunkTail) await output.putTail(chunk.index, chunkTail);
          const manifestChunk = await output.putSegment(chunk.index, seg.media, seg.frames, seg.durationS);
          clock.onStored(chunk.index);
          result.videoS += seg.durationS;
          result.bytesStored += seg.media.length;
          result.uploadMs += performance.now() - t0;
          if (chunk.index === 0) result.firstChunkMs = performance.now() - started;
          deps.log("chunk stored", {
            job_id: job.job_id,
            chunk: chunk.index,
            denoise_ms: Math.round(chunk.denoiseMs),
            decode_ms: Math.round(chunk.decodeMs),
            encode_ms: Math.round(seg.encodeMs),
            upload_ms: Math.round(performance.now() - t0),
            bytes: seg.media.length,
          });
          // Not awaited: the manifest is the truth, and an edge that is unreachable for a while must not
          // stall the GPU. The event waits in order, retried; `completed` goes only after it.
          void events.send({ type: "chunk", chunk: manifestChunk, init, codecs: seg.codecs, total_chunks: job.num_chunks });
        })();
        // Marked handled now; the rejection still surfaces where it is awaited below.
        stored.catch(() => {});
        inFlight.push(stored);
        if (inFlight.length >= MAX_CHUNKS_IN_FLIGHT) await inFlight.shift();
      }
    await Promise.all(inFlight);
    await encoder?.close();
  } catch (err) {
    encoder?.kill();
    throw err;
  } finally {
    drain?.dispose();
  }
  await poster;
  const { stopReason, backOffS } = stopped();
  if (stopReason && stopReason !== "canceled") {
    // Unknown, ended, or owned by another run: write nothing more; this run's message is settled.
    if (stopReason === "not_owner") {
      deps.log("job taken over", { job_id: job.job_id, committed: output.committedChunks() });
      return { ...result, overtaken: true, wallMs: performance.now() - started };
    }
    return { ...settleEarly(job, deps, stopReason, backOffS), wallMs: performance.now() - started };
  }
  if (canceled.signal.aborted) {
    // Canceled: what was committed stays (and is charged for); no final MP4.
    const chunks = output.committedChunks();
    result.textEncoderMs = stats.textEncoderMs;
    await output.finish("canceled", {
      gpu_s: round3((result.textEncoderMs + result.denoiseMs + result.decodeMs) / 1000),
      encode_s: round3(result.encodeMs / 1000),
    });
    await events.send({ type: "canceled", chunks });
    deps.log("job canceled", { job_id: job.job_id, chunks });
    result.canceled = true;
    result.wallMs = performance.now() - started;
    return result;
  }
  if (produced < job.num_chunks) {
    if (!drain?.choice) throw new JobError("generation_incomplete", `the engine stopped after chunk ${produced - 1}`, true);
    // Handed back: no manifest status, no event. The edge keeps the job running (and its charge
    // reserved) while another worker resumes it after the chunks committed here.
    result.textEncoderMs = stats.textEncoderMs;
    result.handedBack = true;
    result.wallMs = performance.now() - started;
    deps.log("job handed back", {
      job_id: job.job_id,
      from_chunk: from,
      committed: output.committedChunks(),
      choice: drain.choice,
      abandoned_chunk: drain.abandonedChunk,
    });
    return result;
  }
  const t0 = performance.now();
  const init = encoder ? await encoder.initSegment() : await output.getInit();
  for (let k = 0; k < from; k++) media[k] = await output.getSegment(k);
  const mp4 = await finalMp4(init, media, deps.ffmpegPath);
  const content = await output.putContent(mp4);
  result.bytesStored += mp4.length;
  result.encodeMs += performance.now() - t0;
  result.textEncoderMs = stats.textEncoderMs;
  const usage = await output.finish("succeeded", {
    gpu_s: round3((result.textEncoderMs + result.denoiseMs + result.decodeMs) / 1000),
    encode_s: round3(result.encodeMs / 1000),
  });
  // The message is deleted only once the edge has the terminal event; the chunk events
  // queued before it go first. Undelivered, the message is retried, and the next attempt finds every
  // chunk in S3 and says so again (the edge's alarm reconciles from the manifest meanwhile).
  const done = await events.send({ type: "completed", usage, total_chunks: job.num_chunks, content });
  if (done.outcome === "unknown") return { ...result, dropped: "unknown", wallMs: performance.now() - started };
  if (done.outcome !== "taken")
    throw new JobError("completion_undelivered", `the edge has not taken the completed event (${done.outcome})`, true);
  result.wallMs = performance.now() - started;
  return result;
}

function emptyResult(): JobResult {
  return {
    wallMs: 0,
    firstChunkMs: 0,
    textEncoderMs: 0,
    denoiseMs: 0,
    decodeMs: 0,
    encodeMs: 0,
    uploadMs: 0,
    videoS: 0,
    bytesStored: 0,
    canceled: false,
    handedBack: false,
    dropped: null,
    backOffS: null,
    overtaken: false,
  };
}

/** Heartbeats per lease: the edge's lease survives two lost in a row. */
const LEASE_HEARTBEATS = 3;

/** Progress events at most this often (and always at a chunk's last step). */
const PROGRESS_INTERVAL_MS = 500;

/** Reports a job that will not be retried. */
export async function reportFailure(
  job: Pick<JobMessage, "job_id" | "events_url">,
  deps: Pick<JobDeps, "eventsSecret" | "workerId" | "log" | "eventRetryMs" | "eventBackoffMaxMs">,
  code: string,
  message: string,
): Promise<boolean> {
  const events = new EventSender({
    url: job.events_url,
    secret: deps.eventsSecret,
    jobId: job.job_id,
    workerId: deps.workerId,
    log: deps.log,
    ...(deps.eventRetryMs !== undefined ? { retryWindowMs: deps.eventRetryMs } : {}),
    ...(deps.eventBackoffMaxMs !== undefined ? { maxBackoffMs: deps.eventBackoffMaxMs } : {}),
  });
  const d = await events.send({ type: "failed", error: { code, message }, retryable: false });
  // A job the edge does not know has nobody to tell: settled all the same.
  return d.outcome === "taken" || d.outcome === "unknown";
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
