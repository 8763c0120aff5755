import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import type { JobRecord } from "./record.ts";

/**
 * One owner per running job (issue 15). SQS delivers at least once, so two workers may hold the
 * same job; the job's Durable Object leases it to one run (a worker's attempt, named by the
 * event's `run`) and answers every other run's events with "not the owner, retry after …", which
 * it obeys by handing its message back without computing. Each event of the owner (a heartbeat
 * at the least) renews the lease; a run silent for REELMESH_LEASE_S (a dead worker) loses it to
 * the next delivery.
 */
export interface Lease {
  run: string;
  worker_id: string;
  /** Epoch ms. */
  until: number;
}

export type LeaseVerdict = { owner: true } | { owner: false; retryAfterS: number };

/**
 * Grants or renews the lease for the event's run, or says who holds it. Changes `job.lease` in
 * place (the caller writes the record). A `completed` is accepted from any run: it is checked
 * against what S3 holds, and every run writes the same bytes.
 */
export function claimLease(job: JobRecord, event: WorkerEvent, now: number, leaseS: number): LeaseVerdict {
  if (!event.run) return { owner: true };
  const lease = job.lease;
  if (lease && lease.run !== event.run && lease.until > now && event.type !== "completed") {
    return { owner: false, retryAfterS: Math.max(1, Math.ceil((lease.until - now) / 1000)) };
  }
  job.lease = { run: event.run, worker_id: event.worker_id, until: now + leaseS * 1000 };
  return { owner: true };
}
