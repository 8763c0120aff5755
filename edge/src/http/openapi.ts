import { Hono } from "hono";
import { z } from "zod";
import { JOB_ID_PATTERN } from "../../../shared/ids.ts";
import { ASPECT_RATIOS, SCHEDULERS } from "../../../shared/models.ts";
import { ErrorInfoSchema, UsageSchema } from "../../../shared/schemas/manifest.ts";
import { CreateVideoRequestSchema, JobStatusSchema, TierSchema } from "../../../shared/schemas/request.ts";
import { CATEGORIES } from "../safety/moderate.ts";
import { PROBLEM_BASE } from "./problem.ts";
import { AccountLimitsSchema, AddCreditsRequestSchema, COST_DAY_PATTERN, CreateAccountRequestSchema } from "./admin.ts";
import { ModerationRequestSchema } from "./moderations.ts";
import { TokenRequestSchema, TokenResponseSchema } from "./tokens.ts";

/**
 * The API described as OpenAPI 3.1 (issue 5, API surface), generated from the zod schemas
 * the handlers validate with (request bodies) and from zod schemas written here to mirror
 * what the handlers return (responses): `GET /openapi.json`, and a self-contained page
 * rendering it at `GET /docs` (no CDN: the service may run offline).
 *
 * Response schemas here must follow the code they describe: `jobView` (http/videos.ts),
 * `problemResponse` (http/problem.ts), the event feed and `webhookView` (jobs/feed.ts, jobs/webhook-outbox.ts),
 * `moderate` (safety/moderate.ts), the admin API's answers (http/admin.ts, accounts/object.ts,
 * billing/costs.ts). edge/test/openapi.test.ts checks the ones it can reach.
 */

/** package.json is not importable inside workerd; keep in step with the API's version by hand. */
const API_VERSION = "1.0.0";

/** One instance, so that it is one component (`DateTime`) rather than its long pattern inlined everywhere. */
export const DateTimeSchema = z.iso.datetime().describe("ISO 8601 UTC date-time, e.g. `2025-01-31T12:00:00.000Z`.");
const dateTime = () => DateTimeSchema;
const url = () => z.url();

// ---- response schemas (mirroring the handlers) ----

export const FieldErrorSchema = z.object({
  field: z.string().describe("The field at fault (dotted path), `(body)` for the whole body, or the unknown fields, comma-separated."),
  code: z.string().describe("Which rule failed: a zod issue code, `unknown_field`, `unsupported`, `too_big`, `not_allowed`."),
  message: z.string(),
});

/** RFC 9457 problem details (http/problem.ts); extension members (e.g. `expired_at`, `categories`) may follow. */
export const ProblemSchema = z
  .looseObject({
    type: z.url().describe(`\`${PROBLEM_BASE}<code>\``),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    code: z.string().describe("Stable machine-readable code: branch on this, never on `detail`."),
    instance: z.string().describe("The request path."),
    errors: z.array(FieldErrorSchema).optional().describe("Present on validation failures (400)."),
  })
  .describe("RFC 9457 problem details, served as application/problem+json. Extension members may be present (e.g. `expired_at` on 410, `categories` and `field` on 422).");

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
    cache: z.enum(["miss", "hit", "joined", "none"]).describe("miss: ran on a GPU for this request; hit: answered from a finished identical job; joined: shares a running one; none: not cached (no seed, or `cache: \"none\"`)."),
    price: z.object({ credits: z.int().min(0), kind: z.enum(["generation", "joined", "hit"]) }).describe("What the call costs, reserved when accepted."),
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
export const QuoteSchema = z
  .object({
    object: z.literal("quote"),
    dry_run: z.literal(true),
    price: z.object({
      credits: z.int().min(1),
      kind: z.literal("generation"),
      breakdown: z.object({
        duration_s: z.number().positive(), steps: z.int().min(1), short_side: z.int().min(1), tier: TierSchema,
        base: z.int().min(0).describe("Credits before the kind's factor."), factor: z.number().positive(),
      }),
    }),
  })
  .describe("What the create would cost as a generation (a cache hit or a join costs less); nothing is created or charged.");

/** `POST /v1/moderations` (http/moderations.ts; the handler's schema is module-private, this mirrors it). */

export const ModerationMatchSchema = z.object({
  category: z.string(),
  term: z.string().describe("The lexicon term as written in the lexicon, a rule description, or `classifier <score>` for the second stage."),
  start: z.int().min(0).optional().describe("UTF-16 offset of the match in the input."),
  end: z.int().min(0).optional().describe("UTF-16 offset, exclusive."),
});

export const ModerationResultSchema = z.object({
  flagged: z.boolean(),
  categories: z
    .record(z.string(), z.boolean())
    .describe(`Every built-in category (${CATEGORIES.join(", ")}) plus the deployment's extra ones.`),
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
    feed("chunk", { index: z.int().min(0), duration_s: z.number().positive(), frames: z.int().min(1), url: url().describe("The new segment.") }),
    feed("completed", { usage: UsageSchema.nullable(), expires_at: dateTime().nullable(), content_url: url().describe("The final MP4.") }),
    feed("failed", { error: ErrorInfoSchema.nullable() }),
    feed("canceled", { error: ErrorInfoSchema.nullable() }),
  ])
  .describe("The JSON in an SSE frame's `data:` line. Frames: `id: <n>`, `event: <type>`, `data: <json>`; `: keep-alive` comments every 15 s; the stream ends after a terminal event.");

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
  expires_at: dateTime().nullable(),
  links: z.object({ self: url(), hls: url(), content: url(), poster: url() }),
});

