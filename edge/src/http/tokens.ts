import { Hono } from "hono";
import { z } from "zod";
import { MAX_TOKEN_TTL_S, mintToken, TOKEN_SCOPES } from "../accounts/tokens.ts";
import { edgeConfig, type Env } from "../env.ts";
import { requireApiKey, type AuthVariables } from "./auth.ts";
import { jsonBody } from "./validation.ts";
import { idempotentForAccount } from "./idempotent.ts";

/**
 * `POST /v1/tokens` (API key only): a short-lived token for one end user of a mobile app,
 * so the app's backend keeps the key and the phone gets only what it needs.
 */
export const tokens = new Hono<{ Bindings: Env; Variables: AuthVariables }>();

export const TokenRequestSchema = z.strictObject({
  subject: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
  scopes: z
    .array(z.enum(TOKEN_SCOPES))
    .min(1)
    .default([...TOKEN_SCOPES]),
  credit_cap: z.int().min(0).optional(),
  expires_in_s: z.int().min(60).max(MAX_TOKEN_TTL_S).default(900),
});

export const TokenResponseSchema = z.object({
  token: z.string(),
  subject: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  credit_cap: z.int().nullable(),
  expires_at: z.iso.datetime(),
});

tokens.post("/tokens", requireApiKey, idempotentForAccount, async (c) => {
  const req = await jsonBody(c, TokenRequestSchema);
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    v: 1 as const,
    acct: c.get("accountId"),
    sub: req.subject,
    scopes: [...new Set(req.scopes)],
    cap: req.credit_cap ?? null,
    lim: c.get("principal").limits,
    kid: c.get("principal").tokenId,
    iat: now,
    exp: now + req.expires_in_s,
    jti: crypto.randomUUID(),
  };
  const token = await mintToken(edgeConfig(c.env).REELMESH_TOKEN_SECRET, claims);
  c.header("cache-control", "no-store");
  return c.json(
    { token, subject: claims.sub, scopes: claims.scopes, credit_cap: claims.cap, expires_at: new Date(claims.exp * 1000).toISOString() },
    201,
  );
});
