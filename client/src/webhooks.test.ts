import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "./webhooks.ts";

/**
 * Signs as the Standard Webhooks spec says (the edge's signer is edge/src/webhooks/sign.ts;
 * test/integration/client.test.ts verifies real deliveries from it).
 */
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const newWebhookSecret = () => `whsec_${b64(crypto.getRandomValues(new Uint8Array(32)))}`;
async function signWebhook(secret: string, id: string, ts: number, payload: string): Promise<Record<string, string>> {
  const raw = Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${ts}.${payload}`));
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${b64(new Uint8Array(mac))}` };
}

const body = JSON.stringify({ type: "video.completed", timestamp: "2026-12-03T10:00:00.000Z", data: { id: "vid_x" } });
const NOW = 1_790_000_000;

async function reason(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebhookVerificationError);
  return (err as WebhookVerificationError).reason;
}

describe("verifyWebhook", () => {
  it("accepts the edge's signature, from Headers, a Node-style object or raw bytes, and returns the event", async () => {
    const secret = newWebhookSecret();
    const h = await signWebhook(secret, "evt_1", NOW, body);
    expect((await verifyWebhook(body, new Headers(h), secret, { nowS: NOW })).type).toBe("video.completed");
    expect((await verifyWebhook(new TextEncoder().encode(body), { ...h }, secret, { nowS: NOW + 299 })).data.id).toBe("vid_x");
    // Several signatures (a rotation): one match is enough; other versions are skipped.
    const other = await signWebhook(newWebhookSecret(), "evt_1", NOW, body);
    const both = { ...h, "webhook-signature": `v1a,xyz ${other["webhook-signature"]} ${h["webhook-signature"]}` };
    expect((await verifyWebhook(body, both, secret, { nowS: NOW })).type).toBe("video.completed");
  });

  it("refuses a changed body, id or timestamp, another secret, and a delivery outside the tolerance either way", async () => {
    const secret = newWebhookSecret();
    const h = await signWebhook(secret, "evt_1", NOW, body);
    expect(await reason(verifyWebhook(body.replace("vid_x", "vid_y"), h, secret, { nowS: NOW }))).toBe("invalid_signature");
    expect(await reason(verifyWebhook(body, { ...h, "webhook-id": "evt_2" }, secret, { nowS: NOW }))).toBe("invalid_signature");
    expect(await reason(verifyWebhook(body, { ...h, "webhook-timestamp": String(NOW + 1) }, secret, { nowS: NOW }))).toBe(
      "invalid_signature",
    );
    expect(await reason(verifyWebhook(body, h, newWebhookSecret(), { nowS: NOW }))).toBe("invalid_signature");
    expect(await reason(verifyWebhook(body, h, secret, { nowS: NOW + 301 }))).toBe("expired");
    expect(await reason(verifyWebhook(body, h, secret, { nowS: NOW - 301 }))).toBe("expired");
    expect(await reason(verifyWebhook(body, h, secret, { nowS: NOW + 10, toleranceS: 5 }))).toBe("expired");
  });

  it("says why malformed input fails instead of throwing anything else", async () => {
    const secret = newWebhookSecret();
    const h = await signWebhook(secret, "evt_1", NOW, body);
    expect(await reason(verifyWebhook(body, { "webhook-id": "evt_1" }, secret))).toBe("missing_headers");
    expect(await reason(verifyWebhook(body, h, "whsec_!!!", { nowS: NOW }))).toBe("invalid_secret");
    expect(await reason(verifyWebhook(body, { ...h, "webhook-timestamp": "soon" }, secret, { nowS: NOW }))).toBe("invalid_timestamp");
    expect(await reason(verifyWebhook(body, { ...h, "webhook-signature": "v1,notbase64!" }, secret, { nowS: NOW }))).toBe(
      "invalid_signature",
    );
    const signedJunk = await signWebhook(secret, "evt_1", NOW, "not json");
    expect(await reason(verifyWebhook("not json", signedJunk, secret, { nowS: NOW }))).toBe("invalid_payload");
  });
});
