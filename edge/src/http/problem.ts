import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Errors as RFC 9457 problem details. Every problem has a stable `code` (clients branch on
 * it, never on `detail`), mirrored in `type`. One place maps errors to responses.
 */
export const PROBLEM_BASE = "https://reelmesh.dev/problems/";

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** Extra members (RFC 9457 §3.2), e.g. `expired_at`. */
  readonly extensions: Record<string, unknown>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    title: string,
    detail?: string,
    opts: { errors?: FieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail ?? title);
    this.status = status;
    this.code = code;
    this.title = title;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
    this.extensions = opts.extensions ?? {};
  }
}

/** The problem document of `err` for the request in `c`. */
export function problemBody(c: Context, err: ApiError): Record<string, unknown> {
  return {
    ...err.extensions,
    type: `${PROBLEM_BASE}${err.code}`,
    title: err.title,
    status: err.status,
    detail: err.message,
    code: err.code,
    instance: new URL(c.req.url).pathname,
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

export function problemResponse(c: Context, err: ApiError): Response {
  return new Response(JSON.stringify(problemBody(c, err)), {
    status: err.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...err.headers },
  });
}
