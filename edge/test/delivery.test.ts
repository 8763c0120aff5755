import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../src/webhooks/sign.ts";
import { MAX_STREAMS_PER_JOB } from "../src/jobs/feed.ts";
import { call, cfg, createJob, postEvent, putObject, chunkEvent } from "./support.ts";

/**
 * Delivery inside workerd: the server-sent event feed and its resume, the final MP4 and the
 * poster, webhooks (signed, retried after a failing receiver: a real HTTP server in Node,
 * see emulator.setup.ts) and retention (REELMESH_RETENTION_S is 2 s in the test config).
 */
const usage = { gpu_s: 1.5, encode_s: 0.4, bytes_stored: 1000 };
const RECEIVER = cfg.TEST_WEBHOOK_RECEIVER!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const completed = (id: string) => ({
  type: "completed",
  job_id: id,
  usage,
  total_chunks: 2,
  content: { key: `videos/${id}/video.mp4`, bytes: 6 },
});

interface Sse {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads SSE frames from a response until `until` says stop or the stream ends. */
async function readEvents(res: Response, until: (events: Sse[]) => boolean = () => false): Promise<{ events: Sse[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Sse[] = [];
  let buffer = "";
  for (;;) {
    if (until(events)) {
      await reader.cancel();
      return { events, ended: false };
    }
    const { value, done } = await reader.read();
    if (done) return { events, ended: true };
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const field = (name: string) =>
        frame
          .split("\n")
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      if (field("event"))
        events.push({ id: Number(field("id")), event: field("event")!, data: JSON.parse(field("data")!) as Record<string, unknown> });
    }
  }
}

describe("server-sent events", () => {
  it("streams the job's life and resumes after Last-Event-ID without repeating or losing events", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const first = await call(`/v1/videos/${id}/events`);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reading = readEvents(first, (ev) => ev.some((e) => e.event === "chunk"));
    await postEvent({ type: "started", job_id: id });
    await postEvent({ type: "progress", job_id: id, chunk: 0, step: 6, steps: 12 });
    await postEvent(chunkEvent(id, 0));
    const { events } = await reading;
    expect(events.map((e) => e.event)).toEqual(["queued", "started", "progress", "chunk"]);
    expect(typeof events[0]!.data.position).toBe("number");
    expect(events[2]!.data).toMatchObject({ chunk: 0, step: 6, steps: 12, fraction: 0.25 });
    expect(events[3]!.data).toMatchObject({ index: 0, duration_s: 1, url: `http://edge.test/v1/videos/${id}/seg-00000.m4s` });
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    // Disconnected; meanwhile the job goes on.
    await postEvent(chunkEvent(id, 1));
    await postEvent(completed(id));
    const resumed = await call(`/v1/videos/${id}/events`, { headers: { "last-event-id": String(ids.at(-1)) } });
    const rest = await readEvents(resumed);
    expect(rest.ended).toBe(true);
    expect(rest.events.map((e) => e.event)).toEqual(["chunk", "completed"]);
    expect(rest.events[0]!.data).toMatchObject({ index: 1 });
    expect(rest.events[1]!.data).toMatchObject({ usage, content_url: `http://edge.test/v1/videos/${id}/content` });
    expect(rest.events[0]!.id).toBeGreaterThan(ids.at(-1)!);
    // Reconnecting after the end gets 204, the one answer that stops a browser's EventSource.
    const after = await call(`/v1/videos/${id}/events`, { headers: { "last-event-id": String(rest.events.at(-1)!.id) } });
    expect(after.status).toBe(204);
  });

  it("works with the signed playback URL's token, and its links carry it", async () => {
    const { id, signed_hls_url } = await createJob({ prompt: "a ball", duration_s: 2 });
    const token = new URL(signed_hls_url).searchParams.get("token")!;
    await postEvent(chunkEvent(id, 0));
    const res = await call(`/v1/videos/${id}/events?token=${token}`, { key: null });
    const { events } = await readEvents(res, (ev) => ev.some((e) => e.event === "chunk"));
    expect(events.find((e) => e.event === "chunk")!.data.url).toBe(`http://edge.test/v1/videos/${id}/seg-00000.m4s?token=${token}`);
    expect((await call(`/v1/videos/${id}/events?token=${token.slice(0, -2)}xx`, { key: null })).status).toBe(401);
  });
});

