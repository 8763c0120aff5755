import { z } from "zod";
import { PROBLEM_BASE } from "../problem.ts";
import type { ComponentName } from "./components.ts";

/** What both parts of the document share: the DateTime and Problem schemas, `ref` to a component, response and header helpers, and the Idempotency-Key parameter with the answers it adds. */

/** One instance, so that it is one component (`DateTime`) rather than its long pattern inlined everywhere. */
export const DateTimeSchema = z.iso.datetime().describe("ISO 8601 UTC date-time, e.g. `2025-01-31T12:00:00.000Z`.");
export const dateTime = () => DateTimeSchema;
export const url = () => z.url();

export const FieldErrorSchema = z.object({
  field: z.string().describe("The field at fault (dotted path), `(body)` for the whole body, or the unknown fields, comma-separated."),
  code: z.string().describe("Which rule failed: a zod issue code, `unknown_field`, `unsupported`, `too_big`, `not_allowed`."),
  message: z.string(),
});

/** RFC 9457 problem details (http/problem.ts); extension members (e.g. `expired_at`, `categories`) may follow. */
export const ProblemSchema = z
  .looseObject({
    type: z.url().describe(`\`${PROBLEM_BASE}<code>\``),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    code: z.string().describe("Stable machine-readable code: branch on this, never on `detail`."),
    instance: z.string().describe("The request path."),
    errors: z.array(FieldErrorSchema).optional().describe("Present on validation failures (400)."),
  })
  .describe(
    "RFC 9457 problem details, served as application/problem+json. Extension members may be present (e.g. `expired_at` on 410, `categories` and `field` on 422).",
  );

export type Json = Record<string, unknown>;
export const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });

export const json = (schema: Json) => ({ "application/json": { schema } });
export const header = (description: string, schema: Json = { type: "string" }) => ({ description, schema });
export const RETRY_AFTER = { "Retry-After": header("Seconds to wait before retrying.", { type: "integer", minimum: 0 }) };

/** An error response: problem+json, with the stable codes it can carry. */
export function problem(description: string, codes: string[], headers?: Json): Json {
  return {
    description: `${description} (code: ${codes.map((c) => `\`${c}\``).join(", ")})`,
    ...(headers ? { headers } : {}),
    content: { "application/problem+json": { schema: ref("Problem") } },
  };
}

export const NO_STORE = { "Cache-Control": header("`no-store`: the response carries a secret.") };

/** The POSTs behind the idempotency middleware (idempotency/middleware.ts, http/idempotent.ts). */
export const IDEMPOTENCY_KEY = { $ref: "#/components/parameters/IdempotencyKey" };
export const REPLAYED = {
  "Idempotent-Replayed": header(
    "`true` when this is the stored answer to an earlier request with the same Idempotency-Key (not run again).",
    { type: "string", const: "true" },
  ),
};
export const P400_BODY_OR_KEY = problem("Invalid body (`errors` lists each field), or a malformed Idempotency-Key", [
  "validation_failed",
  "invalid_json",
  "invalid_idempotency_key",
]);
/** What an Idempotency-Key can add to a POST's answers. */
export const IDEMPOTENCY_PROBLEMS = {
  "409": problem("A request with this Idempotency-Key is still running", ["idempotency_in_progress"], RETRY_AFTER),
  "422": problem("This Idempotency-Key was used with a different request", ["idempotency_key_reused"]),
};

/** The `IdempotencyKey` component that IDEMPOTENCY_KEY refers to. */
export const IDEMPOTENCY_KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "1 to 255 printable ASCII characters, per account. For 24 h, a retry with the same key and request gets the stored answer, errors included (any but a 5xx or 429), without running again and with `Idempotent-Replayed: true`; the same key with another request gets 422; a retry while the first is still running waits up to 2 s for its answer, then gets 409.",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};
