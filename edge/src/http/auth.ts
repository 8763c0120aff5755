import { createMiddleware } from "hono/factory";
import { edgeConfig, type Env } from "../env.ts";
import { ApiError } from "./problem.ts";

/**
 * `Authorization: Bearer <key>`. Until the gateway issue brings real keys, one dev key from
 * the environment maps to the account `acct_dev`. No key configured → nobody gets in.
 */
export const DEV_ACCOUNT = "acct_dev";

export type AuthVariables = { accountId: string };

const encoder = new TextEncoder();

/** Constant-time comparison via digests: timing reveals nothing about the key. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export function bearerKey(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

const unauthorized = (detail: string) =>
  new ApiError(401, "unauthorized", "Missing or invalid API key", detail, { headers: { "www-authenticate": 'Bearer realm="reelmesh"' } });

export async function accountForKey(env: Env, key: string | null): Promise<string | null> {
  const devKey = edgeConfig(env).REELMESH_DEV_KEY;
  if (!key || !devKey) return null;
  return (await sameSecret(key, devKey)) ? DEV_ACCOUNT : null;
}

export const requireApiKey = createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async function requireApiKey(c, next) {
  const key = bearerKey(c.req.header("authorization"));
  if (!key) throw unauthorized("Send your API key as `Authorization: Bearer <key>`.");
  const account = await accountForKey(c.env, key);
  if (!account) throw unauthorized("The API key is not valid.");
  c.set("accountId", account);
  await next();
});
