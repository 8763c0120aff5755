import type { TakeResult } from "./bucket.ts";

/**
 * Rate-limit response headers, as in draft-ietf-httpapi-ratelimit-headers (the -06/-07 field
 * names, which clients and gateways widely understand):
 * - `RateLimit-Limit`: the bucket's capacity;
 * - `RateLimit-Remaining`: whole tokens left;
 * - `RateLimit-Reset`: delta-seconds until the bucket is full again (never a timestamp);
 * - `RateLimit-Policy: <capacity>;w=<window>`: the quota policy, window = seconds an empty
 *   bucket takes to refill;
 * - `Retry-After` (RFC 9110 §10.2.3, delta-seconds), only on a refused request (429).
 */
export function rateLimitHeaders(
  r: Pick<TakeResult, "allowed" | "limit" | "remaining" | "resetS" | "retryAfterS" | "windowS">,
): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(r.limit),
    "RateLimit-Remaining": String(Math.max(0, r.remaining)),
    "RateLimit-Reset": String(Math.max(0, r.resetS)),
    "RateLimit-Policy": `${r.limit};w=${Math.max(1, r.windowS)}`,
  };
  if (!r.allowed) headers["Retry-After"] = String(Math.max(1, r.retryAfterS));
  return headers;
}
