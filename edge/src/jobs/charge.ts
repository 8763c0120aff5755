import type { JobCost } from "../billing/costs.ts";
import { contiguousChunks, type JobRecord } from "./record.ts";

/** What a finished job is charged, and what it cost to serve: pure functions of its record. */

/** What a finished job cost to serve: the GPU side only for the job that ran (followers and hits share its run). */
export function costEntry(job: JobRecord): JobCost {
  const ran = !job.follows;
  return {
    job_id: job.id,
    account_id: job.account_id,
    tier: job.tier,
    day: (job.completed_at ?? job.updated_at).slice(0, 10),
    charged: job.charged ?? 0,
    gpu_s: ran ? (job.usage?.gpu_s ?? 0) : 0,
    encode_s: ran ? (job.usage?.encode_s ?? 0) : 0,
    bytes_stored: ran ? (job.usage?.bytes_stored ?? 0) : 0,
    video_s: contiguousChunks(job).reduce((s, ch) => s + ch.duration_s, 0),
    ran_on_gpu: ran,
  };
}

/**
 * The charge when a job ends: its price if it succeeded; nothing if it failed; if canceled,
 * the share of its chunks delivered before it stopped (rounded up), so a cancel right after
 * acceptance costs nothing and a cancel near the end costs nearly all. A job that joined
 * another's run pays the same way for what was delivered to it (at its own, lower, price).
 */
export function chargeFor(job: JobRecord): number {
  if (job.status === "succeeded") return job.price.credits;
  if (job.status !== "canceled") return 0;
  return Math.ceil((job.price.credits * contiguousChunks(job).length) / job.total_chunks);
}
