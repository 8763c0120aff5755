import { z } from "zod";
import { JOB_ID_PATTERN } from "../../../../shared/ids.ts";
import { ASPECT_RATIOS, SCHEDULERS } from "../../../../shared/models.ts";
import { ErrorInfoSchema, UsageSchema } from "../../../../shared/schemas/manifest.ts";
import { JobStatusSchema, TierSchema } from "../../../../shared/schemas/request.ts";
import { CATEGORIES } from "../../safety/moderate.ts";
import {
  dateTime,
  header,
  IDEMPOTENCY_KEY,
  IDEMPOTENCY_PROBLEMS,
  json,
  type Json,
  NO_STORE,
  P400_BODY_OR_KEY,
  problem,
  ref,
  REPLAYED,
  RETRY_AFTER,
  url,
} from "./common.ts";

/** The public API's part of the document (/v1, meta routes, webhooks): response schemas written to follow the handlers they mirror (edge/test/openapi.test.ts checks the ones it can reach), paths, tags, parameters and security schemes. */

// ---- response schemas (mirroring the handlers) ----

export const VideoStatusSchema = JobStatusSchema;

/** `jobView` in http/videos.ts: POST /v1/videos (202) and GET /v1/videos/{id} (200). */
export const VideoSchema = z
  .object({
    id: z.string().regex(JOB_ID_PATTERN),
    object: z.literal("video"),
    status: VideoStatusSchema,
    created_at: dateTime(),
    started_at: dateTime().nullable(),
    completed_at: dateTime().nullable(),
    model: z.string(),
    prompt: z.string(),
    negative_prompt: z.string().describe("Empty when none was given."),
    duration_s: z.number().positive(),
    aspect_ratio: z.enum(ASPECT_RATIOS),
    resolution: z.string().describe("Resolution preset, e.g. `144p`."),
    width: z.int().min(1),
    height: z.int().min(1),
    fps: z.int().min(1),
    seed: z.int().min(0).describe("The seed used (chosen at random when the request had none)."),
    steps: z.int().min(1),
    guidance: z.number().min(0),
    scheduler: z.enum(SCHEDULERS),
    tier: TierSchema,
    cache: z
      .enum(["miss", "hit", "joined", "none"])
      .describe(
        'miss: ran on a GPU for this request; hit: answered from a finished identical job; joined: shares a running one; none: not cached (no seed, or `cache: "none"`).',
      ),
    price: z
      .object({ credits: z.int().min(0), kind: z.enum(["generation", "joined", "hit"]) })
      .describe("What the call costs, reserved when accepted."),
    charged: z.int().min(0).nullable().describe("What was charged when it ended (≤ price); null while it runs."),
    bytes_served: z.int().min(0).describe("Bytes of its media the edge has served."),
    cancel_requested: z.boolean().describe("A cancel was asked and the worker has not stopped yet."),
    chunks_ready: z.int().min(0).describe("Contiguous chunks (HLS segments) committed so far."),
    total_chunks: z.int().min(1),
    seconds_ready: z.number().min(0).describe("Playable seconds so far."),
    progress: z.object({ chunk: z.int().min(0), step: z.int().min(0), steps: z.int().min(1) }).nullable(),
    playback: z.object({
      hls_url: url().describe("Needs the API key (or a bearer credential)."),
      signed_hls_url: url().describe("Carries a playback token: needs no key, expires (hand this to a phone)."),
      events_url: url().describe("Server-sent events for this video."),
      poster_url: url().nullable().describe("Signed; null until the first chunk is ready."),
      content_url: url().nullable().describe("The final MP4, signed; null until the video has succeeded."),
    }),
    queue_position: z.int().min(0).nullable().describe("Jobs ahead in the tier's queue when queued (an estimate); null unless queued."),
    expires_at: dateTime().nullable().describe("When the outputs are deleted (set when the job ends)."),
    usage: UsageSchema.nullable(),
    error: ErrorInfoSchema.nullable(),
    metadata: z.record(z.string(), z.string()),
  })
  .describe("A video job and how to play it.");

/** `POST /v1/videos` with `dry_run` (200): `quote` in shared/pricing.ts, for a generation. */
export const VideoListSchema = z
  .object({
    object: z.literal("list"),
    data: z
      .array(VideoSchema)
      .describe("Newest first. A page filtered by status may hold fewer than `limit` videos; go on while `has_more`."),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last."),
  })
  .meta({ description: "A page of the caller's videos (GET /v1/videos)." });

