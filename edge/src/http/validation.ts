import type { z } from "zod";
import type { FieldError } from "./problem.ts";

/** zod issues → the `errors` member of a 400 problem: which field, which rule, in words. */
export function fieldErrors(error: z.ZodError): FieldError[] {
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
