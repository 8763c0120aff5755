import type { Env } from "../env.ts";
import { costShardName, type JobCost } from "./costs.ts";

/**
 * Cost records written from the request path (a cache hit's cost, bytes served by media
 * responses, per day and per job), gathered per isolate and sent to the cost shards (costs.ts) as one call per shard
 * per FLUSH_MS, instead of one call per job or per segment: that object is shared by the whole
 * service, and media responses are many. The bytes served by hits kept in a ledger go to
 * their account's ledger the same way (one call per account per flush).
 *
 * The request that opens a batch owns its flush (its `waitUntil` keeps the isolate alive
 * until the call is answered); requests that add to an open batch only hand over plain data,
 * so no I/O object crosses requests. A failed flush is logged and its records are put back
 * for the next one (at most MAX_PENDING are kept: accounting, never a reason to fail a request).
 */
const FLUSH_MS = 200;
const MAX_PENDING = 10_000;

interface Batch {
  jobs: JobCost[];
  served: Map<string, number>;
  /** account → hit id → bytes. */
  hitServed: Map<string, Map<string, number>>;
  /** job id → bytes (jobs with an object of their own). */
  jobServed: Map<string, number>;
}

let open: Batch | null = null;

function batch(env: Env, ctx: Pick<ExecutionContext, "waitUntil">): Batch {
  if (open) return open;
  const b: Batch = (open = { jobs: [], served: new Map(), hitServed: new Map(), jobServed: new Map() });
  ctx.waitUntil(
    new Promise((r) => setTimeout(r, FLUSH_MS)).then(async () => {
      if (open === b) open = null;
      const served = [...b.served].map(([day, bytes]) => ({ day, bytes }));
      await Promise.all([
        ...[...b.jobServed].map(([id, bytes]) =>
          env.JOBS.get(env.JOBS.idFromName(id))
            .addServed(bytes)
            .catch((err: unknown) => {
              console.error(JSON.stringify({ msg: "bytes served not counted", job: id, error: (err as Error).message }));
            }),
        ),
        ...[...b.hitServed].map(([account, hits]) =>
          env.ACCOUNT.get(env.ACCOUNT.idFromName(account))
            .addHitServed([...hits].map(([id, bytes]) => ({ id, bytes })))
            .catch((err: unknown) => {
              console.error(JSON.stringify({ msg: "hit bytes served not counted", account, error: (err as Error).message }));
            }),
        ),
      ]);
      try {
        // Jobs go to their own shards (a retried flush lands where the first try did); bytes served with the first batch.
        const shards = new Map<string, JobCost[]>();
        for (const j of b.jobs) shards.set(costShardName(j.job_id), [...(shards.get(costShardName(j.job_id)) ?? []), j]);
        if (shards.size === 0 && served.length > 0) shards.set(costShardName(String(Math.random())), []);
        await Promise.all(
          [...shards].map(([name, jobs], i) => env.COSTS.get(env.COSTS.idFromName(name)).recordMany(jobs, i === 0 ? served : [])),
        );
      } catch (err) {
        console.error(
          JSON.stringify({ msg: "cost records not written; kept for the next flush", jobs: b.jobs.length, error: (err as Error).message }),
        );
        const next = batch(env, ctx);
        next.jobs.push(...b.jobs.slice(0, Math.max(0, MAX_PENDING - next.jobs.length)));
        for (const s of served) next.served.set(s.day, (next.served.get(s.day) ?? 0) + s.bytes);
      }
    }),
  );
  return b;
}

export function queueJobCost(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, cost: JobCost): void {
  const b = batch(env, ctx);
  if (b.jobs.length < MAX_PENDING) b.jobs.push(cost);
}

export function queueServed(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, day: string, bytes: number): void {
  if (bytes <= 0) return;
  const b = batch(env, ctx);
  b.served.set(day, (b.served.get(day) ?? 0) + bytes);
}

export function queueHitServed(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, account: string, hitId: string, bytes: number): void {
  if (bytes <= 0) return;
  const b = batch(env, ctx);
  let hits = b.hitServed.get(account);
  if (!hits) b.hitServed.set(account, (hits = new Map<string, number>()));
  hits.set(hitId, (hits.get(hitId) ?? 0) + bytes);
}

/** Bytes one job's media responses served, summed per job over a flush: one write per job per FLUSH_MS, not one per segment. */
export function queueJobServed(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, jobId: string, bytes: number): void {
  if (bytes <= 0) return;
  const b = batch(env, ctx);
  b.jobServed.set(jobId, (b.jobServed.get(jobId) ?? 0) + bytes);
}
