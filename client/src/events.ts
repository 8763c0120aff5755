import { APIConnectionError } from "./errors.ts";
import { SseParser } from "./sse.ts";
import type { Transport } from "./transport.ts";
import type { Video, VideoEvent } from "./types.ts";
import { abortReason, retryDelayMs, sleep, throwIfAborted } from "./timing.ts";

/** One event of a video, with the SSE id it came with (null when polling made it up). */
export type StreamedEvent = VideoEvent & { id: string | null };

export interface EventsOptions {
  /** Resume after this event id (what the last event you saw carried). */
  lastEventId?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * `auto` (default): server-sent events, or polling when the runtime's fetch cannot stream a
   * response body (React Native's cannot); `sse` refuses to fall back; `poll` only polls.
   */
  transport?: "auto" | "sse" | "poll" | undefined;
  /** Polling interval (ms) when polling. */
  pollIntervalMs?: number | undefined;
}

/** The stream's own `retry:` (2000 ms on reelmesh) is used when it sends one; this before it does. */
const DEFAULT_RECONNECT_MS = 2_000;
/**
 * The edge sends a keep-alive comment every 15 s: a stream silent for three of those is a dead
 * connection (a phone that changed networks), reopened like a dropped one.
 */
const IDLE_MS = 45_000;
/** Reconnects in a row that delivered no event before the iterator gives up. */
const MAX_RECONNECTS = 6;
const DEFAULT_POLL_INTERVAL_MS = 1_000;

const TERMINAL = new Set(["completed", "failed", "canceled"]);
export const isTerminalStatus = (s: Video["status"]) => s === "succeeded" || s === "failed" || s === "canceled";

/**
 * A video's events as an async iterable, ending after `completed`, `failed` or `canceled`. A
 * dropped connection is reopened with `Last-Event-ID`, so the server replays exactly what came
 * after the last event delivered (of progress events only the latest): no event twice, none lost.
 */
export async function* videoEvents(t: Transport, id: string, opts: EventsOptions = {}): AsyncGenerator<StreamedEvent, void, undefined> {
  const { signal } = opts;
  let lastId = opts.lastEventId ?? null;
  let reconnectMs = DEFAULT_RECONNECT_MS;
  let failures = 0;
  if (opts.transport === "poll") return yield* pollEvents(t, id, opts);
  for (;;) {
    throwIfAborted(signal);
    let res: Response | null = null;
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (lastId !== null) headers["last-event-id"] = lastId;
      res = await t.raw("GET", `/v1/videos/${encodeURIComponent(id)}/events`, { signal, headers });
    } catch (err) {
      if (!(err instanceof APIConnectionError) || ++failures > MAX_RECONNECTS) throw err;
    }
    if (res) {
      // A finished video whose last event was already seen: nothing more will come.
      if (res.status === 204) return;
      const body = res.body as ReadableStream<Uint8Array> | null | undefined;
      if (!body || typeof body.getReader !== "function") {
        if (opts.transport === "sse") throw new APIConnectionError("This runtime's fetch cannot stream a response body");
        return yield* pollEvents(t, id, opts);
      }
      const parser = new SseParser();
      const reader = body.getReader();
      const decoder = new TextDecoder();
      let idle: ReturnType<typeof setTimeout> | undefined;
      try {
        for (;;) {
          idle = setTimeout(() => void reader.cancel().catch(() => {}), IDLE_MS);
          const { done, value } = await reader.read();
          clearTimeout(idle);
          if (done) break;
          for (const frame of parser.push(decoder.decode(value, { stream: true }))) {
            lastId = frame.id ?? lastId;
            failures = 0;
            const event = JSON.parse(frame.data) as VideoEvent;
            yield { ...event, id: frame.id };
            if (TERMINAL.has(event.type)) return;
          }
        }
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (err instanceof SyntaxError) throw err;
        // The connection dropped mid-stream: reconnect below.
      } finally {
        clearTimeout(idle);
        await reader.cancel().catch(() => {});
      }
      reconnectMs = parser.retryMs ?? reconnectMs;
      if (++failures > MAX_RECONNECTS) throw new APIConnectionError(`The event stream of ${id} kept closing before the video ended`);
    }
    await sleep(failures <= 1 ? reconnectMs : Math.max(reconnectMs, retryDelayMs(failures, null)), signal);
  }
}

/**
 * Events made up from successive reads of the video, for runtimes that cannot stream (React
 * Native): the same types in the same order, with `id: null` and `at` the time they were seen.
 */
async function* pollEvents(t: Transport, id: string, opts: EventsOptions): AsyncGenerator<StreamedEvent, void, undefined> {
  let prev: Video | null = null;
  for (;;) {
    const video = await t.json<Video>("GET", `/v1/videos/${encodeURIComponent(id)}`, { signal: opts.signal });
    for (const e of eventsBetween(prev, video, new Date().toISOString())) yield { ...e, id: null };
    if (isTerminalStatus(video.status)) return;
    prev = video;
    await sleep(opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, opts.signal);
  }
}

/** The events that take a video from `prev` (null: not seen yet) to `next`. */
function eventsBetween(prev: Video | null, next: Video, at: string): VideoEvent[] {
  const out: VideoEvent[] = [];
  if (!prev && next.status === "queued") out.push({ type: "queued", at, position: next.queue_position });
  if ((!prev || prev.started_at === null) && next.started_at !== null) out.push({ type: "started", at, worker_id: null });
  const p = next.progress;
  if (p && JSON.stringify(p) !== JSON.stringify(prev?.progress ?? null)) {
    const fraction = Math.min(1, Math.round(((p.chunk * p.steps + p.step) / (next.total_chunks * p.steps)) * 1000) / 1000);
    out.push({ type: "progress", at, ...p, fraction });
  }
  const before = prev?.chunks_ready ?? 0;
  if (next.chunks_ready > before) {
    // The view gives the playable seconds, not each chunk's: new chunks share the new seconds evenly.
    const duration = (next.seconds_ready - (prev?.seconds_ready ?? 0)) / (next.chunks_ready - before);
    for (let index = before; index < next.chunks_ready; index++) {
      out.push({
        type: "chunk",
        at,
        index,
        duration_s: duration,
        frames: Math.round(duration * next.fps),
        url: segmentUrl(next.playback.signed_hls_url, index),
      });
    }
  }
  if (next.status === "succeeded")
    out.push({ type: "completed", at, usage: next.usage, expires_at: next.expires_at, content_url: next.playback.content_url ?? "" });
  if (next.status === "failed" || next.status === "canceled") out.push({ type: next.status, at, error: next.error });
  return out;
}

/** A segment's URL beside the playlist's, with the playlist's playback token (string work: React Native's URL has no setters). */
function segmentUrl(playlistUrl: string, index: number): string {
  const q = playlistUrl.indexOf("?");
  const [path, query] = q < 0 ? [playlistUrl, ""] : [playlistUrl.slice(0, q), playlistUrl.slice(q)];
  return `${path.replace(/stream\.m3u8$/, `seg-${String(index).padStart(5, "0")}.m4s`)}${query}`;
}
