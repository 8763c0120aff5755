import type { z } from "zod";
import { ApiError, type FieldError } from "./problem.ts";

/** zod issues → the `errors` member of a 400 problem: which field, which rule, in words. */
function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const unknown = issue.code === "unrecognized_keys" ? issue.keys : null;
    const field = unknown ? unknown.join(",") : issue.path.join(".") || "(body)";
    return {
      field,
      code: unknown ? "unknown_field" : issue.code,
      message: unknown ? `unknown field${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}` : issue.message,
    };
  });
}

/** The 400 problem for a body that failed its schema, listing every bad field. */
export function invalidBody(error: z.ZodError, title = "Invalid request body"): ApiError {
  const errors = fieldErrors(error);
  return new ApiError(400, "validation_failed", title, errors.map((e) => `${e.field}: ${e.message}`).join("; "), { errors });
}

export const invalidJson = () =>
  new ApiError(400, "invalid_json", "Body is not valid JSON", "The request body could not be parsed as JSON.");

/** Parses a JSON request body against `schema`, or throws the matching 400 problem. */
export async function jsonBody<T extends z.ZodType>(c: { req: { json(): Promise<unknown> } }, schema: T): Promise<z.infer<T>> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw invalidJson();
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidBody(parsed.error);
  return parsed.data;
}
