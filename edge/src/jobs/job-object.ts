import { DurableObject } from "cloudflare:workers";
import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import { edgeConfig, type Env } from "../env.ts";
import { costShard } from "../billing/costs.ts";
import { chargeFor, costEntry } from "./charge.ts";
import { chunkEvent, completedData, Feed, firstEntries, progressEvent, type FeedType } from "./feed.ts";
import { Followers } from "./followers.ts";
import { claimLease } from "./lease.ts";
import { applyEvent, isTerminal, type JobRecord } from "./record.ts";
import { lostEvents, missingChunks, readManifest } from "./reconcile.ts";
import { publicError } from "./public-error.ts";
import { deleteOutputs, expiryAt, markExpired, retentionDeadline, timeoutAt } from "./retention.ts";
import { WebhookOutbox } from "./webhook-outbox.ts";

/**
 * One Durable Object per job (docs/architecture.md, job lifecycle): the single writer of its state. Events from
 * workers and reads from clients meet here, serialized by the object's input gate. It owns
 * the job's record (the `job` key) and the alarm, and composes what a client needs to follow
 * the job without polling:
 * - the event feed (feed.ts), streamed as server-sent events;
 * - the webhook outbox (webhook-outbox.ts), delivered and retried by the alarm (which
 *   survives restarts and evictions);
 * - the jobs that joined its run (followers.ts), told everything that happens to it;
 * - the retention deadline (retention.ts): at `expires_at` the alarm deletes the outputs from
 *   S3 and the job answers 410 from then on;
 * - the lease (lease.ts): one worker run owns a running job;
 * - reconciliation (reconcile.ts): a job whose events stalled is repaired from its S3 manifest, on
 *   a read and by the alarm, and a `completed` that arrives with chunks missing is checked there.
 */
const KEY = "job";

/** What a worker is told in the answer to its event. */
export interface ApplyResult {
  found: boolean;
  applied: boolean;
  /**
   * Stop between steps: the job was canceled (`canceled`), has ended (`ended`), another run owns it
   * (`not_owner`: retry after `retry_after_s`), or this run's message duplicates the owner's (`duplicate`: drop it).
   */
  stop: boolean;
  reason?: "canceled" | "ended" | "not_owner" | "duplicate";
  /** `not_owner`: when the owner's lease runs out unless renewed. */
  retry_after_s?: number;
  /** How long the lease lasts without an event: the owner sends one (a heartbeat) well within it. */
  lease_s?: number;
  /** A `completed` refused because these chunks are neither in the record nor in the S3 manifest. */
  missing?: number[];
}

export class JobObject extends DurableObject<Env> {
  private readonly feed = new Feed(this.ctx.storage);
  private readonly outbox = new WebhookOutbox(this.ctx.storage, this.env);
  private readonly followers = new Followers(this.ctx.storage, this.env);
  /** When this instance last read the manifest (epoch ms): reads of a stalled job check it at most once per interval. */
  private reconciledAt = 0;

  /** Stores a new job; a second create with the same id returns the existing one. */
  async create(record: JobRecord): Promise<JobRecord> {
    const existing = await this.ctx.storage.get<JobRecord>(KEY);
    if (existing) return existing;
    if (isTerminal(record.status)) return this.bornFinished(record);
    await this.ctx.storage.put(KEY, record);
    await this.feed.record({ type: "queued", data: { position: record.queue_position } });
    await this.scheduleAlarm();
    return record;
  }

  /**
   * A cache hit: succeeded from birth, on its leader's outputs. The edge charged it in the
   * same ledger transaction as its admission and records its cost, so this is one write (the
   * record and its only feed event), its webhook, and the retention alarm.
   */
  private async bornFinished(job: JobRecord): Promise<JobRecord> {
    const cfg = edgeConfig(this.env);
    job.expires_at ??= retentionDeadline(job, cfg);
    job.charged = chargeFor(job);
    const event = { type: "completed" as const, at: job.completed_at ?? job.updated_at, data: completedData(job) };
    await this.ctx.storage.put({ [KEY]: job, ...firstEntries(event) });
    if (job.webhook_url) await this.outbox.enqueue(job, "video.completed");
    await this.scheduleAlarm();
    return job;
  }

