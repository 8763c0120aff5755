import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * Per-account running-job slots: one object per account
 * (`LIMITER.idFromName(account)`), the single writer of that account's slots. (The account's
 * create rate is a token bucket, limits/bucket.ts, kept by its ledger: one transaction with
 * the charge.)
 *
 * Exactness: every method reads and writes SQLite synchronously (`ctx.storage.sql`) and awaits
 * nothing, so each call runs to completion before the next one starts — no two concurrent
 * `acquireSlot`s can both see the last slot.
 *
 * Slots: a cap on jobs not yet finished. A slot is keyed by job id (acquiring twice counts
 * once) and carries a lease; a slot whose job never reports its end is dropped once its lease
 * expires, on the next call.
 */
export interface SlotResult {
  allowed: boolean;
  /** Slots held after this call (including this job's, if allowed). */
  running: number;
  max: number;
}

const DEFAULT_SLOT_LEASE_MS = 6 * 3600 * 1000;

export class LimiterObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS slots (job_id TEXT PRIMARY KEY, acquired_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL)`);
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
