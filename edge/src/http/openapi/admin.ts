import { z } from "zod";
import { TierSchema } from "../../../../shared/schemas/request.ts";
import { AccountLimitsSchema, COST_DAY_PATTERN } from "../admin.ts";
import {
  dateTime,
  header,
  IDEMPOTENCY_KEY,
  IDEMPOTENCY_PROBLEMS,
  json,
  type Json,
  NO_STORE,
  P400_BODY_OR_KEY,
  problem,
  ref,
  REPLAYED,
} from "./common.ts";

/** The admin API's part of the document (http/admin.ts, mounted at /admin): response schemas written to follow its answers (edge/test/openapi-admin.test.ts checks them), paths, tag, parameter and security scheme. */

/** `Account` in accounts/object.ts, as the directory stores it. */
export const AccountSchema = z.object({
  id: z.string().describe("`acct_…`"),
  name: z.string(),
  created_at: dateTime(),
  limits: AccountLimitsSchema.nullable().describe("Overrides of the default rate and concurrency limits; null: the defaults."),
});

const balance = () => z.int().describe("Credits available now (the account's ledger).");

/** `GET /admin/accounts/{id}`. */
export const AccountDetailSchema = AccountSchema.extend({ balance: balance() });

/** `POST /admin/accounts` (201): the account, its balance and its first API key, shown only here. */
export const CreatedAccountSchema = AccountSchema.extend({
  balance: balance(),
  api_key: z.string().describe("`rm_live_…`: shown once, stored only hashed."),
  key_id: z.string().describe("`key_…`"),
  key_prefix: z.string().describe("First characters of the key, as keys are listed."),
});

export const AccountListSchema = z.object({ data: z.array(AccountSchema) });

/** `KeyRecord` in accounts/object.ts: a key as listed (never the key itself). */
export const ApiKeySchema = z.object({
  key_id: z.string().describe("`key_…`"),
  account_id: z.string(),
  prefix: z.string().describe("First characters of the key, e.g. `rm_live_AbCd`."),
  created_at: dateTime(),
  revoked_at: dateTime().nullable(),
});

/** `POST /admin/accounts/{id}/keys` (201). */
export const CreatedApiKeySchema = ApiKeySchema.extend({ api_key: z.string().describe("`rm_live_…`: shown once, stored only hashed.") });

export const ApiKeyListSchema = z.object({ data: z.array(ApiKeySchema) });

/** `POST /admin/accounts/{id}/credits`. */
export const CreditsResultSchema = z.object({ id: z.string().describe("The account."), balance: balance() });

/** `CostReport` in billing/costs.ts: `GET /admin/costs`. */
export const CostReportSchema = z.object({
  from: z.string().regex(COST_DAY_PATTERN),
  to: z.string().regex(COST_DAY_PATTERN),
  prices: z
    .object({ gpu_hour_usd: z.number().min(0), credit_usd: z.number().min(0) })
    .describe("As configured (REELMESH_GPU_HOUR_USD, REELMESH_CREDIT_USD)."),
  bytes_served: z.int().min(0).describe("Bytes of media served over the period."),
  tiers: z.array(
    z.object({
      tier: TierSchema,
      jobs: z.int().min(1).describe("Finished jobs."),
      video_s: z.number().min(0).describe("Video seconds delivered."),
      gpu_s: z.number().min(0),
      encode_s: z.number().min(0),
      bytes_stored: z.int().min(0),
      revenue_usd: z.number().describe("Credits charged × credit_usd."),
      gpu_cost_usd: z.number().min(0),
      cost_per_video_second_usd: z.number().nullable().describe("Null when no video was delivered."),
      margin: z.number().max(1).nullable().describe("(revenue − GPU cost) / revenue; null without revenue."),
    }),
  ),
});

const ADMIN = [{ adminToken: [] }];
const ACCOUNT_ID = { $ref: "#/components/parameters/AccountId" };
const A401 = problem("Missing or wrong admin token (everyone is refused while none is configured)", ["unauthorized"], {
  "WWW-Authenticate": header('`Bearer realm="reelmesh-admin"`'),
});
const A404 = problem("No such account", ["account_not_found"]);

