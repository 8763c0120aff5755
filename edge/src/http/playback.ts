import { Hono, type Context } from "hono";
import { edgeConfig, type Env } from "../env.ts";
import { getObject } from "../aws/s3.ts";
import { contiguousChunks, isTerminal } from "../jobs/record.ts";
import { MEDIA_PLAYLIST, measureVariant, renderMediaPlaylist, renderMultivariantPlaylist } from "../playback/playlist.ts";
import { videoFacts, type VideoFacts } from "../playback/init-segment.ts";
import { verifyPlaybackToken } from "../playback/token.ts";
import { bearerKey, principalFor, type AuthVariables, type Principal } from "./auth.ts";
import { ApiError } from "./problem.ts";
import { jobStub, loadJob, origin } from "./videos.ts";
import { queueHitServed, queueJobServed, queueServed } from "../billing/cost-batch.ts";
import { outputKeys } from "../../../shared/layout.ts";
import { isHitId } from "../../../shared/ids.ts";
import { finishedFeed } from "../jobs/feed.ts";
import type { JobRecord } from "../jobs/record.ts";

/**
 * Playback: the playlist and the files it names, proxied from S3 rather than redirected to
 * presigned URLs: the bucket stays private, a player talks to one origin (no CORS or
 * redirect quirks on phones), the edge checks that a segment is committed before serving
 * it, and immutable segments can be cached at the edge. Access: the API key, or the signed
 * playback token that the job view hands out (and the playlist carries on to each URI).
 */
type App = { Bindings: Env; Variables: AuthVariables };
export const playback = new Hono<App>();

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * Who may read this job's media: returns the query string to propagate, the caller (null for
 * a playback token) and the account a hit's token names, or throws 401/404.
 */
async function authorize(c: Context<App>, id: string): Promise<{ query: string; account: Principal | null; tokenAccount: string | null }> {
  const token = c.req.query("token");
  if (token !== undefined) {
    const valid = await verifyPlaybackToken(edgeConfig(c.env).REELMESH_PLAYBACK_SECRET, id, token);
    if (!valid) {
      throw new ApiError(
        401,
        "invalid_playback_token",
        "Playback token invalid or expired",
        "Fetch the video again for a fresh playback URL.",
      );
    }
    return { query: `?token=${token}`, account: null, tokenAccount: valid.account };
  }
  const account = await principalFor(c.env, bearerKey(c.req.header("authorization")));
  if (!account) {
    throw new ApiError(
      401,
      "unauthorized",
      "Missing or invalid credentials",
      "Send `Authorization: Bearer <key or app token>` or use the signed playback URL.",
      {
        headers: { "www-authenticate": 'Bearer realm="reelmesh"' },
      },
    );
  }
  if (!account.scopes.has("videos:read"))
    throw new ApiError(403, "insufficient_scope", "Missing scope", "This call needs the videos:read scope.");
  return { query: "", account, tokenAccount: null };
}

/**
 * Playlists are small text that compresses well, and Cloudflare does not compress
 * `application/vnd.apple.mpegurl` by default: gzip it here when the client accepts it. The
 * body is compressed in the Worker and sent as is (`encodeBody: "manual"`).
 */
function playlistResponse(c: Context<App>, text: string, cacheControl: string): Response {
  const headers = new Headers({ "content-type": "application/vnd.apple.mpegurl", "cache-control": cacheControl, vary: "Accept-Encoding" });
  if (!acceptsGzip(clientAcceptEncoding(c))) return new Response(text, { status: 200, headers });
  headers.set("content-encoding", "gzip");
  const body = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(body, { status: 200, headers, encodeBody: "manual" });
}

/**
 * The client's own Accept-Encoding. Cloudflare hands a Worker `Accept-Encoding: br, gzip`
 * whatever the client sent, keeps the client's in `cf.clientAcceptEncoding`, and passes a
 * playlist's Content-Encoding through as the Worker set it (it does not re-encode this type).
 */
function clientAcceptEncoding(c: Context<App>): string | undefined {
  const fromCf = (c.req.raw.cf as { clientAcceptEncoding?: unknown } | undefined)?.clientAcceptEncoding;
  return typeof fromCf === "string" ? fromCf : c.req.header("accept-encoding");
}