  /** Bytes of this job's media the edge served (counted after each response). */
  async addServed(bytes: number): Promise<void> {
    const job = await this.load();
    if (!job) return;
    job.bytes_served += bytes;
    await this.ctx.storage.put(KEY, job);
  }

  /**
   * Another job joins this one's run (coalescing): it gets every event from now on, and this
   * job's state so far (the caller applies it). Works before this job's own record exists.
   */
  async addFollower(id: string): Promise<JobRecord | null> {
    await this.followers.add(id);
    return this.load();
  }

  /** A joined job catches up with its leader's state so far (monotonic, like events). */
  async syncFrom(leader: JobRecord | null): Promise<void> {
    const job = await this.load();
    if (!job || !leader || isTerminal(job.status)) return;
    if (leader.status !== "queued" && job.status === "queued") {
      job.status = "running";
      job.started_at = leader.started_at;
      await this.feed.record({ type: "started", data: { worker_id: leader.worker_id } });
    }
    job.init ??= leader.init;
    job.codecs ??= leader.codecs;
    for (const c of leader.chunks) {
      if (job.chunks.some((x) => x.index === c.index)) continue;
      job.chunks.push(c);
      await this.feed.record(chunkEvent(c));
    }
    job.chunks.sort((a, b) => a.index - b.index);
    if (isTerminal(leader.status)) {
      Object.assign(job, {
        status: leader.status,
        usage: leader.usage,
        content: leader.content,
        error: leader.error,
        completed_at: new Date().toISOString(),
        expires_at: leader.expires_at,
      });
    }
    job.updated_at = new Date().toISOString();
    await this.ctx.storage.put(KEY, job);
    if (isTerminal(job.status)) await this.finished(job);
  }

  private async load(): Promise<JobRecord | null> {
    return (await this.ctx.storage.get<JobRecord>(KEY)) ?? null;
  }

  /** A client's read: a job whose events have stalled is reconciled from S3 first. */
  async get(): Promise<JobRecord | null> {
    const job = await this.load();
    if (!job || !this.stalled(job, Date.now())) return job;
    await this.reconcile();
    return this.load();
  }

  /** Unfinished, its own run (followers hear from their leader), and silent for REELMESH_RECONCILE_S. */
  private stalled(job: JobRecord, now: number): boolean {
    if (isTerminal(job.status) || job.follows) return false;
    const interval = edgeConfig(this.env).REELMESH_RECONCILE_S * 1000;
    return now - Date.parse(job.updated_at) >= interval && now - this.reconciledAt >= interval;
  }

  /** Applies the events the S3 manifest shows were lost (reconcile.ts). */
  private async reconcile(): Promise<void> {
    this.reconciledAt = Date.now();
    const before = await this.load();
    if (!before || isTerminal(before.status) || before.follows) return;
    let manifest;
    try {
      manifest = await readManifest(edgeConfig(this.env), before);
    } catch (err) {
      console.error(JSON.stringify({ msg: "reconcile failed", job_id: before.id, error: (err as Error).message }));
      return;
    }
    if (!manifest) return;
    // The read was an outgoing call: the events are computed from the record as it is now.
    const job = await this.load();
    if (!job) return;
    const events = lostEvents(job, manifest);
    if (events.length > 0) console.log(JSON.stringify({ msg: "reconciled from S3", job_id: job.id, events: events.map((e) => e.type) }));
    for (const event of events) await this.applyNow(event);
  }

  async apply(event: WorkerEvent): Promise<ApplyResult> {
    const job = await this.load();
    if (!job) return { found: false, applied: false, stop: false };
    if (event.type === "completed" && !isTerminal(job.status) && missingChunks(job).length > 0) {
      // Chunk events were lost on the way: what S3 holds decides (for a job that joined another's
      // run, what its leader holds: forwarded events are not retried).
      if (job.follows) await this.syncFrom(await this.env.JOBS.get(this.env.JOBS.idFromName(job.follows)).get());
      else await this.reconcile();
      const now = await this.load();
      const missing = now && !isTerminal(now.status) ? missingChunks(now) : [];
      if (missing.length > 0) return { found: true, applied: false, stop: false, missing };
    }
    return this.applyNow(event);
  }

