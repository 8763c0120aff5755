import { Hono } from "hono";
import { ConfigError, type Env } from "./env.ts";
import { events } from "./http/events.ts";
import { playback } from "./http/playback.ts";
import { ApiError, problemResponse } from "./http/problem.ts";
import { videos } from "./http/videos.ts";

/** The edge API (DESIGN.md, Public API v1). */
export const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ ok: true }));
app.route("/v1/videos", videos);
app.route("/v1/videos", playback);
app.route("/internal", events);

app.notFound((c) => problemResponse(c, new ApiError(404, "not_found", "Not found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`)));

app.onError((err, c) => {
  if (err instanceof ApiError) return problemResponse(c, err);
  if (err instanceof ConfigError) {
    console.error(err.message);
    return problemResponse(c, new ApiError(503, "service_misconfigured", "Service unavailable", "The service is not configured; see its logs."));
  }
  console.error("unhandled error", err);
  return problemResponse(c, new ApiError(500, "internal_error", "Internal error", "Something went wrong on our side."));
});
