import { z } from "zod";

/**
 * The edge's settings as zod checks them (edge/src/env.ts parses them once per isolate). Kept
 * apart from the bindings so that Node tooling (infra/cloudflare/wrangler.test.ts) can read the
 * list of settings without the Workers types.
 */
export const EdgeConfigSchema = z
  .object({
    /** Dev only: an API key for a built-in dev account with free credits (the local stack). */
    REELMESH_DEV_KEY: z.string().min(16).optional(),
    /** Bearer token of the admin API; unset → the admin API refuses everyone. */
    REELMESH_ADMIN_TOKEN: z.string().min(16).optional(),
    /** Signs app tokens (POST /v1/tokens). */
    REELMESH_TOKEN_SECRET: z.string().min(16),
    /** How long an API key's verification is cached per isolate: the bound on revocation delay. */
    REELMESH_KEY_CACHE_S: z.coerce.number().int().min(0).max(3600).default(30),
    /** Default per-account limits on creates (an account may carry its own): burst, refill, running jobs. */
    REELMESH_RATE_BURST: z.coerce.number().int().min(1).default(20),
    REELMESH_RATE_PER_S: z.coerce.number().positive().default(1),
    REELMESH_MAX_RUNNING_JOBS: z.coerce.number().int().min(1).default(10),
    /** Credits granted once to the dev account (local stack and tests only: it exists only with REELMESH_DEV_KEY). */
    REELMESH_DEV_CREDITS: z.coerce.number().int().min(0).default(1_000_000),
    /** What an hour of the GPU costs the operator, and what a credit is sold for (GET /admin/costs). */
    REELMESH_GPU_HOUR_USD: z.coerce.number().min(0).default(1.2),
    REELMESH_CREDIT_USD: z.coerce.number().min(0).default(0.001),
    REELMESH_EVENTS_SECRET: z.string().min(16),
    REELMESH_PLAYBACK_SECRET: z.string().min(16),
    AWS_REGION: z.string().min(1),
    AWS_ACCESS_KEY_ID: z.string().min(1),
    AWS_SECRET_ACCESS_KEY: z.string().min(1),
    AWS_ENDPOINT_URL: z.url().optional(),
    SQS_QUEUE_URL_STANDARD: z.url(),
    SQS_QUEUE_URL_ECONOMY: z.url().optional(),
    S3_BUCKET: z.string().min(1),
    /** Public origin of this API, if it differs from the request's (e.g. behind a proxy). */
    PUBLIC_URL: z.url().optional(),
    /** `development` (the local stack) lets webhooks reach http:// and private addresses. */
    REELMESH_ENV: z.enum(["production", "development"]).default("production"),
    /** Master secret from which each account's webhook signing secret is derived. */
    REELMESH_WEBHOOK_SECRET: z.string().min(16),
    /** How long outputs are kept after a job ends; then they are deleted and the job answers 410. */
    REELMESH_RETENTION_S: z.coerce
      .number()
      .int()
      .min(1)
      .default(7 * 24 * 3600),
    /**
     * A job not finished this long after it was accepted (its message dead-lettered, its worker
     * gone) fails as `expired` and its reservation is refunded.
     */
    REELMESH_JOB_TIMEOUT_S: z.coerce
      .number()
      .int()
      .min(1)
      .default(6 * 3600),
    /**
     * A running job belongs to one worker run (the lease granted in the answer to `started`), renewed
     * by each of its events; silent this long, it may be taken over by another delivery of the job.
     */
    REELMESH_LEASE_S: z.coerce.number().int().min(1).max(3600).default(8),
    /**
     * A job with no event for this long is reconciled from its S3 manifest, on a read and by its
     * alarm (lost events repaired: chunks, and a completion the worker could not deliver).
     */
    REELMESH_RECONCILE_S: z.coerce.number().int().min(1).max(3600).default(20),
  })
  .superRefine((c, ctx) => {
    if (c.REELMESH_ENV !== "production") return;
    // What only the local stack may do: a production edge refuses to start with it.
    const devOnly = (path: string, why: string) => ctx.addIssue({ code: "custom", path: [path], message: `${why} (dev only)` });
    if (c.REELMESH_DEV_KEY !== undefined) devOnly("REELMESH_DEV_KEY", "a dev account with free credits");
    if (c.AWS_ENDPOINT_URL !== undefined && !c.AWS_ENDPOINT_URL.startsWith("https://"))
      devOnly("AWS_ENDPOINT_URL", "an http:// AWS endpoint (the emulator)");
    for (const key of ["SQS_QUEUE_URL_STANDARD", "SQS_QUEUE_URL_ECONOMY", "PUBLIC_URL"] as const) {
      const url = c[key];
      if (url !== undefined && !url.startsWith("https://")) devOnly(key, "an http:// URL");
    }
  });