  private async applyNow(event: WorkerEvent): Promise<ApplyResult> {
    const job = await this.load();
    if (!job) return { found: false, applied: false, stop: false };
    // Told to the worker with every answer: stop between steps when the job was asked to cancel
    // or has ended any other way (expired, failed at the edge), unless jobs that joined it still
    // want its run: a leader's own cancel ends only the leader.
    const ended = isTerminal(job.status) && (await this.followers.list()).length === 0;
    const stop = job.cancel_requested || ended;
    const reason: ApplyResult["reason"] = job.cancel_requested ? "canceled" : ended ? "ended" : undefined;
    const cfg = edgeConfig(this.env);
    const lease = isTerminal(job.status) ? ({ owner: true } as const) : claimLease(job, event, Date.now(), cfg.REELMESH_LEASE_S);
    if (!lease.owner) {
      return {
        found: true,
        applied: false,
        stop: true,
        reason: lease.duplicate ? "duplicate" : "not_owner",
        retry_after_s: lease.retryAfterS,
      };
    }
    const answer: Omit<ApplyResult, "applied"> = { found: true, stop, ...(reason ? { reason } : {}), lease_s: cfg.REELMESH_LEASE_S };
    const wasQueued = job.status === "queued";
    const hadChunk = event.type === "chunk" && job.chunks.some((c) => c.index === event.chunk.index);
    const applied = applyEvent(job, event, new Date().toISOString());
    // Read, change and write with no outgoing call in between: the input gate opens during one,
    // and a cancel or an alarm that ran meanwhile would be overwritten by this stale record.
    if (applied || event.run) await this.ctx.storage.put(KEY, job);
    if (applied) await this.recordApplied(job, event, wasQueued, hadChunk);
    // Followers get the event whether or not it changed this job (their state may lag), after
    // this job has recorded it: a finished run is settled (and answers cache hits) first.
    // Without the run: a follower is not leased (its leader's runs may change).
    const { run: _run, message: _message, ...forwarded } = event;
    await this.followers.forward((stub, id) => stub.apply({ ...forwarded, job_id: id }));
    return { ...answer, applied };
  }

  private async recordApplied(job: JobRecord, event: WorkerEvent, wasQueued: boolean, hadChunk: boolean): Promise<void> {
    if (wasQueued && job.status !== "queued") await this.feed.record({ type: "started", data: { worker_id: job.worker_id } });
    switch (event.type) {
      case "started":
      case "heartbeat":
        break; // recorded above, for whichever event first moved the job out of the queue
      case "progress":
        await this.feed.record(progressEvent(event, job.total_chunks));
        break;
      case "chunk":
        if (!hadChunk && event.chunk.index < job.total_chunks) await this.feed.record(chunkEvent(event.chunk));
        break;
      case "completed":
      case "failed":
      case "canceled":
        await this.finished(job);
        break;
    }
  }

  /** Marks a job failed from the edge itself (e.g. it could not be enqueued). */
  async fail(code: string, message: string): Promise<void> {
    const job = await this.ctx.storage.get<JobRecord>(KEY);
    if (!job || isTerminal(job.status)) return;
    const now = new Date().toISOString();
    Object.assign(job, { status: "failed", error: publicError(job.id, { code, message }), completed_at: now, updated_at: now });
    await this.ctx.storage.put(KEY, job);
    await this.finished(job);
    await this.followers.forward((stub) => stub.fail(code, message));
  }

  /**
   * `POST …/cancel`. Queued: canceled at once, nothing charged (the worker that later receives
   * it is told so and drops it). Running: the worker is told in the answer to its next event
   * (at most one step later) and stops; the charge is for the chunks delivered by then. A job
   * others have joined keeps running for them; only this one ends.
   */
  async cancel(): Promise<JobRecord | null> {
    const job = await this.load();
    if (!job || isTerminal(job.status)) return job;
    const followers = await this.followers.list();
    if (job.status === "queued" || followers.length > 0 || job.follows) {
      const now = new Date().toISOString();
      Object.assign(job, {
        status: "canceled",
        completed_at: now,
        updated_at: now,
        progress: null,
        cancel_requested: followers.length === 0,
      });
      await this.ctx.storage.put(KEY, job);
      await this.finished(job);
      return job;
    }
    job.cancel_requested = true;
    job.updated_at = new Date().toISOString();
    await this.ctx.storage.put(KEY, job);
    return job;
  }

