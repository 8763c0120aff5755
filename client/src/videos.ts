import { WaitTimeoutError } from "./errors.ts";
import { isTerminalStatus, videoEvents, type EventsOptions, type StreamedEvent } from "./events.ts";
import type { Transport } from "./transport.ts";
import type { CreateVideoParams, ListVideosParams, Quote, Video, VideoList } from "./types.ts";
import { abortReason, newIdempotencyKey, sleep, throwIfAborted } from "./timing.ts";

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface CreateOptions extends CallOptions {
  /** Sent as `Idempotency-Key`; default: a fresh random key per call, reused by its retries. */
  idempotencyKey?: string | undefined;
}

export interface WaitOptions extends CallOptions {
  /** Give up (WaitTimeoutError) after this long; default 10 minutes. */
  deadlineMs?: number | undefined;
  /** First pause between reads (then ×1.5 up to 5 s); default 500 ms. */
  pollIntervalMs?: number | undefined;
}

export interface GenerateProgress {
  /** Share of the whole job done, 0–1. */
  fraction: number;
  chunksReady: number;
  totalChunks: number;
  event: StreamedEvent;
}

export interface GenerateOptions extends CreateOptions {
  /** Called once the job exists (with its id), before anything is playable. */
  onCreated?: ((video: Video) => void) | undefined;
  /** Called once, as soon as the first segment exists, with a playlist URL a player can open without a key. */
  onPlayable?: ((url: string, video: Video) => void) | undefined;
  onProgress?: ((progress: GenerateProgress) => void) | undefined;
  /** On abort, also cancel the job on the server (unspent credits come back). Default false. */
  cancelOnAbort?: boolean | undefined;
  /** How to follow the job; see `videos.events`. */
  transport?: EventsOptions["transport"];
}

export interface DownloadOptions extends CallOptions {
  kind?: "mp4" | "poster" | undefined;
}

const DEFAULT_WAIT_DEADLINE_MS = 10 * 60_000;
const DEFAULT_WAIT_INTERVAL_MS = 500;
const MAX_WAIT_INTERVAL_MS = 5_000;

const path = (id: string, rest = "") => `/v1/videos/${encodeURIComponent(id)}${rest}`;

export class Videos {
  private readonly t: Transport;
  constructor(t: Transport) {
    this.t = t;
  }

