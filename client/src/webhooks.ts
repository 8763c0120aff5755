import { ReelmeshError } from "./errors.ts";
import type { WebhookEvent } from "./types.ts";

/**
 * Verifies a webhook delivery as reelmesh signs it (Standard Webhooks, scheme
 * `standard-webhooks/v1`): `webhook-signature` holds space-separated `v1,<base64
 * HMAC-SHA256("<webhook-id>.<webhook-timestamp>.<raw body>")>` under the key in the
 * `whsec_<base64>` secret. The MAC is checked by `crypto.subtle.verify` (constant-time), and a
 * timestamp further than `toleranceS` from now, either way, is refused so a captured delivery
 * cannot be replayed. Needs WebCrypto: Node ≥ 20, browsers, Workers, Deno, Bun.
 */
export type WebhookVerificationReason =
  "missing_headers" | "invalid_secret" | "invalid_timestamp" | "expired" | "invalid_signature" | "invalid_payload";

export class WebhookVerificationError extends ReelmeshError {
  override readonly name: string = "WebhookVerificationError";
  readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The spec's suggested window: five minutes. */
export const DEFAULT_WEBHOOK_TOLERANCE_S = 300;
const SIGNATURE_BYTES = 32;

/** Headers as fetch (`Headers`), Node (`req.headers`: lower-case, maybe arrays) or a plain object give them. */
export type WebhookHeadersInput = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  toleranceS?: number | undefined;
  /** The verifier's clock, in Unix seconds (default: now). */
  nowS?: number | undefined;
}

/**
 * Returns the delivery's event when the signature and timestamp hold; throws
 * WebhookVerificationError (with a `reason`) otherwise. Pass the body exactly as received
 * (a string or its bytes): a re-serialized JSON object would not verify.
 *
 * @example
 * const event = await verifyWebhook(await request.text(), request.headers, process.env.REELMESH_WEBHOOK_SECRET!);
 * if (event.type === "video.completed") console.log(event.data.id);
 */
export async function verifyWebhook(
  payload: string | Uint8Array,
  headers: WebhookHeadersInput,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError("missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required");
  const key = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  if (!key || key.byteLength === 0) throw new WebhookVerificationError("invalid_secret", "The secret is not whsec_ followed by base64");
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not Unix seconds");
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - Number(timestamp)) > (options.toleranceS ?? DEFAULT_WEBHOOK_TOLERANCE_S)) {
    throw new WebhookVerificationError("expired", "webhook-timestamp is outside the tolerance");
  }
  const body = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const content = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  let ok = false;
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    // Other versions (v1a, …) are not this scheme's to check.
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const mac = fromBase64(entry.slice(comma + 1));
    if (mac?.byteLength === SIGNATURE_BYTES && (await crypto.subtle.verify("HMAC", cryptoKey, mac, content))) ok = true;
  }
  if (!ok) throw new WebhookVerificationError("invalid_signature", "No signature matches");
  try {
    return JSON.parse(body) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError("invalid_payload", "The signed body is not JSON");
  }
}

function header(headers: WebhookHeadersInput, name: string): string | null {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name);
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(" ") : (v ?? null);
  }
  return null;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