/** RFC 9110 12.5.3: gzip (or `*`) listed without `q=0`. */
export function acceptsGzip(header: string | undefined): boolean {
  const q = new Map<string, number>();
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [coding = "", ...params] = part.trim().split(";");
    const weight = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (coding) q.set(coding.trim(), weight === undefined ? 1 : Number(weight));
  }
  return (q.get("gzip") ?? q.get("*") ?? 0) > 0;
}

/** A growing playlist must be re-fetched; a finished one never changes again. */
const playlistCaching = (job: JobRecord) => (isTerminal(job.status) ? "private, max-age=3600" : "no-store");

/** Init segments are immutable: their facts are kept per isolate, by object key. */
const initFacts = new Map<string, VideoFacts>();
const INIT_FACTS_MAX = 1000;

async function readInitFacts(c: Context<App>, key: string): Promise<VideoFacts> {
  const known = initFacts.get(key);
  if (known) return known;
  const upstream = await getObject(edgeConfig(c.env), key, undefined);
  if (upstream.status !== 200) {
    throw new ApiError(502, "storage_unavailable", "Could not read the file", `storage answered ${upstream.status} for init.mp4`);
  }
  let facts: VideoFacts;
  try {
    facts = videoFacts(new Uint8Array(await upstream.arrayBuffer()));
  } catch (err) {
    // The worker stored something that is not an H.264 init segment: not the client's fault.
    throw new ApiError(502, "storage_unavailable", "Could not read the stream", `init.mp4: ${(err as Error).message}`);
  }
  if (initFacts.size >= INIT_FACTS_MAX) initFacts.delete(initFacts.keys().next().value!);
  initFacts.set(key, facts);
  return facts;
}

/**
 * The multivariant playlist: the URL the API hands out. Its variant's attributes are measured
 * on the stream (CODECS and RESOLUTION from init.mp4, the rates from the committed segments),
 * so it exists once the first segment does: before that there is nothing true to state, and
 * a player never re-reads a multivariant playlist, so a guess would stay. 503 + Retry-After
 * until then (the `chunk` event, `chunks_ready ≥ 1`, says when); 409 if the job ended without one.
 */
playback.get("/:id/stream.m3u8", async (c) => {
  const id = c.req.param("id");
  const { query, account, tokenAccount } = await authorize(c, id);
  const job = await loadJob(c, id, account, tokenAccount);
  if (!job.init || contiguousChunks(job).length === 0) {
    if (isTerminal(job.status)) {
      throw new ApiError(409, "stream_unavailable", "No stream", `Video ${id} ended (${job.status}) before any segment was made.`);
    }
    throw new ApiError(
      503,
      "stream_not_ready",
      "Stream not ready yet",
      `The stream of ${id} starts with its first segment (wait for the chunk event or chunks_ready ≥ 1).`,
      { headers: { "retry-after": "1" } },
    );
  }
  const facts = measureVariant(job, await readInitFacts(c, job.init.key));
  return playlistResponse(c, renderMultivariantPlaylist(facts, query), playlistCaching(job));
});

/** The media playlist the multivariant playlist names. */
playback.get(`/:id/${MEDIA_PLAYLIST}`, async (c) => {
  const id = c.req.param("id");
  const { query, account, tokenAccount } = await authorize(c, id);
  const job = await loadJob(c, id, account, tokenAccount);
  return playlistResponse(c, renderMediaPlaylist(job, query), playlistCaching(job));
});

/** Bytes served, per day for the cost report and per job for its view (after the response; never delays it). */
function countServed(c: Context<App>, job: JobRecord, bytes: number): void {
  if (bytes <= 0) return;
  queueServed(c.env, c.executionCtx, new Date().toISOString().slice(0, 10), bytes);
  if (isHitId(job.id)) queueHitServed(c.env, c.executionCtx, job.account_id, job.id, bytes);
  else queueJobServed(c.env, c.executionCtx, job.id, bytes);
}

/**
 * Server-sent events for one job (queued, started, progress, chunk, completed, failed,
 * canceled), served by its Durable Object; reconnecting with `Last-Event-ID` resumes after
 * the last event seen. Same access as the playlist (key or playback token).
 */
