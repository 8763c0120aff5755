import { APIConnectionError, APIConnectionTimeoutError, APIError, apiError, retryAfterSeconds } from "./errors.ts";
import type { Problem } from "./types.ts";
import { abortReason, linkedController, MAX_RETRY_AFTER_S, retryDelayMs, sleep, throwIfAborted } from "./timing.ts";

/** Defaults of the client's options. */
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_TIMEOUT_MS = 60_000;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
/** A fixed credential, or a function asked before every request (e.g. one that refreshes an app token from your server). */
export type Credential = string | (() => string | Promise<string>);

export interface TransportOptions {
  baseUrl: string;
  credential: Credential | undefined;
  fetch: FetchLike;
  maxRetries: number;
  timeoutMs: number;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal | undefined;
  idempotencyKey?: string | undefined;
  headers?: Record<string, string>;
  /** Return the response once its headers are in (media, event streams); the timeout covers only that part. */
  raw?: boolean;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
}

/**
 * One request with retries: on a connection error, a timeout, 408, 429, 5xx, and 409
 * `idempotency_in_progress` (a retry that overtook its first attempt), waiting with backoff and
 * jitter and never less than `Retry-After`. Every call the client makes is safe to repeat: reads,
 * cancels and moderations are idempotent, and creates carry an `Idempotency-Key` that the retries reuse.
 */
export class Transport {
  readonly baseUrl: string;
  private readonly opts: TransportOptions;

  constructor(opts: TransportOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
  }

  url(path: string, query: RequestOptions["query"] = {}): string {
    const params = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined);
    const qs = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&");
    return `${path.startsWith("http") ? path : this.baseUrl + path}${qs ? `?${qs}` : ""}`;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send(method, path, options, true)) as T;
  }

  async raw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return (await this.send(method, path, { ...options, raw: true }, false)) as Response;
  }

  private async headers(options: RequestOptions): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    const cred = this.opts.credential;
    const value = typeof cred === "function" ? await cred() : cred;
    if (value) headers.authorization = `Bearer ${value}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    return headers;
  }

  private async send(method: string, path: string, options: RequestOptions, parse: boolean): Promise<unknown> {
    const { signal } = options;
    const maxRetries = options.maxRetries ?? this.opts.maxRetries;
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      const timeout = new AbortController();
      const { controller, release } = linkedController(signal, timeout.signal);
      const timer = setTimeout(
        () => timeout.abort(new APIConnectionTimeoutError(`No answer from ${method} ${path} within ${this.opts.timeoutMs} ms`)),
        this.opts.timeoutMs,
      );
      let failure: APIError | APIConnectionError;
      try {
        // Called unbound: a browser's or workerd's fetch called as a method of another object throws "Illegal invocation".
        const fetchImpl = this.opts.fetch;
        const res = await fetchImpl(url, { method, headers: await this.headers(options), body, signal: controller.signal });
        if (res.ok) {
          if (options.raw) return res;
          return parse ? await res.json() : res;
        }
        failure = apiError(res.status, await readProblem(res), res.headers);
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (timeout.signal.aborted) failure = timeout.signal.reason as APIConnectionTimeoutError;
        else failure = new APIConnectionError(`${method} ${path} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      } finally {
        clearTimeout(timer);
        // A raw answer's body is still being read under `signal`: keep the link for it.
        if (!options.raw) release();
      }
      const wait = retryWait(failure, attempt);
      if (attempt >= maxRetries || wait === null) throw failure;
      await sleep(wait, signal);
    }
  }
}

/** How long to wait before retrying after `failure`, or null when it is not worth retrying. */
function retryWait(failure: APIError | APIConnectionError, attempt: number): number | null {
  if (!(failure instanceof APIError)) return retryDelayMs(attempt, null);
  const retryable = failure.status === 408 || failure.status === 429 || failure.status >= 500 || failure.code === "idempotency_in_progress";
  if (!retryable) return null;
  const after = retryAfterSeconds(failure.headers);
  if (after !== null && after > MAX_RETRY_AFTER_S) return null;
  return retryDelayMs(attempt, after);
}

async function readProblem(res: Response): Promise<Problem | null> {
  const text = await res.text().catch(() => "");
  if (!/json/i.test(res.headers.get("content-type") ?? "")) return null;
  try {
    const body = JSON.parse(text) as unknown;
    return body !== null && typeof body === "object" && typeof (body as Problem).code === "string" ? (body as Problem) : null;
  } catch {
    return null;
  }
}
