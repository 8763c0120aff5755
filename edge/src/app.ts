import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { ConfigError, type Env } from "./env.ts";
import { events } from "./http/events.ts";
import { playback } from "./http/playback.ts";
import { ApiError, problemResponse } from "./http/problem.ts";
import { videos } from "./http/videos.ts";
import { webhookSecret } from "./http/webhooks.ts";
import { moderations } from "./http/moderations.ts";
import { tokens } from "./http/tokens.ts";
import { usage } from "./http/usage.ts";
import { admin } from "./http/admin.ts";
import { openapi } from "./http/openapi/index.ts";
import { allowedMethods } from "./http/method-not-allowed.ts";
import { playground } from "./playground/routes.ts";

/** The edge API, v1 (docs/api.md). */
export const app = new Hono<{ Bindings: Env }>();

/**
 * Every answer names its request: Cloudflare's ray id where there is one, else a fresh id, in
 * `X-Request-Id` (exposed to browsers), so a client's error report can be found in the logs.
 */
app.use("*", async (c, next) => {
  const id = c.req.header("cf-ray") ?? crypto.randomUUID();
  await next();
  c.header("x-request-id", id);
});

app.get("/healthz", (c) => c.json({ ok: true }));
/**
 * CORS for browser clients (web players with hls.js, web apps): any origin, since access is by
 * bearer key or a playback token in the URL, never by cookies; the headers a player and a
 * client need are allowed in and exposed out.
 */
app.use(
  "/v1/*",
  cors({
    origin: "*",
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: ["authorization", "content-type", "range", "last-event-id", "idempotency-key"],
    exposeHeaders: [
      "content-length",
      "content-range",
      "accept-ranges",
      "location",
      "retry-after",
      "etag",
      "idempotent-replayed",
      "x-request-id",
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
      "ratelimit-policy",
    ],
    maxAge: 86400,
  }),
);
/**
 * Request bodies are capped before anything reads them: on `Content-Length` when it is given,
 * while streaming otherwise (hono/body-limit), so an oversized body is refused without being
 * read whole, and a worker event before its signature is checked. One limit per route family.
 */
const BODY_LIMITS = { "/internal/*": 64 * 1024, "/v1/*": 16 * 1024, "/admin/*": 16 * 1024 } as const;
for (const [path, maxSize] of Object.entries(BODY_LIMITS)) {
  app.use(
    path,
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, "body_too_large", "Request body too large", `At most ${maxSize} bytes.`);
      },
    }),
  );
}
app.route("/v1/videos", videos);
app.route("/v1/videos", playback);
app.route("/internal", events);
app.route("/v1", webhookSecret);
app.route("/v1", moderations);
app.route("/v1", tokens);
app.route("/v1", usage);
app.route("/admin", admin);
app.route("/", openapi);
app.route("/", playground);

const methodsFor = allowedMethods(app);
app.notFound((c) => {
  const path = new URL(c.req.url).pathname;
  const allow = methodsFor(path);
  if (allow.length > 0) {
    return problemResponse(
      c,
      new ApiError(405, "method_not_allowed", "Method not allowed", `${path} takes ${allow.join(", ")}, not ${c.req.method}.`, {
        headers: { allow: allow.join(", ") },
      }),
    );
  }
  return problemResponse(c, new ApiError(404, "not_found", "Not found", `No route for ${c.req.method} ${path}.`));
});

app.onError((err, c) => {
  if (err instanceof ApiError) return problemResponse(c, err);
  if (err instanceof ConfigError) {
    console.error(err.message);
    return problemResponse(
      c,
      new ApiError(503, "service_misconfigured", "Service unavailable", "The service is not configured; see its logs."),
    );
  }
  console.error("unhandled error", err);
  return problemResponse(c, new ApiError(500, "internal_error", "Internal error", "Something went wrong on our side."));
});
