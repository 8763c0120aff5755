import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env.ts";
import { call, chunkEvent, createJob, postEvent, putObject } from "./support.ts";

/**
 * A job is never `succeeded` with chunks missing from its playlist. Chunk events lost on
 * the way (an edge unreachable for a while) are repaired from the S3 manifest the worker wrote;
 * a chunk S3 does not hold either keeps the job running and the worker is told so.
 */
const usage = { gpu_s: 1.5, encode_s: 0.4, bytes_stored: 1000 };
const content = (id: string) => ({ key: `videos/${id}/video.mp4`, bytes: 9 });

function manifest(id: string, chunks: number[], status = "succeeded") {
  const at = new Date().toISOString();
  return {
    v: 1,
    job_id: id,
    status,
    model: "reelmesh-ref-1",
    width: 256,
    height: 256,
    fps: 12,
    codecs: "avc1.64000b",
    init: { key: `videos/${id}/init.mp4`, bytes: 4 },
    total_chunks: 2,
    chunks: chunks.map((k) => ({ ...chunkEvent(id, k).chunk, committed_at: at })),
    poster: null,
    content: status === "succeeded" ? content(id) : null,
    usage,
    error: null,
    updated_at: at,
  };
}

const putManifest = (id: string, body: unknown) => putObject(`videos/${id}/manifest.json`, new TextEncoder().encode(JSON.stringify(body)));

async function playlistSegments(id: string): Promise<string[]> {
  const res = await call(`/v1/videos/${id}/media.m3u8`);
  return new TextDecoder()
    .decode(await res.arrayBuffer())
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
}

describe("a completed event while chunk events were lost", () => {
  it("is reconciled from the S3 manifest: the job succeeds with every chunk in its playlist", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    expect((await postEvent({ type: "started", job_id: id })).status).toBe(200);
    expect((await postEvent(chunkEvent(id, 0))).status).toBe(200);
    // Chunk 1's event never arrived; the worker committed it to S3 and finished.
    await putManifest(id, manifest(id, [0, 1]));
    const done = await postEvent({ type: "completed", job_id: id, usage, total_chunks: 2, content: content(id) });
    expect(done.status).toBe(200);
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "succeeded", chunks_ready: 2 });
    expect(await playlistSegments(id)).toEqual(["seg-00000.m4s", "seg-00001.m4s"]);
  });

  it("is refused with 409 chunks_missing when S3 lacks a chunk too, and the job keeps running", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    expect((await postEvent(chunkEvent(id, 0))).status).toBe(200);
    await putManifest(id, manifest(id, [0], "running"));
    const done = await postEvent({ type: "completed", job_id: id, usage, total_chunks: 2, content: content(id) });
    expect(done.status).toBe(409);
    expect(await done.json()).toMatchObject({ code: "chunks_missing" });
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "running", chunks_ready: 1 });
  });
});

/** As if the job's last event was a minute ago (longer than REELMESH_RECONCILE_S). */
async function stall(id: string) {
  const jobs = (env as unknown as Env).JOBS;
  const stub = jobs.get(jobs.idFromName(id));
  await runInDurableObject(stub, async (_instance, state) => {
    const record = (await state.storage.get<Record<string, unknown>>("job"))!;
    record.updated_at = new Date(Date.now() - 60_000).toISOString();
    await state.storage.put("job", record);
  });
  return stub;
}

describe("a job whose events stalled (the edge was unreachable for its worker)", () => {
  it("is reconciled by its alarm: the chunks and the completion S3 holds, charged in full", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    expect((await postEvent({ type: "started", job_id: id })).status).toBe(200);
    await putManifest(id, manifest(id, [0, 1]));
    const stub = await stall(id);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const job = await (
      await call(`/v1/videos/${id}`)
    ).json<{ status: string; chunks_ready: number; charged: number; price: { credits: number } }>();
    expect(job).toMatchObject({ status: "succeeded", chunks_ready: 2, usage });
    expect(job.charged).toBe(job.price.credits);
  });

  it("is reconciled on a read: committed chunks appear while the worker still runs", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    expect((await postEvent({ type: "started", job_id: id })).status).toBe(200);
    await putManifest(id, manifest(id, [0], "running"));
    await stall(id);
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "running", chunks_ready: 1 });
    expect(await playlistSegments(id)).toEqual(["seg-00000.m4s"]);
  });
});

