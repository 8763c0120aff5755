/**
 * Outgoing webhook signatures per the Standard Webhooks spec (https://www.standardwebhooks.com),
 * so customers can verify deliveries with any of its off-the-shelf libraries (or Svix's).
 * Headers: `webhook-id`, `webhook-timestamp` (unix s) and `webhook-signature`, a space-separated
 * list of `v1,<base64 HMAC-SHA256("<id>.<timestamp>.<body>")>`; the secret is `whsec_<base64 key>`.
 * WebCrypto only, so the same code runs in workerd, Node and browsers.
 */
export type WebhookHeaders = { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** The spec's suggested replay window: a captured delivery is useless after five minutes. */
const WEBHOOK_TOLERANCE_S = 5 * 60;
const SECRET_BYTES = 32;
const SIGNATURE_BYTES = 32;

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Strict-enough base64 decode; null instead of throwing, so verification can just say no. */
function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Key bytes of a `whsec_` secret; a bare base64 key is accepted too, as the reference libraries do. */
function secretKeyBytes(secret: string): Uint8Array | null {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  const bytes = fromBase64(encoded);
  return bytes && bytes.byteLength > 0 ? bytes : null;
}

async function importKey(keyBytes: Uint8Array, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

const signedContent = (id: string, timestampS: number | string, body: string) => encoder.encode(`${id}.${timestampS}.${body}`);

/** A fresh endpoint secret: 32 random bytes, `whsec_`-prefixed base64 (the format customers paste into libraries). */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** Headers for one delivery attempt. Throws on a malformed secret or timestamp: those are our bugs, not input. */
export async function signWebhook(secret: string, id: string, timestampS: number, body: string): Promise<WebhookHeaders> {
  const keyBytes = secretKeyBytes(secret);
  if (!keyBytes) throw new TypeError("webhook secret must be whsec_ followed by base64 key bytes");
  if (!Number.isSafeInteger(timestampS) || timestampS < 0)
    throw new TypeError("webhook timestamp must be a non-negative integer of seconds");
  if (!id || /[\s.]/.test(id)) throw new TypeError("webhook id must be non-empty with no whitespace or dots");
  const mac = await crypto.subtle.sign("HMAC", await importKey(keyBytes, "sign"), signedContent(id, timestampS, body));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampS),
    "webhook-signature": `v1,${toBase64(new Uint8Array(mac))}`,
  };
}

function header(headers: Headers | Record<string, string>, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return null;
}

/**
 * True when any `v1,` signature matches and the timestamp is within tolerance of now (both
 * directions, so a future-dated replay is refused too). Never throws: bad input is just false.
 * Comparison is `crypto.subtle.verify`, which is constant-time and, unlike workerd's
 * `timingSafeEqual`, part of standard WebCrypto.
 */
export async function verifyWebhook(
  secret: string,
  headers: Headers | Record<string, string>,
  body: string,
  opts: { nowS?: number; toleranceS?: number } = {},
): Promise<boolean> {
  try {
    const keyBytes = secretKeyBytes(secret);
    const id = header(headers, "webhook-id");
    const timestamp = header(headers, "webhook-timestamp");
    const signatures = header(headers, "webhook-signature");
    if (!keyBytes || !id || !timestamp || !signatures) return false;
    if (!/^\d{1,15}$/.test(timestamp)) return false;
    const nowS = opts.nowS ?? Math.floor(Date.now() / 1000);
    const toleranceS = opts.toleranceS ?? WEBHOOK_TOLERANCE_S;
    if (Math.abs(nowS - Number(timestamp)) > toleranceS) return false;

    const candidates: Uint8Array[] = [];
    for (const entry of signatures.split(" ")) {
      const comma = entry.indexOf(",");
      if (comma < 0 || entry.slice(0, comma) !== "v1") continue; // other versions (v1a, …) are not ours to check
      const bytes = fromBase64(entry.slice(comma + 1));
      if (bytes && bytes.byteLength === SIGNATURE_BYTES) candidates.push(bytes);
    }
    if (candidates.length === 0) return false;

    const key = await importKey(keyBytes, "verify");
    const content = signedContent(id, timestamp, body);
    for (const candidate of candidates) {
      if (await crypto.subtle.verify("HMAC", key, candidate, content)) return true;
    }
    return false;
  } catch {
    return false;
  }
}
