import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app.ts";
import { acceptsGzip } from "../src/http/playback.ts";
import { videoFacts } from "../src/playback/init-segment.ts";
import { call, chunkEvent, createJob, KEY, postEvent, putObject } from "./support.ts";
import { INIT_144X256_HIGH_L11 } from "./fixtures/init-segment.ts";

/**
 * The playlists inside workerd: the multivariant playlist the API hands out, measured on the
 * stream (a real FFmpeg init segment in the emulator's S3, segment sizes from the worker's
 * events), the media playlist it names, the token on every URI, and gzip.
 */
const text = async (res: Response) => new TextDecoder().decode(await res.arrayBuffer());

/** A job with its real init segment stored and `sizes.length` chunks of those sizes (bytes, 1 s each). */
async function jobWithChunks(sizes: number[], total = sizes.length + 1) {
  const job = await createJob({ prompt: "a ball", duration_s: total });
  await putObject(`videos/${job.id}/init.mp4`, INIT_144X256_HIGH_L11);
  for (const [i, bytes] of sizes.entries()) {
    const event = chunkEvent(job.id, i, total);
    const res = await postEvent({
      ...event,
      init: { ...event.init, bytes: INIT_144X256_HIGH_L11.length },
      chunk: { ...event.chunk, bytes },
    });
    expect(res.status).toBe(200);
  }
  return job;
}

