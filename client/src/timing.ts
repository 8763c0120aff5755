/**
 * Backoff, abortable sleeps and signals, written against what every runtime has: React Native
 * lacks `AbortSignal.any`, `AbortSignal.timeout` and `throwIfAborted`, so none is used.
 */

/** First retry delay and the cap, for retries of a request. */
const RETRY_BASE_MS = 500;
export const RETRY_CAP_MS = 8_000;
/** A `Retry-After` longer than this is not slept through: the error goes to the caller. */
export const MAX_RETRY_AFTER_S = 60;

/**
 * Delay before retry `attempt` (0-based): exponential with "equal jitter" (half fixed, half
 * random), so clients that failed together do not retry together; never below a server's
 * `Retry-After`.
 */
export function retryDelayMs(attempt: number, retryAfterS: number | null, random: () => number = Math.random): number {
  const exp = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
  const jittered = exp / 2 + random() * (exp / 2);
  return retryAfterS === null ? jittered : Math.max(retryAfterS * 1000, jittered);
}

/** What an aborted call rejects with: the signal's reason, or an AbortError where the runtime gives none. */
export function abortReason(signal: AbortSignal): Error {
  return (signal.reason as Error | undefined) ?? abortError();
}

function abortError(message = "This operation was aborted"): Error {
  if (typeof DOMException === "function") return new DOMException(message, "AbortError");
  const err = new Error(message);
  err.name = "AbortError";
  return err;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** Resolves after `ms`, or rejects at once when `signal` aborts (before or during the wait). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A controller aborted when any of `signals` aborts (with its reason), and a `release` that
 * removes the listeners so a long-lived caller signal does not collect them.
 */
export function linkedController(...signals: (AbortSignal | undefined)[]): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(abortReason(s));
      break;
    }
    const onAbort = () => controller.abort(abortReason(s));
    s.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => s.removeEventListener("abort", onAbort));
  }
  return { controller, release: () => cleanups.forEach((f) => f()) };
}

/** A random idempotency key: a UUID where the runtime makes them, else 128 random bits in hex. */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof c?.getRandomValues === "function") c.getRandomValues(bytes);
  // React Native without a crypto polyfill: Math.random is not a CSPRNG, but a key only has to be unique, not secret.
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
