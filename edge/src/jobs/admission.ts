import type { Context } from "hono";
import { newJobId } from "../../../shared/ids.ts";
import { outputPrefix } from "../../../shared/layout.ts";
import { MODELS, frameSize, type ModelSpec } from "../../../shared/models.ts";
import type { JobMessage } from "../../../shared/schemas/job-message.ts";
import { MAX_SEED, type CreateVideoRequest } from "../../../shared/schemas/request.ts";
import { quote } from "../../../shared/pricing.ts";
import type { AdmitRequest, AdmitResult } from "../accounts/account-object.ts";
import type { Reservation } from "../billing/types.ts";
import { queueJobCost } from "../billing/cost-batch.ts";
import { contentAddress, normalizePromptForCache } from "../cache/address.ts";
import { edgeConfig, type EdgeConfig, type Env } from "../env.ts";
import { DEV_ACCOUNT, type AuthVariables, type Principal } from "../http/auth.ts";
import { accountLimits, createPolicy } from "../http/limits.ts";
import { ApiError, problemBody, type FieldError } from "../http/problem.ts";
import { promptRejected } from "../http/moderations.ts";
import { rateLimitHeaders } from "../limits/headers.ts";
import type { TakeResult } from "../limits/bucket.ts";
import { moderate } from "../safety/moderate.ts";
import { checkWebhookUrl } from "../webhooks/url.ts";
import { costEntry } from "./charge.ts";
import type { JobRecord } from "./record.ts";
import { accountStub } from "./store.ts";

/**
 * The create path, in one place: check (safety, model rules, webhook policy) → build the job
 * and its queue message → one call to the account's object (accounts/account-object.ts) that
 * takes the rate token, decides hit / join / new run, takes the running slot, charges and
 * stores the job in one transaction → answer. Exactly one Durable Object round trip per
 * create, refused ones and dry runs included (each takes a rate token). Nothing is undone on
 * this path because nothing is written before that one transaction decides; what follows it
 * (the job's object, the queue message) is the account object's outbox.
 */
type App = { Bindings: Env; Variables: AuthVariables };

/** How many jobs may join one run (identical requests beyond it are refused, 429). */
export const MAX_FOLLOWERS_PER_RUN = 1000;

export type Admitted = { rate: Record<string, string> } & (
  | { kind: "job"; record: JobRecord; status: 200 | 202; replayed: boolean }
  /** An answer decided before admission (a quote, a refusal of the request), or its replay. */
  | { kind: "answer"; status: number; body: string; type: string; replayed: boolean }
);

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;
const PROBLEM_TYPE = "application/problem+json";

/**
 * Admits `req` (already parsed; null with `parseError` when the body was refused) for the
 * caller, or throws the problem. Every answer, refusals included, took a rate token and carries
 * its headers. `body`: the raw request, for the Idempotency-Key's fingerprint. One call to the
 * account's object whatever the outcome.
 */
