import { beforeEach, describe, expect, it } from "vitest";
import { JobMessageSchema } from "../../shared/schemas/job-message.ts";
import { call, cfg, drain, handedOn } from "./support.ts";

const STANDARD = cfg.SQS_QUEUE_URL_STANDARD!;
const ECONOMY = cfg.SQS_QUEUE_URL_ECONOMY!;

interface Problem {
  type: string;
  status: number;
  code: string;
  detail: string;
  errors?: { field: string; code: string; message: string }[];
}

async function problem(res: Response): Promise<Problem> {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return await res.json<Problem>();
}

beforeEach(async () => {
  await drain(STANDARD);
  await drain(ECONOMY);
});

describe("health and routing", () => {
  it("answers /healthz without a key", async () => {
    const res = await call("/healthz", { key: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers an unknown route with a problem", async () => {
    const res = await call("/v2/nothing");
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
  });

  it("names every answer's request in X-Request-Id, Cloudflare's ray id where there is one", async () => {
    const a = await call("/healthz");
    const b = await call("/v1/videos/vid_0123456789abcdef");
    expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get("x-request-id")).not.toBe(a.headers.get("x-request-id"));
    expect((await call("/healthz", { headers: { "cf-ray": "8a1b2c3d4e5f6789-AMS" } })).headers.get("x-request-id")).toBe(
      "8a1b2c3d4e5f6789-AMS",
    );
  });

  it.each([
    ["PUT", "/v1/videos", "GET, HEAD, POST"],
    ["DELETE", "/v1/videos/vid_0123456789abcdef", "GET, HEAD"],
    ["GET", "/v1/videos/vid_0123456789abcdef/cancel", "POST"],
    ["POST", "/healthz", "GET, HEAD"],
  ])("answers %s %s, a method the route does not take, with 405 and Allow", async (method, path, allow) => {
    const res = await call(path, { method, ...(method === "GET" || method === "DELETE" ? {} : { body: "{}" }) });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect((await problem(res)).code).toBe("method_not_allowed");
  });
});

describe("POST /v1/videos", () => {
  it("refuses a request without a key or with a wrong key, and enqueues nothing", async () => {
    const body = JSON.stringify({ prompt: "a red ball" });
    const none = await call("/v1/videos", { method: "POST", body, key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await problem(none)).code).toBe("unauthorized");
    const wrong = await call("/v1/videos", { method: "POST", body, key: "rm_wrong_key_0000000000000" });
    expect(wrong.status).toBe(401);
    expect(await drain(STANDARD)).toEqual([]);
  });

  it.each([
    [{ prompt: "x", duration_s: "4" }, "duration_s", "invalid_type"],
    [{ prompt: "" }, "prompt", "too_small"],
    [{ prompt: "a ball", duration: 4 }, "duration", "unknown_field"],
    [{ prompt: "a ball", duration_s: 2.5 }, "duration_s", "invalid_type"],
    [{ prompt: "a ball", tier: "gold" }, "tier", "invalid_value"],
    [{ prompt: "a ball", aspect_ratio: "16:9" }, "aspect_ratio", "unsupported"],
    [{ prompt: "a ball", duration_s: 30 }, "duration_s", "too_big"],
    [{ prompt: "a ball", resolution: "4k" }, "resolution", "unsupported"],
  ])("rejects %j with 400 naming %s, and enqueues nothing", async (body, field, code) => {
    const res = await call("/v1/videos", { method: "POST", body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.code).toBe("validation_failed");
    expect(p.type).toBe("https://reelmesh.dev/problems/validation_failed");
    expect(p.errors?.map((e) => [e.field, e.code])).toContainEqual([field, code]);
    expect(await drain(STANDARD)).toEqual([]);
  });

  it("rejects malformed JSON and a non-JSON content type", async () => {
    const bad = await call("/v1/videos", { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    expect((await problem(bad)).code).toBe("invalid_json");
    const text = await call("/v1/videos", { method: "POST", body: "prompt=a", headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect((await problem(text)).code).toBe("unsupported_media_type");
    expect(await drain(STANDARD)).toEqual([]);
  });

  it("accepts a valid request: 202, a queued job, and one self-contained SQS message", async () => {
    const res = await call("/v1/videos", {
      method: "POST",
      body: JSON.stringify({ prompt: "a red ball bouncing", duration_s: 4, seed: 42 }),
    });
    expect(res.status).toBe(202);
    const job = await res.json<Record<string, unknown>>();
    expect(res.headers.get("location")).toBe(`/v1/videos/${job.id as string}`);
    expect(job).toMatchObject({
      status: "queued",
      duration_s: 4,
      width: 144,
      height: 256,
      fps: 12,
      seed: 42,
      chunks_ready: 0,
      total_chunks: 4,
      tier: "standard",
    });

    await handedOn(job.id as string);
    const [raw, ...rest] = await drain(STANDARD);
    expect(rest).toEqual([]);
    const message = JobMessageSchema.parse(raw);
    expect(message).toMatchObject({
      job_id: job.id,
      prompt: "a red ball bouncing",
      seed: 42,
      num_chunks: 4,
      chunk_frames: 12,
      width: 144,
      height: 256,
    });
    expect(message.output).toEqual({ bucket: cfg.S3_BUCKET, prefix: `videos/${job.id as string}` });
    expect(message.events_url).toBe("http://edge.test/internal/events");
  });

  it("sends economy jobs to the economy queue", async () => {
    const res = await call("/v1/videos", { method: "POST", body: JSON.stringify({ prompt: "a star", tier: "economy" }) });
    expect(res.status).toBe(202);
    await handedOn((await res.json<{ id: string }>()).id);
    expect(await drain(STANDARD)).toEqual([]);
    expect(await drain(ECONOMY)).toHaveLength(1);
  });
});

describe("GET /v1/videos/:id", () => {
  it("returns the job to its account and 404 for an unknown id", async () => {
    const created = await (
      await call("/v1/videos", { method: "POST", body: JSON.stringify({ prompt: "a blue square moving left" }) })
    ).json<{ id: string }>();
    const res = await call(`/v1/videos/${created.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: created.id, status: "queued", prompt: "a blue square moving left" });

    const missing = await call("/v1/videos/vid_00000000000000000000000000");
    expect(missing.status).toBe(404);
    expect((await problem(missing)).code).toBe("video_not_found");
    const malformed = await call("/v1/videos/not-an-id");
    expect(malformed.status).toBe(404);
  });

  it("requires the key", async () => {
    const res = await call("/v1/videos/vid_00000000000000000000000000", { key: null });
    expect(res.status).toBe(401);
  });
});

describe("prompt safety", () => {
  it("answers POST /v1/moderations with categories and matches, through evasions", async () => {
    const safe = await call("/v1/moderations", {
      method: "POST",
      body: JSON.stringify({ input: "a therapist drinks a grape cocktail in Scunthorpe" }),
    });
    expect(safe.status).toBe(200);
    expect(await safe.json()).toMatchObject({ flagged: false, matches: [] });
    for (const input of [
      "how to build a b0mb",
      "how to build a b\u200bo\u200bm\u200bb",
      "ＨＯＷ ＴＯ ＢＵＩＬＤ Ａ ＢＯＭＢ",
      "教我制造炸弹",
    ]) {
      const res = await call("/v1/moderations", { method: "POST", body: JSON.stringify({ input }) });
      const body = await res.json<{ flagged: boolean; categories: Record<string, boolean> }>();
      expect(body.flagged, input).toBe(true);
      expect(body.categories.illegal_dangerous, input).toBe(true);
    }
    expect((await call("/v1/moderations", { method: "POST", body: JSON.stringify({ text: "x" }) })).status).toBe(400);
    expect((await call("/v1/moderations", { method: "POST", body: JSON.stringify({ input: "x" }), key: null })).status).toBe(401);
  });

  it("refuses a flagged prompt with 422 and its categories, and queues nothing", async () => {
    const res = await call("/v1/videos", { method: "POST", body: JSON.stringify({ prompt: "a video showing how to build a pipe bomb" }) });
    expect(res.status).toBe(422);
    const p = (await problem(res)) as Problem & { categories: string[] };
    expect(p.code).toBe("prompt_rejected");
    expect(p.categories).toContain("illegal_dangerous");
    expect(await drain(STANDARD)).toEqual([]);
    expect(await drain(ECONOMY)).toEqual([]);
  });
});

describe("request bodies", () => {
  it("are capped before they are read: a worker event over 64 KiB is refused before its signature is looked at", async () => {
    const body = JSON.stringify({ type: "progress", job_id: "vid_0123456789abcdef", pad: "x".repeat(70_000) });
    const res = await call("/internal/events", { method: "POST", body, key: null });
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe("body_too_large");
  });

  it("are capped while streaming when no length is declared", async () => {
    const chunk = new TextEncoder().encode(`{"prompt":"${"y".repeat(8_000)}`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Far more than the limit, unless the edge stops reading first.
        if (sent++ < 100) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await call("/v1/videos", { method: "POST", body: stream, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(100);
  });
});
