import { createMiddleware } from "hono/factory";
import { keyShardForHash, keyShardForId } from "../accounts/keys.ts";
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

/** Key hash → account, with the moment the entry goes stale. */
const keyCache = new Map<string, { accountId: string; keyId: string; limits: AccountLimits | null; until: number }>();
const KEY_CACHE_MAX = 10_000;
/**
 * Key hashes found unknown or revoked, remembered briefly in a map of their own: a flood of
 * random keys fills this one, never pushing valid keys out of the cache above.
 */
const unknownKeys = new Map<string, number>();
const UNKNOWN_KEYS_MAX = 10_000;
const UNKNOWN_KEY_S = 5;
/** Key id → whether it is still active, for the app tokens it minted; the same bound on staleness. */
const mintingKeyCache = new Map<string, { active: boolean; until: number }>();

async function mintingKeyActive(env: Env, keyId: string): Promise<boolean> {
  const now = Date.now();
  let entry = mintingKeyCache.get(keyId);
  if (!entry || entry.until <= now) {
    const active = await keyShardForId(env, keyId).keyActive(keyId);
    entry = { active, until: now + edgeConfig(env).REELMESH_KEY_CACHE_S * 1000 };
    if (mintingKeyCache.size >= KEY_CACHE_MAX) mintingKeyCache.delete(mintingKeyCache.keys().next().value!);
    mintingKeyCache.set(keyId, entry);
  }
  return entry.active;
}

/**
 * A brake on guessing: a client (by address) that has sent AUTH_FAILURES_MAX invalid
 * credentials within AUTH_FAILURE_WINDOW_S is answered 429 without a lookup until the window
 * moves on. Kept per isolate, so it is a brake, not an exact limit: an exact, global one is
 * Cloudflare's rate limiting rule in front of the Worker (docs/deploy-cloudflare.md).
 */
const AUTH_FAILURES_MAX = 20;
const AUTH_FAILURE_WINDOW_S = 60;
const authFailures = {
  clients: new Map<string, { count: number; since: number }>(),
  /** Seconds to wait, or 0. */
  check(client: string, now = Date.now()): number {
    const c = this.clients.get(client);
    if (!c || now - c.since >= AUTH_FAILURE_WINDOW_S * 1000) return 0;
    return c.count >= AUTH_FAILURES_MAX ? Math.ceil((c.since + AUTH_FAILURE_WINDOW_S * 1000 - now) / 1000) : 0;
  },
  fail(client: string, now = Date.now()): void {
    const c = this.clients.get(client);
    if (!c || now - c.since >= AUTH_FAILURE_WINDOW_S * 1000) {
      if (this.clients.size >= UNKNOWN_KEYS_MAX) this.clients.delete(this.clients.keys().next().value!);
      this.clients.set(client, { count: 1, since: now });
    } else c.count++;
  },
};

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
    if ((unknownKeys.get(hash) ?? 0) > now) return null;
    const found = await keyShardForHash(env, hash).verify(hash);
    if (!found) {
      if (unknownKeys.size >= UNKNOWN_KEYS_MAX) unknownKeys.delete(unknownKeys.keys().next().value!);
      unknownKeys.set(hash, now + UNKNOWN_KEY_S * 1000);
      keyCache.delete(hash);
      return null;
    }
    entry = { accountId: found.account_id, keyId: found.key_id, limits: found.limits, until: now + cfg.REELMESH_KEY_CACHE_S * 1000 };
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(hash, entry);
  }
  return {
    accountId: entry.accountId,
    kind: "key",
    subject: null,
    scopes: ALL_SCOPES,
    tokenCap: null,
    tokenId: entry.keyId,
    limits: entry.limits,
  };
}

export async function principalFor(env: Env, credential: string | null): Promise<Principal | null> {
  if (!credential) return null;
  if (credential.startsWith("rmt_")) {
    const claims = await verifyToken(edgeConfig(env).REELMESH_TOKEN_SECRET, credential);
    if (!claims) return null;
    if (claims.kid !== null && !(await mintingKeyActive(env, claims.kid))) return null;
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
    // Cloudflare sets the client's address on every request; a local edge has none, and no brake.
    const client = c.req.header("cf-connecting-ip");
    const brake = client === undefined ? 0 : authFailures.check(client);
    if (brake > 0) {
      throw new ApiError(
        429,
        "too_many_auth_failures",
        "Too many invalid credentials",
        `Too many invalid credentials from this client; retry after ${brake} s.`,
        {
          headers: { "retry-after": String(brake) },
        },
      );
    }
    const principal = await principalFor(c.env, credential);
    if (!principal) {
      if (client !== undefined) authFailures.fail(client);
      throw unauthorized("The API key or app token is not valid (unknown, revoked or expired).");
    }
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
