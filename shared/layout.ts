/** S3 object keys of one output (docs/architecture.md, S3 layout): one prefix per job. */
export function outputPrefix(jobId: string): string {
  return `videos/${jobId}`;
}

export const outputKeys = {
  manifest: (prefix: string) => `${prefix}/manifest.json`,
  init: (prefix: string) => `${prefix}/init.mp4`,
  /** Zero-padded so a listing sorts in playback order. */
  segment: (prefix: string, index: number) => `${prefix}/seg-${String(index).padStart(5, "0")}.m4s`,
  /** The whole clip as one faststart MP4, written when the job succeeds. */
  content: (prefix: string) => `${prefix}/video.mp4`,
  /** The first frame, written with the first segment. */
  poster: (prefix: string) => `${prefix}/poster.jpg`,
  /** Chunk k's last conditioning latents (float32): what a worker resuming at k+1 starts from. */
  tail: (prefix: string, index: number) => `${prefix}/state/tail-${String(index).padStart(5, "0")}.f32`,
};

/** Segment file name as the playlist names it, relative to the playlist URL. */
export function segmentName(index: number): string {
  return `seg-${String(index).padStart(5, "0")}.m4s`;
}