describe("one owner per running job", () => {
  it("tells a second run that it does not own the job while the owner's lease holds", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const first = await postEvent({ type: "started", job_id: id, run: "run-a", worker_id: "w-a" });
    expect(await first.json()).toMatchObject({ applied: true, stop: false, lease_s: expect.any(Number) });
    const second = await postEvent({ type: "started", job_id: id, run: "run-b", worker_id: "w-b" });
    const answer = await second.json<{ stop: boolean; reason: string; retry_after_s: number }>();
    expect(answer).toMatchObject({ stop: true, reason: "not_owner" });
    expect(answer.retry_after_s).toBeGreaterThanOrEqual(1);
    // The owner's events go on being taken; the other run's progress changes nothing.
    expect(await (await postEvent({ ...chunkEvent(id, 0), run: "run-a", worker_id: "w-a" })).json()).toMatchObject({ stop: false });
    expect(await (await postEvent({ type: "progress", job_id: id, chunk: 1, step: 1, steps: 4, run: "run-b" })).json()).toMatchObject({
      reason: "not_owner",
    });
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "running", chunks_ready: 1 });
  });

  it("lets a redelivery of the owner's message take over at once, and tells a duplicate message to drop", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const owner = { job_id: id, run: "run-a", worker_id: "w-a", message: "msg-1" };
    expect(await (await postEvent({ type: "started", ...owner })).json()).toMatchObject({ stop: false });
    const duplicate = await postEvent({ type: "started", job_id: id, run: "run-b", worker_id: "w-b", message: "msg-2" });
    expect(await duplicate.json()).toMatchObject({ stop: true, reason: "duplicate" });
    // msg-1 delivered again: its first holder stopped extending it; the new run owns the job now.
    const redelivered = await postEvent({ type: "started", job_id: id, run: "run-c", worker_id: "w-c", message: "msg-1" });
    expect(await redelivered.json()).toMatchObject({ stop: false });
    expect(await (await postEvent({ type: "progress", ...owner, chunk: 0, step: 1, steps: 4 })).json()).toMatchObject({
      reason: "not_owner",
    });
  });
});

describe("a job that joined another's run", () => {
  it("takes the chunks it missed from its leader when the leader completes: never succeeded with a hole", async () => {
    const body = { prompt: `a joined ball ${crypto.randomUUID().slice(0, 8)}`, duration_s: 2, seed: 5 };
    const leader = await call("/v1/videos", { method: "POST", body: JSON.stringify(body) }).then((r) => r.json<{ id: string }>());
    const joined = await call("/v1/videos", { method: "POST", body: JSON.stringify(body) }).then((r) =>
      r.json<{ id: string; cache: string }>(),
    );
    expect(joined.cache).toBe("joined");
    expect((await postEvent(chunkEvent(leader.id, 0))).status).toBe(200);
    expect((await postEvent(chunkEvent(leader.id, 1))).status).toBe(200);
    // As if the forward of chunk 1 to the joined job had failed (forwards are not retried).
    const jobs = (env as unknown as Env).JOBS;
    await runInDurableObject(jobs.get(jobs.idFromName(joined.id)), async (_instance, state) => {
      const record = (await state.storage.get<{ chunks: { index: number }[] }>("job"))!;
      record.chunks = record.chunks.filter((c) => c.index === 0);
      await state.storage.put("job", record);
    });
    expect(await (await call(`/v1/videos/${joined.id}`)).json()).toMatchObject({ chunks_ready: 1 });
    const done = await postEvent({ type: "completed", job_id: leader.id, usage, total_chunks: 2, content: content(leader.id) });
    expect(done.status).toBe(200);
    expect(await (await call(`/v1/videos/${joined.id}`)).json()).toMatchObject({ status: "succeeded", chunks_ready: 2 });
    expect(await playlistSegments(joined.id)).toEqual(["seg-00000.m4s", "seg-00001.m4s"]);
  });
});
