import { ReelmeshError } from "./errors.ts";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, Transport, type Credential, type FetchLike } from "./transport.ts";
import type { AppToken, CreateTokenParams, ModerationResult, Usage, WebhookSecret } from "./types.ts";
import { newIdempotencyKey } from "./timing.ts";
import { Videos, type CallOptions, type CreateOptions } from "./videos.ts";

export interface ReelmeshOptions {
  /** A server's API key (`rm_live_…`). Never ship it in an app: give phones an app token (`tokens.create`). */
  apiKey?: string | undefined;
  /** An app token (`rmt_…`) minted by your server, or a function returning a fresh one before each request. */
  token?: Credential | undefined;
  /** The API's origin, e.g. `http://127.0.0.1:8787` for the local stack. */
  baseUrl: string;
  /** A fetch to use instead of the global one (e.g. a proxy-aware one). */
  fetch?: FetchLike | undefined;
  /** Retries of a failed request (connection error, timeout, 408, 429, 5xx); default 2. */
  maxRetries?: number | undefined;
  /** Per attempt, until the answer's headers (and body, for JSON answers); default 60 s. */
  timeoutMs?: number | undefined;
  /** Let `tokens.create` run in a browser or React Native, where it would expose the API key. */
  dangerouslyAllowBrowser?: boolean | undefined;
}

/**
 * The reelmesh API client: fetch only, no dependencies, so the same package runs in React
 * Native, browsers, Node ≥ 20, Workers, Deno and Bun.
 *
 * @example
 * const rm = new Reelmesh({ apiKey: process.env.REELMESH_API_KEY, baseUrl: "http://127.0.0.1:8787" });
 * const video = await rm.videos.generate({ prompt: "a red ball bouncing", duration_s: 4 }, { onPlayable: (url) => player.load(url) });
 */
export class Reelmesh {
  readonly videos: Videos;
  readonly moderations: Moderations;
  readonly tokens: Tokens;
  readonly usage: UsageResource;
  readonly webhooks: Webhooks;
  readonly baseUrl: string;

  constructor(options: ReelmeshOptions) {
    if (!options?.baseUrl) throw new ReelmeshError("baseUrl is required, e.g. http://127.0.0.1:8787 for the local stack");
    const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
    const fetchImpl = options.fetch ?? (globalFetch ? (input: string, init: RequestInit) => globalFetch(input, init) : undefined);
    if (!fetchImpl) throw new ReelmeshError("No fetch in this runtime: pass one as `fetch`");
    const t = new Transport({
      baseUrl: options.baseUrl,
      credential: options.apiKey ?? options.token,
      fetch: fetchImpl,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    this.baseUrl = t.baseUrl;
    this.videos = new Videos(t);
    this.moderations = new Moderations(t);
    this.tokens = new Tokens(t, options.dangerouslyAllowBrowser === true);
    this.usage = new UsageResource(t);
    this.webhooks = new Webhooks(t);
  }
}

class Moderations {
  private readonly t: Transport;
  constructor(t: Transport) {
    this.t = t;
  }
  /** The prompt check every create runs, on its own; costs nothing. */
  create(input: string | { input: string }, options: CallOptions = {}): Promise<ModerationResult> {
    const body = typeof input === "string" ? { input } : input;
    return this.t.json<ModerationResult>("POST", "/v1/moderations", { body, signal: options.signal });
  }
}

class Tokens {
  private readonly t: Transport;
  private readonly allowBrowser: boolean;
  constructor(t: Transport, allowBrowser: boolean) {
    this.t = t;
    this.allowBrowser = allowBrowser;
  }
  /**
   * Mints an app token for one end user (API key only). Server side: in a browser or a React
   * Native app it refuses, since the key it needs would ship to every user.
   */
  create(params: CreateTokenParams, options: CreateOptions = {}): Promise<AppToken> {
    if (onUserDevice() && !this.allowBrowser) {
      return Promise.reject(
        new ReelmeshError(
          "tokens.create needs an API key, which must stay on your server; mint tokens there (or pass dangerouslyAllowBrowser: true)",
        ),
      );
    }
    return this.t.json<AppToken>("POST", "/v1/tokens", {
      body: params,
      signal: options.signal,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }
}

class UsageResource {
  private readonly t: Transport;
  constructor(t: Transport) {
    this.t = t;
  }
  /** Balance, credits held by running jobs, spending per day and tier (an app token: its own subject's, no balance). */
  retrieve(options: CallOptions = {}): Promise<Usage> {
    return this.t.json<Usage>("GET", "/v1/usage", { signal: options.signal });
  }
}

class Webhooks {
  private readonly t: Transport;
  constructor(t: Transport) {
    this.t = t;
  }
  /** The secret this account's webhooks are signed with (API key only); pass it to `verifyWebhook`. */
  secret(options: CallOptions = {}): Promise<WebhookSecret> {
    return this.t.json<WebhookSecret>("GET", "/v1/webhook_secret", { signal: options.signal });
  }
}

/** A browser page or a React Native app: places an API key must never be. */
function onUserDevice(): boolean {
  const g = globalThis as { window?: { document?: unknown }; navigator?: { product?: string } };
  return (typeof g.window === "object" && typeof g.window?.document === "object") || g.navigator?.product === "ReactNative";
}
