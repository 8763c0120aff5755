import { describe, expect, it } from "vitest";
import { call, createJob, postEvent, putObject, chunkEvent } from "./support.ts";

const usage = { gpu_s: 1.5, encode_s: 0.4, bytes_stored: 1000 };

async function playlist(id: string): Promise<string> {
  const res = await call(`/v1/videos/${id}/media.m3u8`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
  // Decoded by hand: workerd warns on .text() for a non-text content type.
  return new TextDecoder().decode(await res.arrayBuffer());
}

const segments = (m3u8: string) => m3u8.split("\n").filter((l) => l && !l.startsWith("#"));

describe("worker events", () => {
  it("refuses unsigned, forged and stale events and changes nothing", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const unsigned = await call("/internal/events", {
      method: "POST",
      key: null,
      body: JSON.stringify({ type: "started", job_id: id, worker_id: "w", at: new Date().toISOString() }),
    });
    expect(unsigned.status).toBe(401);
    expect((await postEvent({ type: "started", job_id: id }, { secret: "not-the-secret-0123456789" })).status).toBe(401);
    const stale = await postEvent({ type: "started", job_id: id }, { nowS: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect((await stale.json<{ code: string }>()).code).toBe("invalid_signature");
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "queued" });
  });

  it("rejects a signed but malformed event with 400 and an unknown job with 404", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const bad = await postEvent({ type: "chunk", job_id: id });
    expect(bad.status).toBe(400);
    const unknown = await postEvent({ type: "started", job_id: "vid_00000000000000000000000000" }, { unknown: true });
    expect(unknown.status).toBe(404);
  });

  it("grows an EVENT playlist per chunk, ends it on completion, and never moves a job backwards", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    let m3u8 = await playlist(id);
    expect(m3u8).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(segments(m3u8)).toEqual([]);
    expect(m3u8).not.toContain("#EXT-X-ENDLIST");

    expect((await postEvent({ type: "started", job_id: id })).status).toBe(200);
    // Chunk 1 before chunk 0: stored, but not listed until the gap is filled.
    expect((await postEvent(chunkEvent(id, 1))).status).toBe(200);
    expect(segments(await playlist(id))).toEqual([]);
    expect((await postEvent(chunkEvent(id, 0))).status).toBe(200);
    m3u8 = await playlist(id);
    expect(m3u8).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect(m3u8).toContain("#EXT-X-VERSION:7");
    expect(m3u8).toContain("#EXT-X-TARGETDURATION:1");
    expect(segments(m3u8)).toEqual(["seg-00000.m4s", "seg-00001.m4s"]);
    expect(m3u8).not.toContain("#EXT-X-ENDLIST");

    const repeat = await postEvent(chunkEvent(id, 0));
    expect(await repeat.json()).toMatchObject({ applied: true, stop: false });
    expect(segments(await playlist(id))).toHaveLength(2);

    expect(
      (await postEvent({ type: "completed", job_id: id, usage, total_chunks: 2, content: { key: `videos/${id}/video.mp4`, bytes: 9 } }))
        .status,
    ).toBe(200);
    m3u8 = await playlist(id);
    expect(m3u8.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);

    // Late events change nothing, and tell a worker still on this job that it has ended.
    const late = await postEvent({ type: "progress", job_id: id, chunk: 1, step: 3, steps: 12 });
    expect(await late.json()).toMatchObject({ applied: false, stop: true, reason: "ended" });
    const failed = await postEvent({ type: "failed", job_id: id, error: { code: "x", message: "late" }, retryable: false });
    expect(await failed.json()).toMatchObject({ applied: false, stop: true });
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "succeeded", chunks_ready: 2, usage });
  });

  it("records a failure with its error and ends the playlist", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    await postEvent({ type: "failed", job_id: id, error: { code: "generation_failed", message: "out of memory" }, retryable: false });
    expect(await (await call(`/v1/videos/${id}`)).json()).toMatchObject({ status: "failed", error: { code: "generation_failed" } });
    expect((await playlist(id)).trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
  });

  it("refuses files outside the job's own outputs: another job's segment is never served as this one's", async () => {
    const { id } = await createJob({ prompt: "a ball", duration_s: 2 });
    const { id: other } = await createJob({ prompt: "another ball", duration_s: 2 });
    const init = { key: `videos/${id}/init.mp4`, bytes: 4 };
    const foreign = {
      index: 0,
      key: `videos/${other}/seg-00000.m4s`,
      frames: 12,
      duration_s: 1,
      bytes: 8,
      committed_at: new Date().toISOString(),
    };
    await postEvent({ type: "chunk", job_id: id, total_chunks: 2, codecs: "avc1.64000b", init, chunk: foreign });
    await postEvent({
      type: "chunk",
      job_id: id,
      total_chunks: 2,
      codecs: "avc1.64000b",
      init: { key: "accounts/secrets.json", bytes: 4 },
      chunk: { ...foreign, key: `videos/${id}/seg-00000.m4s` },
    });
    await postEvent({ type: "completed", job_id: id, usage, total_chunks: 2, content: { key: `videos/${other}/video.mp4`, bytes: 9 } });
    const job = await (await call(`/v1/videos/${id}`)).json<{ status: string; chunks_ready: number }>();
    expect(job).toMatchObject({ status: "queued", chunks_ready: 0 });
    expect(await playlist(id)).not.toContain("seg-00000.m4s");
  });

  it("shows customers a stable code and a message written for them, never the worker's detail", async () => {
    const { id } = await createJob();
    const detail = "AccessDenied: arn:aws:s3:::reelmesh-outputs/videos/x by arn:aws:iam::123456789012:role/worker";
    await postEvent({ type: "failed", job_id: id, error: { code: "storage_write_failed", message: detail }, retryable: false });
    const job = await (await call(`/v1/videos/${id}`)).json<{ status: string; error: { code: string; message: string } }>();
    expect(job.status).toBe("failed");
    expect(job.error.code).toBe("generation_failed");
    expect(JSON.stringify(job)).not.toContain("arn:aws");
    expect(JSON.stringify(job)).not.toContain("123456789012");
  });
});

