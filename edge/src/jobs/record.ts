import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import type { Lease } from "./lease.ts";
import { publicError } from "./public-error.ts";
import { outputKeys } from "../../../shared/layout.ts";
import type { ErrorInfo, Usage } from "../../../shared/schemas/manifest.ts";
import type { SchedulerName } from "../../../shared/models.ts";
import type { JobStatus, Tier } from "../../../shared/schemas/request.ts";

/** A job's state as its Durable Object keeps it. */
export interface JobRecord {
  id: string;
  account_id: string;
  status: JobStatus;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  model: string;
  prompt: string;
  negative_prompt: string;
  duration_s: number;
  aspect_ratio: string;
  resolution: string;
  width: number;
  height: number;
  fps: number;
  seed: number;
  steps: number;
  guidance: number;
  scheduler: SchedulerName;
  tier: Tier;
  chunk_frames: number;
  total_chunks: number;
  codecs: string | null;
  init: { key: string; bytes: number } | null;
  chunks: { index: number; key: string; frames: number; duration_s: number; bytes: number }[];
  progress: { chunk: number; step: number; steps: number } | null;
  usage: Usage | null;
  error: ErrorInfo | null;
  worker_id: string | null;
  metadata: Record<string, string>;
  /** Where its outputs live: its own prefix, or the leader's when it joined or hit the cache. */
  output_prefix: string;
  /** Content address (cache and coalescing); null when the caller opted out or gave no seed. */
  content_address: string | null;
  /** The job whose run this one shares (joined or cache hit). */
  follows: string | null;
  cache: "miss" | "hit" | "joined" | "none";
  /** What the call costs (quoted and reserved at create; charged when it succeeds). */
  price: { credits: number; kind: "generation" | "joined" | "hit" };
  /** The end user of the app token that created it (null: created with an API key). */
  subject: string | null;
  token_id: string | null;
  /** The final MP4, once the job succeeded. */
  content: { key: string; bytes: number } | null;
  /** Where terminal events are delivered (Standard Webhooks), if the caller asked. */
  webhook_url: string | null;
  /** The API's public origin when the job was created: links in webhooks point there. */
  base_url: string;
  /** Jobs waiting ahead in the tier's queue when this one was queued (SQS's estimate). */
  queue_position: number | null;
  /** When the outputs are deleted (set when the job ends); `expired` once they are. */
  expires_at: string | null;
  expired: boolean;
  /** Cancel asked while running: the worker stops between steps when it next hears from us. */
  cancel_requested: boolean;
  /** What was charged when it ended (≤ price.credits). */
  charged: number | null;
  /** Bytes of its media served by the edge (cost to serve). */
  bytes_served: number;
  /** The worker run that owns it while it runs (lease.ts); absent until one starts. */
  lease?: Lease | null;
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "canceled"]);

export const isTerminal = (status: JobStatus) => TERMINAL.has(status);

/**
 * Applies a worker event. Idempotent and monotonic: a repeated or late event never moves a
 * job backwards, and nothing changes a finished job. Returns whether anything changed.
 */
export function applyEvent(job: JobRecord, event: WorkerEvent, now: string): boolean {
  if (isTerminal(job.status)) return false;
  const run = () => {
    if (job.status === "queued") {
      job.status = "running";
      job.started_at ??= now;
    }
    job.worker_id = event.worker_id;
  };
  switch (event.type) {
    case "started":
    case "heartbeat":
      run();
      break;
    case "progress":
      run();
      job.progress = { chunk: event.chunk, step: event.step, steps: event.steps };
      break;
    case "chunk": {
      // A worker names only its job's own files: anything else is refused, not served.
      if (event.chunk.index >= job.total_chunks) return false;
      if (event.chunk.key !== outputKeys.segment(job.output_prefix, event.chunk.index)) return refuse(job, event.type, event.chunk.key);
      if (event.init.key !== outputKeys.init(job.output_prefix)) return refuse(job, event.type, event.init.key);
      run();
      job.init ??= event.init;
      job.codecs ??= event.codecs;
      if (!job.chunks.some((c) => c.index === event.chunk.index)) {
        const { index, key, frames, duration_s, bytes } = event.chunk;
        job.chunks.push({ index, key, frames, duration_s, bytes });
        job.chunks.sort((a, b) => a.index - b.index);
      }
      break;
    }
    case "completed":
      // Never succeeded with a hole in its playlist: the job's object reconciles from S3 first.
      if (contiguousChunks(job).length < job.total_chunks) return false;
      if (event.content.key !== outputKeys.content(job.output_prefix)) return refuse(job, event.type, event.content.key);
      run();
      job.status = "succeeded";
      job.usage = event.usage;
      job.content = event.content;
      job.completed_at = now;
      job.progress = null;
      break;
    case "canceled":
      job.status = "canceled";
      job.completed_at = now;
      job.progress = null;
      break;
    case "failed":
      job.status = "failed";
      job.error = publicError(job.id, event.error);
      job.completed_at = now;
      job.progress = null;
      break;
  }
  job.updated_at = now;
  return true;
}

/** Chunks playable in order from the start: the playlist lists only these. */
export function contiguousChunks(job: JobRecord): JobRecord["chunks"] {
  const out: JobRecord["chunks"] = [];
  for (const c of job.chunks) {
    if (c.index !== out.length) break;
    out.push(c);
  }
  return out;
}

/** An event that names a file outside the job's outputs: logged for the operator, changes nothing. */
function refuse(job: JobRecord, type: string, key: string): false {
  console.error(JSON.stringify({ msg: "worker event names a file outside the job", job_id: job.id, type, key, prefix: job.output_prefix }));
  return false;
}
