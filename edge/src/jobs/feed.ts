import { segmentName } from "../../../shared/layout.ts";
import type { JobRecord } from "./record.ts";

/**
 * A job's event feed: the numbered event log in the object's storage (`seq` and
 * `ev:<n>`), streamed as server-sent events to every open connection, replayed after
 * `Last-Event-ID` on reconnect, and kept alive while a connection waits.
 */
const SEQ = "seq";
const EVENT_PREFIX = "ev:";
const eventKey = (n: number) => `${EVENT_PREFIX}${String(n).padStart(8, "0")}`;
const HEARTBEAT_MS = 15_000;
/**
 * Live event streams one job keeps open at once: an app follows a video from a few places, and
 * each stream holds memory in the job's object for as long as the job runs.
 */
export const MAX_STREAMS_PER_JOB = 32;

export type FeedType = "queued" | "started" | "progress" | "chunk" | "completed" | "failed" | "canceled";

export interface FeedEvent {
  id: number;
  type: FeedType;
  at: string;
  data: Record<string, unknown>;
}

interface Listener {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  base: string;
  query: string;
}

const encoder = new TextEncoder();

export class Feed {
  private readonly storage: DurableObjectStorage;
  private readonly listeners = new Set<Listener>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
  }

  /** Appends an event to the log and sends it to every open connection. */
  async record(e: Omit<FeedEvent, "id" | "at">): Promise<void> {
    const id = ((await this.storage.get<number>(SEQ)) ?? 0) + 1;
    const event: FeedEvent = { id, at: new Date().toISOString(), ...e };
    await this.storage.put({ [SEQ]: id, [eventKey(id)]: event });
    for (const l of this.listeners) this.send(l, event);
  }

  /**
   * `GET …/events` (forwarded by the Worker with the caller's base URL and token): replays
   * the log after Last-Event-ID, then streams new events unless the job has already ended.
   * Superseded progress events are not replayed, only the latest.
   */
  async connect(request: Request, ended: boolean): Promise<Response> {
    const url = new URL(request.url);
    const base = url.searchParams.get("base") ?? "";
    const query = url.searchParams.get("query") ?? "";
    const after = Number(request.headers.get("last-event-id") ?? url.searchParams.get("last_event_id") ?? 0) || 0;
    const log = [...(await this.storage.list<FeedEvent>({ prefix: EVENT_PREFIX, start: eventKey(after + 1) })).values()];
    // A client that has seen the end of a finished job is told there is nothing more: browsers'
    // EventSource stops reconnecting only on 204.
    if (ended && after > 0 && log.length === 0) return new Response(null, { status: 204 });
    if (!ended && this.listeners.size >= MAX_STREAMS_PER_JOB) {
      const problem = {
        type: "https://reelmesh.dev/problems/too_many_streams",
        title: "Too many event streams",
        status: 429,
        code: "too_many_streams",
        detail: `At most ${MAX_STREAMS_PER_JOB} event streams may follow one video at once.`,
        // The edge asked for `/events?base=<the video's public URL>`: the problem names that path.
        instance: `${new URL(new URL(request.url).searchParams.get("base") ?? "http://edge/", "http://edge/").pathname.replace(/\/$/, "")}/events`,
      };
      return new Response(JSON.stringify(problem), {
        status: 429,
        headers: { "content-type": "application/problem+json", "cache-control": "no-store", "retry-after": "5" },
      });
    }
    const lastProgress = log.findLast((e) => e.type === "progress")?.id;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const listener: Listener = { writer: writable.getWriter(), base, query };
    // Tell the client how long to wait before reconnecting.
    void listener.writer.write(encoder.encode("retry: 2000\n\n"));
    for (const e of log) if (e.type !== "progress" || e.id === lastProgress) this.send(listener, e);
    if (ended) {
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
    return new Response(readable, { headers: SSE_HEADERS });
  }

  /** The job ended (its terminal event is sent): every open connection closes. */
  closeAll(): void {
    for (const l of this.listeners) void l.writer.close().catch(() => {});
    this.listeners.clear();
  }

  private send(l: Listener, e: FeedEvent): void {
    l.writer.write(encoder.encode(frame(e, l.base, l.query))).catch(() => this.listeners.delete(l));
  }
}

/** One event as a server-sent event, its files as URLs under `base` with the caller's `query`. */
function frame(e: FeedEvent, base: string, query: string): string {
  const data: Record<string, unknown> = { type: e.type, at: e.at, ...e.data };
  if (typeof data.file === "string") data.url = `${base}/${data.file}${query}`;
  if (data.content === "content") data.content_url = `${base}/content${query}`;
  delete data.file;
  delete data.content;
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" };

/**
 * The feed of a job born finished and kept without an object (a cache hit in its account's
 * ledger): its one event, `completed` (id 1), unless the client has seen it; then the end.
 */
export function finishedFeed(job: JobRecord, base: string, query: string, after: number): Response {
  if (after >= 1) return new Response(null, { status: 204 });
  let body = "retry: 2000\n\n";
  body += frame({ id: 1, type: "completed", at: job.completed_at ?? job.updated_at, data: completedData(job) }, base, query);
  return new Response(body, { headers: SSE_HEADERS });
}

/** The storage entries of a log holding only `event` (numbered 1), to be put with the job's record. */
export function firstEntries(event: Omit<FeedEvent, "id">): Record<string, unknown> {
  return { [SEQ]: 1, [eventKey(1)]: { id: 1, ...event } };
}

/** A worker's progress, as the fraction of the whole job done. */
export function progressEvent(p: { chunk: number; step: number; steps: number }, totalChunks: number): Omit<FeedEvent, "id" | "at"> {
  const done = p.chunk * p.steps + p.step;
  return { type: "progress", data: { chunk: p.chunk, step: p.step, steps: p.steps, fraction: round3(done / (totalChunks * p.steps)) } };
}

/** A new chunk, named by its segment file (sent as a URL). */
export function chunkEvent(c: JobRecord["chunks"][number]): Omit<FeedEvent, "id" | "at"> {
  return { type: "chunk", data: { index: c.index, duration_s: c.duration_s, frames: c.frames, file: segmentName(c.index) } };
}

/** A succeeded job's outputs (the content is sent as a URL). */
export function completedData(job: JobRecord): FeedEvent["data"] {
  return { usage: job.usage, content: "content", expires_at: job.expires_at };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