export const QuoteSchema = z
  .object({
    object: z.literal("quote"),
    dry_run: z.literal(true),
    price: z.object({
      credits: z.int().min(1),
      kind: z.literal("generation"),
      breakdown: z.object({
        duration_s: z.number().positive(),
        steps: z.int().min(1),
        short_side: z.int().min(1),
        tier: TierSchema,
        base: z.int().min(0).describe("Credits before the kind's factor."),
        factor: z.number().positive(),
      }),
    }),
  })
  .describe("What the create would cost as a generation (a cache hit or a join costs less); nothing is created or charged.");

/** `POST /v1/moderations` (http/moderations.ts; the handler's schema is module-private, this mirrors it). */

export const ModerationMatchSchema = z.object({
  category: z.string(),
  term: z
    .string()
    .describe("The lexicon term as written in the lexicon, a rule description, or `classifier <score>` for the second stage."),
  start: z.int().min(0).optional().describe("UTF-16 offset of the match in the input."),
  end: z.int().min(0).optional().describe("UTF-16 offset, exclusive."),
});

export const ModerationResultSchema = z.strictObject({
  flagged: z.boolean(),
  categories: z
    .record(z.string(), z.boolean())
    .describe(`Every built-in category (${CATEGORIES.join(", ")}) plus the deployment's extra ones.`),
  category_scores: z
    .record(z.string(), z.number().min(0).max(1))
    .describe(
      "The classifier's probability per category it knows (every built-in one but sexual_minors, which the lexicons' rules decide). Scores explain; `flagged` decides.",
    ),
  matches: z.array(ModerationMatchSchema),
});

export const WebhookSecretSchema = z.object({
  secret: z.string().describe("`whsec_…`: verify `webhook-signature` over `webhook-id.webhook-timestamp.body` (Standard Webhooks)."),
  scheme: z.literal("standard-webhooks/v1"),
});

export const HealthSchema = z.object({ ok: z.literal(true) });

/** Server-sent event data (`Feed.send` in jobs/feed.ts): the SSE `event:` field repeats `type`. */
const feed = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), at: dateTime(), ...shape });
export const VideoEventSchema = z
  .discriminatedUnion("type", [
    feed("queued", { position: z.int().min(0).nullable() }),
    feed("started", { worker_id: z.string().nullable() }),
    feed("progress", { chunk: z.int().min(0), step: z.int().min(0), steps: z.int().min(1), fraction: z.number().min(0).max(1) }),
    feed("chunk", {
      index: z.int().min(0),
      duration_s: z.number().positive(),
      frames: z.int().min(1),
      url: url().describe("The new segment."),
    }),
    feed("completed", { usage: UsageSchema.nullable(), expires_at: dateTime().nullable(), content_url: url().describe("The final MP4.") }),
    feed("failed", { error: ErrorInfoSchema.nullable() }),
    feed("canceled", { error: ErrorInfoSchema.nullable() }),
  ])
  .describe(
    "The JSON in an SSE frame's `data:` line. Frames: `id: <n>`, `event: <type>`, `data: <json>`; `: keep-alive` comments every 15 s; the stream ends after a terminal event.",
  );

/** `webhookView` in jobs/webhook-outbox.ts. */
export const WebhookVideoSchema = z.object({
  id: z.string().regex(JOB_ID_PATTERN),
  object: z.literal("video"),
  status: VideoStatusSchema,
  created_at: dateTime(),
  completed_at: dateTime().nullable(),
  model: z.string(),
  duration_s: z.number().positive(),
  total_chunks: z.int().min(1),
  usage: UsageSchema.nullable(),
  error: ErrorInfoSchema.nullable(),
  metadata: z.record(z.string(), z.string()),
  subject: z.string().nullable().describe("The end user whose app token created the video; null when an API key did."),
  expires_at: dateTime().nullable(),
  links: z.object({ self: url(), hls: url(), content: url(), poster: url() }),
});

const WEBHOOK_TYPES = ["video.completed", "video.failed", "video.canceled"] as const;
export const WebhookEventSchema = z
  .object({ type: z.enum(WEBHOOK_TYPES), timestamp: dateTime(), data: WebhookVideoSchema })
  .describe("Body of a webhook delivery (POST to the job's `webhook_url`), signed per Standard Webhooks.");

// ---- operations ----

/**
 * limits/headers.ts: on every create the handler answers, refusals too (a 400 `validation_failed`
 * or a 422 `prompt_rejected` carries them as well; the Idempotency-Key problems, answered before
 * the rate check, do not).
 */
