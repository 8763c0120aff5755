import { z } from "zod";
import { ErrorInfoSchema, ManifestChunkSchema, UsageSchema } from "./manifest.ts";

const base = {
  job_id: z.string().min(1),
  worker_id: z.string().min(1),
  /** Worker clock, ISO 8601; the edge orders nothing by it, it is for diagnosis. */
  at: z.iso.datetime(),
  /**
   * One attempt of the job on one worker (random per attempt). The job's Durable Object leases the
   * job to one run at a time (edge/src/jobs/lease.ts); events without it are not leased.
   */
  run: z.string().min(1).max(64).optional(),
  /**
   * The SQS message id the run was delivered (the lease tells a redelivery of the owner's message,
   * which takes over, from a duplicate message, which is dropped).
   */
  message: z.string().min(1).max(128).optional(),
};

/**
 * Worker → edge events, sent as signed HTTP calls (shared/signing.ts). Each is idempotent
 * on the edge: a repeated or late event never moves a job backwards.
 */
export const WorkerEventSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("started") }),
  /** The run is alive: renews its lease while nothing else is said (finalizing, an edge that was unreachable). */
  z.object({ ...base, type: z.literal("heartbeat") }),
  z.object({
    ...base,
    type: z.literal("progress"),
    chunk: z.int().min(0),
    step: z.int().min(0),
    steps: z.int().min(1),
  }),
  z.object({
    ...base,
    type: z.literal("chunk"),
    chunk: ManifestChunkSchema,
    init: z.object({ key: z.string().min(1), bytes: z.int().min(1) }),
    codecs: z.string().min(1),
    total_chunks: z.int().min(1),
  }),
  z.object({
    ...base,
    type: z.literal("completed"),
    usage: UsageSchema,
    total_chunks: z.int().min(1),
    /** The final MP4. */
    content: z.object({ key: z.string().min(1), bytes: z.int().min(1) }),
  }),
  z.object({ ...base, type: z.literal("failed"), error: ErrorInfoSchema, retryable: z.boolean() }),
  /** The worker stopped a job the edge asked to cancel; `chunks` were committed before it did. */
  z.object({ ...base, type: z.literal("canceled"), chunks: z.int().min(0) }),
]);
export type WorkerEvent = z.infer<typeof WorkerEventSchema>;
