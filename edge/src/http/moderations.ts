import { Hono } from "hono";
import { z } from "zod";
import { MAX_PROMPT_CHARS } from "../../../shared/schemas/request.ts";
import type { Env } from "../env.ts";
import { flaggedCategories, moderate, type ModerationResult } from "../safety/moderate.ts";
import { requireAuth, type AuthVariables } from "./auth.ts";
import { ApiError } from "./problem.ts";
import { fieldErrors } from "./validation.ts";

/**
 * `POST /v1/moderations {input}` → `{flagged, categories, matches}`: the same check every
 * create runs (safety/moderate.ts), so an app can test a prompt before spending anything.
 */
export const moderations = new Hono<{ Bindings: Env; Variables: AuthVariables }>();

const ModerationRequestSchema = z.strictObject({ input: z.string().max(MAX_PROMPT_CHARS * 2) });

moderations.post("/moderations", requireAuth("videos:create"), async (c) => {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new ApiError(400, "invalid_json", "Body is not valid JSON", "The request body could not be parsed as JSON.");
  }
  const parsed = ModerationRequestSchema.safeParse(json);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    throw new ApiError(400, "validation_failed", "Invalid request body", errors.map((e) => `${e.field}: ${e.message}`).join("; "), { errors });
  }
  return c.json(moderate(parsed.data.input));
});

/** The problem a flagged prompt gets: 422, the categories, never queued or billed. */
export function promptRejected(field: string, result: ModerationResult): ApiError {
  const categories = flaggedCategories(result);
  return new ApiError(422, "prompt_rejected", "Prompt not allowed", `The ${field} was flagged: ${categories.join(", ")}.`, {
    extensions: { categories, field },
  });
}
