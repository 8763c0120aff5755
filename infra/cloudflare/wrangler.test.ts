import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ConfigError, EdgeConfigSchema, edgeConfig, type Env } from "../../edge/src/env.ts";

/**
 * The edge's deployment: every environment carries the bindings, migrations and vars the Worker
 * needs (wrangler does not inherit them), every secret it needs is documented with its
 * `wrangler secret put`, and a production edge refuses what only the local stack may do.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

interface WranglerEnv {
  name?: string;
  routes?: { pattern: string; custom_domain?: boolean }[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: unknown[];
  vars: Record<string, string>;
}
const parsed = ts.parseConfigFileTextToJson("wrangler.jsonc", read("edge/wrangler.jsonc"));
const wrangler = parsed.config as WranglerEnv & { env: Record<string, WranglerEnv> };
const DEPLOYED = ["staging", "production"];

describe("edge/wrangler.jsonc", () => {
  it("parses", () => expect(parsed.error).toBeUndefined());

  it.each(DEPLOYED)("%s repeats every Durable Object binding and migration, with its own name and route", (name) => {
    const env = wrangler.env[name]!;
    expect(env.durable_objects.bindings).toEqual(wrangler.durable_objects.bindings);
    expect(env.migrations).toEqual(wrangler.migrations);
    expect(env.name).toBe(`reelmesh-edge-${name}`);
    expect(env.routes?.[0]?.custom_domain).toBe(true);
  });

  it.each(DEPLOYED)("%s runs in production mode with https origins and no dev-only values", (name) => {
    const vars = wrangler.env[name]!.vars;
    expect(vars.REELMESH_ENV).toBe("production");
    expect(vars.PUBLIC_URL).toMatch(/^https:\/\//);
    for (const devOnly of ["REELMESH_DEV_KEY", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
      expect(vars).not.toHaveProperty(devOnly);
  });

  it.each(DEPLOYED)("%s: every setting the edge requires is a var there or a documented `wrangler secret put`", (name) => {
    const doc = read("docs/deploy-cloudflare.md");
    const vars = wrangler.env[name]!.vars;
    const required = Object.entries(EdgeConfigSchema.shape)
      .filter(([, schema]) => !schema.safeParse(undefined).success)
      .map(([key]) => key);
    expect(required.length).toBeGreaterThan(5);
    for (const key of required) {
      if (key in vars) continue;
      expect(doc, `docs/deploy-cloudflare.md documents ${key}`).toContain(`wrangler secret put ${key} --env ${name}`);
    }
  });
});

describe("a production edge refuses dev-only settings", () => {
  const base = {
    REELMESH_ENV: "production",
    REELMESH_TOKEN_SECRET: "t".repeat(32),
    REELMESH_EVENTS_SECRET: "e".repeat(32),
    REELMESH_PLAYBACK_SECRET: "p".repeat(32),
    REELMESH_WEBHOOK_SECRET: "w".repeat(32),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
    SQS_QUEUE_URL_STANDARD: "https://sqs.us-east-1.amazonaws.com/123456789012/reelmesh-jobs-standard",
    S3_BUCKET: "reelmesh-outputs",
  };
  // A fresh object each time: edgeConfig caches per env object.
  const config = (extra: Record<string, string>) => edgeConfig({ ...base, ...extra } as unknown as Env);

  it("accepts a production configuration", () => expect(config({}).REELMESH_ENV).toBe("production"));

  it.each([
    ["REELMESH_DEV_KEY", "rm_dev_a_key_that_is_long_enough"],
    ["AWS_ENDPOINT_URL", "http://127.0.0.1:4566"],
    ["SQS_QUEUE_URL_STANDARD", "http://127.0.0.1:4566/000000000000/reelmesh-jobs-standard"],
    ["PUBLIC_URL", "http://api.example.com"],
  ])("refuses %s=%s", (key, value) => {
    expect(() => config({ [key]: value })).toThrow(ConfigError);
    expect(() => config({ [key]: value })).toThrow(new RegExp(`${key}: .*dev only`));
  });

  it("lets the local stack (REELMESH_ENV=development) use them", () => {
    const dev = config({
      REELMESH_ENV: "development",
      REELMESH_DEV_KEY: "rm_dev_a_key_that_is_long_enough",
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
    });
    expect(dev.REELMESH_DEV_KEY).toBeDefined();
  });
});
