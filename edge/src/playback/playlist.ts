import { segmentName } from "../../../shared/layout.ts";
import { contiguousChunks, type JobRecord } from "../jobs/record.ts";
import type { VideoFacts } from "./init-segment.ts";

/** The media playlist's name beside the multivariant playlist (`stream.m3u8`, the URL the API hands out). */
export const MEDIA_PLAYLIST = "media.m3u8";

type Chunk = JobRecord["chunks"][number];

const targetDuration = (job: JobRecord, chunks: Chunk[]) =>
  Math.ceil(Math.max(job.chunk_frames / job.fps, ...chunks.map((c) => c.duration_s)) - 1e-9);

/**
 * The job's HLS media playlist (RFC 8216bis): an EVENT playlist that grows by one segment
 * per stored chunk and ends with EXT-X-ENDLIST once the job is over. fMP4 segments need
 * version 7 and an EXT-X-MAP. TARGETDURATION is fixed for the job (it may not change while
 * the playlist grows), START pins playback to the beginning instead of the live edge.
 * Each segment carries EXT-X-PROGRAM-DATE-TIME: the job's start plus the media time before
 * it, so the mapping never changes between reloads (RFC 8216bis 4.4.4.6).
 */
export function renderMediaPlaylist(job: JobRecord, query: string): string {
  const chunks = contiguousChunks(job);
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${targetDuration(job, chunks)}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START:TIME-OFFSET=0,PRECISE=YES",
  ];
  if (job.init && chunks.length > 0) {
    lines.push(`#EXT-X-MAP:URI="init.mp4${query}"`);
    const epoch = Date.parse(job.started_at ?? job.created_at);
    let offset = 0;
    for (const c of chunks) {
      lines.push(
        `#EXT-X-PROGRAM-DATE-TIME:${new Date(epoch + Math.round(offset * 1000)).toISOString()}`,
        `#EXTINF:${c.duration_s.toFixed(5)},`,
        `${segmentName(c.index)}${query}`,
      );
      offset += c.duration_s;
    }
  }
  const over = job.status === "succeeded" || job.status === "failed" || job.status === "canceled";
  if (over) lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}

/** What the variant's attributes say, measured on the committed segments and the init segment. */
export interface VariantFacts extends VideoFacts {
  /** Peak segment bit rate (RFC 8216bis 4.1): bits/s of the densest run of segments 0.5 × to 1.5 × target duration + 0.5 s long. */
  peakBps: number;
  /** Average segment bit rate: all segment bits over all segment seconds. */
  averageBps: number;
  frameRate: number;
}

/** Bit rates and frame rate of the segments so far (at least one). */
export function measureVariant(job: JobRecord, video: VideoFacts): VariantFacts {
  const chunks = contiguousChunks(job);
  if (chunks.length === 0) throw new Error("no segment to measure");
  const target = targetDuration(job, chunks);
  let peak = 0;
  for (let i = 0; i < chunks.length; i++) {
    let bytes = 0;
    let seconds = 0;
    for (let j = i; j < chunks.length && seconds + chunks[j]!.duration_s <= 1.5 * target + 0.5 + 1e-9; j++) {
      bytes += chunks[j]!.bytes;
      seconds += chunks[j]!.duration_s;
      if (seconds >= 0.5 * target - 1e-9) peak = Math.max(peak, (bytes * 8) / seconds);
    }
  }
  const bytes = chunks.reduce((s, c) => s + c.bytes, 0);
  const seconds = chunks.reduce((s, c) => s + c.duration_s, 0);
  const frames = chunks.reduce((s, c) => s + c.frames, 0);
  // Every segment is at most one target duration long, so some run always qualifies; the
  // average stays a floor of the peak all the same, so BANDWIDTH is never below it.
  const average = (bytes * 8) / seconds;
  return { ...video, peakBps: Math.ceil(Math.max(peak, average)), averageBps: Math.ceil(average), frameRate: frames / seconds };
}

/**
 * The multivariant playlist over the job's one media playlist: the variant's CODECS,
 * RESOLUTION, FRAME-RATE, BANDWIDTH and AVERAGE-BANDWIDTH, as Apple's HLS authoring
 * specification asks (9.1, 9.2, 9.13–9.15). `query` (the playback token) goes on the URI.
 */
export function renderMultivariantPlaylist(facts: VariantFacts, query: string): string {
  return [
    "#EXTM3U",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-STREAM-INF:BANDWIDTH=${facts.peakBps},AVERAGE-BANDWIDTH=${facts.averageBps},CODECS="${facts.codecs}",` +
      `RESOLUTION=${facts.width}x${facts.height},FRAME-RATE=${facts.frameRate.toFixed(3)}`,
    `${MEDIA_PLAYLIST}${query}`,
    "",
  ].join("\n");
}