const RATE_LIMIT = {
  "RateLimit-Limit": header("The account's create burst (the bucket's capacity).", { type: "integer", minimum: 1 }),
  "RateLimit-Remaining": header("Creates left in the bucket now.", { type: "integer", minimum: 0 }),
  "RateLimit-Reset": header("Seconds until the bucket is full again.", { type: "integer", minimum: 0 }),
  "RateLimit-Policy": header("`<burst>;w=<seconds an empty bucket takes to refill>`"),
};

const P401 = problem("Missing or invalid credentials", ["unauthorized"], { "WWW-Authenticate": header('`Bearer realm="reelmesh"`') });
const P401_MEDIA = problem("Missing or invalid credentials or playback token", ["unauthorized", "invalid_playback_token"]);
const P403 = problem("The credential is valid but may not make this call", ["insufficient_scope", "forbidden"]);
const P404 = problem("No such video for this caller (another account's video is indistinguishable from none)", ["video_not_found"]);
const P410 = problem("The video's outputs were deleted (retention); the problem carries `expired_at`", ["video_expired"]);
const P400_BODY = problem("Invalid body; `errors` lists each field", ["validation_failed", "invalid_json"]);

const BEARER = [{ bearerAuth: [] }];
const MEDIA_SECURITY = [{ bearerAuth: [] }, { playbackToken: [] }];
const VIDEO_ID = { $ref: "#/components/parameters/VideoId" };

const media = (operationId: string, summary: string, type: string, extra: { params?: Json[]; responses?: Json } = {}): Json => ({
  get: {
    tags: ["playback"],
    operationId,
    summary,
    security: MEDIA_SECURITY,
    parameters: [VIDEO_ID, ...(extra.params ?? []), { $ref: "#/components/parameters/Range" }],
    responses: {
      "200": {
        description: "The whole file (immutable once listed; cached at the edge).",
        headers: { "Accept-Ranges": header("`bytes`"), "Content-Length": header("Size in bytes.", { type: "integer" }) },
        content: { [type]: { schema: { type: "string", contentMediaType: type } } },
      },
      "206": {
        description: "The requested byte range.",
        headers: {
          "Content-Range": header("e.g. `bytes 0-1023/4096`"),
          "Content-Length": header("Size of the range.", { type: "integer" }),
        },
        content: { [type]: { schema: { type: "string", contentMediaType: type } } },
      },
      "401": P401_MEDIA,
      "403": P403,
      "404": problem(
        "No such video, or the file is not (yet) part of it (with Retry-After)",
        ["video_not_found", "segment_not_ready"],
        RETRY_AFTER,
      ),
      "410": P410,
      ...(extra.responses ?? {}),
      "502": problem("The file is listed but storage could not serve it", ["storage_unavailable"]),
    },
  },
});