export async function admitCreate(
  c: Context<App>,
  req: CreateVideoRequest | null,
  body: string,
  parseError: ApiError | null,
): Promise<Admitted> {
  const cfg = edgeConfig(c.env);
  const principal = c.get("principal");
  const account = accountStub(c.env, principal.accountId);
  const base: AdmitRequest = {
    rate: createPolicy(c.env, principal),
    grant:
      principal.accountId === DEV_ACCOUNT && cfg.REELMESH_DEV_CREDITS > 0
        ? { ref: "dev-grant", amount: cfg.REELMESH_DEV_CREDITS }
        : undefined,
  };
  let rate: TakeResult | null = null;
  const headers = () => (rate ? rateLimitHeaders(rate) : {});
  const withRate = (err: ApiError) => {
    for (const [k, v] of Object.entries(headers())) if (!(k in err.headers)) err.headers[k] = v;
    return err;
  };
  try {
    const idempotency = await idempotencyOf(c, principal, body);
    /** An answer known before admission: still a rate token (no free probing; over the limit the 429 wins), and kept for the key. */
    const decided = async (answer: { status: number; body: string; type: string }): Promise<Admitted> => {
      const r = await account.admit({ ...base, idempotency: idempotency && { ...idempotency, answer } });
      rate = r.rate;
      if (r.outcome === "rate_limited") throw rateLimited(c, rate!);
      if (r.outcome === "key_reused") throw keyReused();
      if (r.outcome === "answer")
        return { kind: "answer", status: r.status, body: r.body, type: answer.type, replayed: true, rate: headers() };
      return { kind: "answer", ...answer, replayed: false, rate: headers() };
    };
    let checked: ReturnType<typeof check>;
    try {
      if (parseError) throw parseError;
      checked = check(cfg, principal, req!);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const answer = await decided({ status: err.status, body: JSON.stringify(problemBody(c, err)), type: PROBLEM_TYPE });
      if (answer.replayed) return answer;
      throw err;
    }
    if (req!.dry_run) {
      // A quote: the price of a generation (a cache hit or a join would cost less).
      return await decided({
        status: 200,
        body: JSON.stringify({ object: "quote", dry_run: true, price: quote(checked.pricing) }),
        type: "application/json",
      });
    }
    const built = await build(c, cfg, principal, req!, checked);
    const r = await account.admit({ ...base, idempotency, job: built });
    rate = r.rate;
    return { ...(await answer(c, r, built.record)), rate: headers() };
  } catch (err) {
    if (err instanceof ApiError) throw withRate(err);
    throw err;
  }
}

const keyReused = () =>
  new ApiError(
    422,
    "idempotency_key_reused",
    "Idempotency-Key reused",
    "This Idempotency-Key was already used with a different request; use a new key for a new request.",
  );

/** Whether it may be created at all: safety first, then the model's and the caller's rules. */
function check(cfg: EdgeConfig, principal: Principal, req: CreateVideoRequest) {
  // Prompt safety before anything is stored, queued or charged; fails closed (a flagged prompt
  // is refused, and a check that throws is a 500, never a pass).
  const promptCheck = moderate(req.prompt);
  if (promptCheck.flagged) throw promptRejected("prompt", promptCheck);
  // A webhook is signed with the account's secret, so the account's receiver trusts it: an end
  // user's app token may not point one anywhere (its jobs are followed by events and polling).
  if (req.webhook_url !== undefined && principal.kind === "token") {
    throw new ApiError(
      403,
      "insufficient_scope",
      "Webhooks need an API key",
      "An app token cannot set webhook_url; set it from your backend with an API key.",
    );
  }
  const spec: ModelSpec = MODELS[req.model];
  const errors = modelErrors(req, spec, cfg.REELMESH_ENV === "development");
  if (errors.length > 0) {
    throw new ApiError(400, "validation_failed", "Invalid request body", errors.map((e) => `${e.field}: ${e.message}`).join("; "), {
      errors,
    });
  }
  const resolution = req.resolution ?? spec.defaultResolution;
  const shortSide = spec.resolutions[resolution] as number;
  return {
    spec,
    resolution,
    shortSide,
    pricing: { duration_s: req.duration_s, steps: req.steps ?? spec.defaultSteps, short_side: shortSide, tier: req.tier },
  };
}