export const WEBHOOK_TYPES = ["video.completed", "video.failed", "video.canceled"] as const;
export const WebhookEventSchema = z
  .object({ type: z.enum(WEBHOOK_TYPES), timestamp: dateTime(), data: WebhookVideoSchema })
  .describe("Body of a webhook delivery (POST to the job's `webhook_url`), signed per Standard Webhooks.");

// ---- admin API (http/admin.ts) ----

/** `Account` in accounts/object.ts, as the directory stores it. */
export const AccountSchema = z.object({
  id: z.string().describe("`acct_…`"),
  name: z.string(),
  credits: z.int().min(0).describe("Credits granted at creation; the balance is the ledger's."),
  created_at: dateTime(),
  limits: AccountLimitsSchema.nullable().describe("Overrides of the default rate and concurrency limits; null: the defaults."),
});

const balance = () => z.int().describe("Credits available now (the account's ledger).");

/** `GET /admin/accounts/{id}`. */
export const AccountDetailSchema = AccountSchema.extend({ balance: balance() });

/** `POST /admin/accounts` (201): the account, its balance and its first API key, shown only here. */
export const CreatedAccountSchema = AccountSchema.extend({
  balance: balance(),
  api_key: z.string().describe("`rm_live_…`: shown once, stored only hashed."),
  key_id: z.string().describe("`key_…`"),
  key_prefix: z.string().describe("First characters of the key, as keys are listed."),
});

export const AccountListSchema = z.object({ data: z.array(AccountSchema) });

/** `KeyRecord` in accounts/object.ts: a key as listed (never the key itself). */
export const ApiKeySchema = z.object({
  key_id: z.string().describe("`key_…`"),
  account_id: z.string(),
  prefix: z.string().describe("First characters of the key, e.g. `rm_live_AbCd`."),
  created_at: dateTime(),
  revoked_at: dateTime().nullable(),
});

/** `POST /admin/accounts/{id}/keys` (201). */
export const CreatedApiKeySchema = ApiKeySchema.extend({ api_key: z.string().describe("`rm_live_…`: shown once, stored only hashed.") });

export const ApiKeyListSchema = z.object({ data: z.array(ApiKeySchema) });

/** `POST /admin/accounts/{id}/credits`. */
export const CreditsResultSchema = z.object({ id: z.string().describe("The account."), balance: balance() });

/** `CostReport` in billing/costs.ts: `GET /admin/costs`. */
export const CostReportSchema = z.object({
  from: z.string().regex(COST_DAY_PATTERN),
  to: z.string().regex(COST_DAY_PATTERN),
  prices: z.object({ gpu_hour_usd: z.number().min(0), credit_usd: z.number().min(0) }).describe("As configured (REELMESH_GPU_HOUR_USD, REELMESH_CREDIT_USD)."),
  bytes_served: z.int().min(0).describe("Bytes of media served over the period."),
  tiers: z.array(z.object({
    tier: TierSchema,
    jobs: z.int().min(1).describe("Finished jobs."),
    video_s: z.number().min(0).describe("Video seconds delivered."),
    gpu_s: z.number().min(0),
    encode_s: z.number().min(0),
    bytes_stored: z.int().min(0),
    revenue_usd: z.number().describe("Credits charged × credit_usd."),
    gpu_cost_usd: z.number().min(0),
    cost_per_video_second_usd: z.number().nullable().describe("Null when no video was delivered."),
    margin: z.number().max(1).nullable().describe("(revenue − GPU cost) / revenue; null without revenue."),
  })),
});

/** Every schema that becomes a component, by name. */
const COMPONENTS = {
  CreateVideoRequest: CreateVideoRequestSchema,
  Video: VideoSchema,
  Quote: QuoteSchema,
  VideoStatus: VideoStatusSchema,
  Usage: UsageSchema,
  ErrorInfo: ErrorInfoSchema,
  Problem: ProblemSchema,
  FieldError: FieldErrorSchema,
  VideoEvent: VideoEventSchema,
  ModerationRequest: ModerationRequestSchema,
  TokenRequest: TokenRequestSchema,
  TokenResponse: TokenResponseSchema,
  ModerationResult: ModerationResultSchema,
  ModerationMatch: ModerationMatchSchema,
  WebhookSecret: WebhookSecretSchema,
  WebhookEvent: WebhookEventSchema,
  WebhookVideo: WebhookVideoSchema,
  Health: HealthSchema,
  DateTime: DateTimeSchema,
  CreateAccountRequest: CreateAccountRequestSchema,
  AddCreditsRequest: AddCreditsRequestSchema,
  AccountLimits: AccountLimitsSchema,
  Account: AccountSchema,
  AccountDetail: AccountDetailSchema,
  CreatedAccount: CreatedAccountSchema,
  AccountList: AccountListSchema,
  ApiKey: ApiKeySchema,
  CreatedApiKey: CreatedApiKeySchema,
  ApiKeyList: ApiKeyListSchema,
  CreditsResult: CreditsResultSchema,
  CostReport: CostReportSchema,
} as const;