export function publicPaths(): Json {
  return {
    "/healthz": {
      get: {
        tags: ["meta"],
        operationId: "health",
        summary: "Liveness check",
        security: [],
        responses: { "200": { description: "Up.", content: json(ref("Health")) } },
      },
    },
    "/openapi.json": {
      get: {
        tags: ["meta"],
        operationId: "openapiDocument",
        summary: "This document",
        security: [],
        responses: { "200": { description: "OpenAPI 3.1 document.", content: json({ type: "object" }) } },
      },
    },
    "/docs": {
      get: {
        tags: ["meta"],
        operationId: "docs",
        summary: "Human-readable API reference (renders /openapi.json)",
        security: [],
        responses: { "200": { description: "HTML page.", content: { "text/html": { schema: { type: "string" } } } } },
      },
    },
    "/v1/videos": {
      get: {
        tags: ["videos"],
        operationId: "listVideos",
        summary: "List videos",
        description:
          "The caller's videos, newest first, a page at a time; an app token sees its own end user's only. Kept as long as the account's ledger keeps them.",
        security: BEARER,
        parameters: [
          { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
          {
            name: "cursor",
            in: "query",
            required: false,
            description: "`next_cursor` of the previous page, unchanged.",
            schema: { type: "string" },
          },
          { name: "status", in: "query", required: false, schema: ref("VideoStatus") },
        ],
        responses: {
          "200": { description: "A page of videos.", content: json(ref("VideoList")) },
          "400": problem("A query parameter or the cursor is not valid", ["validation_failed", "invalid_cursor"]),
          "401": P401,
          "403": P403,
        },
      },
      post: {
        tags: ["videos"],
        operationId: "createVideo",
        summary: "Create a video",
        description:
          "Validates, checks prompt safety (a flagged prompt is never queued or billed), reserves the price, queues the job and returns its view at once; poll it, follow its events, or start playing `playback.signed_hls_url` as chunks land. With `dry_run`, only quotes the price. Every authenticated create, a refused one too, takes a token from the account's rate bucket.",
        security: BEARER,
        parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, description: `JSON, at most 16 KiB.`, content: json(ref("CreateVideoRequest")) },
        responses: {
          "200": {
            description:
              'A cache hit (with `cache: "auto"` and a `seed`): an identical earlier video, already succeeded; or, with `dry_run`, the quote.',
            headers: { Location: header("`/v1/videos/{id}` (not on a quote)"), ...RATE_LIMIT, ...REPLAYED },
            content: json({ oneOf: [ref("Video"), ref("Quote")] }),
          },
          "202": {
            description: "Queued, or joined to an identical video still running.",
            headers: { Location: header("`/v1/videos/{id}`"), ...RATE_LIMIT, ...REPLAYED },
            content: json(ref("Video")),
          },
          "400": problem(
            "Invalid body, or a value the chosen model does not support (`errors` lists each field), or a malformed Idempotency-Key",
            ["validation_failed", "invalid_json", "invalid_idempotency_key"],
          ),
          "401": P401,
          "402": problem(
            "The price is more than the balance, or than is left of the app token's credit cap; nothing was created. The problem carries `price` (and `balance`)",
            ["insufficient_credits", "token_credit_cap"],
            RATE_LIMIT,
          ),
          "403": P403,
          "413": problem("Body larger than 16 KiB", ["body_too_large"], RATE_LIMIT),
          "415": problem("Content-Type is not application/json", ["unsupported_media_type"], RATE_LIMIT),
          "422": problem(
            "The prompt was flagged by the safety check (the problem carries `categories` and `field`), or this Idempotency-Key was used with a different request",
            ["prompt_rejected", "idempotency_key_reused"],
          ),
          "429": problem(
            "Over the account's create rate (with its `RateLimit-*` headers), as many of its jobs running as it may have at once, or as many identical requests sharing one run as one run takes; nothing was charged",
            ["rate_limited", "concurrency_limit", "too_many_followers"],
            { ...RETRY_AFTER, ...RATE_LIMIT },
          ),
          "503": problem("The service's configuration is unavailable; nothing was charged", ["service_misconfigured"], RETRY_AFTER),
        },
      },
    },
    "/v1/videos/{id}": {
      get: {
        tags: ["videos"],
        operationId: "getVideo",
        summary: "Get a video",
        security: BEARER,
        parameters: [VIDEO_ID],
        responses: {
          "200": { description: "The video's current state.", content: json(ref("Video")) },
          "401": P401,
          "403": P403,
          "404": P404,
          "410": P410,
        },
      },
    },
    "/v1/videos/{id}/cancel": {
      post: {
        tags: ["videos"],
        operationId: "cancelVideo",
        summary: "Cancel a video",
        description:
          "A queued video stops at once and is refunded whole; a running one stops within a step, charged for the chunks delivered.",
        security: BEARER,
        parameters: [VIDEO_ID],
        responses: {
          "200": { description: "The video after the cancel request.", content: json(ref("Video")) },
          "401": P401,
          "403": P403,
          "404": P404,
          "410": P410,
        },
      },
    },
    "/v1/usage": {
      get: {
        tags: ["billing"],
        operationId: "usage",
        summary: "Credits: balance, held, spent per day and tier",
        description: "An app token sees its own subject's spending (no balance).",
        security: BEARER,
        responses: {
          "200": {
            description: "The usage summary.",
            content: json({
              type: "object",
              required: ["object", "account", "reserved", "spent", "jobs", "by_day"],
              properties: {
                object: { const: "usage" },
                account: { type: "string" },
                subject: { type: ["string", "null"] },
                balance: { type: "integer" },
                reserved: { type: "integer" },
                spent: { type: "integer" },
                jobs: { type: "integer" },
                by_day: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      day: { type: "string" },
                      tier: { type: "string" },
                      spent: { type: "integer" },
                      jobs: { type: "integer" },
                    },
                  },
                },
              },
            }),
          },
          "401": P401,
          "403": P403,
        },
      },
    },
    "/v1/videos/{id}/events": {
      get: {
        tags: ["videos"],
        operationId: "videoEvents",
        summary: "Follow a video's events (server-sent events)",
        description:
          "Replays the event log after `Last-Event-ID` (only the latest progress event), then streams new events; closes after `completed`, `failed` or `canceled`. Each frame's data is a `VideoEvent`.",
        security: MEDIA_SECURITY,
        parameters: [VIDEO_ID, { $ref: "#/components/parameters/LastEventId" }, { $ref: "#/components/parameters/LastEventIdQuery" }],
        responses: {
          "200": {
            description: "An SSE stream; each `data:` line is a JSON `VideoEvent`.",
            content: {
              "text/event-stream": {
                schema: { type: "string", description: "text/event-stream frames" },
                "x-event-data": ref("VideoEvent"),
              },
            },
          },
          "401": P401_MEDIA,
          "403": P403,
          "404": P404,
          "410": P410,
        },
      },
    },
    "/v1/videos/{id}/stream.m3u8": {
      get: {
        tags: ["playback"],
        operationId: "playlist",
        summary: "HLS multivariant playlist (the URL to hand a player)",
        description:
          "One variant over media.m3u8, with CODECS and RESOLUTION read from init.mp4 and BANDWIDTH (peak segment bit rate), AVERAGE-BANDWIDTH and FRAME-RATE measured on the segments made when it is fetched. Exists from the first segment on (503 stream_not_ready with Retry-After before). gzip when accepted. URIs carry the caller's playback token.",
        security: MEDIA_SECURITY,
        parameters: [VIDEO_ID],
        responses: {
          "200": {
            description: "HLS multivariant playlist.",
            content: { "application/vnd.apple.mpegurl": { schema: { type: "string" } } },
          },
          "401": P401_MEDIA,
          "403": P403,
          "404": P404,
          "409": problem("The video ended before its first segment", ["stream_unavailable"]),
          "410": P410,
          "503": problem("No segment yet; retry after Retry-After", ["stream_not_ready"], RETRY_AFTER),
        },
      },
    },
    "/v1/videos/{id}/media.m3u8": {
      get: {
        tags: ["playback"],
        operationId: "mediaPlaylist",
        summary: "HLS media playlist (grows while the video is generated)",
        description:
          "An EVENT playlist from position 0 (EXT-X-START:TIME-OFFSET=0) while running (no-store), closed with EXT-X-ENDLIST once done; EXT-X-PROGRAM-DATE-TIME on every segment; gzip when accepted; URIs carry the caller's playback token.",
        security: MEDIA_SECURITY,
        parameters: [VIDEO_ID],
        responses: {
          "200": { description: "HLS media playlist.", content: { "application/vnd.apple.mpegurl": { schema: { type: "string" } } } },
          "401": P401_MEDIA,
          "403": P403,
          "404": P404,
          "410": P410,
        },
      },
    },
    "/v1/videos/{id}/init.mp4": media("initSegment", "fMP4 initialization segment", "video/mp4"),
    "/v1/videos/{id}/seg-{n}.m4s": media("mediaSegment", "fMP4 media segment (one chunk)", "video/iso.segment", {
      params: [
        {
          name: "n",
          in: "path",
          required: true,
          description: "Chunk index, five digits, zero-padded.",
          schema: { type: "string", pattern: "^\\d{5}$" },
        },
      ],
    }),
    "/v1/videos/{id}/content": media("content", "The final MP4 (once the video has succeeded)", "video/mp4", {
      responses: { "409": problem("The video has not succeeded (yet); Retry-After while it runs", ["video_not_ready"], RETRY_AFTER) },
    }),
    "/v1/videos/{id}/poster.jpg": media("poster", "Poster frame (once the first chunk is ready)", "image/jpeg"),
    "/v1/webhook_secret": {
      get: {
        tags: ["webhooks"],
        operationId: "webhookSecret",
        summary: "The secret this account's webhooks are signed with",
        security: BEARER,
        description: "API keys only (app tokens get 403).",
        responses: { "200": { description: "The signing secret.", content: json(ref("WebhookSecret")) }, "401": P401, "403": P403 },
      },
    },
    "/v1/tokens": {
      post: {
        tags: ["tokens"],
        operationId: "mintToken",
        summary: "Mint a short-lived app token for one end user",
        description: "API keys only. The token (≤ 1 h) sees only its subject's jobs and may do only what its scopes allow.",
        security: BEARER,
        parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(ref("TokenRequest")) },
        responses: {
          "201": { description: "The token.", headers: { ...NO_STORE, ...REPLAYED }, content: json(ref("TokenResponse")) },
          "400": P400_BODY_OR_KEY,
          "401": P401,
          "403": P403,
          ...IDEMPOTENCY_PROBLEMS,
        },
      },
    },
    "/v1/moderations": {
      post: {
        tags: ["safety"],
        operationId: "moderate",
        summary: "Check a prompt against the safety rules",
        description:
          "The same check every create runs; costs nothing. Bounded per account (120 at once, then 2 a second; an app token's end user a tenth of that): the per-category scores would otherwise be an oracle for evading the check.",
        security: BEARER,
        requestBody: { required: true, content: json(ref("ModerationRequest")) },
        responses: {
          "200": { description: "The verdict.", content: json(ref("ModerationResult")), headers: RATE_LIMIT },
          "400": P400_BODY,
          "401": P401,
          "403": P403,
          "429": problem("Over the moderation calls' rate (with its `RateLimit-*` headers)", ["rate_limited"], {
            ...RETRY_AFTER,
            ...RATE_LIMIT,
          }),
        },
      },
    },
  };
}

