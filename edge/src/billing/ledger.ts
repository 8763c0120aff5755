import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { createBucketTable, takeTokens, type LimitPolicy, type TakeResult } from "../limits/bucket.ts";
import type { JobRecord } from "../jobs/record.ts";

/**
 * One account's credits: an append-only ledger in the account's Durable Object
 * (SQLite). The balance is the sum of the entries; it is also kept as a running total (and
 * each app token's use as one), updated in the same transaction as every entry, so a create
 * costs the same on an account with ten entries or ten million. `audit()` compares the two.
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
 *
 * The account's create rate limit (a token bucket, limits/bucket.ts) lives here too: `admit`
 * takes a rate token and reserves (or, for a cache hit, charges) in one transaction, so the
 * create path pays one round trip for both and never has to give back a charge because the
 * rate check refused after it.
 *
 * A cache hit without a webhook is kept here too (`hits`): born finished, charged in the same
 * transaction that admits it, never changed after but for the bytes it serves. Every create of
 * an account passes through this object anyway, so a hit adds no object and no round trip.
 */
export interface Reservation {
  ok: boolean;
  balance: number;
  /** Credits the call needed when refused. */
  needed?: number;
  /** `balance` or `token_cap` when refused. */
  reason?: "balance" | "token_cap";
}

/** How long a hit's record outlives its outputs (it answers 410 meanwhile). */
const HIT_KEEP_MS = 30 * 24 * 3600 * 1000;

export interface ReserveMeta {
  tier: string;
  subject: string | null;
  token: string | null;
  tokenCap: number | null;
}

export interface AdmitRequest {
  /** The account's create bucket: every create takes a token, valid or not. */
  rate: LimitPolicy;
  /** A grant applied first, once per `ref` (the local dev account's credits). */
  grant?: { ref: string; amount: number };
  /** Reserve `price` for job `ref`; `settle`: charge it whole at once (a cache hit, born finished). */
  charge?: { ref: string; price: number; meta: ReserveMeta; settle?: boolean };
  /** With a settled charge: the hit's record (its id is `charge.ref`), stored if charged. */
  hit?: JobRecord;
}