/** The admin API (http/admin.ts, mounted at /admin): the operator's token, never an account's key. */
export function adminPaths(): Json {
  return {
    "/admin/accounts": {
      post: {
        tags: ["admin"],
        operationId: "adminCreateAccount",
        summary: "Create an account and its first API key",
        description: "Initial `credits` are granted on the account's ledger. The key is in this answer only.",
        security: ADMIN,
        parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(ref("CreateAccountRequest")) },
        responses: {
          "201": {
            description: "The account, its balance and its key.",
            headers: { ...NO_STORE, ...REPLAYED },
            content: json(ref("CreatedAccount")),
          },
          "400": P400_BODY_OR_KEY,
          "401": A401,
          ...IDEMPOTENCY_PROBLEMS,
        },
      },
      get: {
        tags: ["admin"],
        operationId: "adminListAccounts",
        summary: "List accounts (without balances)",
        security: ADMIN,
        responses: { "200": { description: "Every account.", content: json(ref("AccountList")) }, "401": A401 },
      },
    },
    "/admin/accounts/{id}": {
      get: {
        tags: ["admin"],
        operationId: "adminGetAccount",
        summary: "Get an account and its balance",
        security: ADMIN,
        parameters: [ACCOUNT_ID],
        responses: { "200": { description: "The account.", content: json(ref("AccountDetail")) }, "401": A401, "404": A404 },
      },
    },
    "/admin/accounts/{id}/credits": {
      post: {
        tags: ["admin"],
        operationId: "adminAddCredits",
        summary: "Add credits to an account",
        description: "A top-up is keyed by `reference`: the same reference never counts twice (without one, every call counts).",
        security: ADMIN,
        parameters: [ACCOUNT_ID, IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(ref("AddCreditsRequest")) },
        responses: {
          "200": { description: "The balance after the top-up.", headers: REPLAYED, content: json(ref("CreditsResult")) },
          "400": P400_BODY_OR_KEY,
          "401": A401,
          "404": A404,
          ...IDEMPOTENCY_PROBLEMS,
        },
      },
    },
    "/admin/accounts/{id}/keys": {
      post: {
        tags: ["admin"],
        operationId: "adminCreateKey",
        summary: "Create another API key for an account",
        description: "No body. The key is in this answer only.",
        security: ADMIN,
        parameters: [ACCOUNT_ID, IDEMPOTENCY_KEY],
        responses: {
          "201": { description: "The key.", headers: { ...NO_STORE, ...REPLAYED }, content: json(ref("CreatedApiKey")) },
          "400": problem("Malformed Idempotency-Key", ["invalid_idempotency_key"]),
          "401": A401,
          "404": A404,
          ...IDEMPOTENCY_PROBLEMS,
        },
      },
      get: {
        tags: ["admin"],
        operationId: "adminListKeys",
        summary: "List an account's API keys (by prefix, revoked ones too)",
        security: ADMIN,
        parameters: [ACCOUNT_ID],
        responses: { "200": { description: "The account's keys.", content: json(ref("ApiKeyList")) }, "401": A401, "404": A404 },
      },
    },
    "/admin/accounts/{id}/keys/{keyId}": {
      delete: {
        tags: ["admin"],
        operationId: "adminRevokeKey",
        summary: "Revoke an API key",
        description: "Revoking again keeps the first `revoked_at`. The key stops working within REELMESH_KEY_CACHE_S (per-isolate cache).",
        security: ADMIN,
        parameters: [
          ACCOUNT_ID,
          { name: "keyId", in: "path", required: true, description: "Key id (`key_…`).", schema: { type: "string" } },
        ],
        responses: {
          "200": { description: "The revoked key.", content: json(ref("ApiKey")) },
          "401": A401,
          "404": problem("No such key in this account", ["key_not_found"]),
        },
      },
    },
    "/admin/costs": {
      get: {
        tags: ["admin"],
        operationId: "adminCosts",
        summary: "Cost per delivered video-second and margin per tier over a period",
        security: ADMIN,
        parameters: [
          {
            name: "from",
            in: "query",
            required: false,
            description: "First day (UTC), `YYYY-MM-DD`; default today.",
            schema: { type: "string", pattern: COST_DAY_PATTERN.source },
          },
          {
            name: "to",
            in: "query",
            required: false,
            description: "Last day (UTC, inclusive), `YYYY-MM-DD`; default today.",
            schema: { type: "string", pattern: COST_DAY_PATTERN.source },
          },
        ],
        responses: {
          "200": { description: "The report.", content: json(ref("CostReport")) },
          "400": problem("`from` or `to` is not a day", ["validation_failed"]),
          "401": A401,
        },
      },
    },
  };
}

export const ADMIN_TAG = { name: "admin", description: "Operator API: accounts, API keys, credits, costs. Bearer REELMESH_ADMIN_TOKEN." };

export const ADMIN_PARAMETERS = {
  AccountId: { name: "id", in: "path", required: true, description: "Account id (`acct_…`).", schema: { type: "string" } },
};

export const ADMIN_SECURITY_SCHEMES = {
  adminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "`Authorization: Bearer <REELMESH_ADMIN_TOKEN>`: the operator's token, for /admin only (`npm start` prints a dev one). API keys and app tokens are refused there.",
  },
};
