/**
 * The API's shapes, written out so that the published package carries them with no dependency
 * (no zod, no edge source). `client/types-check/schemas.check.ts` proves each one equal to the
 * type inferred from the zod schema the edge validates or answers with, so they cannot drift.
 */

export type VideoStatus = "queued" | "running" | "succeeded" | "failed" | "canceled";
export type Tier = "standard" | "economy";
export type AspectRatio = "9:16" | "16:9" | "1:1";
export type Scheduler = "ddim" | "euler" | "flow_match_euler";
export type ModelId = "reelmesh-ref-tiny";

/** Body of `POST /v1/videos` (defaults are the server's; see docs/api.md). `dry_run` is `videos.quote`. */
export interface CreateVideoParams {
  prompt: string;
  negative_prompt?: string | undefined;
  model?: ModelId | undefined;
  duration_s?: number | undefined;
  aspect_ratio?: AspectRatio | undefined;
  resolution?: string | undefined;
  seed?: number | undefined;
  steps?: number | undefined;
  guidance?: number | undefined;
  scheduler?: Scheduler | undefined;
  tier?: Tier | undefined;
  cache?: "auto" | "none" | undefined;
  webhook_url?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface VideoUsage {
  gpu_s: number;
  encode_s: number;
  bytes_stored: number;
}

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface Video {
  id: string;
  object: "video";
  status: VideoStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  model: string;
  prompt: string;
  negative_prompt: string;
  duration_s: number;
  aspect_ratio: AspectRatio;
  resolution: string;
  width: number;
  height: number;
  fps: number;
  seed: number;
  steps: number;
  guidance: number;
  scheduler: Scheduler;
  tier: Tier;
  cache: "miss" | "hit" | "joined" | "none";
  price: { credits: number; kind: "generation" | "joined" | "hit" };
  charged: number | null;
  bytes_served: number;
  cancel_requested: boolean;
  chunks_ready: number;
  total_chunks: number;
  seconds_ready: number;
  progress: { chunk: number; step: number; steps: number } | null;
  playback: {
    hls_url: string;
    signed_hls_url: string;
    events_url: string;
    poster_url: string | null;
    content_url: string | null;
  };
  queue_position: number | null;
  expires_at: string | null;
  usage: VideoUsage | null;
  error: ErrorInfo | null;
  metadata: Record<string, string>;
}

/** `GET /v1/videos`: one page, newest first. */
export interface VideoList {
  object: "list";
  data: Video[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface ListVideosParams {
  status?: VideoStatus | undefined;
  /** 1–100; the server's default is 20. */
  limit?: number | undefined;
  /** `next_cursor` of the previous page. */
  cursor?: string | undefined;
}

export interface Quote {
  object: "quote";
  dry_run: true;
  price: {
    credits: number;
    kind: "generation";
    breakdown: { duration_s: number; steps: number; short_side: number; tier: Tier; base: number; factor: number };
  };
}

type Feed<T extends string, D> = { type: T; at: string } & D;
/** The JSON of one server-sent event (`GET /v1/videos/:id/events`). */
export type VideoEvent =
  | Feed<"queued", { position: number | null }>
  | Feed<"started", { worker_id: string | null }>
  | Feed<"progress", { chunk: number; step: number; steps: number; fraction: number }>
  | Feed<"chunk", { index: number; duration_s: number; frames: number; url: string }>
  | Feed<"completed", { usage: VideoUsage | null; expires_at: string | null; content_url: string }>
  | Feed<"failed", { error: ErrorInfo | null }>
  | Feed<"canceled", { error: ErrorInfo | null }>;

export interface ModerationResult {
  flagged: boolean;
  categories: Record<string, boolean>;
  category_scores: Record<string, number>;
  matches: { category: string; term: string; start?: number | undefined; end?: number | undefined }[];
}

export type TokenScope = "videos:create" | "videos:read";

/** Body of `POST /v1/tokens`. */
export interface CreateTokenParams {
  subject: string;
  scopes?: TokenScope[] | undefined;
  credit_cap?: number | undefined;
  expires_in_s?: number | undefined;
}

export interface AppToken {
  token: string;
  subject: string;
  scopes: TokenScope[];
  credit_cap: number | null;
  expires_at: string;
}

/** `GET /v1/usage`. An app token sees its own subject's spending and no `balance`. */
export interface Usage {
  object: "usage";
  account: string;
  subject: string | null;
  balance?: number | undefined;
  reserved: number;
  spent: number;
  jobs: number;
  by_day: { day: string; tier: string; spent: number; jobs: number }[];
}

export interface WebhookSecret {
  secret: string;
  scheme: "standard-webhooks/v1";
}

/** The body of a webhook delivery. */
export interface WebhookEvent {
  type: "video.completed" | "video.failed" | "video.canceled";
  timestamp: string;
  data: {
    id: string;
    object: "video";
    status: VideoStatus;
    created_at: string;
    completed_at: string | null;
    model: string;
    duration_s: number;
    total_chunks: number;
    usage: VideoUsage | null;
    error: ErrorInfo | null;
    metadata: Record<string, string>;
    subject: string | null;
    expires_at: string | null;
    links: { self: string; hls: string; content: string; poster: string };
  };
}

/** RFC 9457 problem details as the API sends them; extension members (`categories`, `price`, …) may follow. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  errors?: { field: string; code: string; message: string }[];
  [extension: string]: unknown;
}
