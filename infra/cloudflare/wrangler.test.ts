import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { EdgeConfigSchema } from "../../edge/src/config-schema.ts";

/**
 * The edge's deployment: every environment carries the bindings, migrations and vars the Worker
 * needs (wrangler does not inherit them), and every secret it needs is documented with its
 * `wrangler secret put`. That a production edge refuses dev-only settings is tested inside
 * workerd (edge/test/config.test.ts).
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
