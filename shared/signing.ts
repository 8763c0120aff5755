/**
 * HMAC-SHA256 signatures for worker → edge events, over the body and the time.
 * WebCrypto only, so the same code signs in Node and verifies in workerd.
 *
 * Header: `reelmesh-signature: t=<unix seconds>,v1=<hex hmac of "<t>.<body>">`.
 * Binding the timestamp into the MAC and bounding its age stops replay of an old event.
 */
export const SIGNATURE_HEADER = "reelmesh-signature";
/** How far a signature's timestamp may be from the verifier's clock, either way. */
export const SIGNATURE_TOLERANCE_S = 300;

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify"): ReturnType<typeof crypto.subtle.importKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Signature header value for `body`, made at `nowS` (unix seconds). */
export async function signBody(secret: string, body: string, nowS = Math.floor(Date.now() / 1000)): Promise<string> {
  const key = await hmacKey(secret, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${nowS}.${body}`));
  return `t=${nowS},v1=${toHex(mac)}`;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: "malformed" | "expired" | "mismatch" };

/**
 * Checks a signature header against `body`. Uses `crypto.subtle.verify`, which compares in
 * constant time, rather than comparing hex strings.
 */
export async function verifyBody(
  secret: string,
  body: string,
  header: string | null | undefined,
  nowS = Math.floor(Date.now() / 1000),
): Promise<SignatureVerdict> {
  if (!header) return { ok: false, reason: "malformed" };
  const parts = new Map(
    header.split(",").map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get("t"));
  const mac = fromHex(parts.get("v1") ?? "");
  if (!Number.isSafeInteger(t) || !mac || mac.length !== 32) return { ok: false, reason: "malformed" };
  if (Math.abs(nowS - t) > SIGNATURE_TOLERANCE_S) return { ok: false, reason: "expired" };
  const key = await hmacKey(secret, "verify");
  const ok = await crypto.subtle.verify("HMAC", key, mac, encoder.encode(`${t}.${body}`));
  return ok ? { ok: true } : { ok: false, reason: "mismatch" };
}
