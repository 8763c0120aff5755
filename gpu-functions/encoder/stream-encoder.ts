import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EncoderError, TRACK_TIMESCALE, type EncodedChunk } from "./encode.ts";
import { avcCodecString, findBoxes, readBoxes } from "./fmp4.ts";

/**
 * One long-lived FFmpeg per job: started when the job starts, so its start-up cost
 * hides behind the first chunk's compute, and fed each chunk's frames as they are decoded.
 *
 * x264 runs with zero latency (no lookahead, no B-frames) and the MP4 muxer writes one
 * fragment per frame, so a frame's bytes come out as soon as the next frame goes in. The muxer
 * needs that next frame to close a fragment, so after a chunk's last frame the encoder is fed
 * one more copy of it (a "flush frame"): the chunk's fragments arrive at once, and the flush
 * frame's own fragment, which arrives with the next chunk, is dropped. The GOP is a chunk plus
 * its flush frame, so every chunk starts with an IDR frame and decodes on its own.
 *
 * A chunk's segment is its frames' fragments, renumbered and placed at the chunk's absolute
 * position (RFC 8216 allows several fragments per fMP4 segment). The init segment depends only
 * on the encoder settings, so it is byte-identical across chunks, jobs and workers; a worker
 * that resumes a job at chunk k starts its stream there (`firstChunk`).
 */
export type VideoCodec = "libx264" | "h264_nvenc";

export interface StreamEncoderOptions {
  width: number;
  height: number;
  fps: number;
  framesPerChunk: number;
  /** Index of the first chunk this stream encodes (resume). */
  firstChunk?: number;
  codec?: VideoCodec;
  crf?: number;
  ffmpegPath?: string;
}

function streamEncoderArgs(o: StreamEncoderOptions): string[] {
  const gop = String(o.framesPerChunk + 1);
  const codec: string[] =
    (o.codec ?? "libx264") === "h264_nvenc"
      ? // NVENC (GPU images): low-latency tuning, constant quality, no B-frames, IDR at each GOP.
        [
          "-c:v",
          "h264_nvenc",
          "-preset",
          "p4",
          "-tune",
          "ll",
          "-zerolatency",
          "1",
          "-rc",
          "vbr",
          "-cq",
          String(o.crf ?? 23),
          "-b:v",
          "0",
          "-forced-idr",
          "1",
        ]
      : ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-crf", String(o.crf ?? 20)];
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
    ...codec,
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
    "-flush_packets",
    "1",
    "-movflags",
    "+frag_every_frame+empty_moov+default_base_moof",
    "-f",
    "mp4",
    "pipe:1",
  ];
}

export class StreamEncoder {
  private readonly o: Required<Omit<StreamEncoderOptions, "crf" | "ffmpegPath">> & Pick<StreamEncoderOptions, "crf" | "ffmpegPath">;
  private readonly proc: ChildProcessWithoutNullStreams;
  private pending = new Uint8Array(0);
  private init: Uint8Array | undefined;
  private readonly fragments: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  private failure: EncoderError | undefined;
  private readonly stderr: string[] = [];
  private next: number;
  private chain: Promise<unknown> = Promise.resolve();
  /** Moment the process was started: its start-up cost, reported with the first chunk. */
  readonly startedAt = performance.now();