  /** `POST /v1/videos`. Every create carries an `Idempotency-Key`, the same on each retry, so a retried create never bills twice. */
  create(params: CreateVideoParams, options: CreateOptions = {}): Promise<Video> {
    return this.t.json<Video>("POST", "/v1/videos", {
      body: params,
      signal: options.signal,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  /** The price of a create (`dry_run`): nothing is created, queued or charged. */
  quote(params: CreateVideoParams, options: CallOptions = {}): Promise<Quote> {
    return this.t.json<Quote>("POST", "/v1/videos", { body: { ...params, dry_run: true }, signal: options.signal });
  }

  retrieve(id: string, options: CallOptions = {}): Promise<Video> {
    return this.t.json<Video>("GET", path(id), { signal: options.signal });
  }

  /**
   * `GET /v1/videos`, newest first. Await it for one page, or iterate it for every video on
   * every page: `for await (const v of rm.videos.list({ status: "succeeded" }))`.
   */
  list(params: ListVideosParams = {}, options: CallOptions = {}): VideoPagePromise {
    const fetchPage = (cursor: string | undefined): Promise<VideoPage> =>
      this.t
        .json<VideoList>("GET", "/v1/videos", { query: { status: params.status, limit: params.limit, cursor }, signal: options.signal })
        .then((list) => new VideoPage(list, fetchPage));
    return new VideoPagePromise(fetchPage(params.cursor));
  }

  cancel(id: string, options: CallOptions = {}): Promise<Video> {
    return this.t.json<Video>("POST", path(id, "/cancel"), { signal: options.signal });
  }

  /**
   * Polls until the video ends (succeeded, failed or canceled: all are answers, not errors) with
   * a growing pause; WaitTimeoutError at the deadline. Aborting rejects at once, mid-pause too.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Video> {
    const deadline = Date.now() + (options.deadlineMs ?? DEFAULT_WAIT_DEADLINE_MS);
    let interval = options.pollIntervalMs ?? DEFAULT_WAIT_INTERVAL_MS;
    for (;;) {
      const video = await this.retrieve(id, options);
      if (isTerminalStatus(video.status)) return video;
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(`${id} was still ${video.status} at the deadline`, video);
      await sleep(Math.min(interval, left), options.signal);
      interval = Math.min(MAX_WAIT_INTERVAL_MS, interval * 1.5);
    }
  }

  /** The video's events as an async iterable: server-sent events with reconnect and `Last-Event-ID`, or polling where fetch cannot stream. */
  events(id: string, options: EventsOptions = {}): AsyncGenerator<StreamedEvent, void, undefined> {
    return videoEvents(this.t, id, options);
  }

  /**
   * Creates a video and follows it to its end, handing over the playable URL as soon as the
   * first segment exists. Resolves with the final video (whatever its status).
   */
  async generate(params: CreateVideoParams, options: GenerateOptions = {}): Promise<Video> {
    const { signal } = options;
    const created = await this.create(params, options);
    options.onCreated?.(created);
    let playable = false;
    const playableNow = (video: Video) => {
      if (playable || video.chunks_ready === 0) return;
      playable = true;
      options.onPlayable?.(video.playback.signed_hls_url, video);
    };
    // A cache hit is born finished.
    if (isTerminalStatus(created.status)) {
      playableNow(created);
      return created;
    }
    try {
      let fraction = 0;
      let chunksReady = 0;
      for await (const event of this.events(created.id, { signal, transport: options.transport })) {
        if (event.type === "chunk") {
          chunksReady = Math.max(chunksReady, event.index + 1);
          playableNow({ ...created, chunks_ready: chunksReady });
        }
        if (event.type === "progress") fraction = Math.max(fraction, event.fraction);
        if (event.type === "completed") fraction = 1;
        options.onProgress?.({ fraction, chunksReady, totalChunks: created.total_chunks, event });
      }
      return await this.retrieve(created.id, { signal });
    } catch (err) {
      if (signal?.aborted && options.cancelOnAbort) {
        // The caller's signal is spent: the cancel goes out on its own.
        await this.cancel(created.id).catch(() => {});
        throw abortReason(signal);
      }
      throw err;
    }
  }

  /** The final MP4 (`kind: "mp4"`, once succeeded) or the poster JPEG, as a fetch Response to read as a stream, bytes or blob. */
  download(id: string, options: DownloadOptions = {}): Promise<Response> {
    throwIfAborted(options.signal);
    const file = options.kind === "poster" ? "/poster.jpg" : "/content";
    return this.t.raw("GET", path(id, file), { signal: options.signal, headers: { accept: "*/*" } });
  }
}

/** One page of `videos.list`; iterating it walks this page and every later one. */
export class VideoPage implements AsyncIterable<Video> {
  readonly object = "list";
  readonly data: Video[];
  readonly has_more: boolean;
  readonly next_cursor: string | null;
  private readonly fetchPage: (cursor: string) => Promise<VideoPage>;

  constructor(list: VideoList, fetchPage: (cursor: string) => Promise<VideoPage>) {
    this.data = list.data;
    this.has_more = list.has_more;
    this.next_cursor = list.next_cursor;
    this.fetchPage = fetchPage;
  }

  hasNextPage(): boolean {
    return this.has_more && this.next_cursor !== null;
  }

  /** The next page, or null after the last. */
  nextPage(): Promise<VideoPage | null> {
    return this.hasNextPage() ? this.fetchPage(this.next_cursor!) : Promise.resolve(null);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Video> {
    yield* this.data;
    for (let page = await this.nextPage(); page; page = await page.nextPage()) yield* page.data;
  }
}

/** What `videos.list` returns: await it for the first page, or iterate it for every video. */
export class VideoPagePromise implements PromiseLike<VideoPage>, AsyncIterable<Video> {
  private readonly page: Promise<VideoPage>;
  constructor(page: Promise<VideoPage>) {
    this.page = page;
    // Whoever iterates instead of awaiting still sees the error; this only keeps it from being "unhandled" meanwhile.
    page.catch(() => {});
  }

  then<A = VideoPage, B = never>(
    onfulfilled?: ((value: VideoPage) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.page.then(onfulfilled, onrejected);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Video> {
    yield* await this.page;
  }
}
