import type { Context } from "hono";
import type { Env } from "../env.ts";
import { idempotency } from "../idempotency/middleware.ts";
import type { AuthVariables } from "./auth.ts";

/**
 * `Idempotency-Key` on the POSTs that create or spend something, kept 24 h, per caller: the
 * account for its API keys, the account and subject for an app token, so one end user cannot
 * replay another's stored answer (its job id and signed links) by sending the same key.
 */
export const idempotentForAccount = idempotency<{ Bindings: Env; Variables: AuthVariables }>({
  binding: (env) => env.IDEMPOTENCY,
  account: (c: Context<{ Bindings: Env; Variables: AuthVariables }>) => {
    const accountId = c.get("accountId") ?? null;
    if (accountId === null) return null;
    const principal = c.get("principal");
    return principal.kind === "token" ? `${accountId}/subject/${principal.subject}` : accountId;
  },
});

/** The same for the admin API (one operator namespace). */
export const idempotentForAdmin = idempotency<{ Bindings: Env }>({ binding: (env) => env.IDEMPOTENCY, account: () => "admin" });