/** Rules that depend on the chosen model (the schema checks the rest). */
function modelErrors(req: CreateVideoRequest, spec: ModelSpec, allowPrivate: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const resolution = req.resolution ?? spec.defaultResolution;
  if (!(resolution in spec.resolutions)) {
    errors.push({ field: "resolution", code: "unsupported", message: `${req.model} supports ${Object.keys(spec.resolutions).join(", ")}` });
  }
  if (!spec.aspectRatios.includes(req.aspect_ratio)) {
    errors.push({ field: "aspect_ratio", code: "unsupported", message: `${req.model} supports ${spec.aspectRatios.join(", ")}` });
  }
  if (req.duration_s > spec.maxDurationS) {
    errors.push({ field: "duration_s", code: "too_big", message: `${req.model} makes clips of at most ${spec.maxDurationS} s` });
  }
  if (req.webhook_url !== undefined) {
    const check = checkWebhookUrl(req.webhook_url, { allowPrivate });
    if (!check.ok) errors.push({ field: "webhook_url", code: "not_allowed", message: check.reason });
  }
  if (req.scheduler !== undefined && !spec.schedulers.includes(req.scheduler)) {
    errors.push({ field: "scheduler", code: "unsupported", message: `${req.model} supports ${spec.schedulers.join(", ")}` });
  }
  if (req.steps !== undefined && req.steps > spec.maxSteps) {
    errors.push({ field: "steps", code: "too_big", message: `${req.model} allows at most ${spec.maxSteps} steps` });
  }
  return errors;
}

/** The Idempotency-Key, scoped to the caller (account, and subject for an app token), with the request's fingerprint. */
async function idempotencyOf(c: Context<App>, principal: Principal, body: string): Promise<AdmitRequest["idempotency"]> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      "invalid_idempotency_key",
      "Invalid Idempotency-Key",
      "Idempotency-Key must be 1 to 255 printable ASCII characters.",
    );
  }
  const url = new URL(c.req.url);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`POST ${url.pathname}${url.search}\n${body}`));
  const fingerprint = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return { key: JSON.stringify([principal.subject, key]), fingerprint };
}

async function build(
  c: Context<App>,
  cfg: EdgeConfig,
  principal: Principal,
  req: CreateVideoRequest,
  checked: ReturnType<typeof check>,
): Promise<NonNullable<AdmitRequest["job"]>> {
  const { spec, resolution, shortSide, pricing } = checked;
  const { width, height } = frameSize(shortSide, req.aspect_ratio);
  const totalChunks = Math.ceil((req.duration_s * spec.fps) / spec.chunkFrames);
  const id = newJobId();
  const now = new Date().toISOString();
  const seed = req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! % (MAX_SEED + 1);
  const base = publicOrigin(c);
  const record: JobRecord = {
    id,
    account_id: principal.accountId,
    status: "queued",
    created_at: now,
    updated_at: now,
    started_at: null,
    completed_at: null,
    model: req.model,
    prompt: req.prompt,
    negative_prompt: req.negative_prompt ?? "",
    duration_s: req.duration_s,
    aspect_ratio: req.aspect_ratio,
    resolution,
    width,
    height,
    fps: spec.fps,
    seed,
    steps: req.steps ?? spec.defaultSteps,
    guidance: req.guidance ?? spec.defaultGuidance,
    scheduler: req.scheduler ?? spec.schedulers[0]!,
    tier: req.tier,
    chunk_frames: spec.chunkFrames,
    total_chunks: totalChunks,
    codecs: null,
    init: null,
    chunks: [],
    progress: null,
    usage: null,
    error: null,
    worker_id: null,
    metadata: req.metadata ?? {},
    subject: principal.subject,
    token_id: principal.kind === "token" ? principal.tokenId : null,
    content: null,
    webhook_url: req.webhook_url ?? null,
    base_url: base,
    queue_position: null,
    expires_at: null,
    expired: false,
    output_prefix: outputPrefix(id),
    content_address: null,
    follows: null,
    cache: "none",
    price: { credits: quote(pricing).credits, kind: "generation" },
    cancel_requested: false,
    charged: null,
    bytes_served: 0,
  };
  // Identical requests (same account, model, prompts, parameters and seed) share one run.
  if (req.cache === "auto" && req.seed !== undefined) {
    record.content_address = await contentAddress({
      account: record.account_id,
      model: record.model,
      prompt: normalizePromptForCache(record.prompt),
      negative_prompt: normalizePromptForCache(record.negative_prompt),
      duration_s: record.duration_s,
      aspect_ratio: record.aspect_ratio,
      resolution,
      steps: record.steps,
      guidance: record.guidance,
      scheduler: record.scheduler,
      seed,
    });
  }
  const message: JobMessage = {
    v: 1,
    job_id: id,
    account_id: record.account_id,
    model: req.model,
    prompt: record.prompt,
    negative_prompt: record.negative_prompt,
    seed,
    steps: record.steps,
    guidance: record.guidance,
    scheduler: record.scheduler,
    width,
    height,
    fps: spec.fps,
    chunk_frames: spec.chunkFrames,
    num_chunks: totalChunks,
    tier: req.tier,
    output: { bucket: cfg.S3_BUCKET, prefix: outputPrefix(id) },
    events_url: `${base}/internal/events`,
    enqueued_at: now,
  };
  return {
    record,
    message,
    prices: { generation: quote(pricing).credits, joined: quote(pricing, "joined").credits, hit: quote(pricing, "hit").credits },
    meta: {
      tier: req.tier,
      subject: principal.subject,
      token: principal.kind === "token" ? principal.tokenId : null,
      tokenCap: principal.tokenCap,
    },
    maxRunning: accountLimits(c.env, principal).max_running_jobs,
    maxFollowers: MAX_FOLLOWERS_PER_RUN,
  };
}

