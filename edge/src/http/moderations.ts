import { Hono } from "hono";
import { z } from "zod";
import { MAX_PROMPT_CHARS } from "../../../shared/schemas/request.ts";
import type { Env } from "../env.ts";
import { categoryScores, flaggedCategories, moderate, type ModerationResult } from "../safety/moderate.ts";
import { requireAuth, type AuthVariables } from "./auth.ts";
import { ApiError } from "./problem.ts";
import { jsonBody } from "./validation.ts";

/**
 * `POST /v1/moderations {input}` → `{flagged, categories, category_scores, matches}`: the same
 * check every create runs (safety/moderate.ts), so an app can test a prompt before spending
 * anything, and the classifier's score per category (how close a prompt came).
 */
export const moderations = new Hono<{ Bindings: Env; Variables: AuthVariables }>();

export const ModerationRequestSchema = z.strictObject({ input: z.string().max(MAX_PROMPT_CHARS * 2) });

moderations.post("/moderations", requireAuth("videos:create"), async (c) => {
  const { input } = await jsonBody(c, ModerationRequestSchema);
  return c.json({ ...moderate(input), category_scores: categoryScores(input) });
});

/** The problem a flagged prompt gets: 422, the categories, never queued or billed. */
export function promptRejected(field: string, result: ModerationResult): ApiError {
  const categories = flaggedCategories(result);
  return new ApiError(422, "prompt_rejected", "Prompt not allowed", `The ${field} was flagged: ${categories.join(", ")}.`, {
    extensions: { categories, field },
  });
}
