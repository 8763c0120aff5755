import { isHitId, JOB_ID_PATTERN } from "../../../shared/ids.ts";
import type { Env } from "../env.ts";
import type { JobRecord } from "./record.ts";

/**
 * Where a job lives, hidden from the routes: its own Durable Object (every job that runs or
 * joins a run, and hits with a webhook), or its account's object (a hit without a webhook,
 * born finished; a job admitted a moment ago whose object is still being written, which this
 * hands on at once; a job that could never be handed on).
 */
export function jobStub(env: Env, id: string) {
  return env.JOBS.get(env.JOBS.idFromName(id));
}

export function accountStub(env: Env, account: string) {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(account));
}

/** The job `id` of `account` (null: the caller holds a playback token naming only the job), or null. */
export async function findJob(env: Env, id: string, account: string | null): Promise<JobRecord | null> {
  if (!JOB_ID_PATTERN.test(id)) return null;
  if (isHitId(id)) return account ? accountStub(env, account).hit(id) : null;
  const job = await jobStub(env, id).get();
  if (job || !account) return job;
  // Not in its object yet: the account hands it on now (then the object has it) or still holds it.
  return (await accountStub(env, account).unstored(id)) ?? (await jobStub(env, id).get());
}