  constructor(opts: StreamEncoderOptions) {
    this.o = { firstChunk: 0, codec: "libx264", ...opts };
    if (TRACK_TIMESCALE % this.o.fps !== 0) throw new EncoderError(`fps ${this.o.fps} does not divide the ${TRACK_TIMESCALE} Hz timescale`);
    this.next = this.o.firstChunk;
    this.proc = spawn(this.o.ffmpegPath ?? "ffmpeg", streamEncoderArgs(this.o), { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout.on("data", (d: Buffer) => this.receive(d));
    this.proc.stderr.on("data", (d: Buffer) => this.stderr.push(d.toString()));
    this.proc.stdin.on("error", () => {}); // the exit code tells why
    this.proc.on("error", (e) => this.fail(`ffmpeg could not start: ${e.message}`));
    this.proc.on("close", (code) => {
      if (!this.closing || code !== 0) this.fail(`ffmpeg exited with ${code}: ${this.stderr.join("").trim().slice(0, 500)}`);
    });
  }

  private closing = false;

  private fail(message: string): void {
    this.failure ??= new EncoderError(message);
    this.wake?.();
  }

  /** Splits stdout into top-level boxes: ftyp+moov is the init, each moof+mdat a fragment. */
  private receive(d: Buffer): void {
    const buf = new Uint8Array(this.pending.length + d.length);
    buf.set(this.pending);
    buf.set(d, this.pending.length);
    let used = 0;
    let moofStart = -1;
    for (const box of completeBoxes(buf)) {
      if (box.type === "moov") {
        this.init = buf.slice(0, box.start + box.size);
        used = box.start + box.size;
      } else if (box.type === "moof") {
        moofStart = box.start;
      } else if (box.type === "mdat" && moofStart >= 0) {
        this.fragments.push(buf.slice(moofStart, box.start + box.size));
        used = box.start + box.size;
        moofStart = -1;
      } else if (box.type === "mfra") {
        used = box.start + box.size;
      }
    }
    this.pending = buf.slice(used);
    this.wake?.();
  }

  private async take(count: number): Promise<Uint8Array[]> {
    while (this.fragments.length < count || !this.init) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
    return this.fragments.splice(0, count);
  }

  /** Encodes chunk `index` (chunks must come in order); resolves with its segment. */
  encode(index: number, frames: Uint8Array): Promise<EncodedChunk> {
    const run = this.chain.then(() => this.encodeNow(index, frames));
    this.chain = run.catch(() => {});
    return run;
  }

  private async encodeNow(index: number, frames: Uint8Array): Promise<EncodedChunk> {
    const { width, height, fps, framesPerChunk } = this.o;
    const frameBytes = width * height * 3;
    if (frames.length !== frameBytes * framesPerChunk) {
      throw new EncoderError(`chunk ${index}: ${frames.length} bytes is not ${framesPerChunk} ${width}x${height} rgb24 frames`);
    }
    if (index !== this.next) throw new EncoderError(`chunk ${index} given while chunk ${this.next} was expected`);
    if (this.failure) throw this.failure;
    const started = performance.now();
    const first = index === this.o.firstChunk;
    await write(this.proc, frames);
    await write(this.proc, frames.subarray(frames.length - frameBytes)); // the flush frame
    const got = await this.take(framesPerChunk + (first ? 0 : 1));
    const own = first ? got : got.slice(1); // the previous chunk's flush frame is not ours
    const ticks = TRACK_TIMESCALE / fps;
    own.forEach((fragment, j) => {
      const frame = index * framesPerChunk + j;
      setFragmentTiming(fragment, frame + 1, BigInt(frame * ticks));
    });
    const media = new Uint8Array(own.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of own) {
      media.set(f, at);
      at += f.length;
    }
    this.next++;
    return {
      init: this.init!,
      media,
      codecs: avcCodecString(this.init!),
      frames: framesPerChunk,
      durationS: framesPerChunk / fps,
      encodeMs: performance.now() - started,
    };
  }

  /** The init segment, once FFmpeg has written it. */
  async initSegment(): Promise<Uint8Array> {
    await this.take(0);
    return this.init!;
  }

  /** Ends the stream and waits for FFmpeg to exit. */
  async close(): Promise<void> {
    this.closing = true;
    await this.chain;
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once("close", () => r()));
    this.proc.stdin.end();
    await exited;
  }

  /** Stops FFmpeg at once (the job failed or was canceled). */
  kill(): void {
    this.closing = true;
    this.proc.kill("SIGKILL");
  }
}

function write(proc: ChildProcessWithoutNullStreams, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (proc.stdin.write(bytes)) resolve();
    else proc.stdin.once("drain", resolve);
  });
}

/** Top-level boxes wholly inside `buf` (a trailing partial box is left for later). */
function completeBoxes(buf: Uint8Array) {
  const out = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at + 8 <= buf.length) {
    let size = view.getUint32(at);
    if (size === 1) {
      if (at + 16 > buf.length) break;
      size = Number(view.getBigUint64(at + 8));
    }
    if (size < 8 || at + size > buf.length) break;
    out.push({ type: String.fromCharCode(buf[at + 4]!, buf[at + 5]!, buf[at + 6]!, buf[at + 7]!), start: at, size });
    at += size;
  }
  return out;
}

/** Sets one fragment's sequence number and absolute decode time (tfdt, track timescale). */
function setFragmentTiming(fragment: Uint8Array, sequence: number, decodeTime: bigint): void {
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.byteLength);
  const moof = readBoxes(fragment).find((b) => b.type === "moof");
  if (!moof) throw new EncoderError("fragment without a moof box");
  const inner = moof.start + moof.headerSize;
  const end = moof.start + moof.size;
  for (const mfhd of findBoxes(fragment, "mfhd", inner, end)) view.setUint32(mfhd.start + mfhd.headerSize + 4, sequence);
  for (const tfdt of findBoxes(fragment, "tfdt", inner, end)) {
    const at = tfdt.start + tfdt.headerSize;
    if (fragment[at] === 1) view.setBigUint64(at + 4, decodeTime);
    else if (decodeTime <= 0xffffffffn) view.setUint32(at + 4, Number(decodeTime));
    else throw new EncoderError("tfdt version 0 cannot hold the decode time");
  }
}
