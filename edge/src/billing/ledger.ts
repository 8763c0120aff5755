import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * One account's credits (issue 6): an append-only ledger in the account's Durable Object
 * (SQLite). The balance is the sum of the entries, always: nothing else is stored.
 *
 * - `credit` (+n): credits bought or granted; keyed by a reference, so a retried grant counts once.
 * - `reserve` (−price) when a job is accepted: refused (nothing written) if the balance, or an
 *   app token's cap, cannot cover it.
 * - `settle` (+(reserved − charged)) when the job ends with a charge ≤ the reservation.
 * - `refund` (+reserved) when it fails, is canceled or expires unserved.
 *
 * Entries are unique per (job, kind): a duplicated or late worker event never moves the
 * balance twice, and a settle after a refund (or the reverse) is ignored. Every method is one
 * synchronous SQLite transaction with no await inside, so concurrent calls cannot interleave.
 */
export interface Reservation {
  ok: boolean;
  balance: number;
  /** Credits the call needed when refused. */
  needed?: number;
  /** `balance` or `token_cap` when refused. */
  reason?: "balance" | "token_cap";
}

export interface UsageSummary {
  balance: number;
  reserved: number;
  spent: number;
  jobs: number;
  by_day: { day: string; tier: string; spent: number; jobs: number }[];
}

export class LedgerObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS entries (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      ref TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('credit', 'reserve', 'settle', 'refund')),
      amount INTEGER NOT NULL,
      tier TEXT, subject TEXT, token TEXT,
      at TEXT NOT NULL,
      UNIQUE (ref, kind)
    )`);
  }

  private balanceNow(): number {
    return Number(this.sql.exec("SELECT COALESCE(SUM(amount), 0) AS b FROM entries").one().b);
  }

  private has(ref: string, kind: string): boolean {
    return this.sql.exec("SELECT 1 FROM entries WHERE ref = ? AND kind = ?", ref, kind).toArray().length > 0;
  }

  private append(ref: string, kind: string, amount: number, meta: { tier?: string | null; subject?: string | null; token?: string | null } = {}): void {
    this.sql.exec(
      "INSERT INTO entries (ref, kind, amount, tier, subject, token, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ref, kind, amount, meta.tier ?? null, meta.subject ?? null, meta.token ?? null, new Date().toISOString(),
    );
  }

  async credit(ref: string, amount: number): Promise<number> {
    if (!Number.isInteger(amount) || amount <= 0) throw new RangeError("a credit is a positive whole number");
    if (!this.has(ref, "credit")) this.append(ref, "credit", amount);
    return this.balanceNow();
  }

  async balance(): Promise<number> {
    return this.balanceNow();
  }

  /** Holds `price` for `jobId`, or refuses with nothing written. Idempotent per job. */
  async reserve(jobId: string, price: number, meta: { tier: string; subject: string | null; token: string | null; tokenCap: number | null }): Promise<Reservation> {
    if (!Number.isInteger(price) || price < 0) throw new RangeError("a price is a non-negative whole number");
    if (this.has(jobId, "reserve")) return { ok: true, balance: this.balanceNow() };
    const balance = this.balanceNow();
    if (price > balance) return { ok: false, balance, needed: price, reason: "balance" };
    if (meta.token && meta.tokenCap !== null) {
      // What this token's jobs hold or have spent: reservations minus what came back.
      const used = -Number(this.sql.exec(
        `SELECT COALESCE(SUM(e.amount), 0) AS u FROM entries e WHERE e.kind IN ('reserve', 'settle', 'refund')
           AND e.ref IN (SELECT ref FROM entries WHERE kind = 'reserve' AND token = ?)`, meta.token,
      ).one().u);
      if (used + price > meta.tokenCap) return { ok: false, balance, needed: price, reason: "token_cap" };
    }
    this.append(jobId, "reserve", -price, meta);
    return { ok: true, balance: balance - price };
  }

  /** Ends a reservation with a charge ≤ it; returns the credits given back. Once per job. */
  async settle(jobId: string, charged: number): Promise<number> {
    const reserved = this.reservedFor(jobId);
    if (reserved === null || this.has(jobId, "settle") || this.has(jobId, "refund")) return 0;
    const back = reserved - Math.max(0, Math.min(charged, reserved));
    this.append(jobId, "settle", back);
    return back;
  }

  /** Gives a reservation back whole. Once per job; never after a settle. */
  async refund(jobId: string): Promise<number> {
    const reserved = this.reservedFor(jobId);
    if (reserved === null || this.has(jobId, "settle") || this.has(jobId, "refund")) return 0;
    this.append(jobId, "refund", reserved);
    return reserved;
  }

  private reservedFor(jobId: string): number | null {
    const row = this.sql.exec("SELECT amount FROM entries WHERE ref = ? AND kind = 'reserve'", jobId).toArray()[0];
    return row ? -Number(row.amount) : null;
  }

  /** Balance, open reservations, spend per day and tier; for one app-token subject if given. */
  async usage(subject: string | null = null): Promise<UsageSummary> {
    const filter = subject === null ? "" : "AND r.subject = ?";
    const args = subject === null ? [] : [subject];
    const rows = this.sql.exec(
      `SELECT r.ref AS ref, -r.amount AS reserved, r.tier AS tier, substr(r.at, 1, 10) AS day,
              (SELECT amount FROM entries s WHERE s.ref = r.ref AND s.kind = 'settle') AS back,
              (SELECT amount FROM entries f WHERE f.ref = r.ref AND f.kind = 'refund') AS refunded
         FROM entries r WHERE r.kind = 'reserve' ${filter}`, ...args,
    ).toArray();
    let reserved = 0;
    let spent = 0;
    const byDay = new Map<string, { day: string; tier: string; spent: number; jobs: number }>();
    for (const r of rows) {
      if (r.back === null && r.refunded === null) {
        reserved += Number(r.reserved);
        continue;
      }
      if (r.refunded !== null) continue;
      const charged = Number(r.reserved) - Number(r.back);
      spent += charged;
      const key = `${String(r.day)}|${String(r.tier)}`;
      const d = byDay.get(key) ?? { day: String(r.day), tier: String(r.tier), spent: 0, jobs: 0 };
      d.spent += charged;
      d.jobs++;
      byDay.set(key, d);
    }
    return { balance: this.balanceNow(), reserved, spent, jobs: rows.length, by_day: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day) || a.tier.localeCompare(b.tier)) };
  }

  /** Every entry, oldest first (audits, tests). */
  async entries(): Promise<{ ref: string; kind: string; amount: number }[]> {
    return this.sql.exec("SELECT ref, kind, amount FROM entries ORDER BY seq").toArray().map((r) => ({ ref: String(r.ref), kind: String(r.kind), amount: Number(r.amount) }));
  }
}
