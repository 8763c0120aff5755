import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import type { JobRecord } from "./record.ts";

/**
 * One owner per running job. SQS delivers at least once, so two workers may hold the
 * same job; the job's Durable Object leases it to one run (a worker's attempt, named by the
 * event's `run`, delivered by the SQS message named by `message`). Another run is told:
 * - its message is the owner's, received again: SQS redelivers a message only once its holder
 *   stopped extending its visibility (it died, or was cut off), so the new run takes over now
 *   (with its `started`; the old run is told `not_owner` from then on);
 * - its message is another one (a duplicate): `duplicate`, and the worker drops that message
 *   (the owner's message carries the job to its end, redelivered if its worker dies);
 * - otherwise (no message ids to compare): `not_owner`, retry after the lease's remaining time.
 * Each event of the owner (a heartbeat at the least) renews the lease; a run silent for
 * REELMESH_LEASE_S loses it to the next delivery.
 */
export interface Lease {
  run: string;
  worker_id: string;
  /** Epoch ms. */
  until: number;
  message?: string | undefined;
}

export type LeaseVerdict = { owner: true } | { owner: false; duplicate: boolean; retryAfterS: number };

/**
 * Grants or renews the lease for the event's run, or says who holds it. Changes `job.lease` in
 * place (the caller writes the record). A `completed` is accepted from any run: it is checked
 * against what S3 holds, and every run writes the same bytes.
 */
export function claimLease(job: JobRecord, event: WorkerEvent, now: number, leaseS: number): LeaseVerdict {
  if (!event.run) return { owner: true };
  const lease = job.lease;
  // A new run announces itself with `started`; the run it replaced is refused from then on.
  const redelivered = event.type === "started" && lease?.message !== undefined && lease.message === event.message;
  if (lease && lease.run !== event.run && lease.until > now && event.type !== "completed" && !redelivered) {
    const duplicate = lease.message !== undefined && event.message !== undefined && lease.message !== event.message;
    return { owner: false, duplicate, retryAfterS: Math.max(1, Math.ceil((lease.until - now) / 1000)) };
  }
  job.lease = { run: event.run, worker_id: event.worker_id, until: now + leaseS * 1000, message: event.message };
  return { owner: true };
}