async function answer(c: Context<App>, r: AdmitResult, record: JobRecord): Promise<Omit<Extract<Admitted, { kind: "job" }>, "rate">> {
  switch (r.outcome) {
    case "rate_limited":
      throw rateLimited(c, r.rate!);
    case "key_reused":
      throw keyReused();
    case "payment_refused": {
      const err = paymentRefused(r.reservation, r.price);
      if (r.replayed) err.headers["idempotent-replayed"] = "true";
      throw err;
    }
    case "concurrency_limit":
      throw new ApiError(
        429,
        "concurrency_limit",
        "Too many running jobs",
        `At most ${r.max} jobs may run at once; ${r.running} are running.`,
        {
          headers: { "retry-after": "5" },
        },
      );
    case "too_many_followers":
      throw new ApiError(
        429,
        "too_many_followers",
        "Too many identical requests",
        `At most ${r.max} identical requests may share one run; retry once it has finished (then it is answered from the cache).`,
        { headers: { "retry-after": "5" } },
      );
    case "replay":
      return { kind: "job", record: r.record, status: r.status, replayed: true };
    case "accepted":
      if (r.record.cache === "hit") queueJobCost(c.env, c.executionCtx, costEntry(r.record));
      return { kind: "job", record: r.record, status: r.status, replayed: false };
    case "admitted":
    case "answer":
      throw new Error(`admission answered ${r.outcome} for job ${record.id}`);
  }
}

function rateLimited(c: Context<App>, rate: TakeResult): ApiError {
  const limits = accountLimits(c.env, c.get("principal"));
  return new ApiError(
    429,
    "rate_limited",
    "Too many requests",
    `At most ${limits.burst} creates at once and ${limits.per_s} per second after that; retry after ${rate.retryAfterS} s.`,
    { headers: rateLimitHeaders(rate) },
  );
}

function paymentRefused(r: Reservation, price: number): ApiError {
  return r.reason === "token_cap"
    ? new ApiError(
        402,
        "token_credit_cap",
        "Over this token's credit cap",
        `This call costs ${price} credits, more than is left of the app token's cap.`,
        {
          extensions: { price },
        },
      )
    : new ApiError(402, "insufficient_credits", "Not enough credits", `This call costs ${price} credits; the balance is ${r.balance}.`, {
        extensions: { price, balance: r.balance },
      });
}

export function publicOrigin(c: Context<App>): string {
  return edgeConfig(c.env).PUBLIC_URL?.replace(/\/$/, "") ?? new URL(c.req.url).origin;
}