export interface Admission {
  rate: TakeResult;
  /** The charge's outcome; null when none was asked or the rate check refused (nothing reserved). */
  reservation: Reservation | null;
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
    const fresh = this.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'totals'").toArray().length === 0;
    this.sql.exec("CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), balance INTEGER NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS token_use (token TEXT PRIMARY KEY, used INTEGER NOT NULL)");
    if (fresh) {
      // First start of this code on a ledger that has entries: derive the totals once.
      this.sql.exec("INSERT INTO totals (id, balance) SELECT 1, COALESCE(SUM(amount), 0) FROM entries");
      this.sql.exec(`INSERT INTO token_use (token, used)
        SELECT r.token, -SUM(e.amount) FROM entries r JOIN entries e ON e.ref = r.ref AND e.kind IN ('reserve', 'settle', 'refund')
         WHERE r.kind = 'reserve' AND r.token IS NOT NULL GROUP BY r.token`);
    }
    createBucketTable(this.sql);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS hits (id TEXT PRIMARY KEY, record TEXT NOT NULL, served INTEGER NOT NULL DEFAULT 0, expires_ms INTEGER NOT NULL)",
    );
    this.sql.exec("CREATE INDEX IF NOT EXISTS hits_expiry ON hits (expires_ms)");
  }

  private balanceNow(): number {
    return Number(this.sql.exec("SELECT balance FROM totals WHERE id = 1").one().balance);
  }

  private has(ref: string, kind: string): boolean {
    return this.sql.exec("SELECT 1 FROM entries WHERE ref = ? AND kind = ?", ref, kind).toArray().length > 0;
  }

  private append(
    ref: string,
    kind: string,
    amount: number,
    meta: { tier?: string | null; subject?: string | null; token?: string | null } = {},
  ): void {
    this.sql.exec(
      "INSERT INTO entries (ref, kind, amount, tier, subject, token, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ref,
      kind,
      amount,
      meta.tier ?? null,
      meta.subject ?? null,
      meta.token ?? null,
      new Date().toISOString(),
    );
    this.sql.exec("UPDATE totals SET balance = balance + ? WHERE id = 1", amount);
  }

  /** A job's reservation or its return moves its app token's use (by −amount). */
  private useToken(token: string | null, amount: number): void {
    if (token) {
      this.sql.exec(
        "INSERT INTO token_use (token, used) VALUES (?, ?) ON CONFLICT(token) DO UPDATE SET used = used + excluded.used",
        token,
        -amount,
      );
    }
  }

  async credit(ref: string, amount: number): Promise<number> {
    if (!this.has(ref, "credit")) this.append(ref, "credit", positive(amount));
    return this.balanceNow();
  }

  async balance(): Promise<number> {
    return this.balanceNow();
  }

  /** Holds `price` for `jobId`, or refuses with nothing written. Idempotent per job. */
  async reserve(jobId: string, price: number, meta: ReserveMeta): Promise<Reservation> {
    return this.reserveNow(jobId, price, meta);
  }

  /**
   * A create's admission, in one transaction: the grant, the rate token, then the charge. A
   * refused rate check reserves nothing; a refused charge still spent its rate token.
   */
  async admit(req: AdmitRequest, nowMs = Date.now()): Promise<Admission> {
    if (req.grant && !this.has(req.grant.ref, "credit")) this.append(req.grant.ref, "credit", positive(req.grant.amount));
    const rate = takeTokens(this.sql, req.rate, 1, nowMs);
    if (!rate.allowed || !req.charge) return { rate, reservation: null };
    const { ref, price, meta, settle } = req.charge;
    const reservation = this.reserveNow(ref, price, meta);
    if (reservation.ok && settle) this.settleNow(ref, price);
    if (reservation.ok && settle && req.hit) {
      this.pruneHits(nowMs);
      this.sql.exec(
        "INSERT OR IGNORE INTO hits (id, record, expires_ms) VALUES (?, ?, ?)",
        ref,
        JSON.stringify(req.hit),
        Date.parse(req.hit.expires_at!),
      );
    }
    return { rate, reservation };
  }

  /** A hit kept here, with the bytes it has served and whether its outputs have expired. */
  async hit(id: string, nowMs = Date.now()): Promise<JobRecord | null> {
    const row = this.sql
      .exec<{ record: string; served: number; expires_ms: number }>("SELECT record, served, expires_ms FROM hits WHERE id = ?", id)
      .toArray()[0];
    if (!row) return null;
    const job = JSON.parse(row.record) as JobRecord;
    return { ...job, bytes_served: Number(row.served), expired: Number(row.expires_ms) <= nowMs };
  }

  /** Bytes the edge served for hits kept here (batched per isolate, cost-batch.ts). */
  async addHitServed(entries: readonly { id: string; bytes: number }[]): Promise<void> {
    for (const e of entries) this.sql.exec("UPDATE hits SET served = served + ? WHERE id = ?", e.bytes, e.id);
  }

  /** Hits whose outputs expired over 30 days ago are forgotten (then 404, like any unknown id); a few per admit. */
  private pruneHits(nowMs: number): void {
    this.sql.exec("DELETE FROM hits WHERE id IN (SELECT id FROM hits WHERE expires_ms < ? LIMIT 20)", nowMs - HIT_KEEP_MS);
  }

  private reserveNow(jobId: string, price: number, meta: ReserveMeta): Reservation {
    if (!Number.isInteger(price) || price < 0) throw new RangeError("a price is a non-negative whole number");
    if (this.has(jobId, "reserve")) return { ok: true, balance: this.balanceNow() };
    const balance = this.balanceNow();
    if (price > balance) return { ok: false, balance, needed: price, reason: "balance" };
    if (meta.token && meta.tokenCap !== null) {
      // What this token's jobs hold or have spent: reservations minus what came back.
      const used = Number(this.sql.exec("SELECT used FROM token_use WHERE token = ?", meta.token).toArray()[0]?.used ?? 0);
      if (used + price > meta.tokenCap) return { ok: false, balance, needed: price, reason: "token_cap" };
    }
    this.append(jobId, "reserve", -price, meta);
    this.useToken(meta.token, -price);
    return { ok: true, balance: balance - price };
  }

  /** Ends a reservation with a charge ≤ it; returns the credits given back. Once per job. */
  async settle(jobId: string, charged: number): Promise<number> {
    return this.settleNow(jobId, charged);
  }

  private settleNow(jobId: string, charged: number): number {
    const r = this.reservation(jobId);
    if (r === null || this.has(jobId, "settle") || this.has(jobId, "refund")) return 0;
    const back = r.reserved - Math.max(0, Math.min(charged, r.reserved));
    this.append(jobId, "settle", back);
    this.useToken(r.token, back);
    return back;
  }

  /** Gives a reservation back whole. Once per job; never after a settle. */
  async refund(jobId: string): Promise<number> {
    const r = this.reservation(jobId);
    if (r === null || this.has(jobId, "settle") || this.has(jobId, "refund")) return 0;
    this.append(jobId, "refund", r.reserved);
    this.useToken(r.token, r.reserved);
    return r.reserved;
  }

  /**
   * Takes back what a job holds or was charged, settled or not: for the create handler only,
   * when it charged a cache hit and then could not store the job (never for job events: a
   * late failure after a settle must stay ignored, which `refund` guarantees). Once per job.
   */
  async undo(jobId: string): Promise<number> {
    const r = this.reservation(jobId);
    if (r === null || this.has(jobId, "refund")) return 0;
    const held = -Number(this.sql.exec("SELECT COALESCE(SUM(amount), 0) AS s FROM entries WHERE ref = ?", jobId).one().s);
    this.append(jobId, "refund", held);
    this.useToken(r.token, held);
    return held;
  }

  private reservation(jobId: string): { reserved: number; token: string | null } | null {
    const row = this.sql
      .exec<{ amount: number; token: string | null }>("SELECT amount, token FROM entries WHERE ref = ? AND kind = 'reserve'", jobId)
      .toArray()[0];
    return row ? { reserved: -Number(row.amount), token: row.token } : null;
  }

  /** Balance, open reservations, spend per day and tier; for one app-token subject if given. */
  async usage(subject: string | null = null): Promise<UsageSummary> {
    const filter = subject === null ? "" : "AND r.subject = ?";
    const args = subject === null ? [] : [subject];
    const rows = this.sql
      .exec<{ ref: string; reserved: number; tier: string; day: string; back: number | null; refunded: number | null }>(
        `SELECT r.ref AS ref, -r.amount AS reserved, r.tier AS tier, substr(r.at, 1, 10) AS day,
              (SELECT amount FROM entries s WHERE s.ref = r.ref AND s.kind = 'settle') AS back,
              (SELECT amount FROM entries f WHERE f.ref = r.ref AND f.kind = 'refund') AS refunded
         FROM entries r WHERE r.kind = 'reserve' ${filter}`,
        ...args,
      )
      .toArray();
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
    return {
      balance: this.balanceNow(),
      reserved,
      spent,
      jobs: rows.length,
      by_day: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day) || a.tier.localeCompare(b.tier)),
    };
  }

  /** Every entry, oldest first (audits, tests). */
  async entries(): Promise<{ ref: string; kind: string; amount: number }[]> {
    return this.sql
      .exec<{ ref: string; kind: string; amount: number }>("SELECT ref, kind, amount FROM entries ORDER BY seq")
      .toArray()
      .map((r) => ({ ref: String(r.ref), kind: String(r.kind), amount: Number(r.amount) }));
  }

  /** The kept totals against the sums of the entries (tests, audits): always equal. */
  async audit(): Promise<{ balance: number; sum: number; tokens: { token: string; used: number; sum: number }[] }> {
    const sum = Number(this.sql.exec("SELECT COALESCE(SUM(amount), 0) AS s FROM entries").one().s);
    const tokens = this.sql
      .exec<{ token: string; used: number; sum: number }>(
        `SELECT u.token AS token, u.used AS used,
        (SELECT -COALESCE(SUM(e.amount), 0) FROM entries e WHERE e.kind IN ('reserve', 'settle', 'refund')
           AND e.ref IN (SELECT ref FROM entries WHERE kind = 'reserve' AND token = u.token)) AS sum
      FROM token_use u ORDER BY u.token`,
      )
      .toArray()
      .map((r) => ({ token: String(r.token), used: Number(r.used), sum: Number(r.sum) }));
    return { balance: this.balanceNow(), sum, tokens };
  }
}

function positive(amount: number): number {
  if (!Number.isInteger(amount) || amount <= 0) throw new RangeError("a credit is a positive whole number");
  return amount;
}