playback.get("/:id/events", async (c) => {
  const id = c.req.param("id");
  const { query, account, tokenAccount } = await authorize(c, id);
  const job = await loadJob(c, id, account, tokenAccount);
  const lastEventId = c.req.header("last-event-id") ?? c.req.query("last_event_id");
  // A hit kept in the ledger has one event, its completion, and no object to stream from.
  if (isHitId(id)) return finishedFeed(job, `${origin(c)}/v1/videos/${id}`, query, Number(lastEventId ?? 0) || 0);
  const target = new URL("https://job/events");
  target.searchParams.set("base", `${origin(c)}/v1/videos/${id}`);
  target.searchParams.set("query", query);
  if (lastEventId) target.searchParams.set("last_event_id", lastEventId);
  return jobStub(c.env, id).fetch(target.toString());
});

/** The job's files: init, committed segments, the final MP4 once done, the poster once the first chunk is. */
playback.get("/:id/:file{(init\\.mp4|seg-\\d{5}\\.m4s|content|poster\\.jpg)}", async (c) => {
  const id = c.req.param("id");
  const file = c.req.param("file");
  const { account, tokenAccount } = await authorize(c, id);
  const job = await loadJob(c, id, account, tokenAccount);
  let key: string | undefined;
  let type = "video/iso.segment";
  if (file === "init.mp4") {
    key = job.init?.key;
    type = "video/mp4";
  } else if (file === "content") {
    key = job.content?.key;
    type = "video/mp4";
    if (!key) {
      throw new ApiError(
        409,
        "video_not_ready",
        "Video not finished",
        `The MP4 of ${id} exists once the video has succeeded (status: ${job.status}).`,
        {
          headers: isTerminal(job.status) ? {} : { "retry-after": "2" },
        },
      );
    }
  } else if (file === "poster.jpg") {
    // Under the outputs' prefix: a joined job's or a hit's poster is its leader's.
    key = contiguousChunks(job).length > 0 ? outputKeys.poster(job.output_prefix) : undefined;
    type = "image/jpeg";
  } else {
    const index = Number(file.slice(4, 9));
    key = contiguousChunks(job).find((ch) => ch.index === index)?.key;
  }
  if (!key)
    throw new ApiError(404, "segment_not_ready", "Not available yet", `${file} is not (yet) part of video ${id}.`, {
      headers: { "retry-after": "1" },
    });
  const range = c.req.header("range");
  // Every object here is immutable once listed, so whole-object reads are kept in the edge
  // cache, keyed by the object (not by the caller's token): the first viewer in a location
  // pays the trip to S3, later ones do not. Access was checked above, before the cache.
  const cacheKey = new Request(`https://objects.reelmesh.internal/${key}`);
  if (!range) {
    const hit = await caches.default.match(cacheKey);
    if (hit) {
      const headers = new Headers(hit.headers);
      headers.set("x-cache", "HIT");
      countServed(c, job, Number(headers.get("content-length") ?? 0));
      return new Response(hit.body, { status: 200, headers });
    }
  }
  const upstream = await getObject(edgeConfig(c.env), key, range);
  if (file === "poster.jpg" && upstream.status === 404) {
    // Written beside the first segment; it may land a moment after it.
    throw new ApiError(404, "segment_not_ready", "Not available yet", `The poster of ${id} is not stored yet.`, {
      headers: { "retry-after": "1" },
    });
  }
  if (upstream.status === 416) {
    throw new ApiError(416, "range_not_satisfiable", "Range not satisfiable", `The requested range lies outside ${file}.`, {
      headers: { "content-range": `bytes */${upstream.headers.get("content-range")?.split("/")[1] ?? "*"}` },
    });
  }
  if (upstream.status !== 200 && upstream.status !== 206) {
    // Listed as committed but not readable: a storage fault, not the client's.
    throw new ApiError(502, "storage_unavailable", "Could not read the file", `storage answered ${upstream.status} for ${file}`);
  }
  const headers = new Headers({ "content-type": type, "cache-control": IMMUTABLE, "accept-ranges": "bytes" });
  if (file === "content") headers.set("content-disposition", `inline; filename="${id}.mp4"`);
  for (const h of ["content-length", "content-range", "etag", "last-modified"]) {
    const v = upstream.headers.get(h);
    if (v) headers.set(h, v);
  }
  countServed(c, job, Number(headers.get("content-length") ?? 0));
  if (range || upstream.status !== 200) return new Response(upstream.body, { status: upstream.status, headers });
  const [forCache, forClient] = upstream.body!.tee();
  c.executionCtx.waitUntil(caches.default.put(cacheKey, new Response(forCache, { status: 200, headers })).catch(() => {}));
  headers.set("x-cache", "MISS");
  return new Response(forClient, { status: 200, headers });
});
