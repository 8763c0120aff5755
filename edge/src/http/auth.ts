import { createMiddleware } from "hono/factory";
import { hashKey, type AccountLimits } from "../accounts/object.ts";
import { TOKEN_SCOPES, verifyToken, type TokenScope } from "../accounts/tokens.ts";
import { edgeConfig, type Env } from "../env.ts";
import { ApiError } from "./problem.ts";

/**
 * Who is calling: `Authorization: Bearer <credential>`, where the credential is
 * - an API key (`rm_live_…`), verified against the account directory (hash lookup), cached
 *   per isolate for REELMESH_KEY_CACHE_S: a revoked key stops working within that time;
 * - an app token (`rmt_…`, accounts/tokens.ts) for one end user of a customer's app: its
 *   scopes limit what it may do, and it sees only its own subject's jobs;
 * - the dev key from the environment (local stack, tests), which maps to `acct_dev`.
 * No credential configured or found → 401; nobody gets in by default.
 */
export const DEV_ACCOUNT = "acct_dev";

export interface Principal {
  accountId: string;
  kind: "key" | "token";
  /** The app token's end user; null for an API key (which sees the whole account). */
  subject: string | null;
  scopes: ReadonlySet<TokenScope>;
  /** The app token's credit cap, if any. */
  tokenCap: number | null;
  /** The API key's id, or the app token's. */
  tokenId: string | null;
  /** The account's own limits, when it has any (an app token carries them from when it was minted). */
  limits: AccountLimits | null;
}

export type AuthVariables = {
  accountId: string;
  principal: Principal;
};

const encoder = new TextEncoder();

/** Constant-time comparison via digests: timing reveals nothing about the key. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export function bearerKey(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

const unauthorized = (detail: string) =>
  new ApiError(401, "unauthorized", "Missing or invalid credentials", detail, {
    headers: { "www-authenticate": 'Bearer realm="reelmesh"' },
  });

const ALL_SCOPES: ReadonlySet<TokenScope> = new Set(TOKEN_SCOPES);

/** Key hash → account (or null: unknown or revoked), with the moment the entry goes stale. */
const keyCache = new Map<string, { accountId: string | null; keyId: string | null; limits: AccountLimits | null; until: number }>();
const KEY_CACHE_MAX = 10_000;
/** Key id → whether it is still active, for the app tokens it minted; the same bound on staleness. */
const mintingKeyCache = new Map<string, { active: boolean; until: number }>();

async function mintingKeyActive(env: Env, accountId: string, keyId: string): Promise<boolean> {
  const now = Date.now();
  let entry = mintingKeyCache.get(keyId);
  if (!entry || entry.until <= now) {
    entry = { active: await directory(env).keyActive(accountId, keyId), until: now + edgeConfig(env).REELMESH_KEY_CACHE_S * 1000 };
    if (mintingKeyCache.size >= KEY_CACHE_MAX) mintingKeyCache.delete(mintingKeyCache.keys().next().value!);
    mintingKeyCache.set(keyId, entry);
  }
  return entry.active;
}

export function directory(env: Env) {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName("directory"));
}

async function keyPrincipal(env: Env, key: string): Promise<Principal | null> {
  const cfg = edgeConfig(env);
  if (cfg.REELMESH_DEV_KEY && (await sameSecret(key, cfg.REELMESH_DEV_KEY))) {
    return { accountId: DEV_ACCOUNT, kind: "key", subject: null, scopes: ALL_SCOPES, tokenCap: null, tokenId: null, limits: null };
  }
  if (!key.startsWith("rm_live_")) return null;
  const hash = await hashKey(key);
  const now = Date.now();
  let entry = keyCache.get(hash);
  if (!entry || entry.until <= now) {
    const found = await directory(env).verify(hash);
    // Unknown keys are remembered briefly too, so a flood of bad keys does not reach the DO.
    entry = {
      accountId: found?.account_id ?? null,
      keyId: found?.key_id ?? null,
      limits: found?.limits ?? null,
      until: now + (found ? cfg.REELMESH_KEY_CACHE_S : 5) * 1000,
    };
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(hash, entry);
  }
  return entry.accountId
    ? {
        accountId: entry.accountId,
        kind: "key",
        subject: null,
        scopes: ALL_SCOPES,
        tokenCap: null,
        tokenId: entry.keyId,
        limits: entry.limits,
      }
    : null;
}

export async function principalFor(env: Env, credential: string | null): Promise<Principal | null> {
  if (!credential) return null;
  if (credential.startsWith("rmt_")) {
    const claims = await verifyToken(edgeConfig(env).REELMESH_TOKEN_SECRET, credential);
    if (!claims) return null;
    if (claims.kid !== null && !(await mintingKeyActive(env, claims.acct, claims.kid))) return null;
    return {
      accountId: claims.acct,
      kind: "token",
      subject: claims.sub,
      scopes: new Set(claims.scopes),
      tokenCap: claims.cap,
      tokenId: claims.jti,
      limits: claims.lim,
    };
  }
  return keyPrincipal(env, credential);
}

/**
 * Requires a credential allowed to `scope`; `keyOnly` refuses app tokens (minting tokens,
 * account secrets). A token without the scope gets 403 (it is valid, just not for this).
 */
export function requireAuth(scope: TokenScope | null, opts: { keyOnly?: boolean } = {}) {
  return createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
    const credential = bearerKey(c.req.header("authorization"));
    if (!credential) throw unauthorized("Send your API key or app token as `Authorization: Bearer <credential>`.");
    const principal = await principalFor(c.env, credential);
    if (!principal) throw unauthorized("The API key or app token is not valid (unknown, revoked or expired).");
    if (opts.keyOnly && principal.kind !== "key")
      throw new ApiError(403, "forbidden", "API key required", "This call needs an API key; app tokens cannot make it.");
    if (scope && !principal.scopes.has(scope))
      throw new ApiError(403, "insufficient_scope", "Missing scope", `This call needs the ${scope} scope.`);
    c.set("accountId", principal.accountId);
    c.set("principal", principal);
    await next();
  });
}

export const requireApiKey = requireAuth(null, { keyOnly: true });