type Json = Record<string, unknown>;
const ref = (name: keyof typeof COMPONENTS) => ({ $ref: `#/components/schemas/${name}` });

/**
 * Component schemas: `z.toJSONSchema` (draft 2020-12, the dialect of OpenAPI 3.1; input side,
 * so defaulted fields are optional) over a registry, so a schema used inside another (Usage
 * in Video) becomes a `$ref` to its component instead of a copy.
 */
function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: "draft-2020-12", io: "input", uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    // Inside an OpenAPI document the dialect is the document's, and a `$id` that is a fragment is not valid 2020-12.
    const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
}

// ---- operations ----

const json = (schema: Json) => ({ "application/json": { schema } });
const header = (description: string, schema: Json = { type: "string" }) => ({ description, schema });
const RETRY_AFTER = { "Retry-After": header("Seconds to wait before retrying.", { type: "integer", minimum: 0 }) };
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

/** An error response: problem+json, with the stable codes it can carry. */
function problem(description: string, codes: string[], headers?: Json): Json {
  return {
    description: `${description} (code: ${codes.map((c) => `\`${c}\``).join(", ")})`,
    ...(headers ? { headers } : {}),
    content: { "application/problem+json": { schema: ref("Problem") } },
  };
}

const P401 = problem("Missing or invalid credentials", ["unauthorized"], { "WWW-Authenticate": header('`Bearer realm="reelmesh"`') });
const P401_MEDIA = problem("Missing or invalid credentials or playback token", ["unauthorized", "invalid_playback_token"]);
const P403 = problem("The credential is valid but may not make this call", ["insufficient_scope", "forbidden"]);
const P404 = problem("No such video for this caller (another account's video is indistinguishable from none)", ["video_not_found"]);
const P410 = problem("The video's outputs were deleted (retention); the problem carries `expired_at`", ["video_expired"]);
const P400_BODY = problem("Invalid body; `errors` lists each field", ["validation_failed", "invalid_json"]);
const NO_STORE = { "Cache-Control": header("`no-store`: the response carries a secret.") };

/** The POSTs behind the idempotency middleware (idempotency/middleware.ts, http/idempotent.ts). */
const IDEMPOTENCY_KEY = { $ref: "#/components/parameters/IdempotencyKey" };
const REPLAYED = { "Idempotent-Replayed": header("`true` when this is the stored answer to an earlier request with the same Idempotency-Key (not run again).", { type: "string", const: "true" }) };
const P400_BODY_OR_KEY = problem("Invalid body (`errors` lists each field), or a malformed Idempotency-Key", ["validation_failed", "invalid_json", "invalid_idempotency_key"]);
/** What an Idempotency-Key can add to a POST's answers. */
const IDEMPOTENCY_PROBLEMS = {
  "409": problem("A request with this Idempotency-Key is still running", ["idempotency_in_progress"], RETRY_AFTER),
  "422": problem("This Idempotency-Key was used with a different request", ["idempotency_key_reused"]),
};

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
        headers: { "Content-Range": header("e.g. `bytes 0-1023/4096`"), "Content-Length": header("Size of the range.", { type: "integer" }) },
        content: { [type]: { schema: { type: "string", contentMediaType: type } } },
      },
      "401": P401_MEDIA,
      "403": P403,
      "404": problem("No such video, or the file is not (yet) part of it (with Retry-After)", ["video_not_found", "segment_not_ready"], RETRY_AFTER),
      "410": P410,
      ...(extra.responses ?? {}),
      "502": problem("The file is listed but storage could not serve it", ["storage_unavailable"]),
    },
  },
});

function paths(): Json {
  return {
    "/healthz": {
      get: {
        tags: ["meta"], operationId: "health", summary: "Liveness check", security: [],
        responses: { "200": { description: "Up.", content: json(ref("Health")) } },
      },
    },
    "/openapi.json": {
      get: {
        tags: ["meta"], operationId: "openapiDocument", summary: "This document", security: [],
        responses: { "200": { description: "OpenAPI 3.1 document.", content: json({ type: "object" }) } },
      },
    },
    "/docs": {
      get: {
        tags: ["meta"], operationId: "docs", summary: "Human-readable API reference (renders /openapi.json)", security: [],
        responses: { "200": { description: "HTML page.", content: { "text/html": { schema: { type: "string" } } } } },
      },
    },
    "/v1/videos": {
      post: {
        tags: ["videos"], operationId: "createVideo", summary: "Create a video",
        description: "Validates, checks prompt safety (a flagged prompt is never queued or billed), reserves the price, queues the job and returns its view at once; poll it, follow its events, or start playing `playback.signed_hls_url` as chunks land. With `dry_run`, only quotes the price. Every authenticated create, a refused one too, takes a token from the account's rate bucket.",
        security: BEARER, parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, description: `JSON, at most 16 KiB.`, content: json(ref("CreateVideoRequest")) },
        responses: {
          "200": {
            description: "A cache hit (with `cache: \"auto\"` and a `seed`): an identical earlier video, already succeeded; or, with `dry_run`, the quote.",
            headers: { Location: header("`/v1/videos/{id}` (not on a quote)"), ...RATE_LIMIT, ...REPLAYED },
            content: json({ oneOf: [ref("Video"), ref("Quote")] }),
          },
          "202": {
            description: "Queued, or joined to an identical video still running.",
            headers: { Location: header("`/v1/videos/{id}`"), ...RATE_LIMIT, ...REPLAYED },
            content: json(ref("Video")),
          },
          "400": problem("Invalid body, or a value the chosen model does not support (`errors` lists each field), or a malformed Idempotency-Key", ["validation_failed", "invalid_json", "invalid_idempotency_key"]),
          "401": P401,
          "402": problem("The price is more than the balance, or than is left of the app token's credit cap; nothing was created. The problem carries `price` (and `balance`)", ["insufficient_credits", "token_credit_cap"], RATE_LIMIT),
          "403": P403,
          "409": IDEMPOTENCY_PROBLEMS["409"],
          "413": problem("Body larger than 16 KiB", ["body_too_large"], RATE_LIMIT),
          "415": problem("Content-Type is not application/json", ["unsupported_media_type"], RATE_LIMIT),
          "422": problem("The prompt was flagged by the safety check (the problem carries `categories` and `field`), or this Idempotency-Key was used with a different request", ["prompt_rejected", "idempotency_key_reused"]),
          "429": problem("Over the account's create rate (with its `RateLimit-*` headers), or as many of its jobs running as it may have at once; nothing was charged", ["rate_limited", "concurrency_limit"], { ...RETRY_AFTER, ...RATE_LIMIT }),
          "503": problem("The job queue (or the service's configuration) is unavailable; nothing was charged", ["queue_unavailable", "service_misconfigured"], RETRY_AFTER),
        },
      },
    },
    "/v1/videos/{id}": {
      get: {
        tags: ["videos"], operationId: "getVideo", summary: "Get a video", security: BEARER,
        parameters: [VIDEO_ID],
        responses: {
          "200": { description: "The video's current state.", content: json(ref("Video")) },
          "401": P401, "403": P403, "404": P404, "410": P410,
        },
      },
    },
    "/v1/videos/{id}/cancel": {
      post: {
        tags: ["videos"], operationId: "cancelVideo", summary: "Cancel a video",
        description: "A queued video stops at once and is refunded whole; a running one stops within a step, charged for the chunks delivered.",
        security: BEARER, parameters: [VIDEO_ID],
        responses: { "200": { description: "The video after the cancel request.", content: json(ref("Video")) }, "401": P401, "403": P403, "404": P404, "410": P410 },
      },
    },
    "/v1/usage": {
      get: {
        tags: ["billing"], operationId: "usage", summary: "Credits: balance, held, spent per day and tier",
        description: "An app token sees its own subject's spending (no balance).",
        security: BEARER,
        responses: {
          "200": {
            description: "The usage summary.",
            content: json({
              type: "object",
              required: ["object", "account", "reserved", "spent", "jobs", "by_day"],
              properties: {
                object: { const: "usage" }, account: { type: "string" }, subject: { type: ["string", "null"] },
                balance: { type: "integer" }, reserved: { type: "integer" }, spent: { type: "integer" }, jobs: { type: "integer" },
                by_day: { type: "array", items: { type: "object", properties: { day: { type: "string" }, tier: { type: "string" }, spent: { type: "integer" }, jobs: { type: "integer" } } } },
              },
            }),
          },
          "401": P401, "403": P403,
        },
      },
    },
    "/v1/videos/{id}/events": {
      get: {
        tags: ["videos"], operationId: "videoEvents", summary: "Follow a video's events (server-sent events)",
        description: "Replays the event log after `Last-Event-ID` (only the latest progress event), then streams new events; closes after `completed`, `failed` or `canceled`. Each frame's data is a `VideoEvent`.",
        security: MEDIA_SECURITY,
        parameters: [VIDEO_ID, { $ref: "#/components/parameters/LastEventId" }, { $ref: "#/components/parameters/LastEventIdQuery" }],
        responses: {
          "200": {
            description: "An SSE stream; each `data:` line is a JSON `VideoEvent`.",
            content: { "text/event-stream": { schema: { type: "string", description: "text/event-stream frames" }, "x-event-data": ref("VideoEvent") } },
          },
          "401": P401_MEDIA, "403": P403, "404": P404, "410": P410,
        },
      },
    },
    "/v1/videos/{id}/stream.m3u8": {
      get: {
        tags: ["playback"], operationId: "playlist", summary: "HLS playlist (grows while the video is generated)",
        description: "An EVENT playlist while running (no-store), closed with EXT-X-ENDLIST once done; segment URIs carry the caller's playback token.",
        security: MEDIA_SECURITY,
        parameters: [VIDEO_ID],
        responses: {
          "200": { description: "HLS media playlist.", content: { "application/vnd.apple.mpegurl": { schema: { type: "string" } } } },
          "401": P401_MEDIA, "403": P403, "404": P404, "410": P410,
        },
      },
    },
    "/v1/videos/{id}/init.mp4": media("initSegment", "fMP4 initialization segment", "video/mp4"),
    "/v1/videos/{id}/seg-{n}.m4s": media("mediaSegment", "fMP4 media segment (one chunk)", "video/iso.segment", {
      params: [{ name: "n", in: "path", required: true, description: "Chunk index, five digits, zero-padded.", schema: { type: "string", pattern: "^\\d{5}$" } }],
    }),
    "/v1/videos/{id}/content": media("content", "The final MP4 (once the video has succeeded)", "video/mp4", {
      responses: { "409": problem("The video has not succeeded (yet); Retry-After while it runs", ["video_not_ready"], RETRY_AFTER) },
    }),
    "/v1/videos/{id}/poster.jpg": media("poster", "Poster frame (once the first chunk is ready)", "image/jpeg"),
    "/v1/webhook_secret": {
      get: {
        tags: ["webhooks"], operationId: "webhookSecret", summary: "The secret this account's webhooks are signed with", security: BEARER,
        description: "API keys only (app tokens get 403).",
        responses: { "200": { description: "The signing secret.", content: json(ref("WebhookSecret")) }, "401": P401, "403": P403 },
      },
    },
    "/v1/tokens": {
      post: {
        tags: ["tokens"], operationId: "mintToken", summary: "Mint a short-lived app token for one end user",
        description: "API keys only. The token (≤ 1 h) sees only its subject's jobs and may do only what its scopes allow.",
        security: BEARER, parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(ref("TokenRequest")) },
        responses: {
          "201": { description: "The token.", headers: { ...NO_STORE, ...REPLAYED }, content: json(ref("TokenResponse")) },
          "400": P400_BODY_OR_KEY, "401": P401, "403": P403, ...IDEMPOTENCY_PROBLEMS,
        },
      },
    },
    "/v1/moderations": {
      post: {
        tags: ["safety"], operationId: "moderate", summary: "Check a prompt against the safety rules",
        description: "The same check every create runs; costs nothing.",
        security: BEARER,
        requestBody: { required: true, content: json(ref("ModerationRequest")) },
        responses: { "200": { description: "The verdict.", content: json(ref("ModerationResult")) }, "400": P400_BODY, "401": P401, "403": P403 },
      },
    },
  };
}

