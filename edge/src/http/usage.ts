import { Hono } from "hono";
import type { Env } from "../env.ts";
import { requireAuth, type AuthVariables } from "./auth.ts";

/**
 * `GET /v1/usage`: the account's balance, credits held by running jobs, and what was spent,
 * per day and tier, from its ledger. An app token sees its own subject's spending only.
 */
export const usage = new Hono<{ Bindings: Env; Variables: AuthVariables }>();

usage.get("/usage", requireAuth("videos:read"), async (c) => {
  const who = c.get("principal");
  const summary = await c.env.ACCOUNT.get(c.env.ACCOUNT.idFromName(who.accountId)).usage(who.subject);
  c.header("cache-control", "no-store");
  const { balance, ...rest } = summary;
  // An end user sees what they spent, not the account's balance.
  return c.json({ object: "usage", account: who.accountId, subject: who.subject, ...(who.subject === null ? { balance } : {}), ...rest });
});
