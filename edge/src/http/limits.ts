import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { edgeConfig, type Env } from "../env.ts";
import { rateLimitHeaders } from "../limits/headers.ts";
import type { AuthVariables } from "./auth.ts";
import { ApiError } from "./problem.ts";

/**
 * Per-account limits on creates (issue 5), exact because one Durable Object per account
 * counts them: a token bucket (burst, then a steady rate) and a cap on jobs running at once
 * (the slot is taken in the create handler, for jobs that will use a GPU, and freed when the
 * job ends). Every answer carries `RateLimit-*` headers; a refusal is 429 with `Retry-After`.
 */
export function limiter(env: Env, account: string) {
  return env.LIMITER.get(env.LIMITER.idFromName(account));
}

export function accountLimits(env: Env, who: AuthVariables["principal"]) {
  const cfg = edgeConfig(env);
  return who.limits ?? { burst: cfg.REELMESH_RATE_BURST, per_s: cfg.REELMESH_RATE_PER_S, max_running_jobs: cfg.REELMESH_MAX_RUNNING_JOBS };
}

/**
 * Starts the account's rate check without waiting for it, so it overlaps validation and the
 * cache lookup; the handler must `await enforceRateLimit(c)` before anything with effects.
 * Every create counts, valid or not (an abusive client cannot probe for free).
 */
export const createRateLimit = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
  const limits = accountLimits(c.env, c.get("principal"));
  const pending = limiter(c.env, c.get("accountId"))
    .take({ capacity: limits.burst, refillPerS: limits.per_s, name: "create" })
    .then((result) => {
      const headers = rateLimitHeaders(result);
      if (!result.allowed) {
        return new ApiError(429, "rate_limited", "Too many requests", `At most ${limits.burst} creates at once and ${limits.per_s} per second after that; retry after ${result.retryAfterS} s.`, { headers });
      }
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      return null;
    });
  pending.catch(() => {});
  c.set("rateLimit", pending);
  await next();
});

export async function enforceRateLimit(c: Context<{ Bindings: Env; Variables: AuthVariables }>): Promise<void> {
  const refused = await c.get("rateLimit");
  if (refused) throw refused;
}
