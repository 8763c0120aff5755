import { edgeConfig, type Env } from "../env.ts";
import type { LimitPolicy } from "../limits/bucket.ts";
import type { AuthVariables } from "./auth.ts";

/**
 * Per-account limits on creates, exact because the account's one Durable Object counts them
 * (accounts/account-object.ts): a token bucket (burst, then a steady rate) and a cap on jobs
 * running at once, both taken in the same transaction as the charge. Every answer to a create
 * carries the `RateLimit-*` headers, refusals too; a 429 also has `Retry-After`.
 */
export function accountLimits(env: Env, who: AuthVariables["principal"]) {
  const cfg = edgeConfig(env);
  return who.limits ?? { burst: cfg.REELMESH_RATE_BURST, per_s: cfg.REELMESH_RATE_PER_S, max_running_jobs: cfg.REELMESH_MAX_RUNNING_JOBS };
}

/** The account's create bucket. */
export function createPolicy(env: Env, who: AuthVariables["principal"]): LimitPolicy {
  const limits = accountLimits(env, who);
  return { capacity: limits.burst, refillPerS: limits.per_s, name: "create" };
}