export function webhooks(): Json {
  const op = (type: string): Json => ({
    post: {
      tags: ["webhooks"],
      operationId: `webhook_${type.replace(/\W/g, "_")}`,
      summary: `\`${type}\`, sent to the job's webhook_url`,
      description: "Retried with backoff for about a day until the receiver answers 2xx. Deduplicate on `webhook-id`.",
      // The receiver authenticates the sender by the signature over id, timestamp and body.
      security: [{ webhookSignature: [] }],
      parameters: [
        {
          name: "webhook-id",
          in: "header",
          required: true,
          schema: { type: "string" },
          description: "The same for every attempt of one event.",
        },
        {
          name: "webhook-timestamp",
          in: "header",
          required: true,
          schema: { type: "string", pattern: "^\\d+$" },
          description: "Unix seconds.",
        },
        {
          name: "webhook-signature",
          in: "header",
          required: true,
          schema: { type: "string" },
          description: "`v1,<base64 HMAC-SHA256>` (see GET /v1/webhook_secret).",
        },
      ],
      requestBody: { required: true, content: json(ref("WebhookEvent")) },
      responses: { "2XX": { description: "Accepted; any other answer is retried (some 4xx are final)." } },
    },
  });
  return Object.fromEntries(WEBHOOK_TYPES.map((t) => [t, op(t)]));
}

