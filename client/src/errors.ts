import type { Problem, Video } from "./types.ts";

/**
 * Errors the client throws. API errors carry the problem+json `code` (branch on it), the HTTP
 * status and the request id; connection and timeout errors are apart from them, since the
 * server never answered. An aborted call rejects with its signal's reason instead (an
 * `AbortError` DOMException unless the caller gave another).
 */
export class ReelmeshError extends Error {
  override readonly name: string = "ReelmeshError";
}

export class APIError extends ReelmeshError {
  override readonly name: string = "APIError";
  readonly status: number;
  /** The problem's stable `code`, e.g. `video_not_found`; `http_<status>` when the body was not problem+json. */
  readonly code: string;
  /** `cf-ray` or `x-request-id` of the answer when the server sent one; null otherwise. */
  readonly requestId: string | null;
  readonly problem: Problem | null;
  readonly headers: Headers;

  constructor(status: number, problem: Problem | null, headers: Headers) {
    super(problem ? `${status} ${problem.code}: ${problem.detail}` : `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? `http_${status}`;
    this.problem = problem;
    this.headers = headers;
    this.requestId = headers.get("cf-ray") ?? headers.get("x-request-id");
  }
}

export class BadRequestError extends APIError {
  override readonly name: string = "BadRequestError";
  /** One entry per bad field (`validation_failed`). */
  get fieldErrors(): NonNullable<Problem["errors"]> {
    return this.problem?.errors ?? [];
  }
}
export class AuthenticationError extends APIError {
  override readonly name: string = "AuthenticationError";
}
export class PermissionDeniedError extends APIError {
  override readonly name: string = "PermissionDeniedError";
}
export class NotFoundError extends APIError {
  override readonly name: string = "NotFoundError";
}
export class ConflictError extends APIError {
  override readonly name: string = "ConflictError";
}
export class GoneError extends APIError {
  override readonly name: string = "GoneError";
}

/** 402: `insufficient_credits` (the account's balance) or `token_credit_cap` (an app token's cap). */
export class InsufficientCreditsError extends APIError {
  override readonly name: string = "InsufficientCreditsError";
  get price(): number | null {
    return numberMember(this.problem, "price");
  }
  get balance(): number | null {
    return numberMember(this.problem, "balance");
  }
}

/** 422 `prompt_rejected`: the prompt was flagged; nothing was queued or charged. */
export class PromptRejectedError extends APIError {
  override readonly name: string = "PromptRejectedError";
  get categories(): string[] {
    const c = this.problem?.categories;
    return Array.isArray(c) ? c.filter((x): x is string => typeof x === "string") : [];
  }
  get field(): string | null {
    return typeof this.problem?.field === "string" ? this.problem.field : null;
  }
}

export class UnprocessableEntityError extends APIError {
  override readonly name: string = "UnprocessableEntityError";
}

/** 429: `rate_limited`, `concurrency_limit` or `too_many_streams`. */
export class RateLimitError extends APIError {
  override readonly name: string = "RateLimitError";
  /** Seconds to wait, from `Retry-After`; null without one. */
  get retryAfter(): number | null {
    return retryAfterSeconds(this.headers);
  }
}

export class InternalServerError extends APIError {
  override readonly name: string = "InternalServerError";
}

/** The request never got an answer (DNS, refused, reset, dropped mid-body). */
export class APIConnectionError extends ReelmeshError {
  override readonly name: string = "APIConnectionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No answer within `timeoutMs`. */
export class APIConnectionTimeoutError extends APIConnectionError {
  override readonly name: string = "APIConnectionTimeoutError";
}

/** `videos.wait` reached its deadline before the video ended; `video` is the last state seen. */
export class WaitTimeoutError extends ReelmeshError {
  override readonly name: string = "WaitTimeoutError";
  readonly video: Video | null;
  constructor(message: string, video: Video | null) {
    super(message);
    this.video = video;
  }
}

/** The API error class for an answer's status and code. */
export function apiError(status: number, problem: Problem | null, headers: Headers): APIError {
  const code = problem?.code;
  if (status === 400) return new BadRequestError(status, problem, headers);
  if (status === 401) return new AuthenticationError(status, problem, headers);
  if (status === 402) return new InsufficientCreditsError(status, problem, headers);
  if (status === 403) return new PermissionDeniedError(status, problem, headers);
  if (status === 404) return new NotFoundError(status, problem, headers);
  if (status === 409) return new ConflictError(status, problem, headers);
  if (status === 410) return new GoneError(status, problem, headers);
  if (status === 422)
    return code === "prompt_rejected"
      ? new PromptRejectedError(status, problem, headers)
      : new UnprocessableEntityError(status, problem, headers);
  if (status === 429) return new RateLimitError(status, problem, headers);
  if (status >= 500) return new InternalServerError(status, problem, headers);
  return new APIError(status, problem, headers);
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(headers: Headers, nowMs = Date.now()): number | null {
  const value = headers.get("retry-after");
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function numberMember(problem: Problem | null, key: string): number | null {
  const v = problem?.[key];
  return typeof v === "number" ? v : null;
}