  /** Whether the worker running this job should stop (answered with every event). */
  async shouldStop(): Promise<boolean> {
    const job = await this.load();
    return job !== null && job.cancel_requested;
  }

  /** A job ended: last feed event, webhook, retention clock. */
  private async finished(job: JobRecord): Promise<void> {
    const cfg = edgeConfig(this.env);
    // A job sharing another's outputs cannot outlive them.
    job.expires_at ??= retentionDeadline(job, cfg);
    await this.ctx.storage.put(KEY, job);
    // The bill (charged in full on success, given back on failure or cancel), the running
    // slot, the cache and the account's list: one call to the account's object, one
    // transaction there; repeats change nothing (the ledger keys entries by job). The cost
    // record goes to its shard side by side.
    job.charged = chargeFor(job);
    await this.ctx.storage.put(KEY, job);
    const leader = job.content_address && !job.follows;
    await Promise.all([
      this.env.ACCOUNT.get(this.env.ACCOUNT.idFromName(job.account_id)).finish({
        id: job.id,
        status: job.status,
        charged: job.charged,
        ...(leader
          ? {
              content: {
                address: job.content_address!,
                expires_at: job.expires_at,
                result: { codecs: job.codecs, init: job.init, chunks: job.chunks, content: job.content, usage: job.usage },
              },
            }
          : {}),
      }),
      costShard(this.env, job.id).record(costEntry(job)),
    ]);
    const type: FeedType = job.status === "succeeded" ? "completed" : job.status === "canceled" ? "canceled" : "failed";
    await this.feed.record({ type, data: type === "completed" ? completedData(job) : { error: job.error } });
    if (job.webhook_url) await this.outbox.enqueue(job, `video.${type}`);
    await this.scheduleAlarm();
    this.feed.closeAll();
  }

  /** `GET …/events`: the event feed (feed.ts), for a job that exists. */
  override async fetch(request: Request): Promise<Response> {
    const job = await this.load();
    if (!job) return new Response("not found", { status: 404 });
    return this.feed.connect(request, isTerminal(job.status));
  }

  // ---- the alarm: webhook deliveries, the run timeout, retention ----

  private async scheduleAlarm(): Promise<void> {
    const job = await this.load();
    const times = await this.outbox.dueTimes();
    const expiry = job ? expiryAt(job) : null;
    if (expiry !== null) times.push(expiry);
    if (job && !isTerminal(job.status)) {
      const cfg = edgeConfig(this.env);
      times.push(timeoutAt(job, cfg));
      // Its events may stall (a worker that cannot reach the edge): the manifest is checked then.
      if (!job.follows) times.push(Math.max(Date.parse(job.updated_at), Date.now()) + cfg.REELMESH_RECONCILE_S * 1000);
    }
    if (times.length === 0) return;
    await this.ctx.storage.setAlarm(Math.min(...times));
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const delivering = await this.load();
    if (!delivering) return;
    await this.outbox.deliverDue(delivering, now);
    // Webhook deliveries are outgoing calls: read the record again rather than keep a copy.
    let job = await this.load();
    if (!job) return;
    if (this.stalled(job, now) || (!isTerminal(job.status) && timeoutAt(job, edgeConfig(this.env)) <= now)) {
      await this.reconcile();
      job = await this.load();
      if (!job) return;
    }
    if (!isTerminal(job.status) && timeoutAt(job, edgeConfig(this.env)) <= now) {
      // Never finished: its message went to the dead-letter queue or its worker vanished.
      await this.fail("expired", "The job did not finish in time; nothing was charged.");
      return;
    }
    const expiry = expiryAt(job);
    if (expiry !== null && expiry <= now) {
      // Deleting the outputs is outgoing too; then the flag is set on a fresh read.
      await deleteOutputs(job, edgeConfig(this.env));
      const latest = await this.load();
      if (latest) await this.ctx.storage.put(KEY, markExpired(latest));
    }
    await this.scheduleAlarm();
  }
}
