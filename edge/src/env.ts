import { EdgeConfigSchema } from "./config-schema.ts";
import { rawEnv } from "./durable-calls.ts";
import type { z } from "zod";

/**
 * The edge's bindings and configuration. Secrets (keys, HMAC secrets, AWS credentials) come
 * from `wrangler secret` in production and from the generated .reelmesh/edge.env locally.
 */
export interface Env {
  JOBS: DurableObjectNamespace<import("./jobs/job-object.ts").JobObject>;
  ACCOUNTS: DurableObjectNamespace<import("./accounts/object.ts").AccountsObject>;
  KEYS: DurableObjectNamespace<import("./accounts/keys.ts").KeysObject>;
  IDEMPOTENCY: DurableObjectNamespace<import("./idempotency/object.ts").IdempotencyObject>;
  ACCOUNT: DurableObjectNamespace<import("./accounts/account-object.ts").AccountObject>;
  COSTS: DurableObjectNamespace<import("./billing/costs.ts").CostsObject>;
  [key: string]: unknown;
}

export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;

/** Parsed once per isolate; a misconfigured edge fails closed with 503, never open. */
let cached: { source: Env; config: EdgeConfig } | undefined;

export function edgeConfig(counted: Env): EdgeConfig {
  const env = rawEnv(counted);
  if (cached?.source === env) return cached.config;
  const parsed = EdgeConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => (i.code === "custom" ? `${i.path.join(".")}: ${i.message}` : i.path.join("."))).join(", "),
    );
  }
  cached = { source: env, config: parsed.data };
  return parsed.data;
}

export class ConfigError extends Error {
  constructor(fields: string) {
    super(`edge configuration is missing or invalid: ${fields}`);
  }
}
