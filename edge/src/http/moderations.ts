import { Hono } from "hono";
import { z } from "zod";
import { MAX_PROMPT_CHARS } from "../../../shared/schemas/request.ts";
import type { Env } from "../env.ts";
import { categoryScores, flaggedCategories, moderate, type ModerationResult } from "../safety/moderate.ts";
import { requireAuth, type AuthVariables } from "./auth.ts";
import { rateLimitHeaders } from "../limits/headers.ts";
import { ApiError } from "./problem.ts";
import { jsonBody } from "./validation.ts";

/**
 * `POST /v1/moderations {input}` → `{flagged, categories, category_scores, matches}`: the same
 * check every create runs (safety/moderate.ts), so an app can test a prompt before spending
 * anything, and the classifier's score per category (how close a prompt came).
 */
export const moderations = new Hono<{ Bindings: Env; Variables: AuthVariables }>();

export const ModerationRequestSchema = z.strictObject({ input: z.string().max(MAX_PROMPT_CHARS * 2) });

/**
 * Moderation calls are bounded: each answer's per-category scores tell how close a prompt came,
 * which is a tuning oracle for evading the check. An account may ask MODERATION_LIMIT.burst at
 * once and MODERATION_LIMIT.per_s after that; one end user (an app token) a tenth of it, so a
 * phone cannot spend the account's budget. Refused: 429 with the RateLimit-* headers.
 */
const MODERATION_LIMIT = { burst: 120, per_s: 2 };

moderations.post("/moderations", requireAuth("videos:create"), async (c) => {
  const { input } = await jsonBody(c, ModerationRequestSchema);
  const who = c.get("principal");
  const share = who.subject === null ? 1 : 0.1;
  const rate = await c.env.ACCOUNT.get(c.env.ACCOUNT.idFromName(who.accountId)).take({
    capacity: MODERATION_LIMIT.burst * share,
    refillPerS: MODERATION_LIMIT.per_s * share,
    name: who.subject === null ? "moderations" : `moderations:${who.subject}`,
  });
  const headers = rateLimitHeaders(rate);
  if (!rate.allowed) {
    throw new ApiError(429, "rate_limited", "Too many moderation calls", `Retry after ${rate.retryAfterS} s.`, { headers });
  }
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json({ ...moderate(input), category_scores: categoryScores(input) });
});

/** The problem a flagged prompt gets: 422, the categories, never queued or billed. */
export function promptRejected(field: string, result: ModerationResult): ApiError {
  const categories = flaggedCategories(result);
  return new ApiError(422, "prompt_rejected", "Prompt not allowed", `The ${field} was flagged: ${categories.join(", ")}.`, {
    extensions: { categories, field },
  });
}
