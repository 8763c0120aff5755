import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * Per-account limits (issue 5): one object per account (`LIMITER.idFromName(account)`), the
 * single writer of that account's token buckets and running-job slots.
 *
 * Exactness: every method reads and writes SQLite synchronously (`ctx.storage.sql`) and awaits
 * nothing, so each call runs to completion before the next one starts — no two concurrent
 * `take`s can both see the last token, and no two `acquireSlot`s the last slot.
 *
 * Token bucket: `capacity` tokens, refilled continuously at `refillPerS`; a request costs
 * `cost` tokens and is refused (nothing taken) when fewer are available.
 *
 * Slots: a cap on jobs not yet finished. A slot is keyed by job id (acquiring twice counts
 * once) and carries a lease; a slot whose job never reports its end is dropped once its lease
 * expires, on the next call.
 */
export interface LimitPolicy {
  /** Bucket size: the burst an account may spend at once. */
  capacity: number;
  /** Tokens added per second (may be fractional). */
  refillPerS: number;
  /** Separate buckets per name in one account's object (e.g. "create", "read"); default "default". */
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

export interface SlotResult {
  allowed: boolean;
  /** Slots held after this call (including this job's, if allowed). */
  running: number;
  max: number;
}

export const DEFAULT_SLOT_LEASE_MS = 6 * 3600 * 1000;

/** Tolerance for floating-point refill arithmetic (e.g. 0.1 * 3 < 0.3). */
const EPS = 1e-9;

export class LimiterObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, last_ms INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS slots (job_id TEXT PRIMARY KEY, acquired_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL)`);
  }

  /**
   * Takes `cost` tokens if available. `nowMs` is a parameter for tests; the clock never runs
   * backwards for a bucket (an earlier `nowMs` refills nothing).
   */
  async take(policy: LimitPolicy, cost = 1, nowMs = Date.now()): Promise<TakeResult> {
    const invalid = policyError(policy, cost);
    if (invalid) throw new RangeError(invalid);
    const { capacity, refillPerS } = policy;
    const name = policy.name ?? "default";

    const row = this.sql.exec<{ tokens: number; last_ms: number }>(`SELECT tokens, last_ms FROM buckets WHERE name = ?`, name).toArray()[0];
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
    this.sql.exec(
      `INSERT INTO buckets (name, tokens, last_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET tokens = excluded.tokens, last_ms = excluded.last_ms`,
      name, tokens, lastMs,
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
   * Claims a running-job slot for `jobId` if fewer than `max` are held. Idempotent: a job that
   * already holds a slot is allowed again and counted once (its lease is not extended).
   */
  async acquireSlot(jobId: string, max: number, opts: { leaseMs?: number; nowMs?: number } = {}): Promise<SlotResult> {
    const nowMs = opts.nowMs ?? Date.now();
    const leaseMs = opts.leaseMs ?? DEFAULT_SLOT_LEASE_MS;
    if (!jobId) throw new RangeError("jobId is required");
    if (!(Number.isInteger(max) && max >= 0)) throw new RangeError(`max must be an integer >= 0, got ${max}`);
    if (!(leaseMs > 0)) throw new RangeError(`leaseMs must be > 0, got ${leaseMs}`);
    this.expire(nowMs);

    const held = this.sql.exec(`SELECT 1 FROM slots WHERE job_id = ?`, jobId).toArray().length > 0;
    let running = this.count();
    if (held) return { allowed: true, running, max };
    if (running >= max) return { allowed: false, running, max };
    this.sql.exec(`INSERT INTO slots (job_id, acquired_ms, expires_ms) VALUES (?, ?, ?)`, jobId, nowMs, nowMs + leaseMs);
    running += 1;
    return { allowed: true, running, max };
  }

  /** Frees `jobId`'s slot; releasing one not held (or twice) does nothing. */
  async releaseSlot(jobId: string): Promise<void> {
    this.sql.exec(`DELETE FROM slots WHERE job_id = ?`, jobId);
  }

  /** Slots held now (expired leases dropped first). */
  async running(nowMs = Date.now()): Promise<number> {
    this.expire(nowMs);
    return this.count();
  }

  private expire(nowMs: number): void {
    this.sql.exec(`DELETE FROM slots WHERE expires_ms <= ?`, nowMs);
  }

  private count(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM slots`).one().n;
  }
}

/**
 * Why a `take(policy, cost)` would be refused as malformed, or null. Callers should check
 * before the RPC (a cost above capacity could never be allowed: answer 400/422, not 429).
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
