import { describe, expect, it } from "vitest";
import { call, cfg, drain, postEvent } from "./support.ts";

/**
 * Result cache and coalescing inside workerd, against the real SQS protocol: 100 identical
 * concurrent requests become one queued job and 100 jobs that all succeed; a later identical
 * request is answered at once from the result; `cache: "none"`, another seed or no seed run anew.
 */
const STANDARD = cfg.SQS_QUEUE_URL_STANDARD!;

interface View { id: string; status: string; cache: string; chunks_ready: number; total_chunks: number }

async function mine(marker: string): Promise<{ job_id: string }[]> {
  return ((await drain(STANDARD)) as { job_id: string; prompt: string }[]).filter((m) => m.prompt.includes(marker));
}

describe("result cache and coalescing", () => {
  it("turns 100 identical concurrent requests into one GPU job and 100 jobs that succeed", async () => {
    const marker = crypto.randomUUID().slice(0, 8);
    const body = JSON.stringify({ prompt: `a red ball bouncing ${marker}`, duration_s: 1, seed: 42 });
    const responses = await Promise.all(Array.from({ length: 100 }, () => call("/v1/videos", { method: "POST", body })));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(202));
    const views = (await Promise.all(responses.map((r) => r.json()))) as View[];
    expect(new Set(views.map((v) => v.id)).size).toBe(100);
    expect(views.filter((v) => v.cache === "miss")).toHaveLength(1);
    expect(views.filter((v) => v.cache === "joined")).toHaveLength(99);
    const queued = await mine(marker);
    expect(queued).toHaveLength(1);
    const leader = queued[0]!.job_id;
    expect(views.find((v) => v.cache === "miss")!.id).toBe(leader);

    await postEvent({
      type: "chunk", job_id: leader, total_chunks: 1, codecs: "avc1.64000b", init: { key: `videos/${leader}/init.mp4`, bytes: 4 },
      chunk: { index: 0, key: `videos/${leader}/seg-00000.m4s`, frames: 12, duration_s: 1, bytes: 8, committed_at: new Date().toISOString() },
    });
    await postEvent({ type: "completed", job_id: leader, usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 }, total_chunks: 1, content: { key: `videos/${leader}/video.mp4`, bytes: 9 } });
    const after = (await Promise.all(views.map(async (v) => (await call(`/v1/videos/${v.id}`)).json()))) as View[];
    expect(after.filter((v) => v.status === "succeeded" && v.chunks_ready === 1)).toHaveLength(100);
    const playlist = new TextDecoder().decode(await (await call(`/v1/videos/${views[7]!.id}/stream.m3u8`)).arrayBuffer());
    expect(playlist).toContain("seg-00000.m4s");
    expect(playlist).toContain("#EXT-X-ENDLIST");

    // Later: answered at once from the result, nothing queued.
    const hit = await call("/v1/videos", { method: "POST", body });
    expect(hit.status).toBe(200);
    expect(await hit.json()).toMatchObject({ status: "succeeded", cache: "hit", chunks_ready: 1 });
    expect(await mine(marker)).toHaveLength(0);
  });

  it("runs anew with cache: none, with another seed, and without a seed", async () => {
    const marker = crypto.randomUUID().slice(0, 8);
    const base = { prompt: `a blue square ${marker}`, duration_s: 1 };
    const first = (await (await call("/v1/videos", { method: "POST", body: JSON.stringify({ ...base, seed: 7 }) })).json()) as View;
    expect(first.cache).toBe("miss");
    const cases = [{ ...base, seed: 7, cache: "none" }, { ...base, seed: 8 }, base];
    const views = (await Promise.all(cases.map(async (b) => (await call("/v1/videos", { method: "POST", body: JSON.stringify(b) })).json()))) as View[];
    expect(views.map((v) => v.cache)).toEqual(["none", "miss", "none"]);
    expect(await mine(marker)).toHaveLength(4);
  });
});
