import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EncodedChunk } from "./encode.ts";
import { findBoxes, readBoxes } from "./fmp4.ts";
import { StreamEncoder } from "./stream-encoder.ts";

/**
 * The long-lived encoder with real FFmpeg: each chunk's segment comes out before the next
 * chunk is given (awaiting chunk k before feeding k+1 would hang otherwise), segments
 * concatenate into one clean stream, and a stream resumed at chunk k on "another worker"
 * produces the same init and a segment that slots in.
 */
const W = 64,
  H = 48,
  FPS = 12,
  N = 12;
let dir: string;
const segments: EncodedChunk[] = [];
let resumed: EncodedChunk;

function frames(chunk: number): Uint8Array {
  const out = new Uint8Array(W * H * 3 * N);
  for (let f = 0; f < N; f++) {
    const t = chunk * N + f;
    for (let i = 0; i < W * H; i++) out.set([((i % W) * 4 + t * 8) % 256, 80, 160], (f * W * H + i) * 3);
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelmesh-stream-"));
  const enc = new StreamEncoder({ width: W, height: H, fps: FPS, framesPerChunk: N });
  for (let k = 0; k < 3; k++) segments.push(await enc.encode(k, frames(k)));
  await enc.close();
  const other = new StreamEncoder({ width: W, height: H, fps: FPS, framesPerChunk: N, firstChunk: 2 });
  resumed = await other.encode(2, frames(2));
  await other.close();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function decodeTime(media: Uint8Array): bigint {
  const view = new DataView(media.buffer, media.byteOffset, media.byteLength);
  const tfdt = findBoxes(media, "tfdt")[0]!;
  const at = tfdt.start + tfdt.headerSize;
  return media[at] === 1 ? view.getBigUint64(at + 4) : BigInt(view.getUint32(at + 4));
}

function probe(file: string) {
  const decode = spawnSync("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
  const out = spawnSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-show_entries",
      "stream=codec_name,profile,pix_fmt,nb_read_frames,has_b_frames:format=duration",
      "-of",
      "json",
      file,
    ],
    { encoding: "utf8" },
  );
  const info = JSON.parse(out.stdout) as { streams: Record<string, unknown>[]; format: { duration: string } };
  return { decodeStatus: decode.status, decodeErrors: decode.stderr, stream: info.streams[0]!, duration: Number(info.format.duration) };
}

describe("the long-lived stream encoder", () => {
  it("gives one init for every chunk and worker, and segments of one fragment per frame at the chunk's position", () => {
    for (const s of [...segments, resumed]) expect(Buffer.from(s.init).equals(Buffer.from(segments[0]!.init))).toBe(true);
    expect(readBoxes(segments[0]!.init).map((b) => b.type)).toEqual(["ftyp", "moov"]);
    expect(readBoxes(segments[1]!.media).map((b) => b.type)).toEqual(Array(N).fill(["moof", "mdat"]).flat());
    expect(segments.map((s) => decodeTime(s.media))).toEqual([0n, 90_000n, 180_000n]);
    expect(decodeTime(resumed.media)).toBe(180_000n);
    expect(segments[0]!.codecs).toMatch(/^avc1\.64[0-9a-f]{4}$/);
  });

  it("concatenates into one H.264 High yuv420p stream that decodes cleanly", async () => {
    const file = join(dir, "all.mp4");
    await writeFile(file, Buffer.concat([segments[0]!.init, ...segments.map((s) => s.media)]));
    const p = probe(file);
    expect(p.decodeStatus).toBe(0);
    expect(p.decodeErrors).toBe("");
    expect(p.stream).toMatchObject({ codec_name: "h264", profile: "High", pix_fmt: "yuv420p", nb_read_frames: "36", has_b_frames: 0 });
    expect(p.duration).toBeCloseTo(3, 2);
  });

  it("lets a chunk from a resumed stream replace the original one", async () => {
    const file = join(dir, "mixed.mp4");
    await writeFile(file, Buffer.concat([segments[0]!.init, segments[0]!.media, segments[1]!.media, resumed.media]));
    const p = probe(file);
    expect(p.decodeStatus).toBe(0);
    expect(p.decodeErrors).toBe("");
    expect(p.stream).toMatchObject({ nb_read_frames: "36" });
  });

  it("refuses chunks out of order and buffers that are not a chunk", async () => {
    const enc = new StreamEncoder({ width: W, height: H, fps: FPS, framesPerChunk: N });
    await expect(enc.encode(1, frames(1))).rejects.toThrow(/chunk 1 given while chunk 0 was expected/);
    await expect(enc.encode(0, new Uint8Array(100))).rejects.toThrow(/not 12 64x48 rgb24 frames/);
    await enc.close();
  });
});
