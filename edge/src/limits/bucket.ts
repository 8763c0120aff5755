/**
 * The token buckets an account's object keeps in its SQLite (accounts/account-object.ts: the
 * create bucket, taken in the same transaction as the charge, and the moderation buckets).
 * Synchronous: a caller that awaits nothing around it gets an exact count under any concurrency
 * (the object's input gate).
 *
 * `capacity` tokens, refilled continuously at `refillPerS`; a request costs `cost` tokens and
 * is refused (nothing taken) when fewer are available.
 */
export interface LimitPolicy {
  /** Bucket size: the burst an account may spend at once. */
  capacity: number;
  /** Tokens added per second (may be fractional). */
  refillPerS: number;
  /** Separate buckets per name in one object (e.g. "create", "read"); default "default". */
  name?: string;
}

export interface TakeResult {
  allowed: boolean;
  /** The bucket's capacity. */
  limit: number;
  /** Whole tokens left after this call (never negative). */
  remaining: number;
  /** Seconds (ceil) until the bucket is full again; 0 when full. */
  resetS: number;
  /** Seconds (ceil, ≥ 1) until `cost` tokens are available when refused; 0 when allowed. */
  retryAfterS: number;
  /** capacity / refillPerS: the time an empty bucket takes to refill, for `RateLimit-Policy: …;w=`. */
  windowS: number;
}

/** Tolerance for floating-point refill arithmetic (e.g. 0.1 * 3 < 0.3). */
const EPS = 1e-9;

export function createBucketTable(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, last_ms INTEGER NOT NULL)`);
}

/**
 * Takes `cost` tokens if available. The clock never runs backwards for a bucket (an earlier
 * `nowMs` refills nothing).
 */
export function takeTokens(sql: SqlStorage, policy: LimitPolicy, cost: number, nowMs: number): TakeResult {
  const invalid = policyError(policy, cost);
  if (invalid) throw new RangeError(invalid);
  const { capacity, refillPerS } = policy;
  const name = policy.name ?? "default";

  const row = sql.exec<{ tokens: number; last_ms: number }>(`SELECT tokens, last_ms FROM buckets WHERE name = ?`, name).toArray()[0];
  let tokens: number;
  let lastMs: number;
  if (!row) {
    tokens = capacity;
    lastMs = nowMs;
  } else {
    const elapsedS = Math.max(0, nowMs - row.last_ms) / 1000;
    // min() also clamps a bucket whose policy shrank since it was last used.
    tokens = Math.min(capacity, row.tokens + elapsedS * refillPerS);
    lastMs = Math.max(row.last_ms, nowMs);
  }

  const allowed = tokens + EPS >= cost;
  if (allowed) tokens = Math.max(0, tokens - cost);
  if (capacity - tokens < EPS) tokens = capacity;
  sql.exec(
    `INSERT INTO buckets (name, tokens, last_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET tokens = excluded.tokens, last_ms = excluded.last_ms`,
    name,
    tokens,
    lastMs,
  );

  return {
    allowed,
    limit: capacity,
    remaining: Math.max(0, Math.floor(tokens + EPS)),
    resetS: ceilS((capacity - tokens) / refillPerS),
    retryAfterS: allowed ? 0 : Math.max(1, ceilS((cost - tokens) / refillPerS)),
    windowS: ceilS(capacity / refillPerS),
  };
}

/**
 * Why a take of `cost` under `policy` would be refused as malformed, or null. Callers should
 * check before the RPC (a cost above capacity could never be allowed: answer 400/422, not 429).
 */
export function policyError(policy: LimitPolicy, cost = 1): string | null {
  const { capacity, refillPerS } = policy;
  if (!(Number.isFinite(capacity) && capacity > 0)) return `capacity must be > 0, got ${capacity}`;
  if (!(Number.isFinite(refillPerS) && refillPerS > 0)) return `refillPerS must be > 0, got ${refillPerS}`;
  if (!(Number.isFinite(cost) && cost >= 0)) return `cost must be >= 0, got ${cost}`;
  if (cost > capacity) return `cost ${cost} exceeds capacity ${capacity}: it could never be allowed`;
  return null;
}

/** ceil() that ignores floating-point dust (4.0000000001 → 4) and never goes below 0. */
function ceilS(x: number): number {
  return Math.max(0, Math.ceil(x - EPS));
}