describe("final MP4 and poster", () => {
  it("serves each once it exists, with ranges and immutable caching, and says when it does not yet", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    expect((await call(`/v1/videos/${id}/poster.jpg`)).status).toBe(404);
    const early = await call(`/v1/videos/${id}/content`);
    expect(early.status).toBe(409);
    expect(early.headers.get("retry-after")).toBe("2");
    expect((await early.json<{ code: string }>()).code).toBe("video_not_ready");

    await putObject(`videos/${id}/poster.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    await postEvent(chunkEvent(id, 0));
    const poster = await call(`/v1/videos/${id}/poster.jpg`);
    expect(poster.status).toBe(200);
    expect(poster.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await poster.arrayBuffer())).toEqual(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    // Immutable, so the second read comes from the edge cache, with the same bytes.
    let again = await call(`/v1/videos/${id}/poster.jpg`);
    for (let i = 0; i < 20 && again.headers.get("x-cache") !== "HIT"; i++) {
      await again.arrayBuffer();
      await sleep(50);
      again = await call(`/v1/videos/${id}/poster.jpg`);
    }
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));

    await putObject(`videos/${id}/video.mp4`, new Uint8Array([1, 2, 3, 4, 5, 6]));
    await postEvent(chunkEvent(id, 1));
    await postEvent(completed(id));
    const view = await (await call(`/v1/videos/${id}`)).json<{ playback: { content_url: string; poster_url: string } }>();
    expect(view.playback.content_url).toMatch(new RegExp(`/v1/videos/${id}/content\\?token=`));
    const part = await call(`/v1/videos/${id}/content`, { headers: { range: "bytes=2-3" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-type")).toBe("video/mp4");
    expect(part.headers.get("cache-control")).toContain("immutable");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(new Uint8Array([3, 4]));
    // A range past the end is the client's mistake: 416, not a storage failure.
    const past = await call(`/v1/videos/${id}/content`, { headers: { range: "bytes=100-200" } });
    expect(past.status).toBe(416);
    expect((await past.json<{ code: string }>()).code).toBe("range_not_satisfiable");
  });
});

describe("webhooks", () => {
  it("refuses a webhook URL that is not http(s) and one with credentials", async () => {
    for (const webhook_url of ["ftp://example.com/hook", "https://user:pw@example.com/hook"]) {
      const res = await call("/v1/videos", { method: "POST", body: JSON.stringify({ prompt: "a ball", webhook_url }) });
      expect(res.status).toBe(400);
      expect((await res.json<{ errors: { field: string }[] }>()).errors.map((e) => e.field)).toContain("webhook_url");
    }
  });

  it("signs deliveries per Standard Webhooks and retries after a failing receiver", async () => {
    const name = `hook-${crypto.randomUUID()}`;
    await fetch(`${RECEIVER}/fail/${name}?n=1`, { method: "POST" });
    const { id } = await createJob({ prompt: "a ball", duration_s: 2, webhook_url: `${RECEIVER}/hook/${name}` });
    await postEvent(chunkEvent(id, 0));
    await postEvent(chunkEvent(id, 1));
    await postEvent(completed(id));
    // First attempt at once (answered 500), the second 5 s later by the object's alarm.
    let log: { headers: Record<string, string>; body: string }[] = [];
    for (let i = 0; i < 100 && log.length < 2; i++) {
      await sleep(100);
      log = await (await fetch(`${RECEIVER}/log/${name}`)).json<typeof log>();
    }
    expect(log).toHaveLength(2);
    const { secret } = await (await call("/v1/webhook_secret")).json<{ secret: string }>();
    expect(secret).toMatch(/^whsec_/);
    for (const d of log) expect(await verifyWebhook(secret, d.headers, d.body)).toBe(true);
    expect(await verifyWebhook(secret, log[1]!.headers, log[1]!.body.replace("succeeded", "failed"))).toBe(false);
    expect(log[0]!.headers["webhook-id"]).toBe(log[1]!.headers["webhook-id"]);
    const payload = JSON.parse(log[1]!.body) as { type: string; data: { id: string; status: string; links: { content: string } } };
    expect(payload).toMatchObject({ type: "video.completed", data: { id, status: "succeeded", subject: null } });
    expect(payload.data.links.content).toBe(`http://edge.test/v1/videos/${id}/content`);
  }, 20_000);
});

describe("retention", () => {
  it("deletes the outputs when the job's time is up and answers 410 from then on", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    await putObject(`videos/${id}/video.mp4`, new Uint8Array([1, 2, 3]));
    await postEvent(chunkEvent(id, 0));
    await postEvent(chunkEvent(id, 1));
    await postEvent(completed(id));
    expect((await call(`/v1/videos/${id}/content`)).status).toBe(200);
    let res = await call(`/v1/videos/${id}`);
    for (let i = 0; i < 60 && res.status !== 410; i++) {
      await sleep(100);
      res = await call(`/v1/videos/${id}`);
    }
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ code: "video_expired", status: 410 });
    expect((await call(`/v1/videos/${id}/stream.m3u8`)).status).toBe(410);
    const s3 = await fetch(`${cfg.AWS_ENDPOINT_URL}/${cfg.S3_BUCKET}/videos/${id}/video.mp4`);
    expect(s3.status).not.toBe(200);
  }, 20_000);
});

describe("bounds", () => {
  it(`keeps at most ${MAX_STREAMS_PER_JOB} live event streams per video`, async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const open = await Promise.all(Array.from({ length: MAX_STREAMS_PER_JOB }, () => call(`/v1/videos/${id}/events`)));
    expect(open.every((r) => r.status === 200)).toBe(true);
    const extra = await call(`/v1/videos/${id}/events`);
    expect(extra.status).toBe(429);
    const problem = await extra.json<{ code: string; instance: string }>();
    expect(problem.code).toBe("too_many_streams");
    expect(problem.instance).toMatch(/^\/v1\/videos\/vid_\w+\/events$/);
    await Promise.all(open.map((r) => (r.body ? r.body.cancel() : Promise.resolve())));
  });
});
