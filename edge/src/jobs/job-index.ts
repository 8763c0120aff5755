import type { JobRecord } from "./record.ts";

/**
 * An account's jobs, in its Durable Object (accounts/account-object.ts): one row per job it
 * admitted, for `GET /v1/videos` (newest first: ids are time-ordered) and for the jobs this
 * object still holds itself:
 * - the outbox: a job admitted but not yet in its own object (`store`), or stored but not yet
 *   queued (`enqueue`); written in the admission's transaction, carried out after the answer;
 * - a job that could never be handed on, kept here failed (`abandoned`).
 * `state` is `active` until the job's object reports its end (queued and running are not told
 * apart here: the job's own object knows which).
 */
export type IndexState = "active" | "succeeded" | "failed" | "canceled";

export interface Listed {
  id: string;
  /** Set for jobs kept here (hits, jobs not yet or never stored); the rest are read from their objects. */
  record: JobRecord | null;
}

type OutboxRow = {
  id: string;
  step: "store" | "enqueue" | "abandoned";
  record: string;
  message: string | null;
  attempts: number;
  next_ms: number;
  first_ms: number;
};

export class JobIndex {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, subject TEXT, state TEXT NOT NULL, follows TEXT)`);
    sql.exec("CREATE INDEX IF NOT EXISTS jobs_subject ON jobs (subject, id)");
    sql.exec("CREATE INDEX IF NOT EXISTS jobs_follows ON jobs (follows)");
    sql.exec(`CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, step TEXT NOT NULL, record TEXT NOT NULL, message TEXT,
      attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, first_ms INTEGER NOT NULL, error TEXT)`);
  }

  /** A job admitted; `store`: its object is still to be written (and, with a message, it is still to be queued). */
  add(record: JobRecord, state: IndexState, opts: { store: boolean; message: unknown }): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO jobs (id, subject, state, follows) VALUES (?, ?, ?, ?)",
      record.id,
      record.subject,
      state,
      record.follows,
    );
    if (opts.store) {
      const now = Date.now();
      this.sql.exec(
        "INSERT OR IGNORE INTO outbox (id, step, record, message, next_ms, first_ms) VALUES (?, 'store', ?, ?, ?, ?)",
        record.id,
        JSON.stringify(record),
        opts.message === null ? null : JSON.stringify(opts.message),
        now,
        now,
      );
    }
  }

  setState(id: string, state: IndexState): void {
    this.sql.exec("UPDATE jobs SET state = ? WHERE id = ?", state, id);
  }

  hasOutbox(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox WHERE step != 'abandoned' LIMIT 1").toArray().length > 0;
  }

  /** Steps due now, oldest job first (a leader is stored before the jobs that joined it); or one job's. */
  due(nowMs: number, only?: string): OutboxRow[] {
    const rows =
      only === undefined
        ? this.sql.exec<OutboxRow>("SELECT * FROM outbox WHERE step != 'abandoned' AND next_ms <= ? ORDER BY id LIMIT 50", nowMs)
        : this.sql.exec<OutboxRow>("SELECT * FROM outbox WHERE step != 'abandoned' AND id = ?", only);
    return rows.toArray().map((r) => ({ ...r, attempts: Number(r.attempts), next_ms: Number(r.next_ms), first_ms: Number(r.first_ms) }));
  }

  outboxStep(id: string): OutboxRow["step"] | null {
    return this.sql.exec<{ step: OutboxRow["step"] }>("SELECT step FROM outbox WHERE id = ?", id).toArray()[0]?.step ?? null;
  }

  /** The record of a job this object still holds (not yet stored, or abandoned); null otherwise. */
  kept(id: string): JobRecord | null {
    const row = this.sql
      .exec<{ record: string; step: string }>("SELECT record, step FROM outbox WHERE id = ? AND step != 'enqueue'", id)
      .toArray()[0];
    return row ? (JSON.parse(row.record) as JobRecord) : null;
  }

  /** Its object is written: next it is queued (a job that runs), or it is done. */
  stored(id: string, queue: boolean): void {
    if (queue)
      this.sql.exec("UPDATE outbox SET step = 'enqueue', attempts = 0, next_ms = ? WHERE id = ? AND step = 'store'", Date.now(), id);
    else this.done(id);
  }

  done(id: string): void {
    this.sql.exec("DELETE FROM outbox WHERE id = ?", id);
  }

  /** Again later: 1 s, 2 s, 4 s, … up to a minute, with jitter so a fleet of retries spreads out. */
  retry(id: string, error: string): void {
    const row = this.sql.exec<{ attempts: number }>("SELECT attempts FROM outbox WHERE id = ?", id).toArray()[0];
    if (!row) return;
    const attempts = Number(row.attempts) + 1;
    const delay = Math.min(60_000, 1000 * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
    this.sql.exec("UPDATE outbox SET attempts = ?, next_ms = ?, error = ? WHERE id = ?", attempts, Date.now() + delay, error, id);
  }

  abandoned(failed: JobRecord): void {
    this.sql.exec("UPDATE outbox SET step = 'abandoned', record = ?, message = NULL WHERE id = ?", JSON.stringify(failed), failed.id);
    this.setState(failed.id, "failed");
  }

  /** Jobs that joined `leader` and have not ended. */
  followersOf(leader: string): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM jobs WHERE follows = ? AND state = 'active'", leader)
      .toArray()
      .map((r) => String(r.id));
  }

  nextDue(): number | null {
    const row = this.sql.exec<{ t: number | null }>("SELECT MIN(next_ms) AS t FROM outbox WHERE step != 'abandoned'").one();
    return row.t === null ? null : Number(row.t);
  }

  list(q: { subject: string | null; states: IndexState[] | null; before: string | null; limit: number }): {
    items: Listed[];
    more: boolean;
  } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.subject !== null) {
      where.push("subject = ?");
      args.push(q.subject);
    }
    if (q.states) {
      where.push(`state IN (${q.states.map(() => "?").join(", ")})`);
      args.push(...q.states);
    }
    if (q.before !== null) {
      where.push("id < ?");
      args.push(q.before);
    }
    const rows = this.sql
      .exec<{ id: string }>(
        `SELECT id FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
        ...args,
        q.limit + 1,
      )
      .toArray();
    const items = rows.slice(0, q.limit).map((r) => ({ id: String(r.id), record: this.kept(String(r.id)) }));
    return { items, more: rows.length > q.limit };
  }
}
