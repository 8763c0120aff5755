import { DurableObject } from "cloudflare:workers";
import { outputPrefix, segmentName } from "../../../shared/layout.ts";
import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import { deletePrefix } from "../aws/s3.ts";
import { edgeConfig, type Env } from "../env.ts";
import { accountWebhookSecret } from "../webhooks/account.ts";
import { isRetryableStatus, nextAttemptDelayS } from "../webhooks/schedule.ts";
import { signWebhook } from "../webhooks/sign.ts";
import { checkWebhookUrl } from "../webhooks/url.ts";
import { applyEvent, contiguousChunks, isTerminal, type JobRecord } from "./record.ts";

/**
 * One Durable Object per job (DESIGN.md): the single writer of its state. Events from
 * workers and reads from clients meet here, serialized by the object's input gate.
 *
 * It also keeps what a client needs to follow the job without polling (issue 4):
 * - a numbered event log, streamed as server-sent events to every open connection and
 *   replayed after `Last-Event-ID` on reconnect;
 * - an outbox of webhook deliveries, retried with backoff for about a day by the object's
 *   alarm (which survives restarts and evictions);
 * - the retention deadline: at `expires_at` the alarm deletes the outputs from S3 and the job
 *   answers 410 from then on.
 */
const KEY = "job";
const SEQ = "seq";
const OUTBOX = "outbox";
const FOLLOWERS = "followers";
const eventKey = (n: number) => `ev:${String(n).padStart(8, "0")}`;
const HEARTBEAT_MS = 15_000;

export type FeedType = "queued" | "started" | "progress" | "chunk" | "completed" | "failed" | "canceled";

export interface FeedEvent {
  id: number;
  type: FeedType;
  at: string;
  data: Record<string, unknown>;
}

interface Delivery {
  /** webhook-id: the same for every attempt of one event, so receivers can deduplicate. */
  id: string;
  type: string;
  body: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

interface Listener {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  base: string;
  query: string;
}

const encoder = new TextEncoder();

export class JobObject extends DurableObject<Env> {
  private readonly listeners = new Set<Listener>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  /** Stores a new job; a second create with the same id returns the existing one. */
  async create(record: JobRecord): Promise<JobRecord> {
    const existing = await this.ctx.storage.get<JobRecord>(KEY);
    if (existing) return existing;
    if (isTerminal(record.status)) return this.bornFinished(record);
    await this.ctx.storage.put(KEY, record);
    await this.record({ type: "queued", data: { position: record.queue_position } });
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
    job.expires_at ??= new Date(Date.parse(job.completed_at ?? job.updated_at) + cfg.REELMESH_RETENTION_S * 1000).toISOString();
    job.charged = chargeFor(job);
    const event: FeedEvent = { id: 1, type: "completed", at: job.completed_at ?? job.updated_at, data: { usage: job.usage, content: "content", expires_at: job.expires_at } };
    await this.ctx.storage.put({ [KEY]: job, [SEQ]: 1, [eventKey(1)]: event });
    if (job.webhook_url) await this.enqueueWebhook(job, "video.completed");
    await this.scheduleAlarm();
    return job;
  }

