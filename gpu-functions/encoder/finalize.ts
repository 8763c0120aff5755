import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EncoderError } from "./encode.ts";

/**
 * The job's other outputs: the poster (the first frame as JPEG, available with the
 * first segment) and the final MP4: the same H.264 samples as the segments, remuxed without
 * re-encoding into one progressive file with its index first (faststart), for download and
 * for players that do not do HLS.
 */
async function ffmpeg(args: string[], stdin: Uint8Array | null, ffmpegPath = "ffmpeg"): Promise<Uint8Array> {
  const proc = spawn(ffmpegPath, ["-hide_banner", "-loglevel", "error", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on("data", (d: Buffer) => out.push(d));
  proc.stderr.on("data", (d: Buffer) => err.push(d));
  proc.stdin.on("error", () => {});
  proc.stdin.end(stdin ?? undefined);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on("error", (e) => reject(new EncoderError(`ffmpeg could not start: ${e.message}`)));
    proc.on("close", resolve);
  });
  if (code !== 0) throw new EncoderError(`ffmpeg exited with ${code}: ${Buffer.concat(err).toString().trim().slice(0, 500)}`);
  return new Uint8Array(Buffer.concat(out));
}

/** The first rgb24 frame → JPEG. */
export function posterJpeg(frame: Uint8Array, width: number, height: number, ffmpegPath?: string): Promise<Uint8Array> {
  return ffmpeg(
    [
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "-s",
      `${width}x${height}`,
      "-i",
      "pipe:0",
      "-frames:v",
      "1",
      "-vf",
      "scale=out_color_matrix=bt709:out_range=pc,format=yuvj420p",
      "-q:v",
      "3",
      "-f",
      "mjpeg",
      "pipe:1",
    ],
    frame,
    ffmpegPath,
  );
}

/** init + segments (fMP4) → one faststart MP4, stream-copied. */
export async function finalMp4(init: Uint8Array, segments: Uint8Array[], ffmpegPath?: string): Promise<Uint8Array> {
  // faststart rewrites the file after writing it, so the output must be seekable: a file.
  const dir = await mkdtemp(join(tmpdir(), "reelmesh-final-"));
  try {
    const input = join(dir, "stream.mp4");
    const output = join(dir, "final.mp4");
    await writeFile(input, Buffer.concat([init, ...segments]));
    await ffmpeg(
      [
        "-nostdin",
        "-i",
        input,
        "-c",
        "copy",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        output,
      ],
      null,
      ffmpegPath,
    );
    return new Uint8Array(await readFile(output));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