const attributes = (playlist: string) =>
  Object.fromEntries(
    [...(/#EXT-X-STREAM-INF:(.*)/.exec(playlist)?.[1] ?? "").matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)].map((m) => [m[1]!, m[2]!]),
  );

describe("the multivariant playlist", () => {
  it("reads the codec string and picture size from the init segment's avc1/avcC boxes", () => {
    expect(videoFacts(INIT_144X256_HIGH_L11)).toEqual({ codecs: "avc1.64000b", width: 144, height: 256 });
    expect(() => videoFacts(new Uint8Array(16))).toThrow();
  });

  it("answers 503 with Retry-After until the first segment exists, then states the measured variant", async () => {
    const job = await createJob({ prompt: "a ball", duration_s: 3 });
    const early = await call(`/v1/videos/${job.id}/stream.m3u8`);
    expect(early.status).toBe(503);
    expect(early.headers.get("retry-after")).toBe("1");
    expect((await early.json<{ code: string }>()).code).toBe("stream_not_ready");

    await putObject(`videos/${job.id}/init.mp4`, INIT_144X256_HIGH_L11);
    const sizes = [3000, 5000];
    for (const [i, bytes] of sizes.entries()) {
      const e = chunkEvent(job.id, i, 3);
      await postEvent({ ...e, chunk: { ...e.chunk, bytes } });
    }
    const res = await call(`/v1/videos/${job.id}/stream.m3u8`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await text(res);
    expect(body.split("\n")[0]).toBe("#EXTM3U");
    expect(body).toContain("#EXT-X-INDEPENDENT-SEGMENTS");
    // Peak: the densest segment (5000 B in 1 s); average: 8000 B over 2 s.
    expect(attributes(body)).toEqual({
      BANDWIDTH: "40000",
      "AVERAGE-BANDWIDTH": "32000",
      CODECS: '"avc1.64000b"',
      RESOLUTION: "144x256",
      "FRAME-RATE": "12.000",
    });
    expect(body).toMatch(/\nmedia\.m3u8\n$/);
  });

  it("carries the playback token to the media playlist and on to every URI in it", async () => {
    const job = await jobWithChunks([4000, 4000]);
    const token = new URL(job.signed_hls_url).searchParams.get("token")!;
    const multi = await text(await call(new URL(job.signed_hls_url).pathname + `?token=${token}`, { key: null }));
    const variant = multi.split("\n").find((l) => l && !l.startsWith("#"))!;
    expect(variant).toBe(`media.m3u8?token=${token}`);
    const media = await text(await call(`/v1/videos/${job.id}/${variant}`, { key: null }));
    const uris = [...media.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(media.split("\n").filter((l) => l && !l.startsWith("#")));
    expect(uris).toEqual([`init.mp4?token=${token}`, `seg-00000.m4s?token=${token}`, `seg-00001.m4s?token=${token}`]);
    for (const uri of uris)
      expect((await call(`/v1/videos/${job.id}/${uri.split("?")[0]}?token=${token}`, { key: null })).status).not.toBe(401);
  });

  it("answers 409 for a video that ended before its first segment", async () => {
    const job = await createJob({ prompt: "a ball", duration_s: 2 });
    await call(`/v1/videos/${job.id}/cancel`, { method: "POST" });
    const res = await call(`/v1/videos/${job.id}/stream.m3u8`);
    expect(res.status).toBe(409);
    expect((await res.json<{ code: string }>()).code).toBe("stream_unavailable");
  });
});

describe("the media playlist", () => {
  it("dates every segment: the job's start plus the media time before it, the same on every reload", async () => {
    const job = await jobWithChunks([1000, 1000, 1000], 4);
    const first = await text(await call(`/v1/videos/${job.id}/media.m3u8`));
    const dates = [...first.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(.+)/g)].map((m) => Date.parse(m[1]!));
    expect(dates).toHaveLength(3);
    expect(dates[1]! - dates[0]!).toBe(1000);
    expect(dates[2]! - dates[1]!).toBe(1000);
    // Each date sits right before its segment's EXTINF.
    expect(first).toMatch(/#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:1\.00000,\nseg-00000\.m4s/);
    expect(first).toContain("#EXT-X-START:TIME-OFFSET=0,PRECISE=YES");
    expect(first).not.toContain("#EXT-X-ENDLIST");
    const again = await text(await call(`/v1/videos/${job.id}/media.m3u8`));
    expect(again).toBe(first);
  });
});

describe("gzip for playlists", () => {
  it("compresses both playlists when the client accepts gzip, with Vary: Accept-Encoding, and not otherwise", async () => {
    const job = await jobWithChunks(
      Array.from({ length: 12 }, () => 2000),
      13,
    );
    for (const name of ["stream.m3u8", "media.m3u8"]) {
      const plain = await call(`/v1/videos/${job.id}/${name}`, { headers: { "accept-encoding": "identity" } });
      expect(plain.headers.get("content-encoding")).toBeNull();
      expect(plain.headers.get("vary")).toBe("Accept-Encoding");
      const plainText = await text(plain);
      // The app's own Response, before the runtime's fetch would decode it for this test.
      const ctx = createExecutionContext();
      const gz = await app.fetch(
        new Request(`http://edge.test/v1/videos/${job.id}/${name}`, {
          headers: { authorization: `Bearer ${KEY}`, "accept-encoding": "br;q=1, gzip;q=0.8" },
        }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(gz.headers.get("content-encoding")).toBe("gzip");
      expect(gz.headers.get("vary")).toBe("Accept-Encoding");
      const raw = new Uint8Array(await gz.arrayBuffer());
      expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
      const unzipped = await text(new Response(new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip"))));
      expect(unzipped).toBe(plainText);
      if (name === "media.m3u8") expect(raw.length).toBeLessThan(plainText.length / 2);
    }
  });

  it("follows the client's own Accept-Encoding (cf.clientAcceptEncoding), not the one Cloudflare gives the Worker", async () => {
    const job = await jobWithChunks([1000]);
    const as = (clientAcceptEncoding: string) =>
      app.fetch(
        new Request(`http://edge.test/v1/videos/${job.id}/media.m3u8`, {
          headers: { authorization: `Bearer ${KEY}`, "accept-encoding": "br, gzip" },
          cf: { clientAcceptEncoding },
        }),
        env,
        createExecutionContext(),
      );
    expect((await as("")).headers.get("content-encoding")).toBeNull();
    expect((await as("identity")).headers.get("content-encoding")).toBeNull();
    expect((await as("gzip, deflate")).headers.get("content-encoding")).toBe("gzip");
  });

  it("reads Accept-Encoding per RFC 9110: q=0 refuses, * accepts", () => {
    expect(acceptsGzip("gzip, deflate, br")).toBe(true);
    expect(acceptsGzip("gzip;q=0, br")).toBe(false);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("*;q=0.5, identity")).toBe(true);
    expect(acceptsGzip("identity")).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
