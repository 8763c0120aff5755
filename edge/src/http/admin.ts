import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { costReport } from "../billing/costs.ts";
import { edgeConfig, type Env } from "../env.ts";
import { directory } from "./auth.ts";
import { ApiError } from "./problem.ts";
import { jsonBody } from "./validation.ts";
import { idempotentForAdmin } from "./idempotent.ts";

/**
 * The admin API (bearer REELMESH_ADMIN_TOKEN; `npm start` prints a dev one): accounts, their
 * keys (shown once, stored hashed; listed by prefix), revocation, credits. Without a
 * configured token it refuses everyone.
 */
export const admin = new Hono<{ Bindings: Env }>();

const encoder = new TextEncoder();

const requireAdmin = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const expected = edgeConfig(c.env).REELMESH_ADMIN_TOKEN;
  const got = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const ok =
    expected !== undefined &&
    got !== undefined &&
    crypto.subtle.timingSafeEqual(
      await crypto.subtle.digest("SHA-256", encoder.encode(got)),
      await crypto.subtle.digest("SHA-256", encoder.encode(expected)),
    );
  if (!ok)
    throw new ApiError(401, "unauthorized", "Admin token required", "Send `Authorization: Bearer <admin token>`.", {
      headers: { "www-authenticate": 'Bearer realm="reelmesh-admin"' },
    });
  await next();
});

admin.use("*", requireAdmin);
admin.use("*", idempotentForAdmin);

const ledger = (env: Env, account: string) => env.ACCOUNT.get(env.ACCOUNT.idFromName(account));

const notFound = (id: string) => new ApiError(404, "account_not_found", "Account not found", `No account ${id}.`);

/** Request bodies and the cost period's days (also what /openapi.json describes). */
export const AccountLimitsSchema = z.strictObject({
  burst: z.int().min(1),
  per_s: z.number().positive(),
  max_running_jobs: z.int().min(1),
});
export const CreateAccountRequestSchema = z.strictObject({
  name: z.string().min(1).max(200),
  credits: z.int().min(0).default(0),
  limits: AccountLimitsSchema.optional(),
});
export const AddCreditsRequestSchema = z.strictObject({ amount: z.int().min(1), reference: z.string().min(1).max(200).optional() });
export const COST_DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

admin.post("/accounts", async (c) => {
  const req = await jsonBody(c, CreateAccountRequestSchema);
  const { account, apiKey, key } = await directory(c.env).createAccount(req.name, req.limits ?? null);
  const balance = req.credits > 0 ? await ledger(c.env, account.id).credit(`grant:${account.id}`, req.credits) : 0;
  c.header("cache-control", "no-store");
  return c.json({ ...account, balance, api_key: apiKey, key_id: key.key_id, key_prefix: key.prefix }, 201);
});

/** Cost per delivered video-second and margin per tier over `from`..`to` (days, UTC; default: today). */
admin.get("/costs", async (c) => {
  const today = new Date().toISOString().slice(0, 10);
  const from = c.req.query("from") ?? today;
  const to = c.req.query("to") ?? today;
  if (!COST_DAY_PATTERN.test(from) || !COST_DAY_PATTERN.test(to))
    throw new ApiError(400, "validation_failed", "Invalid period", "`from` and `to` are days: YYYY-MM-DD.");
  const cfg = edgeConfig(c.env);
  return c.json(
    await costReport(c.env, from, to, {
      gpu_hour_usd: cfg.REELMESH_GPU_HOUR_USD,
      credit_usd: cfg.REELMESH_CREDIT_USD,
    }),
  );
});

admin.get("/accounts", async (c) => c.json({ data: await directory(c.env).listAccounts() }));

admin.get("/accounts/:id", async (c) => {
  const account = await directory(c.env).getAccount(c.req.param("id"));
  if (!account) throw notFound(c.req.param("id"));
  return c.json({ ...account, balance: await ledger(c.env, account.id).balance() });
});

admin.post("/accounts/:id/credits", async (c) => {
  const req = await jsonBody(c, AddCreditsRequestSchema);
  const id = c.req.param("id");
  if (!(await directory(c.env).getAccount(id))) throw notFound(id);
  // A top-up is a ledger entry keyed by its reference: the same reference never counts twice.
  const balance = await ledger(c.env, id).credit(`topup:${req.reference ?? crypto.randomUUID()}`, req.amount);
  return c.json({ id, balance });
});

admin.post("/accounts/:id/keys", async (c) => {
  const id = c.req.param("id");
  if (!(await directory(c.env).getAccount(id))) throw notFound(id);
  const { apiKey, key } = await directory(c.env).createKey(id);
  c.header("cache-control", "no-store");
  return c.json({ ...key, api_key: apiKey }, 201);
});

admin.get("/accounts/:id/keys", async (c) => {
  const id = c.req.param("id");
  if (!(await directory(c.env).getAccount(id))) throw notFound(id);
  return c.json({ data: await directory(c.env).listKeys(id) });
});

admin.delete("/accounts/:id/keys/:keyId", async (c) => {
  const key = await directory(c.env).revokeKey(c.req.param("id"), c.req.param("keyId"));
  if (!key) throw new ApiError(404, "key_not_found", "Key not found", `No key ${c.req.param("keyId")} in account ${c.req.param("id")}.`);
  return c.json(key);
});