export const PUBLIC_TAGS = [
  { name: "videos", description: "Create a video, get it, follow its events, cancel it." },
  { name: "playback", description: "HLS playlist, segments, final MP4 and poster: an API key or the video's playback token." },
  { name: "tokens", description: "Short-lived app tokens for one end user, minted with an API key." },
  { name: "billing", description: "Credits: balance, held and spent." },
  { name: "safety", description: "The prompt safety check every create runs." },
  { name: "webhooks", description: "Signed notifications when a video ends, and the secret they are signed with." },
  { name: "meta", description: "Health, this document and its reference page." },
];

export const PUBLIC_PARAMETERS = {
  VideoId: {
    name: "id",
    in: "path",
    required: true,
    description: "Video id (`vid_…`).",
    schema: { type: "string", pattern: JOB_ID_PATTERN.source },
  },
  Range: {
    name: "Range",
    in: "header",
    required: false,
    description: "A byte range, e.g. `bytes=0-1023` (answered 206).",
    schema: { type: "string" },
  },
  LastEventId: {
    name: "Last-Event-ID",
    in: "header",
    required: false,
    description: "Resume after this event id.",
    schema: { type: "integer", minimum: 0 },
  },
  LastEventIdQuery: {
    name: "last_event_id",
    in: "query",
    required: false,
    description: "Same as Last-Event-ID, for clients that cannot set headers.",
    schema: { type: "integer", minimum: 0 },
  },
};

export const PUBLIC_SECURITY_SCHEMES = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description:
      "`Authorization: Bearer <credential>`: an API key (`rm_live_…`), or an app token (`rmt_…`, POST /v1/tokens) limited to its scopes and its own end user's videos.",
  },
  webhookSignature: {
    type: "apiKey",
    in: "header",
    name: "webhook-signature",
    description:
      "Sent by the service to a webhook receiver: Standard Webhooks `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the account's secret (GET /v1/webhook_secret); verify it and the timestamp before trusting the event.",
  },
  playbackToken: {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "Signed playback token for one video, as carried by `playback.signed_hls_url` and the playlist's URIs; expires.",
  },
};
