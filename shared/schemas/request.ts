import { z } from "zod";
import { ASPECT_RATIOS, DEFAULT_MODEL, MODEL_IDS, SCHEDULERS } from "../models.ts";

/** Service tiers (docs/architecture.md, tiers). Each has its own SQS queue. */
const TIERS = ["standard", "economy"] as const;
export const TierSchema = z.enum(TIERS);
export type Tier = z.infer<typeof TierSchema>;

export const MAX_PROMPT_CHARS = 2000;
export const MAX_SEED = 2 ** 32 - 1;

/**
 * Body of `POST /v1/videos`. Unknown fields are rejected (strict) so a typo such as
 * `duration` instead of `duration_s` is a clear 400, not a silently ignored field.
 */
export const CreateVideoRequestSchema = z.strictObject({
  prompt: z.string().trim().min(1).max(MAX_PROMPT_CHARS),
  negative_prompt: z.string().trim().max(MAX_PROMPT_CHARS).optional(),
  model: z.enum(MODEL_IDS).default(DEFAULT_MODEL),
  duration_s: z.int().min(1).max(60).default(4),
  aspect_ratio: z.enum(ASPECT_RATIOS).default("9:16"),
  resolution: z.string().max(16).optional(),
  seed: z.int().min(0).max(MAX_SEED).optional(),
  steps: z.int().min(1).max(200).optional(),
  guidance: z.number().min(0).max(30).optional(),
  /** Sampler; default: the model's own. */
  scheduler: z.enum(SCHEDULERS).optional(),
  tier: TierSchema.default("standard"),
  /**
   * `auto`: with a `seed`, an identical earlier result is returned at once (`cache: "hit"`)
   * and an identical job still running is joined (`cache: "joined"`); `none` always runs.
   */
  cache: z.enum(["auto", "none"]).default("auto"),
  /** Only quote the price: nothing is created, queued or charged. */
  dry_run: z.boolean().default(false),
  webhook_url: z.url().max(2048).optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
});
export type CreateVideoRequest = z.infer<typeof CreateVideoRequestSchema>;

const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "canceled"] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;
