import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeChunk, type EncodedChunk } from "./encode.ts";
import { findBoxes, readBoxes } from "./fmp4.ts";

/** Real FFmpeg: two chunks encoded separately must concatenate into one clean stream. */
const W = 64,
  H = 48,
  FPS = 12,
  N = 12;
let dir: string;
let chunks: EncodedChunk[];

function frames(chunk: number): Uint8Array {
  const out = new Uint8Array(W * H * 3 * N);
  for (let f = 0; f < N; f++) {
    const t = chunk * N + f;
    for (let i = 0; i < W * H; i++) {
      const x = i % W;
      out.set([(x * 4 + t * 8) % 256, 80, 160], (f * W * H + i) * 3);
    }
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelmesh-enc-"));
  chunks = await Promise.all([0, 1].map((k) => encodeChunk(frames(k), { width: W, height: H, fps: FPS, index: k, framesPerChunk: N })));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("chunk encoding", () => {
  it("produces byte-identical init segments and media made of moof+mdat only", () => {
    expect(Buffer.from(chunks[0]!.init).equals(Buffer.from(chunks[1]!.init))).toBe(true);
    expect(readBoxes(chunks[0]!.init).map((b) => b.type)).toEqual(["ftyp", "moov"]);
    expect(readBoxes(chunks[1]!.media).map((b) => b.type)).toEqual(["moof", "mdat"]);
    expect(chunks[0]!.codecs).toMatch(/^avc1\.64[0-9a-f]{4}$/);
    expect(chunks.map((c) => [c.frames, c.durationS])).toEqual([
      [12, 1],
      [12, 1],
    ]);
  });

  it("numbers fragments and places their decode time at the chunk's position", () => {
    const media = chunks[1]!.media;
    const view = new DataView(media.buffer, media.byteOffset, media.byteLength);
    const mfhd = findBoxes(media, "mfhd")[0]!;
    expect(view.getUint32(mfhd.start + mfhd.headerSize + 4)).toBe(2);
    const tfdt = findBoxes(media, "tfdt")[0]!;
    const v1 = media[tfdt.start + tfdt.headerSize] === 1;
    const time = v1 ? view.getBigUint64(tfdt.start + tfdt.headerSize + 4) : BigInt(view.getUint32(tfdt.start + tfdt.headerSize + 4));
    expect(time).toBe(BigInt(N * (90_000 / FPS)));
  });

  it("concatenates into one H.264 stream that decodes cleanly, frame count and duration intact", async () => {
    const file = join(dir, "all.mp4");
    await writeFile(file, Buffer.concat([chunks[0]!.init, chunks[0]!.media, chunks[1]!.media]));
    const decode = spawnSync("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
    expect(decode.status).toBe(0);
    expect(decode.stderr).toBe("");
    const probe = spawnSync(
      "ffprobe",
      [
        "-v",
        "error",
        "-count_frames",
        "-show_entries",
        "stream=codec_name,nb_read_frames,has_b_frames:format=duration",
        "-of",
        "json",
        file,
      ],
      { encoding: "utf8" },
    );
    const info = JSON.parse(probe.stdout) as {
      streams: { codec_name: string; nb_read_frames: string; has_b_frames: number }[];
      format: { duration: string };
    };
    expect(info.streams[0]).toMatchObject({ codec_name: "h264", nb_read_frames: "24", has_b_frames: 0 });
    expect(Number(info.format.duration)).toBeCloseTo(2, 2);
  });

  it("rejects a buffer that is not whole frames, without starting FFmpeg", async () => {
    await expect(encodeChunk(new Uint8Array(100), { width: W, height: H, fps: FPS, index: 0, framesPerChunk: N })).rejects.toThrow(
      /not a whole number/,
    );
  });
});