describe("segments", () => {
  it("serves committed segments from S3 with the key or the signed playback URL, with ranges", async () => {
    const { id, signed_hls_url } = await createJob({ prompt: "a ball", duration_s: 2 });
    const init = new Uint8Array([1, 2, 3, 4]);
    const seg = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
    await putObject(`videos/${id}/init.mp4`, init);
    await putObject(`videos/${id}/seg-00000.m4s`, seg);

    const early = await call(`/v1/videos/${id}/seg-00000.m4s`);
    expect(early.status).toBe(404);
    expect((await early.json<{ code: string }>()).code).toBe("segment_not_ready");

    await postEvent(chunkEvent(id, 0));
    const res = await call(`/v1/videos/${id}/seg-00000.m4s`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(seg);
    const part = await call(`/v1/videos/${id}/seg-00000.m4s`, { headers: { range: "bytes=2-4" } });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(seg.subarray(2, 5));

    // A phone gets the signed URL: no key, and every URI in the playlist carries the token.
    const url = new URL(signed_hls_url);
    const media = `${url.pathname.replace(/stream\.m3u8$/, "media.m3u8")}${url.search}`;
    const m3u8 = new TextDecoder().decode(await (await call(media, { key: null })).arrayBuffer());
    const token = url.searchParams.get("token")!;
    expect(m3u8).toContain(`init.mp4?token=${token}`);
    expect(segments(m3u8)).toEqual([`seg-00000.m4s?token=${token}`]);
    const viaToken = await call(`/v1/videos/${id}/init.mp4?token=${token}`, { key: null });
    expect(new Uint8Array(await viaToken.arrayBuffer())).toEqual(init);

    const other = await createJob({ prompt: "a ball", duration_s: 2 });
    expect((await call(`/v1/videos/${other.id}/stream.m3u8?token=${token}`, { key: null })).status).toBe(401);
    const forged = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
    expect((await call(`/v1/videos/${id}/stream.m3u8?token=${forged}`, { key: null })).status).toBe(401);
    expect((await call(`/v1/videos/${id}/stream.m3u8`, { key: null })).status).toBe(401);
  });
});
