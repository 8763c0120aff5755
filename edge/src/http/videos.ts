import { Hono, type Context } from "hono";
import { hitIdFor, isHitId, newJobId, JOB_ID_PATTERN } from "../../../shared/ids.ts";
import { outputPrefix } from "../../../shared/layout.ts";
import { MODELS, frameSize, type ModelSpec } from "../../../shared/models.ts";
import type { JobMessage } from "../../../shared/schemas/job-message.ts";
import { CreateVideoRequestSchema, MAX_SEED, type CreateVideoRequest } from "../../../shared/schemas/request.ts";
import { enqueueJob, queueDepth } from "../aws/sqs.ts";
import { edgeConfig, type Env } from "../env.ts";
import { contiguousChunks, isTerminal, type JobRecord } from "../jobs/record.ts";
import { issuePlaybackToken } from "../playback/token.ts";
import { requireAuth, type AuthVariables, type Principal } from "./auth.ts";
import { ApiError, type FieldError } from "./problem.ts";
import { invalidBody, invalidJson } from "./validation.ts";
import { checkWebhookUrl } from "../webhooks/url.ts";
import { moderate } from "../safety/moderate.ts";
import { contentAddress, normalizePromptForCache, recallHit, rememberHit } from "../cache/content-object.ts";
import { idempotentForAccount } from "./idempotent.ts";
import { accountLimits, applyRateLimit, createPolicy, limiter } from "./limits.ts";
import { rateLimitHeaders } from "../limits/headers.ts";
import type { AdmitRequest, LedgerObject, Reservation } from "../billing/ledger.ts";
import { costEntry } from "../jobs/charge.ts";
import { queueJobCost } from "../billing/cost-batch.ts";
import type { JobObject } from "../jobs/job-object.ts";
import { quote, type PriceKind } from "../../../shared/pricing.ts";
import { DEV_ACCOUNT } from "./auth.ts";
import { promptRejected } from "./moderations.ts";

/** `POST /v1/videos`, `GET /v1/videos/:id` (docs/api.md). */
type App = { Bindings: Env; Variables: AuthVariables };
export const videos = new Hono<App>();

/** Largest request body accepted; a prompt is at most 2000 characters. */

export function origin(c: Context<App>): string {
  return edgeConfig(c.env).PUBLIC_URL?.replace(/\/$/, "") ?? new URL(c.req.url).origin;
}

export function jobStub(env: Env, id: string) {
  return env.JOBS.get(env.JOBS.idFromName(id));
}

/**
 * A job the caller may see, or 404: another account's job, or another end user's job for an
 * app token, is indistinguishable from none. `who` null: a playback token already scoped to
 * `id` (for a hit kept in a ledger, `tokenAccount` names the account it named).
 */
export async function loadJob(c: Context<App>, id: string, who: Principal | null, tokenAccount: string | null = null): Promise<JobRecord> {
  let job: JobRecord | null = null;
  if (JOB_ID_PATTERN.test(id)) {
    if (!isHitId(id)) job = await jobStub(c.env, id).get();
    else {
      const account = who?.accountId ?? tokenAccount;
      if (account) job = await c.env.LEDGER.get(c.env.LEDGER.idFromName(account)).hit(id);
    }
  }
  const hidden = who !== null && (job?.account_id !== who.accountId || (who.subject !== null && job?.subject !== who.subject));
  if (!job || hidden) {
    throw new ApiError(404, "video_not_found", "Video not found", `No video ${id} in this account.`);
  }
  if (job.expired) {
    throw new ApiError(410, "video_expired", "Video expired", `The outputs of ${id} were deleted at ${job.expires_at} (retention).`, {
      extensions: { expired_at: job.expires_at },
    });
  }
  return job;
}

async function readBody(c: Context<App>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "Body must be JSON", "Send `Content-Type: application/json`.");
  }
  // Its size is capped before this reads it (BODY_LIMITS in app.ts).
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson();
  }
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

