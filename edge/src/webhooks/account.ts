import { WEBHOOK_SECRET_PREFIX } from "./sign.ts";

/**
 * Each account's webhook signing secret, derived from the edge's master secret:
 * `whsec_` + base64(HMAC-SHA256(master, "webhook:" + account)). Nothing to store, the same on
 * every isolate, and one account's secret says nothing about another's. Rotating the master
 * rotates every account's secret (the account directory, accounts/object.ts, could replace
 * this with per-account rotation).
 */
export async function accountWebhookSecret(master: string, accountId: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(master), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`webhook:${accountId}`)));
  return WEBHOOK_SECRET_PREFIX + btoa(String.fromCharCode(...mac));
}
