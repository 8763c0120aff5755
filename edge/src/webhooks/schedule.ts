/**
 * Webhook retry schedule, after Standard Webhooks / Svix: immediately, then 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h, about 27.6 h in all, so a receiver that is down for a day still gets it.
 * Index i is the delay before attempt i + 1.
 */
export const WEBHOOK_RETRY_DELAYS_S: readonly number[] = Object.freeze([0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600]);

/**
 * Seconds to wait before the next attempt, given how many attempts were already made
 * (0 = none yet, 1 = the first one failed, …); null once the schedule is exhausted or the
 * count is nonsense, so a caller never retries forever.
 */
export function nextAttemptDelayS(attempt: number): number | null {
  if (!Number.isSafeInteger(attempt) || attempt < 0) return null;
  return WEBHOOK_RETRY_DELAYS_S[attempt] ?? null;
}

/**
 * Whether a non-2xx response is worth retrying: timeouts (408), rate limits (429) and server
 * errors (5xx) are transient; any other 4xx means the receiver rejected it and will again.
 * 2xx is success, not a retry. Network errors have no status: the caller retries those.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}