export async function jobView(c: Context<App>, job: JobRecord) {
  const base = `${origin(c)}/v1/videos/${job.id}`;
  const token = await issuePlaybackToken(
    edgeConfig(c.env).REELMESH_PLAYBACK_SECRET,
    job.id,
    undefined,
    isHitId(job.id) ? job.account_id : null,
  );
  const ready = contiguousChunks(job).length;
  return {
    id: job.id,
    object: "video",
    status: job.status,
    created_at: job.created_at,
    started_at: job.started_at,
    completed_at: job.completed_at,
    model: job.model,
    prompt: job.prompt,
    negative_prompt: job.negative_prompt,
    duration_s: job.duration_s,
    aspect_ratio: job.aspect_ratio,
    resolution: job.resolution,
    width: job.width,
    height: job.height,
    fps: job.fps,
    seed: job.seed,
    steps: job.steps,
    guidance: job.guidance,
    scheduler: job.scheduler,
    tier: job.tier,
    cache: job.cache,
    price: job.price,
    charged: job.charged,
    bytes_served: job.bytes_served,
    cancel_requested: job.cancel_requested && !isTerminal(job.status),
    chunks_ready: ready,
    total_chunks: job.total_chunks,
    seconds_ready: Math.round(job.chunks.slice(0, ready).reduce((s, ch) => s + ch.duration_s, 0) * 1000) / 1000,
    progress: job.progress,
    playback: {
      hls_url: `${base}/stream.m3u8`,
      /** For a phone: needs no API key; expires (see token.ts). */
      signed_hls_url: `${base}/stream.m3u8?token=${token}`,
      events_url: `${base}/events`,
      poster_url: ready > 0 ? `${base}/poster.jpg?token=${token}` : null,
      content_url: job.content ? `${base}/content?token=${token}` : null,
    },
    queue_position: job.status === "queued" ? job.queue_position : null,
    expires_at: job.expires_at,
    usage: job.usage,
    error: job.error,
    metadata: job.metadata,
  };
}

videos.post("/", requireAuth("videos:create"), idempotentForAccount, async (c) => {
  const cfg = edgeConfig(c.env);
  const principal = c.get("principal");
  const accountId = c.get("accountId");
  const ledger = c.env.LEDGER.get(c.env.LEDGER.idFromName(accountId));
  const rate = createPolicy(c.env, principal);
  const grant =
    accountId === DEV_ACCOUNT && cfg.REELMESH_DEV_CREDITS > 0 ? { ref: "dev-grant", amount: cfg.REELMESH_DEV_CREDITS } : undefined;
  let admitted = false;
  /** The rate check's headers, for every answer after it (errors too: a client sees its quota). */
  let rateHeaders: Record<string, string> = {};
  /**
   * The account's admission, one ledger transaction: a rate token (every create takes one),
   * then the charge, if given (money fails closed: no reservation, no job).
   */
  const admit = async (charge?: AdmitRequest["charge"], hit?: JobRecord) => {
    admitted = true;
    const a = await ledger.admit({ rate, grant, charge, hit });
    rateHeaders = rateLimitHeaders(a.rate);
    applyRateLimit(c, a.rate);
    return a.reservation;
  };
  try {
    return await createVideo(c, { cfg, principal, ledger, admit });
  } catch (err) {
    // A refused create counts against the rate limit too (no free probing); over it, the 429 wins.
    if (!admitted && err instanceof ApiError) await admit();
    if (err instanceof ApiError) for (const [k, v] of Object.entries(rateHeaders)) if (!(k in err.headers)) err.headers[k] = v;
    throw err;
  }
});

