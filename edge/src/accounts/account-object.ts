import { DurableObject } from "cloudflare:workers";
import { hitIdFor, isHitId } from "../../../shared/ids.ts";
import { outputPrefix } from "../../../shared/layout.ts";
import type { JobMessage } from "../../../shared/schemas/job-message.ts";
import { enqueueJob, queueDepth } from "../aws/sqs.ts";
import { Ledger } from "../billing/ledger.ts";
import type { Reservation, ReserveMeta, UsageSummary } from "../billing/types.ts";
import { ContentClaims, type CachedResult } from "../cache/content.ts";
import { edgeConfig, type Env } from "../env.ts";
import { JobIndex, type IndexState, type Listed } from "../jobs/job-index.ts";
import { chargeFor } from "../jobs/charge.ts";
import { isTerminal, type JobRecord } from "../jobs/record.ts";
import { publicError } from "../jobs/public-error.ts";
import { createBucketTable, takeTokens, type LimitPolicy, type TakeResult } from "../limits/bucket.ts";
import { Slots } from "../limits/slots.ts";

/**
 * One account's state, in one Durable Object per account (`ACCOUNT.idFromName(account)`): its
 * ledger (billing/ledger.ts), its create rate bucket (limits/bucket.ts), its running-job slots
 * (limits/slots.ts), its result cache and coalescing claims (cache/content.ts: the content
 * address includes the account), its jobs (jobs/job-index.ts: the list, the jobs not yet
 * handed to their own object, the hits kept here) and its create Idempotency-Keys.
 *
 * A create is one call, `admit`, and one synchronous transaction: the Idempotency-Key, the
 * rate token, the cache decision (hit, join, or lead a new run), the running slot, the charge
 * and the job itself are written together or not at all, so there is nothing to undo when a
 * later step refuses, and no claim or reservation can outlive a job that was never stored.
 * What must happen next (the job's own object, the queue message) is an outbox written in the
 * same transaction and carried out after the answer, retried with backoff by the alarm until it
 * is done; a job that cannot be handed on within OUTBOX_GIVE_UP_MS fails (`enqueue_failed`) and
 * is refunded, and the jobs that joined it fail with it.
 *
 * Every method reads and writes SQLite with no await in between; the only awaits are the
 * outbox's and the sweep's outgoing calls, after which they read again before writing.
 */
export interface AdmitRequest {
  /** The account's create bucket: every create takes a token, valid or not. */
  rate: LimitPolicy;
  /** A grant applied first, once per `ref` (the local dev account's credits). */
  grant?: { ref: string; amount: number };
  /**
   * The caller's Idempotency-Key (already scoped to the caller) and the request's fingerprint;
   * `answer`: the answer to keep for it when the edge decided it before admission (a refusal
   * of the request itself, a quote).
   */
  idempotency?: { key: string; fingerprint: string; answer?: { status: number; body: string } };
  job?: {
    /** The job as a miss would run it (status queued, cache "none", price of a generation). */
    record: JobRecord;
    /** Prices of the three answers, in credits. */
    prices: { generation: number; joined: number; hit: number };
    meta: ReserveMeta;
    maxRunning: number;
    /** Followers one run may have before identical requests are refused. */
    maxFollowers: number;
    /** The queue message, for a job that will run. */
    message: JobMessage;
  };
}

export type AdmitResult = { rate: TakeResult | null; replayed?: boolean } & (
  | { outcome: "admitted" }
  | { outcome: "answer"; status: number; body: string }
  | { outcome: "rate_limited" }
  /** The job as it was first answered (a replay is the same answer, with fresh links). */
  | { outcome: "replay"; record: JobRecord; status: 200 | 202 }
  | { outcome: "key_reused" }
  | { outcome: "payment_refused"; reservation: Reservation; price: number }
  | { outcome: "concurrency_limit"; running: number; max: number }
  | { outcome: "too_many_followers"; max: number }
  | { outcome: "accepted"; record: JobRecord; status: 200 | 202 }
);

