import { z } from "zod";

/**
 * App tokens: what a mobile app's backend mints with its API key for one end user,
 * so the phone never holds the key. `rmt_<payload>.<signature>`: the payload is base64url JSON
 * (account, subject, scopes, credit cap, expiry), the signature HMAC-SHA256 over it with the
 * edge's REELMESH_TOKEN_SECRET (WebCrypto). A token cannot be widened or extended without the
 * secret; it reads only its own subject's jobs, and expires within an hour.
 */
export const TOKEN_SCOPES = ["videos:create", "videos:read"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export const MAX_TOKEN_TTL_S = 3600;

const TokenClaimsSchema = z.object({
  v: z.literal(1),
  acct: z.string().min(1),
  sub: z.string().min(1).max(128),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1),
  /** Most credits jobs created with this token may spend (enforced with billing). */
  cap: z.int().min(0).nullable(),
  /**
   * The account's own limits when the token was minted (null: the edge's defaults): a token
   * cannot escape the limits its account's operator set.
   */
  lim: z
    .object({ burst: z.int().min(1), per_s: z.number().positive(), max_running_jobs: z.int().min(1) })
    .nullable()
    .default(null),
  iat: z.int(),
  exp: z.int(),
  jti: z.string().min(1),
  /** The API key that minted it: revoking the key revokes its tokens (within the key-cache bound). */
  kid: z.string().min(1).nullable().default(null),
});
export type TokenClaims = z.infer<typeof TokenClaimsSchema>;

const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const fromB64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

export async function mintToken(secret: string, claims: z.input<typeof TokenClaimsSchema>): Promise<string> {
  const payload = b64url(encoder.encode(JSON.stringify(claims)));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), encoder.encode(payload)));
  return `rmt_${payload}.${b64url(sig)}`;
}

/** The claims of a valid, unexpired token; null for anything else (never throws). */
export async function verifyToken(secret: string, token: string, nowS = Math.floor(Date.now() / 1000)): Promise<TokenClaims | null> {
  const match = /^rmt_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!match) return null;
  try {
    const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), fromB64url(match[2]!), encoder.encode(match[1]));
    if (!ok) return null;
    const claims = TokenClaimsSchema.safeParse(JSON.parse(new TextDecoder().decode(fromB64url(match[1]!))));
    if (!claims.success || claims.data.exp <= nowS || claims.data.exp - claims.data.iat > MAX_TOKEN_TTL_S) return null;
    return claims.data;
  } catch {
    return null;
  }
}
