// The generated file declares globals and exports nothing, so it cannot be imported; without the
// reference the TS 7 compiler does not find its declarations from this project (it does from edge/test).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../worker-configuration.d.ts" />
import { EdgeConfigSchema } from "./config-schema.ts";
import { rawEnv } from "./durable-calls.ts";
import type { z } from "zod";

/**
 * The edge's bindings, as `wrangler types` generates them from wrangler.jsonc
 * (edge/worker-configuration.d.ts; `npm run typecheck` fails when it is not current), and its
 * configuration: secrets (keys, HMAC secrets, AWS credentials) from `wrangler secret` in
 * production and from the generated .reelmesh/edge.env locally, all read through `edgeConfig`.
 */
export type Env = WranglerEnv & { [key: string]: unknown };

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