  /**
   * Forgets a job that was stored while its admission was still being decided and then
   * refused (its id was never given out). Only a job born finished can be discarded.
   */
  async discard(): Promise<void> {
    const job = await this.get();
    if (!job || !isTerminal(job.status) || job.cache !== "hit") return;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** Bytes of this job's media the edge served (counted after each response). */
  async addServed(bytes: number): Promise<void> {
    const job = await this.get();
    if (!job) return;
    job.bytes_served += bytes;
    await this.ctx.storage.put(KEY, job);
  }

  /**
   * Another job joins this one's run (coalescing): it gets every event from now on, and this
   * job's state so far (the caller applies it). Works before this job's own record exists.
   */
  async addFollower(id: string): Promise<JobRecord | null> {
    const followers = (await this.ctx.storage.get<string[]>(FOLLOWERS)) ?? [];
    if (!followers.includes(id)) await this.ctx.storage.put(FOLLOWERS, [...followers, id]);
    return this.get();
  }

  /** A joined job catches up with its leader's state so far (monotonic, like events). */
  async syncFrom(leader: JobRecord | null): Promise<void> {
    const job = await this.get();
    if (!job || !leader || isTerminal(job.status)) return;
    if (leader.status !== "queued" && job.status === "queued") {
      job.status = "running";
      job.started_at = leader.started_at;
      await this.record({ type: "started", data: { worker_id: leader.worker_id } });
    }
    job.init ??= leader.init;
    job.codecs ??= leader.codecs;
    for (const c of leader.chunks) {
      if (job.chunks.some((x) => x.index === c.index)) continue;
      job.chunks.push(c);
      await this.record({ type: "chunk", data: { index: c.index, duration_s: c.duration_s, frames: c.frames, file: segmentName(c.index) } });
    }
    job.chunks.sort((a, b) => a.index - b.index);
    if (isTerminal(leader.status)) {
      Object.assign(job, { status: leader.status, usage: leader.usage, content: leader.content, error: leader.error, completed_at: new Date().toISOString(), expires_at: leader.expires_at });
    }
    job.updated_at = new Date().toISOString();
    await this.ctx.storage.put(KEY, job);
    if (isTerminal(job.status)) await this.finished(job);
  }

  private async forward(send: (stub: DurableObjectStub<JobObject>, id: string) => Promise<unknown>): Promise<void> {
    const followers = (await this.ctx.storage.get<string[]>(FOLLOWERS)) ?? [];
    await Promise.all(followers.map((id) => send(this.env.JOBS.get(this.env.JOBS.idFromName(id)), id).catch((err: unknown) => {
      console.error(JSON.stringify({ msg: "forward to follower failed", follower: id, error: (err as Error).message }));
    })));
  }

  async get(): Promise<JobRecord | null> {
    return (await this.ctx.storage.get<JobRecord>(KEY)) ?? null;
  }

  async apply(event: WorkerEvent): Promise<{ found: boolean; applied: boolean; stop: boolean }> {
    const job = await this.ctx.storage.get<JobRecord>(KEY);
    if (!job) return { found: false, applied: false, stop: false };
    // Told to the worker with every answer: stop between steps (cancel).
    const stop = job.cancel_requested || job.status === "canceled";
    const wasQueued = job.status === "queued";
    const hadChunk = event.type === "chunk" && job.chunks.some((c) => c.index === event.chunk.index);
    const applied = applyEvent(job, event, new Date().toISOString());
    // Followers get the event whether or not it changed this job (their state may lag).
    await this.forward((stub, id) => stub.apply({ ...event, job_id: id }));
    if (!applied) return { found: true, applied, stop };
    await this.ctx.storage.put(KEY, job);
    if (wasQueued && job.status !== "queued") await this.record({ type: "started", data: { worker_id: job.worker_id } });
    switch (event.type) {
      case "progress": {
        const done = event.chunk * event.steps + event.step;
        await this.record({
          type: "progress",
          data: { chunk: event.chunk, step: event.step, steps: event.steps, fraction: round3(done / (job.total_chunks * event.steps)) },
        });
        break;
      }
      case "chunk":
        if (!hadChunk && event.chunk.index < job.total_chunks) {
          const c = event.chunk;
          await this.record({ type: "chunk", data: { index: c.index, duration_s: c.duration_s, frames: c.frames, file: segmentName(c.index) } });
        }
        break;
      case "completed":
      case "failed":
      case "canceled":
        await this.finished(job);
        break;
    }
    return { found: true, applied, stop };
  }

  /** Marks a job failed from the edge itself (e.g. it could not be enqueued). */
  async fail(code: string, message: string): Promise<void> {
    const job = await this.ctx.storage.get<JobRecord>(KEY);
    if (!job || isTerminal(job.status)) return;
    const now = new Date().toISOString();
    Object.assign(job, { status: "failed", error: { code, message }, completed_at: now, updated_at: now });
    await this.ctx.storage.put(KEY, job);
    await this.finished(job);
    await this.forward((stub) => stub.fail(code, message));
  }

  /**
   * `POST …/cancel`. Queued: canceled at once, nothing charged (the worker that later receives
   * it is told so and drops it). Running: the worker is told in the answer to its next event
   * (at most one step later) and stops; the charge is for the chunks delivered by then. A job
   * others have joined keeps running for them; only this one ends.
   */
  async cancel(): Promise<JobRecord | null> {
    const job = await this.get();
    if (!job || isTerminal(job.status)) return job;
    const followers = (await this.ctx.storage.get<string[]>(FOLLOWERS)) ?? [];
    if (job.status === "queued" || followers.length > 0 || job.follows) {
      const now = new Date().toISOString();
      Object.assign(job, { status: "canceled", completed_at: now, updated_at: now, progress: null, cancel_requested: followers.length === 0 });
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
    const job = await this.get();
    return job !== null && job.cancel_requested;
  }

  /** A job ended: last feed event, webhook, retention clock. */
  private async finished(job: JobRecord): Promise<void> {
    const cfg = edgeConfig(this.env);
    // A job sharing another's outputs cannot outlive them.
    job.expires_at ??= new Date(Date.parse(job.completed_at ?? job.updated_at) + cfg.REELMESH_RETENTION_S * 1000).toISOString();
    await this.ctx.storage.put(KEY, job);
    // The bill: charged in full on success, given back on failure or cancel (once, whatever
    // events repeat: the ledger keys entries by job). The slot, the bill and the cost record
    // are independent objects: told side by side.
    job.charged = chargeFor(job);
    await this.ctx.storage.put(KEY, job);
    const ledger = this.env.LEDGER.get(this.env.LEDGER.idFromName(job.account_id));
    await Promise.all([
      // Only the job that ran holds a slot (followers share its run).
      !job.follows ? this.env.LIMITER.get(this.env.LIMITER.idFromName(job.account_id)).releaseSlot(job.id) : null,
      job.charged > 0 ? ledger.settle(job.id, job.charged) : ledger.refund(job.id),
      this.env.COSTS.get(this.env.COSTS.idFromName("costs")).record(costEntry(job)),
    ]);
    if (job.content_address && !job.follows) {
      await this.env.CONTENT.get(this.env.CONTENT.idFromName(job.content_address)).settle(job.id, job.status === "succeeded", job.expires_at, {
        codecs: job.codecs, init: job.init, chunks: job.chunks, content: job.content, usage: job.usage,
      });
    }
    const type: FeedType = job.status === "succeeded" ? "completed" : job.status === "canceled" ? "canceled" : "failed";
    await this.record({
      type,
      data: type === "completed" ? { usage: job.usage, content: "content", expires_at: job.expires_at } : { error: job.error },
    });
    if (job.webhook_url) await this.enqueueWebhook(job, `video.${type}`);
    await this.scheduleAlarm();
    for (const l of this.listeners) void l.writer.close().catch(() => {});
    this.listeners.clear();
  }

  // ---- the event feed (server-sent events) ----

  private async record(e: Omit<FeedEvent, "id" | "at">): Promise<void> {
    const id = ((await this.ctx.storage.get<number>(SEQ)) ?? 0) + 1;
    const event: FeedEvent = { id, at: new Date().toISOString(), ...e };
    await this.ctx.storage.put({ [SEQ]: id, [eventKey(id)]: event });
    for (const l of this.listeners) this.send(l, event);
  }

  private send(l: Listener, e: FeedEvent): void {
    const data: Record<string, unknown> = { type: e.type, at: e.at, ...e.data };
    if (typeof data.file === "string") data.url = `${l.base}/${data.file}${l.query}`;
    if (data.content === "content") data.content_url = `${l.base}/content${l.query}`;
    delete data.file;
    delete data.content;
    const frame = `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
    l.writer.write(encoder.encode(frame)).catch(() => this.listeners.delete(l));
  }

  /**
   * `GET …/events` (forwarded by the Worker with the caller's base URL and token): replays
   * the log after Last-Event-ID, then streams new events; closes after the terminal one.
   * Superseded progress events are not replayed, only the latest.
   */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const base = url.searchParams.get("base") ?? "";
    const query = url.searchParams.get("query") ?? "";
    const after = Number(request.headers.get("last-event-id") ?? url.searchParams.get("last_event_id") ?? 0) || 0;
    const job = await this.get();
    if (!job) return new Response("not found", { status: 404 });
    const log = [...(await this.ctx.storage.list<FeedEvent>({ prefix: "ev:", start: eventKey(after + 1) })).values()];
    const lastProgress = log.findLast((e) => e.type === "progress")?.id;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const listener: Listener = { writer: writable.getWriter(), base, query };
    // Tell the client how long to wait before reconnecting.
    void listener.writer.write(encoder.encode("retry: 2000\n\n"));
    for (const e of log) if (e.type !== "progress" || e.id === lastProgress) this.send(listener, e);
    if (isTerminal(job.status)) {
      void listener.writer.close().catch(() => {});
    } else {
      this.listeners.add(listener);
      this.heartbeat ??= setInterval(() => {
        for (const l of this.listeners) l.writer.write(encoder.encode(": keep-alive\n\n")).catch(() => this.listeners.delete(l));
        if (this.listeners.size === 0 && this.heartbeat !== undefined) {
          clearInterval(this.heartbeat);
          this.heartbeat = undefined;
        }
      }, HEARTBEAT_MS);
    }
    return new Response(readable, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  // ---- webhooks and retention, driven by the alarm ----

  private async enqueueWebhook(job: JobRecord, type: string): Promise<void> {
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data: webhookView(job) });
    const outbox = (await this.ctx.storage.get<Delivery[]>(OUTBOX)) ?? [];
    outbox.push({ id: `msg_${job.id}_${type.replace(/\W/g, "_")}`, type, body, attempts: 0, next_at: Date.now(), last_error: null });
    await this.ctx.storage.put(OUTBOX, outbox);
  }

  private async scheduleAlarm(): Promise<void> {
    const job = await this.get();
    const outbox = (await this.ctx.storage.get<Delivery[]>(OUTBOX)) ?? [];
    const times = outbox.map((d) => d.next_at);
    if (job?.expires_at && !job.expired) times.push(Date.parse(job.expires_at));
    if (job && !isTerminal(job.status)) times.push(Date.parse(job.created_at) + edgeConfig(this.env).REELMESH_JOB_TIMEOUT_S * 1000);
    if (times.length === 0) return;
    await this.ctx.storage.setAlarm(Math.min(...times));
  }

  override async alarm(): Promise<void> {
    const job = await this.get();
    if (!job) return;
    const now = Date.now();
    const outbox = (await this.ctx.storage.get<Delivery[]>(OUTBOX)) ?? [];
    const remaining: Delivery[] = [];
    for (const d of outbox) {
      if (d.next_at > now) {
        remaining.push(d);
        continue;
      }
      const outcome = await this.deliver(job, d).catch((err: unknown) => ({ ok: false as const, retryable: true, error: (err as Error).message }));
      d.attempts++;
      if (outcome.ok) continue;
      d.last_error = outcome.error;
      const delay = outcome.retryable ? (nextAttemptDelayS(d.attempts) ?? null) : null;
      if (delay === null) {
        console.warn(JSON.stringify({ msg: "webhook given up", job_id: job.id, webhook_id: d.id, attempts: d.attempts, error: d.last_error }));
        continue;
      }
      d.next_at = now + delay * 1000;
      remaining.push(d);
    }
    await this.ctx.storage.put(OUTBOX, remaining);
    if (!isTerminal(job.status) && Date.parse(job.created_at) + edgeConfig(this.env).REELMESH_JOB_TIMEOUT_S * 1000 <= now) {
      // Never finished: its message went to the dead-letter queue or its worker vanished.
      await this.fail("expired", "The job did not finish in time; nothing was charged.");
      return;
    }
    if (job.expires_at && !job.expired && Date.parse(job.expires_at) <= now) await this.expire(job);
    await this.scheduleAlarm();
  }

  private async deliver(job: JobRecord, d: Delivery): Promise<{ ok: true } | { ok: false; retryable: boolean; error: string }> {
    const cfg = edgeConfig(this.env);
    // Checked again at delivery: the rules may have tightened since the job was created.
    const check = checkWebhookUrl(job.webhook_url!, { allowPrivate: cfg.REELMESH_ENV === "development" });
    if (!check.ok) return { ok: false, retryable: false, error: check.reason };
    const secret = await accountWebhookSecret(cfg.REELMESH_WEBHOOK_SECRET, job.account_id);
    const headers = await signWebhook(secret, d.id, Math.floor(Date.now() / 1000), d.body);
    try {
      const res = await fetch(check.url, {
        method: "POST",
        body: d.body,
        headers: { "content-type": "application/json", "user-agent": "reelmesh-webhooks/1", ...headers },
        redirect: "manual",
        signal: AbortSignal.timeout(15_000),
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, retryable: isRetryableStatus(res.status), error: `receiver answered ${res.status}` };
    } catch (err) {
      return { ok: false, retryable: true, error: (err as Error).message };
    }
  }

  private async expire(job: JobRecord): Promise<void> {
    // Only the job that made the outputs deletes them; followers just stop answering.
    if (job.output_prefix === outputPrefix(job.id)) await deletePrefix(edgeConfig(this.env), job.output_prefix);
    job.expired = true;
    job.updated_at = new Date().toISOString();
    await this.ctx.storage.put(KEY, job);
  }
}

/** What a webhook carries: the job's state, with links to its outputs. */
function webhookView(job: JobRecord) {
  const base = `${job.base_url}/v1/videos/${job.id}`;
  return {
    id: job.id,
    object: "video",
    status: job.status,
    created_at: job.created_at,
    completed_at: job.completed_at,
    model: job.model,
    duration_s: job.duration_s,
    total_chunks: job.total_chunks,
    usage: job.usage,
    error: job.error,
    metadata: job.metadata,
    expires_at: job.expires_at,
    links: { self: base, hls: `${base}/stream.m3u8`, content: `${base}/content`, poster: `${base}/poster.jpg` },
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** What a finished job cost to serve: the GPU side only for the job that ran (followers and hits share its run). */
export function costEntry(job: JobRecord) {
  const ran = !job.follows;
  return {
    job_id: job.id, account_id: job.account_id, tier: job.tier, day: (job.completed_at ?? job.updated_at).slice(0, 10), charged: job.charged ?? 0,
    gpu_s: ran ? (job.usage?.gpu_s ?? 0) : 0, encode_s: ran ? (job.usage?.encode_s ?? 0) : 0, bytes_stored: ran ? (job.usage?.bytes_stored ?? 0) : 0,
    video_s: contiguousChunks(job).reduce((s, ch) => s + ch.duration_s, 0), ran_on_gpu: ran,
  };
}

/**
 * The charge when a job ends: its price if it succeeded; nothing if it failed; if canceled,
 * the share of its chunks delivered before it stopped (rounded up), so a cancel right after
 * acceptance costs nothing and a cancel near the end costs nearly all.
 */
export function chargeFor(job: JobRecord): number {
  if (job.status === "succeeded") return job.price.credits;
  if (job.status !== "canceled" || job.follows) return 0;
  return Math.ceil((job.price.credits * contiguousChunks(job).length) / job.total_chunks);
}
