import type { z } from "zod";
import type { UsageSummary } from "../../edge/src/billing/types.ts";
import type {
  ModerationResultSchema,
  QuoteSchema,
  VideoEventSchema,
  VideoListSchema,
  VideoSchema,
  WebhookEventSchema,
  WebhookSecretSchema,
} from "../../edge/src/http/openapi/public.ts";
import type { ProblemSchema } from "../../edge/src/http/openapi/common.ts";
import type { TokenRequestSchema, TokenResponseSchema } from "../../edge/src/http/tokens.ts";
import type { AspectRatio as SharedAspectRatio, ModelId as SharedModelId, SchedulerName } from "../../shared/models.ts";
import type { CreateVideoRequestSchema, JobStatus, Tier as SharedTier } from "../../shared/schemas/request.ts";
import type * as Sdk from "../src/types.ts";

/**
 * A type-level test, run by `npm run typecheck`: every type the SDK publishes is equal to the
 * type inferred from the zod schema the edge validates a request with or answers from (the
 * shared/ schemas, and the response schemas of edge/src/http/openapi/ that mirror the handlers
 * and are checked against real answers in edge/test/openapi.test.ts). A field added, removed or
 * retyped on either side fails the compile here.
 */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Mutual assignability, for shapes whose spelling differs (intersections, index signatures). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const holds = <T extends true>(): T => true as T;

holds<Equals<Sdk.VideoStatus, JobStatus>>();
holds<Equals<Sdk.Tier, SharedTier>>();
holds<Equals<Sdk.AspectRatio, SharedAspectRatio>>();
holds<Equals<Sdk.Scheduler, SchedulerName>>();
holds<Equals<Sdk.ModelId, SharedModelId>>();
holds<Same<Sdk.CreateVideoParams, Omit<z.input<typeof CreateVideoRequestSchema>, "dry_run">>>();
holds<Same<Sdk.Video, z.output<typeof VideoSchema>>>();
holds<Same<Sdk.Quote, z.output<typeof QuoteSchema>>>();
holds<Same<Sdk.VideoEvent, z.output<typeof VideoEventSchema>>>();
holds<Same<Sdk.ModerationResult, z.output<typeof ModerationResultSchema>>>();
holds<Same<Sdk.CreateTokenParams, z.input<typeof TokenRequestSchema>>>();
holds<Same<Sdk.AppToken, z.output<typeof TokenResponseSchema>>>();
holds<Same<Sdk.WebhookSecret, z.output<typeof WebhookSecretSchema>>>();
holds<Same<Sdk.WebhookEvent, z.output<typeof WebhookEventSchema>>>();
holds<Same<Sdk.Problem, z.output<typeof ProblemSchema>>>();
// GET /v1/usage is the ledger's summary under the caller's names (http/usage.ts); no zod schema describes it.
holds<Same<Omit<Sdk.Usage, "object" | "account" | "subject" | "balance">, Omit<UsageSummary, "balance">>>();
holds<Equals<Sdk.Usage["balance"], UsageSummary["balance"] | undefined>>();
holds<Same<Sdk.VideoList, z.output<typeof VideoListSchema>>>();