const ADMIN = [{ adminToken: [] }];
const ACCOUNT_ID = { $ref: "#/components/parameters/AccountId" };
const A401 = problem("Missing or wrong admin token (everyone is refused while none is configured)", ["unauthorized"], { "WWW-Authenticate": header('`Bearer realm="reelmesh-admin"`') });
const A404 = problem("No such account", ["account_not_found"]);

/** The admin API (http/admin.ts, mounted at /admin): the operator's token, never an account's key. */
function adminPaths(): Json {
  return {
    "/admin/accounts": {
      post: {
        tags: ["admin"], operationId: "adminCreateAccount", summary: "Create an account and its first API key",
        description: "Initial `credits` are granted on the account's ledger. The key is in this answer only.",
        security: ADMIN, parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(ref("CreateAccountRequest")) },
        responses: {
          "201": { description: "The account, its balance and its key.", headers: { ...NO_STORE, ...REPLAYED }, content: json(ref("CreatedAccount")) },
          "400": P400_BODY_OR_KEY, "401": A401, ...IDEMPOTENCY_PROBLEMS,
        },
      },
      get: {
        tags: ["admin"], operationId: "adminListAccounts", summary: "List accounts (without balances)", security: ADMIN,
        responses: { "200": { description: "Every account.", content: json(ref("AccountList")) }, "401": A401 },
      },
    },
    "/admin/accounts/{id}": {
      get: {
        tags: ["admin"], operationId: "adminGetAccount", summary: "Get an account and its balance", security: ADMIN,
        parameters: [ACCOUNT_ID],
        responses: { "200": { description: "The account.", content: json(ref("AccountDetail")) }, "401": A401, "404": A404 },
      },
    },
    "/admin/accounts/{id}/credits": {
      post: {
        tags: ["admin"], operationId: "adminAddCredits", summary: "Add credits to an account",
        description: "A top-up is keyed by `reference`: the same reference never counts twice (without one, every call counts).",
        security: ADMIN, parameters: [ACCOUNT_ID, IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(ref("AddCreditsRequest")) },
        responses: {
          "200": { description: "The balance after the top-up.", headers: REPLAYED, content: json(ref("CreditsResult")) },
          "400": P400_BODY_OR_KEY, "401": A401, "404": A404, ...IDEMPOTENCY_PROBLEMS,
        },
      },
    },
    "/admin/accounts/{id}/keys": {
      post: {
        tags: ["admin"], operationId: "adminCreateKey", summary: "Create another API key for an account",
        description: "No body. The key is in this answer only.",
        security: ADMIN, parameters: [ACCOUNT_ID, IDEMPOTENCY_KEY],
        responses: {
          "201": { description: "The key.", headers: { ...NO_STORE, ...REPLAYED }, content: json(ref("CreatedApiKey")) },
          "400": problem("Malformed Idempotency-Key", ["invalid_idempotency_key"]), "401": A401, "404": A404, ...IDEMPOTENCY_PROBLEMS,
        },
      },
      get: {
        tags: ["admin"], operationId: "adminListKeys", summary: "List an account's API keys (by prefix, revoked ones too)", security: ADMIN,
        parameters: [ACCOUNT_ID],
        responses: { "200": { description: "The account's keys.", content: json(ref("ApiKeyList")) }, "401": A401, "404": A404 },
      },
    },
    "/admin/accounts/{id}/keys/{keyId}": {
      delete: {
        tags: ["admin"], operationId: "adminRevokeKey", summary: "Revoke an API key",
        description: "Revoking again keeps the first `revoked_at`. The key stops working within REELMESH_KEY_CACHE_S (per-isolate cache).",
        security: ADMIN,
        parameters: [ACCOUNT_ID, { name: "keyId", in: "path", required: true, description: "Key id (`key_…`).", schema: { type: "string" } }],
        responses: {
          "200": { description: "The revoked key.", content: json(ref("ApiKey")) },
          "401": A401, "404": problem("No such key in this account", ["key_not_found"]),
        },
      },
    },
    "/admin/costs": {
      get: {
        tags: ["admin"], operationId: "adminCosts", summary: "Cost per delivered video-second and margin per tier over a period", security: ADMIN,
        parameters: [
          { name: "from", in: "query", required: false, description: "First day (UTC), `YYYY-MM-DD`; default today.", schema: { type: "string", pattern: COST_DAY_PATTERN.source } },
          { name: "to", in: "query", required: false, description: "Last day (UTC, inclusive), `YYYY-MM-DD`; default today.", schema: { type: "string", pattern: COST_DAY_PATTERN.source } },
        ],
        responses: {
          "200": { description: "The report.", content: json(ref("CostReport")) },
          "400": problem("`from` or `to` is not a day", ["validation_failed"]), "401": A401,
        },
      },
    },
  };
}

