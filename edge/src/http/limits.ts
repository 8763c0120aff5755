import type { Context } from "hono";
import { edgeConfig, type Env } from "../env.ts";
import type { LimitPolicy, TakeResult } from "../limits/bucket.ts";
import { rateLimitHeaders } from "../limits/headers.ts";
import type { AuthVariables } from "./auth.ts";
import { ApiError } from "./problem.ts";

/**
 * Per-account limits on creates, exact because one Durable Object per account
 * counts them: a token bucket (burst, then a steady rate), kept by the account's ledger so
 * the check and the charge are one transaction (billing/ledger.ts `admit`), and a cap on jobs
 * running at once (LimiterObject; the slot is taken in the create handler for jobs that will
 * use a GPU, and freed when the job ends). Every answer to a create carries the `RateLimit-*`
 * headers, refusals too; a 429 also has `Retry-After`.
 */
export function limiter(env: Env, account: string) {
  return env.LIMITER.get(env.LIMITER.idFromName(account));
}

export function accountLimits(env: Env, who: AuthVariables["principal"]) {
  const cfg = edgeConfig(env);
  return who.limits ?? { burst: cfg.REELMESH_RATE_BURST, per_s: cfg.REELMESH_RATE_PER_S, max_running_jobs: cfg.REELMESH_MAX_RUNNING_JOBS };
}

/** The account's create bucket. */
export function createPolicy(env: Env, who: AuthVariables["principal"]): LimitPolicy {
  const limits = accountLimits(env, who);
  return { capacity: limits.burst, refillPerS: limits.per_s, name: "create" };
}

/** Puts a rate check's headers on the answer; a refusal throws the 429. */
export function applyRateLimit(c: Context<{ Bindings: Env; Variables: AuthVariables }>, rate: TakeResult): void {
  const headers = rateLimitHeaders(rate);
  if (!rate.allowed) {
    const limits = accountLimits(c.env, c.get("principal"));
    throw new ApiError(
      429,
      "rate_limited",
      "Too many requests",
      `At most ${limits.burst} creates at once and ${limits.per_s} per second after that; retry after ${rate.retryAfterS} s.`,
      { headers },
    );
  }
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
}
