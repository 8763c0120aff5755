import { Hono } from "hono";
import { WorkerEventSchema } from "../../../shared/schemas/events.ts";
import { JOB_ID_PATTERN } from "../../../shared/ids.ts";
import { SIGNATURE_HEADER, verifyBody } from "../../../shared/signing.ts";
import { edgeConfig, type Env } from "../env.ts";
import { ApiError } from "./problem.ts";
import { invalidBody, invalidJson } from "./validation.ts";
import { jobStub } from "./videos.ts";

/**
 * `POST /internal/events`: signed calls from GPU functions (shared/signing.ts). The
 * signature is checked over the raw body before anything is parsed; events are applied
 * idempotently by the job's Durable Object. The answer tells the worker whether to stop and why
 * (`canceled`, `ended`, `not_owner` with `retry_after_s`) and how long its lease lasts (`lease_s`);
 * 404 means the job is unknown (the worker drops it), 409 `chunks_missing` that a `completed`
 * came before S3 held every chunk.
 */
export const events = new Hono<{ Bindings: Env }>();

events.post("/events", async (c) => {
  const secret = edgeConfig(c.env).REELMESH_EVENTS_SECRET;
  // Its size is capped before this reads it (BODY_LIMITS in app.ts).
  const body = await c.req.text();
  const verdict = await verifyBody(secret, body, c.req.header(SIGNATURE_HEADER));
  if (!verdict.ok) throw new ApiError(401, "invalid_signature", "Event signature rejected", `signature ${verdict.reason}`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw invalidJson();
  }
  const parsed = WorkerEventSchema.safeParse(json);
  if (!parsed.success) throw invalidBody(parsed.error, "Invalid event");
  const event = parsed.data;
  if (!JOB_ID_PATTERN.test(event.job_id)) throw new ApiError(404, "video_not_found", "Video not found", `No video ${event.job_id}.`);
  const result = await jobStub(c.env, event.job_id).apply(event);
  if (!result.found) throw new ApiError(404, "video_not_found", "Video not found", `No video ${event.job_id}.`);
  if (result.missing) {
    // Never `succeeded` with a hole in the playlist: the worker retries once its chunks are in S3.
    throw new ApiError(
      409,
      "chunks_missing",
      "Chunks missing",
      `Chunks ${result.missing.join(", ")} are neither reported nor in the manifest.`,
    );
  }
  const { found: _found, ...answer } = result;
  return c.json(answer);
});
