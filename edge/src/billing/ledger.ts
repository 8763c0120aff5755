import type { ReserveMeta, Reservation, UsageSummary } from "./types.ts";

/**
 * One account's credits: an append-only ledger in the account's Durable Object
 * (accounts/account-object.ts, SQLite). The balance is the sum of the entries; it is also kept
 * as a running total (and each app token's use as one), updated in the same transaction as
 * every entry, so a create costs the same on an account with ten entries or ten million.
 * `audit()` compares the two.
 *
 * - `credit` (+n): credits bought or granted; keyed by a reference, so a retried grant counts once.
 * - `reserve` (−price) when a job is accepted: refused (nothing written) if the balance, or an
 *   app token's cap, cannot cover it.
 * - `settle` (+(reserved − charged)) when the job ends with a charge ≤ the reservation.
 * - `refund` (+reserved) when it fails, is canceled or expires unserved.
 *
 * Entries are unique per (job, kind): a duplicated or late worker event never moves the
 * balance twice, and a settle after a refund (or the reverse) is ignored.
 *
 * What `/v1/usage` answers is kept as entries are written (`usage_totals`, `usage_days`, for
 * the account and for each app-token subject), so reading it costs the same on any ledger and
 * never scans it inside the object that serialises the account's creates.
 *
 * Every method is synchronous SQLite with no await: the caller's transaction is the object's
 * turn, so concurrent calls cannot interleave.
 */
