import { spawnSync } from "node:child_process";

/** What ffprobe says of a video file's first video stream, counting every decoded frame. */
export interface ProbedVideo {
  codec: string;
  profile: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  durationS: number;
}

export function probeVideo(file: string): ProbedVideo {
  const r = spawnSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,profile,pix_fmt,width,height,nb_read_frames:format=duration",
      "-of",
      "json",
      file,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`ffprobe failed on ${file}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as {
    streams: { codec_name: string; profile: string; pix_fmt: string; width: number; height: number; nb_read_frames: string }[];
    format: { duration: string };
  };
  const s = out.streams[0];
  if (!s) throw new Error(`no video stream in ${file}`);
  return {
    codec: s.codec_name,
    profile: s.profile,
    pixFmt: s.pix_fmt,
    width: s.width,
    height: s.height,
    frames: Number(s.nb_read_frames),
    durationS: Number(out.format.duration),
  };
}

/** Decodes the whole file; returns FFmpeg's error output (empty when the stream is clean). */
export function decodeErrors(file: string): string {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
  return r.status === 0 ? r.stderr.trim() : `exit ${r.status}: ${r.stderr}`;
}