function webhooks(): Json {
  const op = (type: string): Json => ({
    post: {
      tags: ["webhooks"], operationId: `webhook_${type.replace(/\W/g, "_")}`, summary: `\`${type}\`, sent to the job's webhook_url`,
      description: "Retried with backoff for about a day until the receiver answers 2xx. Deduplicate on `webhook-id`.",
      parameters: [
        { name: "webhook-id", in: "header", required: true, schema: { type: "string" }, description: "The same for every attempt of one event." },
        { name: "webhook-timestamp", in: "header", required: true, schema: { type: "string", pattern: "^\\d+$" }, description: "Unix seconds." },
        { name: "webhook-signature", in: "header", required: true, schema: { type: "string" }, description: "`v1,<base64 HMAC-SHA256>` (see GET /v1/webhook_secret)." },
      ],
      requestBody: { required: true, content: json(ref("WebhookEvent")) },
      responses: { "2XX": { description: "Accepted; any other answer is retried (some 4xx are final)." } },
    },
  });
  return Object.fromEntries(WEBHOOK_TYPES.map((t) => [t, op(t)]));
}

/** The OpenAPI 3.1 document, built fresh from the schemas. */
export function openApiDocument(): object {
  return {
    openapi: "3.1.0",
    info: {
      title: "reelmesh",
      version: API_VERSION,
      description: "Text-to-video for short-video apps: create a video, follow it by SSE or webhook, and play it over HLS while it is still being generated. Errors are RFC 9457 problem+json with stable codes.",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "videos", description: "Create a video, get it, follow its events, cancel it." },
      { name: "playback", description: "HLS playlist, segments, final MP4 and poster: an API key or the video's playback token." },
      { name: "tokens", description: "Short-lived app tokens for one end user, minted with an API key." },
      { name: "billing", description: "Credits: balance, held and spent." },
      { name: "safety", description: "The prompt safety check every create runs." },
      { name: "webhooks", description: "Signed notifications when a video ends, and the secret they are signed with." },
      { name: "meta", description: "Health, this document and its reference page." },
      { name: "admin", description: "Operator API: accounts, API keys, credits, costs. Bearer REELMESH_ADMIN_TOKEN." },
    ],
    paths: { ...paths(), ...adminPaths() },
    webhooks: webhooks(),
    components: {
      schemas: componentSchemas(),
      parameters: {
        VideoId: { name: "id", in: "path", required: true, description: "Video id (`vid_…`).", schema: { type: "string", pattern: JOB_ID_PATTERN.source } },
        Range: { name: "Range", in: "header", required: false, description: "A byte range, e.g. `bytes=0-1023` (answered 206).", schema: { type: "string" } },
        LastEventId: { name: "Last-Event-ID", in: "header", required: false, description: "Resume after this event id.", schema: { type: "integer", minimum: 0 } },
        LastEventIdQuery: { name: "last_event_id", in: "query", required: false, description: "Same as Last-Event-ID, for clients that cannot set headers.", schema: { type: "integer", minimum: 0 } },
        AccountId: { name: "id", in: "path", required: true, description: "Account id (`acct_…`).", schema: { type: "string" } },
        IdempotencyKey: {
          name: "Idempotency-Key", in: "header", required: false,
          description: "1 to 255 printable ASCII characters, per account. For 24 h, a retry with the same key and request gets the stored answer, errors included (any but a 5xx or 429), without running again and with `Idempotent-Replayed: true`; the same key with another request gets 422; a retry while the first is still running waits up to 2 s for its answer, then gets 409.",
          schema: { type: "string", minLength: 1, maxLength: 255 },
        },
      },
      securitySchemes: {
        bearerAuth: {
          type: "http", scheme: "bearer",
          description: "`Authorization: Bearer <credential>`: an API key (`rm_live_…`), or an app token (`rmt_…`, POST /v1/tokens) limited to its scopes and its own end user's videos.",
        },
        playbackToken: {
          type: "apiKey", in: "query", name: "token",
          description: "Signed playback token for one video, as carried by `playback.signed_hls_url` and the playlist's URIs; expires.",
        },
        adminToken: {
          type: "http", scheme: "bearer",
          description: "`Authorization: Bearer <REELMESH_ADMIN_TOKEN>`: the operator's token, for /admin only (`npm start` prints a dev one). API keys and app tokens are refused there.",
        },
      },
    },
  };
}

