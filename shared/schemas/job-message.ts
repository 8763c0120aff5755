import { z } from "zod";
import { MODEL_IDS, SCHEDULERS } from "../models.ts";
import { MAX_SEED, TierSchema } from "./request.ts";

/**
 * The SQS message the edge sends and a GPU function consumes. It is self-contained: the
 * worker needs nothing else to produce the clip and report on it. `v` lets a worker refuse
 * a message format it does not know instead of misreading it.
 */
export const JobMessageSchema = z.object({
  v: z.literal(1),
  job_id: z.string().min(1).max(64),
  account_id: z.string().min(1).max(64),
  model: z.enum(MODEL_IDS),
  prompt: z.string().min(1),
  negative_prompt: z.string().default(""),
  seed: z.int().min(0).max(MAX_SEED),
  steps: z.int().min(1),
  guidance: z.number().min(0),
  scheduler: z.enum(SCHEDULERS).optional(),
  width: z.int().min(16),
  height: z.int().min(16),
  fps: z.int().min(1),
  /** Video frames per chunk (= per HLS segment). */
  chunk_frames: z.int().min(1),
  num_chunks: z.int().min(1),
  tier: TierSchema,
  output: z.object({ bucket: z.string().min(1), prefix: z.string().min(1) }),
  /** Where the worker posts its signed progress events. */
  events_url: z.url(),
  enqueued_at: z.iso.datetime(),
});
export type JobMessage = z.infer<typeof JobMessageSchema>;
