import { spawn } from "node:child_process";
import { avcCodecString, retimeFragments, splitInit } from "./fmp4.ts";

/**
 * One chunk of frames → one H.264 fMP4 media segment (+ the init segment), with FFmpeg.
 * Chunks are encoded independently (possibly on different workers) yet form one stream:
 * B-frames off, one closed GOP per chunk, a fixed 90 kHz track timescale, bit-exact output
 * so every chunk's init segment is identical, and decode times shifted to the chunk's
 * absolute position.
 */
export const TRACK_TIMESCALE = 90_000;

export interface EncodeOptions {
  width: number;
  height: number;
  fps: number;
  /** Chunk position in the clip; its first frame is frame `index · framesPerChunk`. */
  index: number;
  framesPerChunk: number;
  /** x264 preset and CRF; NVENC replaces these on GPU images. */
  preset?: string;
  crf?: number;
  ffmpegPath?: string;
}

export interface EncodedChunk {
  init: Uint8Array;
  media: Uint8Array;
  codecs: string;
  frames: number;
  durationS: number;
  encodeMs: number;
}

export class EncoderError extends Error {
  readonly code = "encoder_failed";
}

function ffmpegArgs(o: EncodeOptions): string[] {
  const gop = String(o.framesPerChunk);
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-nostdin",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-s",
    `${o.width}x${o.height}`,
    "-r",
    String(o.fps),
    "-i",
    "pipe:0",
    "-vf",
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
    "-c:v",
    "libx264",
    "-preset",
    o.preset ?? "veryfast",
    "-crf",
    String(o.crf ?? 20),
    "-profile:v",
    "high",
    "-bf",
    "0",
    "-g",
    gop,
    "-keyint_min",
    gop,
    "-sc_threshold",
    "0",
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
    "-flags",
    "+bitexact",
    "-fflags",
    "+bitexact",
    "-map_metadata",
    "-1",
    "-video_track_timescale",
    String(TRACK_TIMESCALE),
    "-use_editlist",
    "0",
    "-movflags",
    "+frag_keyframe+empty_moov+default_base_moof",
    "-f",
    "mp4",
    "pipe:1",
  ];
}

export async function encodeChunk(frames: Uint8Array, o: EncodeOptions): Promise<EncodedChunk> {
  const frameBytes = o.width * o.height * 3;
  if (frames.length === 0 || frames.length % frameBytes !== 0) {
    throw new EncoderError(`chunk ${o.index}: ${frames.length} bytes is not a whole number of ${o.width}x${o.height} rgb24 frames`);
  }
  const count = frames.length / frameBytes;
  if (TRACK_TIMESCALE % o.fps !== 0) throw new EncoderError(`fps ${o.fps} does not divide the ${TRACK_TIMESCALE} Hz timescale`);
  const started = performance.now();
  const proc = spawn(o.ffmpegPath ?? "ffmpeg", ffmpegArgs(o), { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on("data", (d: Buffer) => out.push(d));
  proc.stderr.on("data", (d: Buffer) => err.push(d));
  // A closed stdin (ffmpeg died early) must not crash the worker; the exit code tells why.
  proc.stdin.on("error", () => {});
  proc.stdin.end(frames);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on("error", (e) => reject(new EncoderError(`ffmpeg could not start: ${e.message}`)));
    proc.on("close", resolve);
  });
  if (code !== 0) throw new EncoderError(`ffmpeg exited with ${code}: ${Buffer.concat(err).toString().trim().slice(0, 500)}`);
  const file = new Uint8Array(Buffer.concat(out));
  const { init, media } = splitInit(file);
  const frameTicks = TRACK_TIMESCALE / o.fps;
  retimeFragments(media, o.index + 1, BigInt(o.index * o.framesPerChunk * frameTicks));
  return {
    init: init.slice(),
    media,
    codecs: avcCodecString(init),
    frames: count,
    durationS: count / o.fps,
    encodeMs: performance.now() - started,
  };
}