async function createVideo(
  c: Context<App>,
  ctx: {
    cfg: ReturnType<typeof edgeConfig>;
    principal: Principal;
    ledger: DurableObjectStub<LedgerObject>;
    admit: (charge?: AdmitRequest["charge"], hit?: JobRecord) => Promise<Reservation | null>;
  },
): Promise<Response> {
  const { cfg, principal, ledger, admit } = ctx;
  const parsed = CreateVideoRequestSchema.safeParse(await readBody(c));
  if (!parsed.success) throw invalidBody(parsed.error);
  const req = parsed.data;
  // Prompt safety before anything is stored, queued or charged; fails closed (a flagged
  // prompt is refused, and a check that throws is a 500, never a pass).
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
  const { width, height } = frameSize(shortSide, req.aspect_ratio);
  const pricing = { duration_s: req.duration_s, steps: req.steps ?? spec.defaultSteps, short_side: shortSide, tier: req.tier };
  if (req.dry_run) {
    // A quote: the price of a generation (a cache hit or a join would cost less).
    await admit();
    c.header("cache-control", "no-store");
    return c.json({ object: "quote", dry_run: true, price: quote(pricing) }, 200);
  }
  const totalChunks = Math.ceil((req.duration_s * spec.fps) / spec.chunkFrames);
  const id = newJobId();
  const now = new Date().toISOString();
  const seed = req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! % (MAX_SEED + 1);
  const record: JobRecord = {
    id,
    account_id: c.get("accountId"),
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
    base_url: origin(c),
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
  const stub = jobStub(c.env, id);
  const meta = {
    tier: req.tier,
    subject: principal.subject,
    token: principal.kind === "token" ? principal.tokenId : null,
    tokenCap: principal.tokenCap,
  };
  const content = (address: string) => c.env.CONTENT.get(c.env.CONTENT.idFromName(address));
  /**
   * Admits the create and reserves the price of this answer (`settle`: charges it whole, for
   * a hit; `hit`: and keeps the hit's record in the ledger, in the same transaction). Refused
   * → 429 or 402, after letting go of a content claim this request holds.
   */
  const charge = async (kind: PriceKind, settle = false, hit?: JobRecord) => {
    const q = quote(pricing, kind);
    record.price = { credits: q.credits, kind };
    let r: Reservation | null;
    try {
      r = await admit({ ref: record.id, price: q.credits, meta, settle }, hit);
    } catch (err) {
      if (record.cache === "miss") await content(record.content_address!).settle(id, false, null);
      throw err;
    }
    if (r!.ok) return;
    if (record.cache === "miss") await content(record.content_address!).settle(id, false, null);
    throw paymentRefused(r!, q.credits);
  };

  /** Stores the job; if that fails after credits were reserved, they go back (and the slot). */
  const store = async () => {
    try {
      await stub.create(record);
    } catch (err) {
      await Promise.all([ledger.refund(id), limiter(c.env, record.account_id).releaseSlot(id)]).catch(() => {});
      throw err;
    }
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
    const claim = recallHit(record.content_address) ?? (await content(record.content_address).claim(id, req.tier));
    if (claim.role !== "leader") {
      const leader = jobStub(c.env, claim.leader);
      record.follows = claim.leader;
      record.output_prefix = outputPrefix(claim.leader);
      record.queue_position = null;
      if (claim.role === "hit") {
        rememberHit(record.content_address, claim);
        const done = claim.result
          ? { ...claim.result, expires_at: claim.expires_at }
          : await leader.get().then((j) => (j?.status === "succeeded" && !j.expired ? j : null));
        if (done) {
          Object.assign(record, {
            status: "succeeded",
            cache: "hit",
            started_at: now,
            completed_at: now,
            codecs: done.codecs,
            init: done.init,
            chunks: done.chunks,
            content: done.content,
            usage: done.usage as JobRecord["usage"],
            expires_at: done.expires_at,
            price: { credits: quote(pricing, "hit").credits, kind: "hit" },
          } satisfies Partial<JobRecord>);
          if (record.webhook_url) {
            await answerHit({ record, stub, ledger, charge: () => charge("hit", true) });
          } else {
            // Kept in the account's ledger, admitted, charged and stored in one transaction.
            record.id = hitIdFor(id);
            record.charged = record.price.credits;
            await charge("hit", true, record);
          }
          queueJobCost(c.env, c.executionCtx, costEntry(record));
          c.header("location", `/v1/videos/${record.id}`);
          return c.json(await jobView(c, record), 200);
        }
      } else {
        record.cache = "joined";
        await charge("joined");
        await store();
        await stub.syncFrom(await leader.addFollower(id));
        c.header("location", `/v1/videos/${id}`);
        return c.json(await jobView(c, (await stub.get()) ?? record), 202);
      }
      // The hit's leader vanished between the claim and now: run it ourselves (a new claim).
      record.follows = null;
      record.output_prefix = outputPrefix(id);
      if ((await content(record.content_address).claim(id, req.tier)).role !== "leader") record.content_address = null;
    }
    record.cache = record.content_address ? "miss" : "none";
  }
  await charge("generation");
  // A job that will use a GPU takes one of the account's running-job slots (freed when it ends).
  const slot = await limiter(c.env, record.account_id).acquireSlot(id, accountLimits(c.env, principal).max_running_jobs);
  if (!slot.allowed) {
    await ledger.refund(id);
    if (record.cache === "miss") await content(record.content_address!).settle(id, false, null);
    throw new ApiError(
      429,
      "concurrency_limit",
      "Too many running jobs",
      `At most ${slot.max} jobs may run at once; ${slot.running} are running.`,
      {
        headers: { "retry-after": "5" },
      },
    );
  }
  // Where it will stand in its tier's queue: SQS's count of waiting messages (approximate, as
  // a standard queue's order is). A failure to read it loses nothing but the estimate.
  record.queue_position = await queueDepth(cfg, req.tier).catch(() => null);
  await store();

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
    events_url: `${origin(c)}/internal/events`,
    enqueued_at: now,
  };
  try {
    await enqueueJob(cfg, message);
  } catch (err) {
    // Nothing will run it: record that, and tell the caller to retry (nothing was charged).
    await stub.fail("enqueue_failed", (err as Error).message);
    throw new ApiError(503, "queue_unavailable", "Could not queue the job", "The job queue is unavailable; retry shortly.", {
      headers: { "retry-after": "5" },
    });
  }
  c.header("location", `/v1/videos/${id}`);
  return c.json(await jobView(c, record), 202);
}

