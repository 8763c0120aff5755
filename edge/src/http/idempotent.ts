import type { Context } from "hono";
import type { Env } from "../env.ts";
import { idempotency } from "../idempotency/middleware.ts";
import type { AuthVariables } from "./auth.ts";

/** `Idempotency-Key` on the POSTs that create or spend something; per account, kept 24 h. */
export const idempotentForAccount = idempotency<{ Bindings: Env; Variables: AuthVariables }>({
  binding: (env) => env.IDEMPOTENCY,
  account: (c: Context<{ Bindings: Env; Variables: AuthVariables }>) => c.get("accountId") ?? null,
});

/** The same for the admin API (one operator namespace). */
export const idempotentForAdmin = idempotency<{ Bindings: Env }>({ binding: (env) => env.IDEMPOTENCY, account: () => "admin" });
