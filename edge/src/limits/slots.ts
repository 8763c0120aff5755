/**
 * An account's running-job slots, kept in its Durable Object (accounts/account-object.ts): a cap
 * on jobs not yet finished. A slot is keyed by job id (acquiring twice counts once) and carries
 * a lease; a slot whose job never reports its end is dropped once its lease expires.
 *
 * Synchronous SQLite with no await, so two concurrent admissions cannot both see the last slot.
 */
export interface SlotResult {
  allowed: boolean;
  /** Slots held after this call (including this job's, if allowed). */
  running: number;
  max: number;
}

const DEFAULT_SLOT_LEASE_MS = 6 * 3600 * 1000;

export class Slots {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS slots (job_id TEXT PRIMARY KEY, acquired_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL)`);
  }

  /** Claims a slot for `jobId` if fewer than `max` are held; a job already holding one is allowed again. */
  acquire(jobId: string, max: number, nowMs = Date.now(), leaseMs = DEFAULT_SLOT_LEASE_MS): SlotResult {
    if (!jobId) throw new RangeError("jobId is required");
    if (!(Number.isInteger(max) && max >= 0)) throw new RangeError(`max must be an integer >= 0, got ${max}`);
    this.sql.exec(`DELETE FROM slots WHERE expires_ms <= ?`, nowMs);
    const held = this.sql.exec(`SELECT 1 FROM slots WHERE job_id = ?`, jobId).toArray().length > 0;
    const running = this.count();
    if (held) return { allowed: true, running, max };
    if (running >= max) return { allowed: false, running, max };
    this.sql.exec(`INSERT INTO slots (job_id, acquired_ms, expires_ms) VALUES (?, ?, ?)`, jobId, nowMs, nowMs + leaseMs);
    return { allowed: true, running: running + 1, max };
  }

  /** Frees `jobId`'s slot; releasing one not held (or twice) does nothing. */
  release(jobId: string): void {
    this.sql.exec(`DELETE FROM slots WHERE job_id = ?`, jobId);
  }

  running(nowMs = Date.now()): number {
    this.sql.exec(`DELETE FROM slots WHERE expires_ms <= ?`, nowMs);
    return this.count();
  }

  private count(): number {
    return Number(this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM slots`).one().n);
  }
}