function paymentRefused(r: Reservation, price: number): ApiError {
  return r.reason === "token_cap"
    ? new ApiError(
        402,
        "token_credit_cap",
        "Over this token's credit cap",
        `This call costs ${price} credits, more than is left of the app token's cap.`,
        { extensions: { price } },
      )
    : new ApiError(402, "insufficient_credits", "Not enough credits", `This call costs ${price} credits; the balance is ${r.balance}.`, {
        extensions: { price, balance: r.balance },
      });
}

/**
 * A cache hit with a webhook: it needs a job object of its own (the webhook's outbox and
 * retries), stored after the ledger has admitted and charged it (so a refused hit never
 * leaves a job behind); charged but not stored → the charge is taken back.
 */
async function answerHit(h: {
  record: JobRecord;
  stub: DurableObjectStub<JobObject>;
  ledger: DurableObjectStub<LedgerObject>;
  charge: () => Promise<void>;
}): Promise<void> {
  const { record, stub, ledger } = h;
  await h.charge();
  const failed = await stub.create(record).then(
    () => null,
    (err: unknown) => err as Error,
  );
  if (failed) {
    await ledger.undo(record.id);
    throw failed;
  }
  record.charged = record.price.credits;
}

videos.post("/:id/cancel", requireAuth("videos:create"), async (c) => {
  const job = await loadJob(c, c.req.param("id"), c.get("principal"));
  // A hit kept in a ledger was born finished: there is nothing to cancel.
  const after = isHitId(job.id) ? job : ((await jobStub(c.env, job.id).cancel()) ?? job);
  c.header("cache-control", "no-store");
  return c.json(await jobView(c, after));
});

videos.get("/:id", requireAuth("videos:read"), async (c) => {
  const job = await loadJob(c, c.req.param("id"), c.get("principal"));
  c.header("cache-control", "no-store");
  return c.json(await jobView(c, job));
});