/** What a job object tells its account when the job ends. */
export interface Finish {
  id: string;
  status: JobRecord["status"];
  charged: number;
  /** The leader's content address and what a hit needs of its outputs. */
  content?: { address: string; expires_at: string | null; result: CachedResult };
}

/** Idempotency-Keys of creates are kept this long after the answer. */
const IDEMPOTENCY_KEEP_MS = 24 * 3600 * 1000;
/** How long a hit's record outlives its outputs (it answers 410 meanwhile). */
const HIT_KEEP_MS = 30 * 24 * 3600 * 1000;
/** An outbox step that keeps failing this long fails its job (the client gets it as enqueue_failed). */
const OUTBOX_GIVE_UP_MS = 5 * 60 * 1000;
/** A reservation is looked at by the sweep once its job is this much past the job timeout. */
const SWEEP_GRACE_MS = 15 * 60 * 1000;
const SWEEP_EVERY_MS = 3600 * 1000;

export class AccountObject extends DurableObject<Env> {
  private readonly sql = this.ctx.storage.sql;
  private readonly ledger = new Ledger(this.sql);
  private readonly slots = new Slots(this.sql);
  private readonly content = new ContentClaims(this.sql);
  private readonly jobs = new JobIndex(this.sql);
  private draining: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    createBucketTable(this.sql);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS hits (id TEXT PRIMARY KEY, record TEXT NOT NULL, served INTEGER NOT NULL DEFAULT 0, expires_ms INTEGER NOT NULL)",
    );
    this.sql.exec("CREATE INDEX IF NOT EXISTS hits_expiry ON hits (expires_ms)");
    // A key's answer: a job (replayed from its current state) or a kept answer (a refusal, a quote).
    this.sql.exec(`CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, job_id TEXT,
      status INTEGER NOT NULL, answer TEXT, at_ms INTEGER NOT NULL)`);
  }

  // ---- the create path: one call, one transaction ----

  async admit(req: AdmitRequest, nowMs = Date.now()): Promise<AdmitResult> {
    const result = this.admitNow(req, nowMs);
    if (result.outcome === "accepted" && this.jobs.hasOutbox()) {
      // After the answer is decided (and written): hand the job on; the alarm retries.
      await this.ctx.storage.setAlarm(Math.min(nowMs + 1000, (await this.ctx.storage.getAlarm()) ?? Infinity));
      this.ctx.waitUntil(this.drain());
    }
    return result;
  }

  private admitNow(req: AdmitRequest, nowMs: number): AdmitResult {
    const key = req.idempotency;
    if (key) {
      this.sql.exec(
        "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE at_ms < ? LIMIT 20)",
        nowMs - IDEMPOTENCY_KEEP_MS,
      );
      const seen = this.sql
        .exec<{ fingerprint: string; job_id: string | null; status: number; answer: string | null }>(
          "SELECT fingerprint, job_id, status, answer FROM idempotency WHERE key = ?",
          key.key,
        )
        .toArray()[0];
      // A replay takes no rate token: it is the same create, answered again.
      if (seen && seen.fingerprint !== key.fingerprint) return { rate: null, outcome: "key_reused" };
      if (seen?.job_id) {
        const record = JSON.parse(seen.answer!) as JobRecord;
        return { rate: null, replayed: true, outcome: "replay", record, status: Number(seen.status) === 200 ? 200 : 202 };
      }
      if (seen) return { ...(JSON.parse(seen.answer!) as AdmitResult), rate: null, replayed: true };
    }
    const result = this.decide(req, nowMs);
    // Kept: every answer but a 429 (a retry later may pass), as the other idempotent routes do.
    const keep =
      result.outcome === "accepted"
        ? { job: result.record.id, status: result.status, answer: JSON.stringify(result.record) }
        : result.outcome === "payment_refused"
          ? { job: null, status: 402, answer: JSON.stringify({ ...result, rate: null }) }
          : result.outcome === "admitted" && key?.answer && key.answer.status !== 429
            ? { job: null, status: key.answer.status, answer: JSON.stringify({ outcome: "answer", ...key.answer }) }
            : null;
    if (key && keep) {
      this.sql.exec(
        "INSERT INTO idempotency (key, fingerprint, job_id, status, answer, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
        key.key,
        key.fingerprint,
        keep.job,
        keep.status,
        keep.answer,
        nowMs,
      );
    }
    return result;
  }

  private decide(req: AdmitRequest, nowMs: number): AdmitResult {
    if (req.grant) this.ledger.credit(req.grant.ref, req.grant.amount);
    const rate = takeTokens(this.sql, req.rate, 1, nowMs);
    if (!rate.allowed) return { rate, outcome: "rate_limited" };
    if (!req.job) return { rate, outcome: "admitted" };
    const { prices, meta, message } = req.job;
    const record: JobRecord = structuredClone(req.job.record);
    const address = record.content_address;
    const claim = address ? this.content.look(address, record.tier, nowMs) : ({ role: "leader" } as const);

    let status: 200 | 202 = 202;
    if (claim.role === "hit") {
      Object.assign(record, {
        status: "succeeded",
        cache: "hit",
        follows: claim.leader,
        output_prefix: outputPrefix(claim.leader),
        started_at: record.created_at,
        completed_at: record.created_at,
        ...claim.result,
        expires_at: claim.expires_at,
        queue_position: null,
        price: { credits: prices.hit, kind: "hit" },
      } satisfies Partial<JobRecord>);
      // Without a webhook a hit needs no object of its own: it is kept here, born finished.
      if (!record.webhook_url) record.id = hitIdFor(record.id);
      const r = this.ledger.reserve(record.id, prices.hit, meta);
      if (!r.ok) return { rate, outcome: "payment_refused", reservation: r, price: prices.hit };
      this.ledger.settle(record.id, prices.hit);
      record.charged = prices.hit;
      if (record.webhook_url) this.jobs.add(record, "succeeded", { store: true, message: null });
      else {
        this.pruneHits(nowMs);
        this.sql.exec(
          "INSERT OR IGNORE INTO hits (id, record, expires_ms) VALUES (?, ?, ?)",
          record.id,
          JSON.stringify(record),
          Date.parse(claim.expires_at),
        );
        this.jobs.add(record, "succeeded", { store: false, message: null });
      }
      status = 200;
    } else if (claim.role === "joined") {
      if (claim.followers >= req.job.maxFollowers) return { rate, outcome: "too_many_followers", max: req.job.maxFollowers };
      Object.assign(record, {
        cache: "joined",
        follows: claim.leader,
        output_prefix: outputPrefix(claim.leader),
        price: { credits: prices.joined, kind: "joined" },
      } satisfies Partial<JobRecord>);
      const r = this.ledger.reserve(record.id, prices.joined, meta);
      if (!r.ok) return { rate, outcome: "payment_refused", reservation: r, price: prices.joined };
      this.content.join(address!);
      this.jobs.add(record, "active", { store: true, message: null });
    } else {
      record.cache = address ? "miss" : "none";
      // A job that will use a GPU takes one of the account's running slots (freed when it ends);
      // money is checked first, so a caller who cannot pay hears that before "busy".
      const can = this.ledger.canReserve(record.id, prices.generation, meta);
      if (!can.ok) return { rate, outcome: "payment_refused", reservation: can, price: prices.generation };
      const slot = this.slots.acquire(record.id, req.job.maxRunning, nowMs);
      if (!slot.allowed) return { rate, outcome: "concurrency_limit", running: slot.running, max: slot.max };
      this.ledger.reserve(record.id, prices.generation, meta);
      if (address) this.content.lead(address, record.id, record.tier);
      this.jobs.add(record, "active", { store: true, message });
    }
    return { rate, outcome: "accepted", record, status };
  }

  private pruneHits(nowMs: number): void {
    this.sql.exec("DELETE FROM hits WHERE id IN (SELECT id FROM hits WHERE expires_ms < ? LIMIT 20)", nowMs - HIT_KEEP_MS);
  }

  /** A token from one of the account's other buckets (moderation calls); nothing else is written. */
  async take(policy: LimitPolicy, nowMs = Date.now()): Promise<TakeResult> {
    return takeTokens(this.sql, policy, 1, nowMs);
  }

  // ---- reading jobs ----

  /** A hit kept here, with the bytes it has served and whether its outputs have expired. */
  async hit(id: string, nowMs = Date.now()): Promise<JobRecord | null> {
    return this.hitNow(id, nowMs);
  }

  private hitNow(id: string, nowMs = Date.now()): JobRecord | null {
    const row = this.sql
      .exec<{ record: string; served: number; expires_ms: number }>("SELECT record, served, expires_ms FROM hits WHERE id = ?", id)
      .toArray()[0];
    if (!row) return null;
    const job = JSON.parse(row.record) as JobRecord;
    return { ...job, bytes_served: Number(row.served), expired: Number(row.expires_ms) <= nowMs };
  }

  /**
   * A job its own object does not have yet: handed on now (written to its object and queued)
   * if it is still waiting in the outbox, so the caller can go on with the object; else as kept here (a job that could
   * never be handed on ends failed and is kept here). Null when this account has no such job.
   */
  async unstored(id: string): Promise<JobRecord | null> {
    // Stored, then queued: two steps at most; a step that fails stays for the alarm's retry.
    for (let step = 0; step < 2 && this.jobs.due(Infinity, id).length > 0; step++) {
      const before = this.jobs.outboxStep(id);
      await this.drain(id);
      if (this.jobs.outboxStep(id) === before) break;
    }
    return this.jobs.kept(id);
  }

  /** The caller's jobs, newest first (`GET /v1/videos`); records for jobs kept here, ids for the rest. */
  async list(q: {
    subject: string | null;
    states: IndexState[] | null;
    before: string | null;
    limit: number;
  }): Promise<{ items: Listed[]; more: boolean }> {
    const page = this.jobs.list(q);
    for (const item of page.items) if (isHitId(item.id)) item.record = this.hitNow(item.id);
    return page;
  }

  /** Bytes the edge served for hits kept here (batched per isolate, cost-batch.ts). */
  async addHitServed(entries: readonly { id: string; bytes: number }[]): Promise<void> {
    for (const e of entries) this.sql.exec("UPDATE hits SET served = served + ? WHERE id = ?", e.bytes, e.id);
  }

  // ---- a job ended (told by its object) ----

  /** The bill, the slot, the cache and the list, in one transaction. Repeats change nothing. */
  async finish(f: Finish): Promise<void> {
    this.finishNow(f);
  }

  private finishNow(f: Finish): void {
    if (f.charged > 0) this.ledger.settle(f.id, f.charged);
    else this.ledger.refund(f.id);
    this.slots.release(f.id);
    if (f.content) this.content.settle(f.content.address, f.id, f.status === "succeeded", f.content.expires_at, f.content.result);
    if (isTerminal(f.status)) this.jobs.setState(f.id, f.status as IndexState);
  }

  // ---- credits, usage, audits ----

  async credit(ref: string, amount: number): Promise<number> {
    return this.ledger.credit(ref, amount);
  }

  async balance(): Promise<number> {
    return this.ledger.balance();
  }

  async usage(subject: string | null = null): Promise<UsageSummary> {
    return this.ledger.usage(subject);
  }

  async running(): Promise<number> {
    return this.slots.running();
  }

  async entries(): Promise<{ ref: string; kind: string; amount: number }[]> {
    return this.ledger.entries();
  }

  async audit(): Promise<ReturnType<Ledger["audit"]>> {
    return this.ledger.audit();
  }

  // ---- the outbox and the sweep ----

  /** Carries out the outbox (all due steps, or one job's now); one drain at a time. */
  private async drain(only?: string): Promise<void> {
    while (this.draining) await this.draining;
    this.draining = this.drainNow(only).finally(() => (this.draining = null));
    return this.draining;
  }

  private async drainNow(only?: string): Promise<void> {
    const cfg = edgeConfig(this.env);
    for (const row of this.jobs.due(Date.now(), only)) {
      // A step done or given up meanwhile (a leader abandoned takes its followers along) is skipped.
      if (this.jobs.outboxStep(row.id) !== row.step) continue;
      const record = JSON.parse(row.record) as JobRecord;
      const stub = this.env.JOBS.get(this.env.JOBS.idFromName(record.id));
      try {
        if (row.step === "store") {
          if (row.message) record.queue_position = await queueDepth(cfg, record.tier).catch(() => null);
          await stub.create(record);
          if (record.follows && record.status !== "succeeded") {
            const leader = this.env.JOBS.get(this.env.JOBS.idFromName(record.follows));
            await stub.syncFrom(await leader.addFollower(record.id));
          }
          this.jobs.stored(record.id, row.message !== null);
        } else {
          await enqueueJob(cfg, JSON.parse(row.message!) as JobMessage);
          this.jobs.done(record.id);
        }
      } catch (err) {
        const error = (err as Error).message;
        console.error(JSON.stringify({ msg: "outbox step failed", job: record.id, step: row.step, attempt: row.attempts + 1, error }));
        if (Date.now() - row.first_ms < OUTBOX_GIVE_UP_MS) this.jobs.retry(record.id, error);
        else if (row.step === "store") this.abandon(record, error);
        else {
          // Stored but never queued: fail it at its object, which refunds and tells its followers.
          this.jobs.done(record.id);
          await stub.fail("enqueue_failed", error).catch(() => this.jobs.retry(record.id, error));
        }
      }
    }
    await this.scheduleAlarm();
  }

  /**
   * A job whose object could never be written: it fails here, refunded (a hit's charge taken
   * back), its slot and its cache claim let go, and the jobs that joined it fail with it.
   */
  private abandon(record: JobRecord, error: string): void {
    const now = new Date().toISOString();
    const failed: JobRecord = {
      ...record,
      status: "failed",
      cache: record.cache,
      error: publicError(record.id, { code: "enqueue_failed", message: error }),
      completed_at: now,
      updated_at: now,
      charged: 0,
    };
    this.ledger.undo(record.id);
    this.slots.release(record.id);
    if (record.cache === "miss" && record.content_address) this.content.settle(record.content_address, record.id, false, null, null);
    this.jobs.abandoned(failed);
    if (record.follows) return;
    for (const follower of this.jobs.followersOf(record.id)) {
      const kept = this.jobs.kept(follower);
      if (kept && this.jobs.outboxStep(follower) === "store") this.abandon(kept, error);
      else
        this.ctx.waitUntil(
          this.env.JOBS.get(this.env.JOBS.idFromName(follower))
            .fail("enqueue_failed", error)
            .catch(() => {}),
        );
    }
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.jobs.nextDue();
    const sweep = this.ledger.openReservations(new Date(8.64e15).toISOString(), 1).length > 0 ? Date.now() + SWEEP_EVERY_MS : null;
    const at = Math.min(next ?? Infinity, sweep ?? Infinity);
    if (at !== Infinity) await this.ctx.storage.setAlarm(Math.max(at, Date.now()));
  }

  override async alarm(): Promise<void> {
    await this.drain();
    await this.sweep();
    await this.scheduleAlarm();
  }

  /**
   * Reservations older than the job timeout whose job has no open life left: a job object
   * that never existed (or was lost) is refunded; one that ended without telling us is
   * finished from its record. Asked of each job's object, then re-checked before writing.
   */
  async sweep(nowMs = Date.now()): Promise<number> {
    const cutoff = new Date(nowMs - edgeConfig(this.env).REELMESH_JOB_TIMEOUT_S * 1000 - SWEEP_GRACE_MS).toISOString();
    let released = 0;
    for (const id of this.ledger.openReservations(cutoff, 20)) {
      if (this.jobs.outboxStep(id) !== null) continue;
      const job = isHitId(id) ? null : await this.env.JOBS.get(this.env.JOBS.idFromName(id)).get();
      if (!this.ledger.isOpen(id)) continue;
      if (job && !isTerminal(job.status)) continue;
      console.error(JSON.stringify({ msg: "stale reservation released", job: id, found: job !== null }));
      this.finishNow({ id, status: job?.status ?? "failed", charged: job ? chargeFor(job) : 0 });
      released++;
    }
    return released;
  }
}
