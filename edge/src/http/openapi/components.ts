import { z } from "zod";
import { ErrorInfoSchema, UsageSchema } from "../../../../shared/schemas/manifest.ts";
import { CreateVideoRequestSchema } from "../../../../shared/schemas/request.ts";
import { AccountLimitsSchema, AddCreditsRequestSchema, CreateAccountRequestSchema } from "../admin.ts";
import { ModerationRequestSchema } from "../moderations.ts";
import { TokenRequestSchema, TokenResponseSchema } from "../tokens.ts";
import {
  AccountDetailSchema,
  AccountListSchema,
  AccountSchema,
  ApiKeyListSchema,
  ApiKeySchema,
  CostReportSchema,
  CreatedAccountSchema,
  CreatedApiKeySchema,
  CreditsResultSchema,
} from "./admin.ts";
import { DateTimeSchema, FieldErrorSchema, type Json, ProblemSchema } from "./common.ts";
import {
  HealthSchema,
  ModerationMatchSchema,
  ModerationResultSchema,
  QuoteSchema,
  VideoEventSchema,
  VideoListSchema,
  VideoSchema,
  VideoStatusSchema,
  WebhookEventSchema,
  WebhookSecretSchema,
  WebhookVideoSchema,
} from "./public.ts";

/** The document's `components.schemas`: which zod schemas become components, under which names (what `ref` may point to). */

/** Every schema that becomes a component, by name. */
const COMPONENTS = {
  CreateVideoRequest: CreateVideoRequestSchema,
  Video: VideoSchema,
  VideoList: VideoListSchema,
  Quote: QuoteSchema,
  VideoStatus: VideoStatusSchema,
  Usage: UsageSchema,
  ErrorInfo: ErrorInfoSchema,
  Problem: ProblemSchema,
  FieldError: FieldErrorSchema,
  VideoEvent: VideoEventSchema,
  ModerationRequest: ModerationRequestSchema,
  TokenRequest: TokenRequestSchema,
  TokenResponse: TokenResponseSchema,
  ModerationResult: ModerationResultSchema,
  ModerationMatch: ModerationMatchSchema,
  WebhookSecret: WebhookSecretSchema,
  WebhookEvent: WebhookEventSchema,
  WebhookVideo: WebhookVideoSchema,
  Health: HealthSchema,
  DateTime: DateTimeSchema,
  CreateAccountRequest: CreateAccountRequestSchema,
  AddCreditsRequest: AddCreditsRequestSchema,
  AccountLimits: AccountLimitsSchema,
  Account: AccountSchema,
  AccountDetail: AccountDetailSchema,
  CreatedAccount: CreatedAccountSchema,
  AccountList: AccountListSchema,
  ApiKey: ApiKeySchema,
  CreatedApiKey: CreatedApiKeySchema,
  ApiKeyList: ApiKeyListSchema,
  CreditsResult: CreditsResultSchema,
  CostReport: CostReportSchema,
} as const;

export type ComponentName = keyof typeof COMPONENTS;

/**
 * Component schemas: `z.toJSONSchema` (draft 2020-12, the dialect of OpenAPI 3.1; input side,
 * so defaulted fields are optional) over a registry, so a schema used inside another (Usage
 * in Video) becomes a `$ref` to its component instead of a copy.
 */
export function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: "draft-2020-12", io: "input", uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    // Inside an OpenAPI document the dialect is the document's, and a `$id` that is a fragment is not valid 2020-12.
    const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
}
