import {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InsufficientCreditsError,
  PermissionDeniedError,
  PromptRejectedError,
  RateLimitError,
  WaitTimeoutError,
} from "../src/index.ts";

/** The CLI's exit codes (docs/cli.md): one per thing a script would handle differently. */
export const EXIT = {
  ok: 0,
  /** Anything else: the server or the connection failed. */
  error: 1,
  /** Bad command line, or a request the API refused as invalid (400). */
  usage: 2,
  /** No credential, or one the API refused (401, 403). */
  auth: 3,
  /** Not enough credits (402) or over a rate or concurrency limit (429). */
  credits: 4,
  /** The prompt was flagged (422 prompt_rejected; `moderate` when flagged). */
  rejected: 5,
  /** The video ended failed or canceled. */
  failed: 6,
  /** No end within --timeout (the job is canceled), or no answer from the API. */
  timeout: 7,
  /** Ctrl-C (the job is canceled unless --detach). */
  interrupted: 130,
} as const;

export class UsageError extends Error {}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof BadRequestError) return EXIT.usage;
  if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) return EXIT.auth;
  if (err instanceof InsufficientCreditsError || err instanceof RateLimitError) return EXIT.credits;
  if (err instanceof PromptRejectedError) return EXIT.rejected;
  if (err instanceof WaitTimeoutError || err instanceof APIConnectionTimeoutError) return EXIT.timeout;
  return EXIT.error;
}
