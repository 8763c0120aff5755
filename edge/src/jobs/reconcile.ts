import { outputKeys } from "../../../shared/layout.ts";
import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import { ManifestSchema, type Manifest } from "../../../shared/schemas/manifest.ts";
import { getObject } from "../aws/s3.ts";
import type { EdgeConfig } from "../env.ts";
import type { JobRecord } from "./record.ts";

/**
 * Reconciliation from S3: the manifest a worker rewrites after each committed chunk is
 * the source of truth, so events lost on the way (an edge that was unreachable, a worker that died
 * between committing and announcing) are repaired by reading it. The job's object turns what the
 * manifest holds and the record lacks into the events that were lost, and applies them like any.
 */

/** Chunk indexes the record lacks; a job is never `succeeded` while this is not empty. */
export function missingChunks(job: { chunks: readonly { index: number }[]; total_chunks: number }): number[] {
  const have = new Set(job.chunks.map((c) => c.index));
  const out: number[] = [];
  for (let k = 0; k < job.total_chunks; k++) if (!have.has(k)) out.push(k);
  return out;
}

/** The job's manifest, or null when there is none yet (or it is not this job's). */
export async function readManifest(cfg: EdgeConfig, job: Pick<JobRecord, "id" | "output_prefix">): Promise<Manifest | null> {
  const res = await getObject(cfg, outputKeys.manifest(job.output_prefix));
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`manifest of ${job.id}: S3 answered ${res.status}`);
  // Decoded by hand: S3 may label it anything, and workerd warns on .json() of a non-text type.
  const parsed = ManifestSchema.safeParse(JSON.parse(new TextDecoder().decode(await res.arrayBuffer())));
  if (!parsed.success || parsed.data.job_id !== job.id) return null;
  return parsed.data;
}

/**
 * The events the record has not seen: a `chunk` for each committed chunk it lacks, then a
 * `completed` when the worker finished the job (status, final MP4, every chunk). Keys are checked
 * when they are applied, as a worker's are.
 */
export function lostEvents(job: JobRecord, manifest: Manifest): WorkerEvent[] {
  const base = { job_id: job.id, worker_id: job.worker_id ?? "s3-manifest", at: manifest.updated_at };
  const events: WorkerEvent[] = [];
  const have = new Set(job.chunks.map((c) => c.index));
  if (manifest.init) {
    for (const chunk of manifest.chunks) {
      if (have.has(chunk.index) || chunk.index >= job.total_chunks) continue;
      events.push({ ...base, type: "chunk", chunk, init: manifest.init, codecs: manifest.codecs, total_chunks: job.total_chunks });
    }
  }
  const whole = missingChunks({ chunks: manifest.chunks, total_chunks: job.total_chunks }).length === 0;
  if (manifest.status === "succeeded" && manifest.content && whole) {
    events.push({ ...base, type: "completed", usage: manifest.usage, total_chunks: job.total_chunks, content: manifest.content });
  }
  return events;
}
