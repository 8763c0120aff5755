/** @reelmesh/client: the reelmesh API from React Native, browsers, Node ≥ 20 and Workers (docs/sdk.md). */
export { Reelmesh, type ReelmeshOptions } from "./client.ts";
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  GoneError,
  InsufficientCreditsError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  PromptRejectedError,
  RateLimitError,
  ReelmeshError,
  UnprocessableEntityError,
  WaitTimeoutError,
} from "./errors.ts";
export type { EventsOptions, StreamedEvent } from "./events.ts";
export type { Credential, FetchLike } from "./transport.ts";
export type * from "./types.ts";
export {
  VideoPage,
  VideoPagePromise,
  type CallOptions,
  type CreateOptions,
  type DownloadOptions,
  type GenerateOptions,
  type GenerateProgress,
  type WaitOptions,
} from "./videos.ts";
export {
  DEFAULT_WEBHOOK_TOLERANCE_S,
  verifyWebhook,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookHeadersInput,
  type WebhookVerificationReason,
} from "./webhooks.ts";
