import { segmentName } from "../../../shared/layout.ts";
import { contiguousChunks, type JobRecord } from "../jobs/record.ts";

/**
 * The job's HLS media playlist (RFC 8216bis): an EVENT playlist that grows by one segment
 * per stored chunk and ends with EXT-X-ENDLIST once the job is over. fMP4 segments need
 * version 7 and an EXT-X-MAP. TARGETDURATION is fixed for the job (it may not change while
 * the playlist grows), START pins playback to the beginning instead of the live edge.
 */
export function renderPlaylist(job: JobRecord, query: string): string {
  const chunks = contiguousChunks(job);
  const target = Math.ceil(Math.max(job.chunk_frames / job.fps, ...chunks.map((c) => c.duration_s)) - 1e-9);
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START:TIME-OFFSET=0,PRECISE=YES",
  ];
  if (job.init && chunks.length > 0) {
    lines.push(`#EXT-X-MAP:URI="init.mp4${query}"`);
    for (const c of chunks) lines.push(`#EXTINF:${c.duration_s.toFixed(5)},`, `${segmentName(c.index)}${query}`);
  }
  const over = job.status === "succeeded" || job.status === "failed" || job.status === "canceled";
  if (over) lines.push("#EXT-X-ENDLIST");
  return lines.join("\n") + "\n";
}
