import { z } from "zod";
import { JobStatusSchema } from "./request.ts";

export const MANIFEST_VERSION = 1;

/** One committed chunk: an immutable fMP4 media segment in S3. */
export const ManifestChunkSchema = z.object({
  index: z.int().min(0),
  key: z.string().min(1),
  frames: z.int().min(1),
  duration_s: z.number().positive(),
  bytes: z.int().min(0),
  committed_at: z.iso.datetime(),
});
export type ManifestChunk = z.infer<typeof ManifestChunkSchema>;

/** What a job really used; recorded by the worker. */
export const UsageSchema = z.object({
  gpu_s: z.number().min(0),
  encode_s: z.number().min(0),
  bytes_stored: z.int().min(0),
});
export type Usage = z.infer<typeof UsageSchema>;

export const ErrorInfoSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/**
 * `videos/<job>/manifest.json`: the source of truth for a job's outputs.
 * Segments are immutable once written; only this object is rewritten, after each segment,
 * so a reader never sees a chunk listed before its bytes exist.
 */
export const ManifestSchema = z.object({
  v: z.literal(MANIFEST_VERSION),
  job_id: z.string().min(1),
  status: JobStatusSchema,
  model: z.string().min(1),
  width: z.int().min(1),
  height: z.int().min(1),
  fps: z.int().min(1),
  /** RFC 6381 codec string of the video track, for the playlist's CODECS attribute. */
  codecs: z.string().min(1),
  init: z.object({ key: z.string().min(1), bytes: z.int().min(1) }).nullable(),
  total_chunks: z.int().min(1),
  chunks: z.array(ManifestChunkSchema),
  poster: z.object({ key: z.string().min(1), bytes: z.int().min(1) }).nullable(),
  content: z.object({ key: z.string().min(1), bytes: z.int().min(1) }).nullable(),
  usage: UsageSchema,
  error: ErrorInfoSchema.nullable(),
  updated_at: z.iso.datetime(),
});
export type Manifest = z.infer<typeof ManifestSchema>;
