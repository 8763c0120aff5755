import { outputPrefix } from "../../../shared/layout.ts";
import { deletePrefix } from "../aws/s3.ts";
import type { EdgeConfig } from "../env.ts";
import type { JobRecord } from "./record.ts";

/**
 * A job's deadlines, kept by the object's alarm: the retention deadline (`expires_at`), when
 * a finished job's outputs are deleted and it answers 410 from then on; and the timeout after
 * which an unfinished job is given up.
 */

/** Until when a job that has just ended keeps its outputs. */
export function retentionDeadline(job: JobRecord, cfg: EdgeConfig): string {
  return new Date(Date.parse(job.completed_at ?? job.updated_at) + cfg.REELMESH_RETENTION_S * 1000).toISOString();
}

/** When the outputs are due for deletion (epoch ms), or null if they are gone or the job has not ended. */
export function expiryAt(job: JobRecord): number | null {
  return job.expires_at && !job.expired ? Date.parse(job.expires_at) : null;
}

/** When an unfinished job is given up (epoch ms). */
export function timeoutAt(job: JobRecord, cfg: EdgeConfig): number {
  return Date.parse(job.created_at) + cfg.REELMESH_JOB_TIMEOUT_S * 1000;
}

/** Deletes a job's outputs from S3 (an outgoing call: the caller re-reads the record after it). */
export async function deleteOutputs(job: JobRecord, cfg: EdgeConfig): Promise<void> {
  // Only the job that made the outputs deletes them; followers just stop answering.
  if (job.output_prefix === outputPrefix(job.id)) await deletePrefix(cfg, job.output_prefix);
}

/** The record from now on answers 410. */
export function markExpired(job: JobRecord): JobRecord {
  job.expired = true;
  job.updated_at = new Date().toISOString();
  return job;
}