let served: string | undefined;

export const openapi = new Hono();

openapi.get("/openapi.json", (c) => {
  served ??= JSON.stringify(openApiDocument());
  return c.body(served, 200, { "content-type": "application/json; charset=utf-8", "cache-control": "public, max-age=300", "access-control-allow-origin": "*" });
});

openapi.get("/docs", (c) =>
  c.html(DOCS_HTML, 200, {
    "cache-control": "public, max-age=300",
    // Inline script and style only; the page fetches nothing but /openapi.json.
    "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
  }),
);

/** The reference page: plain DOM, no dependencies; text is set with textContent (never innerHTML). */
const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>reelmesh API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 1.5rem;color:#1d1d1f}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;margin-top:2.5rem}code,pre,.s{font-family:ui-monospace,monospace;font-size:13px}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem .9rem}.op h3{margin:.2rem 0;font-size:16px}
.m{display:inline-block;min-width:3.6rem;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:1px 6px;margin-right:.5rem}
.get{background:#2f7d32}.post{background:#1565c0}.other{background:#6d4c41}
table{border-collapse:collapse;width:100%;margin:.3rem 0}td,th{border-top:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
.s{white-space:pre-wrap;background:#f6f8fa;border-radius:4px;padding:.4rem .6rem;margin:.3rem 0}.d{color:#555}.req{color:#b00}
a{color:#1565c0}nav a{margin-right:.8rem}
</style></head>
<body><h1 id="title">reelmesh API</h1><p id="desc" class="d">Loading /openapi.json…</p><nav id="nav"></nav><main id="main"></main>
<script>
(function () {
  "use strict";
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) el.setAttribute(k, attrs[k]);
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null || c === false) continue;
      el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  var doc;
  function resolve(o) {
    var seen = 0;
    while (o && o.$ref && seen++ < 20) o = o.$ref.slice(2).split("/").reduce(function (x, k) { return x && x[k.replace(/~1/g, "/").replace(/~0/g, "~")]; }, doc);
    return o || {};
  }
  function refName(r) { return r.split("/").pop(); }
  // One-line summary of a schema: type, format, bounds, enum, default.
  function brief(s) {
    if (s.$ref) return refName(s.$ref);
    var alts = s.anyOf || s.oneOf;
    if (alts) return alts.map(brief).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    var t = Array.isArray(s.type) ? s.type.join(" | ") : s.type || "any";
    if (t === "array") t = (s.items ? brief(s.items) : "any") + "[]";
    if (t === "object" && !s.properties && s.additionalProperties && typeof s.additionalProperties === "object") t = "{ [key]: " + brief(s.additionalProperties) + " }";
    var extra = [];
    ["format", "pattern", "minimum", "maximum", "minLength", "maxLength", "contentMediaType"].forEach(function (k) { if (s[k] !== undefined && Math.abs(s[k]) !== 9007199254740991) extra.push(k + " " + s[k]); });
    if (s.default !== undefined) extra.push("default " + JSON.stringify(s.default));
    return t + (extra.length ? " (" + extra.join(", ") + ")" : "");
  }
  // Multi-line view: the properties of an object (one level of $ref expanded), or the variants of a union.
  function tree(s, indent, depth) {
    var lines = [], pad = new Array(indent + 1).join("  ");
    var r = resolve(s);
    if (s.$ref && depth > 0) return [pad + refName(s.$ref)];
    if (r.description && depth === 0) lines.push(pad + "// " + r.description);
    var alts = r.oneOf || r.anyOf;
    if (alts && alts.some(function (a) { return resolve(a).properties; })) {
      alts.forEach(function (a, i) { lines.push(pad + "variant " + (i + 1) + ":"); lines = lines.concat(tree(a, indent + 1, depth)); });
      return lines;
    }
    if (!r.properties) { lines.push(pad + brief(r)); return lines; }
    var req = r.required || [];
    lines.push(pad + "{" + (r.additionalProperties === false ? "  (no other fields)" : ""));
    Object.keys(r.properties).forEach(function (k) {
      var p = r.properties[k], rp = resolve(p);
      var line = pad + "  " + k + (req.indexOf(k) >= 0 ? "" : "?") + ": " + brief(p) + (rp.description && !p.$ref ? "  // " + rp.description : "");
      lines.push(line);
      if (!p.$ref && rp.properties) lines = lines.concat(tree(p, indent + 2, depth + 1));
      if (!p.$ref && rp.type === "array" && rp.items && resolve(rp.items).properties && !rp.items.$ref) lines = lines.concat(tree(rp.items, indent + 2, depth + 1));
    });
    lines.push(pad + "}");
    return lines;
  }
  function schemaBlock(s) { return h("div", { class: "s" }, tree(s, 0, 0).join("\\n")); }
  function content(c) {
    var out = h("div");
    Object.keys(c || {}).forEach(function (type) {
      var m = c[type];
      out.appendChild(h("div", null, h("code", null, type), m.schema && m.schema.$ref ? h("span", null, " → ", h("a", { href: "#schema-" + refName(m.schema.$ref) }, refName(m.schema.$ref))) : null));
      if (m.schema) out.appendChild(schemaBlock(m.schema));
      if (m["x-event-data"]) { out.appendChild(h("div", null, "each event's data:")); out.appendChild(schemaBlock(m["x-event-data"])); }
    });
    return out;
  }
  function operation(path, method, op, pathItem) {
    var box = h("section", { class: "op", id: op.operationId || method + path });
    box.appendChild(h("h3", null, h("span", { class: "m " + (method === "get" || method === "post" ? method : "other") }, method.toUpperCase()), h("code", null, path), " ", h("span", { class: "d" }, op.summary || "")));
    if (op.description) box.appendChild(h("p", { class: "d" }, op.description));
    var sec = op.security || doc.security || [];
    box.appendChild(h("div", null, "Auth: ", sec.length ? sec.map(function (r) { return Object.keys(r).join(" + "); }).join(" or ") : "none"));
    var params = (pathItem.parameters || []).concat(op.parameters || []).map(resolve);
    if (params.length) {
      var t = h("table", null, h("tr", null, h("th", null, "Parameter"), h("th", null, "In"), h("th", null, "Schema"), h("th", null, "Description")));
      params.forEach(function (p) { t.appendChild(h("tr", null, h("td", null, h("code", null, p.name), p.required ? h("span", { class: "req" }, " *") : null), h("td", null, p.in), h("td", { class: "s" }, brief(p.schema || {})), h("td", { class: "d" }, p.description || ""))); });
      box.appendChild(t);
    }
    if (op.requestBody) { var rb = resolve(op.requestBody); box.appendChild(h("h4", null, "Request body" + (rb.required ? " (required)" : ""))); box.appendChild(content(rb.content)); }
    box.appendChild(h("h4", null, "Responses"));
    Object.keys(op.responses || {}).forEach(function (code) {
      var r = resolve(op.responses[code]);
      box.appendChild(h("div", null, h("b", null, code), " ", h("span", { class: "d" }, r.description || ""), r.headers ? h("span", { class: "d" }, " — headers: " + Object.keys(r.headers).join(", ")) : null));
      if (r.content && !(r.content["application/problem+json"])) box.appendChild(content(r.content));
    });
    return box;
  }
  function render() {
    var main = document.getElementById("main"), nav = document.getElementById("nav");
    document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
    document.getElementById("desc").textContent = doc.info.description || "";
    var methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
    [["Paths", doc.paths || {}], ["Webhooks (sent by the service)", doc.webhooks || {}]].forEach(function (group) {
      main.appendChild(h("h2", { id: group[0].split(" ")[0].toLowerCase() }, group[0]));
      nav.appendChild(h("a", { href: "#" + group[0].split(" ")[0].toLowerCase() }, group[0].split(" ")[0]));
      Object.keys(group[1]).forEach(function (p) { var item = group[1][p]; methods.forEach(function (m) { if (item[m]) main.appendChild(operation(p, m, item[m], item)); }); });
    });
    main.appendChild(h("h2", { id: "schemas" }, "Schemas"));
    nav.appendChild(h("a", { href: "#schemas" }, "Schemas"));
    main.appendChild(h("p", { class: "d" }, "Errors are application/problem+json: see Problem. \\"?\\" marks an optional field."));
    var schemas = (doc.components && doc.components.schemas) || {};
    Object.keys(schemas).forEach(function (n) { main.appendChild(h("h3", { id: "schema-" + n }, n)); main.appendChild(schemaBlock(schemas[n])); });
  }
  fetch("/openapi.json").then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (d) { doc = d; render(); })
    .catch(function (e) { document.getElementById("desc").textContent = "Could not load /openapi.json: " + e.message; });
})();
</script></body></html>
`;