export class Ledger {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS entries (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      ref TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('credit', 'reserve', 'settle', 'refund')),
      amount INTEGER NOT NULL,
      tier TEXT, subject TEXT, token TEXT,
      at TEXT NOT NULL,
      UNIQUE (ref, kind)
    )`);
    const fresh = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'totals'").toArray().length === 0;
    sql.exec("CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), balance INTEGER NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS token_use (token TEXT PRIMARY KEY, used INTEGER NOT NULL)");
    // subject '' is the whole account; an app-token subject also has rows of its own.
    sql.exec(`CREATE TABLE IF NOT EXISTS usage_totals (subject TEXT PRIMARY KEY, reserved INTEGER NOT NULL, spent INTEGER NOT NULL,
      jobs INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS usage_days (subject TEXT NOT NULL, day TEXT NOT NULL, tier TEXT NOT NULL,
      spent INTEGER NOT NULL, jobs INTEGER NOT NULL, PRIMARY KEY (subject, day, tier))`);
    if (fresh) {
      // First start on a ledger that has entries (none on a new account): derive the totals once.
      sql.exec("INSERT INTO totals (id, balance) SELECT 1, COALESCE(SUM(amount), 0) FROM entries");
      sql.exec(`INSERT INTO token_use (token, used)
        SELECT r.token, -SUM(e.amount) FROM entries r JOIN entries e ON e.ref = r.ref AND e.kind IN ('reserve', 'settle', 'refund')
         WHERE r.kind = 'reserve' AND r.token IS NOT NULL GROUP BY r.token`);
      for (const r of this.scanReservations()) this.countUsage(r);
    }
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

  /** Moves the usage totals of the account and of the reservation's subject. */
  private moveUsage(r: Reserved, d: { reserved?: number; spent?: number; jobs?: number; day?: number }): void {
    for (const subject of r.subject === null ? [""] : ["", r.subject]) {
      this.sql.exec(
        `INSERT INTO usage_totals (subject, reserved, spent, jobs) VALUES (?, ?, ?, ?)
         ON CONFLICT(subject) DO UPDATE SET reserved = reserved + excluded.reserved, spent = spent + excluded.spent,
         jobs = jobs + excluded.jobs`,
        subject,
        d.reserved ?? 0,
        d.spent ?? 0,
        d.jobs ?? 0,
      );
      if (d.day !== undefined) {
        this.sql.exec(
          `INSERT INTO usage_days (subject, day, tier, spent, jobs) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(subject, day, tier) DO UPDATE SET spent = spent + excluded.spent, jobs = jobs + excluded.jobs`,
          subject,
          r.day,
          r.tier,
          d.spent ?? 0,
          d.day,
        );
      }
    }
  }

  credit(ref: string, amount: number): number {
    if (!this.has(ref, "credit")) this.append(ref, "credit", positive(amount));
    return this.balanceNow();
  }

  balance(): number {
    return this.balanceNow();
  }

  /** Holds `price` for `jobId`, or refuses with nothing written. Idempotent per job. */
  reserve(jobId: string, price: number, meta: ReserveMeta): Reservation {
    const can = this.canReserve(jobId, price, meta);
    if (!can.ok || this.has(jobId, "reserve")) return can;
    const balance = can.balance;
    this.append(jobId, "reserve", -price, meta);
    this.useToken(meta.token, -price);
    this.moveUsage({ reserved: price, subject: meta.subject, tier: meta.tier, day: "", token: meta.token }, { reserved: price, jobs: 1 });
    return { ok: true, balance: balance - price };
  }

  /** Whether `reserve` would hold `price` for `jobId` now; writes nothing. */
  canReserve(jobId: string, price: number, meta: ReserveMeta): Reservation {
    if (!Number.isInteger(price) || price < 0) throw new RangeError("a price is a non-negative whole number");
    const balance = this.balanceNow();
    if (this.has(jobId, "reserve")) return { ok: true, balance };
    if (price > balance) return { ok: false, balance, needed: price, reason: "balance" };
    if (meta.token && meta.tokenCap !== null) {
      // What this token's jobs hold or have spent: reservations minus what came back.
      const used = Number(this.sql.exec("SELECT used FROM token_use WHERE token = ?", meta.token).toArray()[0]?.used ?? 0);
      if (used + price > meta.tokenCap) return { ok: false, balance, needed: price, reason: "token_cap" };
    }
    return { ok: true, balance };
  }

  /** Ends a reservation with a charge ≤ it; returns the credits given back. Once per job. */
  settle(jobId: string, charged: number): number {
    const r = this.reservation(jobId);
    if (r === null || this.has(jobId, "settle") || this.has(jobId, "refund")) return 0;
    const spent = Math.max(0, Math.min(charged, r.reserved));
    const back = r.reserved - spent;
    this.append(jobId, "settle", back);
    this.useToken(r.token, back);
    this.moveUsage(r, { reserved: -r.reserved, spent, day: 1 });
    return back;
  }

  /** Gives a reservation back whole. Once per job; never after a settle. */
  refund(jobId: string): number {
    const r = this.reservation(jobId);
    if (r === null || this.has(jobId, "settle") || this.has(jobId, "refund")) return 0;
    this.append(jobId, "refund", r.reserved);
    this.useToken(r.token, r.reserved);
    this.moveUsage(r, { reserved: -r.reserved });
    return r.reserved;
  }

  /**
   * Takes back what a job holds or was charged, settled or not: for admission only, when a
   * hit was charged and its job could then never be stored (never for job events: a late
   * failure after a settle must stay ignored, which `refund` guarantees). Once per job.
   */
  undo(jobId: string): number {
    const r = this.reservation(jobId);
    if (r === null || this.has(jobId, "refund")) return 0;
    const settled = this.sql.exec<{ amount: number }>("SELECT amount FROM entries WHERE ref = ? AND kind = 'settle'", jobId).toArray()[0];
    const held = -Number(this.sql.exec("SELECT COALESCE(SUM(amount), 0) AS s FROM entries WHERE ref = ?", jobId).one().s);
    this.append(jobId, "refund", held);
    this.useToken(r.token, held);
    if (settled) this.moveUsage(r, { spent: -(r.reserved - Number(settled.amount)), day: -1 });
    else this.moveUsage(r, { reserved: -r.reserved });
    return held;
  }

  /** Reservations still open (neither settled nor refunded) made before `beforeIso`; oldest first. */
  openReservations(beforeIso: string, limit: number): string[] {
    return this.sql
      .exec<{ ref: string }>(
        `SELECT r.ref AS ref FROM entries r WHERE r.kind = 'reserve' AND r.at < ?
           AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.ref = r.ref AND e.kind IN ('settle', 'refund'))
         ORDER BY r.seq LIMIT ?`,
        beforeIso,
        limit,
      )
      .toArray()
      .map((r) => String(r.ref));
  }

  isOpen(jobId: string): boolean {
    return this.reservation(jobId) !== null && !this.has(jobId, "settle") && !this.has(jobId, "refund");
  }

  private reservation(jobId: string): Reserved | null {
    const row = this.sql
      .exec<{ amount: number; token: string | null; subject: string | null; tier: string | null; at: string }>(
        "SELECT amount, token, subject, tier, at FROM entries WHERE ref = ? AND kind = 'reserve'",
        jobId,
      )
      .toArray()[0];
    return row
      ? { reserved: -Number(row.amount), token: row.token, subject: row.subject, tier: String(row.tier), day: String(row.at).slice(0, 10) }
      : null;
  }

  /** Balance, open reservations, spend per day and tier; for one app-token subject if given. Reads kept totals only. */
  usage(subject: string | null = null): UsageSummary {
    const key = subject ?? "";
    const t = this.sql
      .exec<{ reserved: number; spent: number; jobs: number }>("SELECT reserved, spent, jobs FROM usage_totals WHERE subject = ?", key)
      .toArray()[0];
    const days = this.sql
      .exec<{ day: string; tier: string; spent: number; jobs: number }>(
        "SELECT day, tier, spent, jobs FROM usage_days WHERE subject = ? AND jobs > 0 ORDER BY day, tier",
        key,
      )
      .toArray()
      .map((d) => ({ day: String(d.day), tier: String(d.tier), spent: Number(d.spent), jobs: Number(d.jobs) }));
    return {
      balance: this.balanceNow(),
      reserved: Number(t?.reserved ?? 0),
      spent: Number(t?.spent ?? 0),
      jobs: Number(t?.jobs ?? 0),
      by_day: days,
    };
  }

  /** Every reservation with how it ended, straight from the entries (migration, audits). */
  private scanReservations(): { r: Reserved; back: number | null; refunded: boolean }[] {
    return this.sql
      .exec<{
        ref: string;
        reserved: number;
        tier: string;
        subject: string | null;
        token: string | null;
        at: string;
        back: number | null;
        refunded: number | null;
      }>(
        `SELECT r.ref AS ref, -r.amount AS reserved, r.tier AS tier, r.subject AS subject, r.token AS token, r.at AS at,
              (SELECT amount FROM entries s WHERE s.ref = r.ref AND s.kind = 'settle') AS back,
              (SELECT amount FROM entries f WHERE f.ref = r.ref AND f.kind = 'refund') AS refunded
         FROM entries r WHERE r.kind = 'reserve'`,
      )
      .toArray()
      .map((x) => ({
        r: { reserved: Number(x.reserved), tier: String(x.tier), subject: x.subject, token: x.token, day: String(x.at).slice(0, 10) },
        back: x.back === null ? null : Number(x.back),
        refunded: x.refunded !== null,
      }));
  }

  private countUsage(x: { r: Reserved; back: number | null; refunded: boolean }): void {
    this.moveUsage(x.r, { jobs: 1 });
    if (x.refunded) return;
    if (x.back === null) this.moveUsage(x.r, { reserved: x.r.reserved });
    else this.moveUsage(x.r, { spent: x.r.reserved - x.back, day: 1 });
  }

  /** Every entry, oldest first (audits, tests). */
  entries(): { ref: string; kind: string; amount: number }[] {
    return this.sql
      .exec<{ ref: string; kind: string; amount: number }>("SELECT ref, kind, amount FROM entries ORDER BY seq")
      .toArray()
      .map((r) => ({ ref: String(r.ref), kind: String(r.kind), amount: Number(r.amount) }));
  }

  /** The kept totals against the sums of the entries (tests, audits): always equal. */
  audit(): {
    balance: number;
    sum: number;
    tokens: { token: string; used: number; sum: number }[];
    usage: { kept: UsageSummary; scanned: UsageSummary };
  } {
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
    return { balance: this.balanceNow(), sum, tokens, usage: { kept: this.usage(), scanned: this.scannedUsage() } };
  }

  /** The account's usage computed from the entries alone, the way `usage()` is kept (audits). */
  private scannedUsage(): UsageSummary {
    let reserved = 0;
    let spent = 0;
    const byDay = new Map<string, { day: string; tier: string; spent: number; jobs: number }>();
    const all = this.scanReservations();
    for (const { r, back, refunded } of all) {
      if (refunded) continue;
      if (back === null) {
        reserved += r.reserved;
        continue;
      }
      spent += r.reserved - back;
      const key = `${r.day}|${r.tier}`;
      const d = byDay.get(key) ?? { day: r.day, tier: r.tier, spent: 0, jobs: 0 };
      d.spent += r.reserved - back;
      d.jobs++;
      byDay.set(key, d);
    }
    return {
      balance: this.balanceNow(),
      reserved,
      spent,
      jobs: all.length,
      by_day: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day) || a.tier.localeCompare(b.tier)),
    };
  }
}

interface Reserved {
  reserved: number;
  token: string | null;
  subject: string | null;
  tier: string;
  /** The reservation's day (UTC): usage counts a job on the day it was created. */
  day: string;
}

function positive(amount: number): number {
  if (!Number.isInteger(amount) || amount <= 0) throw new RangeError("a credit is a positive whole number");
  return amount;
}
