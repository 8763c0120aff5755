import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { isHitId, JOB_ID_PATTERN } from "../../../shared/ids.ts";
import { CreateVideoRequestSchema } from "../../../shared/schemas/request.ts";
import { edgeConfig, type Env } from "../env.ts";
import { admitCreate, publicOrigin } from "../jobs/admission.ts";
import { contiguousChunks, isTerminal, type JobRecord } from "../jobs/record.ts";
import { accountStub, findJob, jobStub } from "../jobs/store.ts";
import { issuePlaybackToken } from "../playback/token.ts";
import { requireAuth, type AuthVariables, type Principal } from "./auth.ts";
import { ApiError } from "./problem.ts";
import { invalidBody, invalidJson } from "./validation.ts";

/** `POST /v1/videos`, `GET /v1/videos`, `GET /v1/videos/:id`, cancel (docs/api.md): parse, admit or find, answer. */
type App = { Bindings: Env; Variables: AuthVariables };
export const videos = new Hono<App>();

export { jobStub };
export const origin = publicOrigin;

/**
 * A job the caller may see, or 404: another account's job, or another end user's job for an
 * app token, is indistinguishable from none. `who` null: a playback token already scoped to
 * `id` (`tokenAccount` names the account it was issued in).
 */
export async function loadJob(c: Context<App>, id: string, who: Principal | null, tokenAccount: string | null = null): Promise<JobRecord> {
  const job = await findJob(c.env, id, who?.accountId ?? tokenAccount);
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

async function readBody(c: Context<App>): Promise<{ text: string; json: unknown; error: ApiError | null }> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return {
      text: "",
      json: null,
      error: new ApiError(415, "unsupported_media_type", "Body must be JSON", "Send `Content-Type: application/json`."),
    };
  }
  // Its size is capped before this reads it (BODY_LIMITS in app.ts).
  const text = await c.req.text();
  try {
    return { text, json: JSON.parse(text), error: null };
  } catch {
    return { text, json: null, error: invalidJson() };
  }
}

export async function jobView(c: Context<App>, job: JobRecord) {
  const base = `${origin(c)}/v1/videos/${job.id}`;
  // The token names the account too, so a player can reach a job its account still holds.
  const token = await issuePlaybackToken(edgeConfig(c.env).REELMESH_PLAYBACK_SECRET, job.id, undefined, job.account_id);
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

videos.post("/", requireAuth("videos:create"), async (c) => {
  const body = await readBody(c);
  const parsed = body.error ? null : CreateVideoRequestSchema.safeParse(body.json);
  const error = body.error ?? (parsed && !parsed.success ? invalidBody(parsed.error) : null);
  const admitted = await admitCreate(c, parsed?.success ? parsed.data : null, body.text, error);
  for (const [k, v] of Object.entries(admitted.rate)) c.header(k, v);
  if (admitted.kind === "answer") {
    // A quote, or the kept answer to a request refused before admission, replayed.
    c.header("cache-control", "no-store");
    c.header("content-type", admitted.type);
    if (admitted.replayed) c.header("idempotent-replayed", "true");
    return c.body(admitted.body, admitted.status as ContentfulStatusCode);
  }
  c.header("location", `/v1/videos/${admitted.record.id}`);
  if (admitted.replayed) c.header("idempotent-replayed", "true");
  return c.json(await jobView(c, admitted.record), admitted.status);
});

/** `GET /v1/videos`: the caller's jobs, newest first (an app token sees its own subject's). */
const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  status: z.enum(["queued", "running", "succeeded", "failed", "canceled"]).optional(),
});

videos.get("/", requireAuth("videos:read"), async (c) => {
  const q = ListQuerySchema.safeParse(c.req.query());
  if (!q.success) throw invalidBody(q.error, "Invalid query");
  const who = c.get("principal");
  const before = q.data.cursor ? decodeCursor(q.data.cursor) : null;
  const status = q.data.status;
  // Queued and running are one state in the account's list (its job object knows which).
  const states = status === undefined ? null : status === "queued" || status === "running" ? (["active"] as const) : ([status] as const);
  const page = await accountStub(c.env, who.accountId).list({
    subject: who.subject,
    states: states ? [...states] : null,
    before,
    limit: q.data.limit,
  });
  const records = await Promise.all(page.items.map(async (it) => it.record ?? (await jobStub(c.env, it.id).get())));
  const shown = records.filter((r): r is JobRecord => r !== null && (status === undefined || r.status === status));
  const last = page.items.at(-1)?.id;
  c.header("cache-control", "no-store");
  return c.json({
    object: "list",
    data: await Promise.all(shown.map((r) => jobView(c, r))),
    has_more: page.more,
    next_cursor: page.more && last ? encodeCursor(last) : null,
  });
});

/** The cursor is the last id of a page, opaque to clients (they may not rely on its form). */
const encodeCursor = (id: string) => btoa(id).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
function decodeCursor(cursor: string): string {
  let id: string;
  try {
    id = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    id = "";
  }
  if (!JOB_ID_PATTERN.test(id))
    throw new ApiError(400, "invalid_cursor", "Invalid cursor", "Pass the next_cursor of a previous page unchanged.");
  return id;
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
