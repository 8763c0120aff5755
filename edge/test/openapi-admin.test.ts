import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { app as edgeApp } from "../src/app.ts";
import type { Env } from "../src/env.ts";
import { costShard } from "../src/billing/costs.ts";
import { AddCreditsRequestSchema, CreateAccountRequestSchema } from "../src/http/admin.ts";
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
  ProblemSchema,
} from "../src/http/openapi/index.ts";
import { deref, type Json, METHODS, served } from "./openapi-support.ts";
import { call, cfg } from "./support.ts";

/** The admin API as the OpenAPI document describes it: its routes, request bodies, answers and errors. */

/** Every /admin route the app serves (Hono's `routes`; middleware is method ALL), as OpenAPI path and method. */
const ADMIN_ROUTES = [
  ...new Set(
    edgeApp.routes
      .filter((r) => r.path.startsWith("/admin/") && r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
  ),
].map((route) => route.split(" ") as [string, string]);

describe("OpenAPI document: admin routes", () => {
  it("documents every /admin route the app serves, under the admin token and tag, and no other route", async () => {
    const doc = (await served()) as any;
    expect(ADMIN_ROUTES.length).toBeGreaterThanOrEqual(8);
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.tags).toContainEqual(expect.objectContaining({ name: "admin" }));
    for (const [method, path] of ADMIN_ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.security, `${method} ${path}`).toEqual([{ adminToken: [] }]);
      expect(op.tags, `${method} ${path}`).toEqual(["admin"]);
      expect(op.responses, `${method} ${path}`).toHaveProperty(["401"]);
      if (method === "post") expect(op.parameters, `${method} ${path}`).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
    }
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const m of METHODS) {
        const op = (item as any)[m];
        if (!op) continue;
        const admin = ADMIN_ROUTES.some(([method, p]) => method === m && p === path);
        expect(path.startsWith("/admin/"), `${m} ${path} documented but not served`).toBe(admin);
        expect(JSON.stringify(op.security ?? []).includes("adminToken"), `${m} ${path}`).toBe(admin);
      }
    }
  });

  it("takes the admin bodies from the handlers' schemas", async () => {
    const doc = (await served()) as any;
    const body = (path: string) => deref(doc, doc.paths[path].post.requestBody.content["application/json"].schema) as any;
    const generated = (schema: z.ZodType) => {
      const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) as Json;
      return rest;
    };
    expect(body("/admin/accounts/{id}/credits")).toEqual(generated(AddCreditsRequestSchema));
    const create = body("/admin/accounts");
    expect(create.required).toEqual(["name"]); // credits defaulted, limits optional
    expect({ ...create, properties: { ...create.properties, limits: deref(doc, create.properties.limits) } }).toEqual(
      generated(CreateAccountRequestSchema),
    );
  });
});

describe("admin response schemas follow the handlers", () => {
  const admin = (path: string, init: RequestInit = {}) => call(`/admin${path}`, { ...init, key: cfg.REELMESH_ADMIN_TOKEN! });
  const sameKeys = (value: unknown, schema: z.ZodObject) =>
    expect(Object.keys(value as Json).sort()).toEqual(Object.keys(schema.shape).sort());
  async function answer(res: Response, status: number, schema: z.ZodObject): Promise<any> {
    expect(res.status, await res.clone().text()).toBe(status);
    const body = await res.json();
    sameKeys(body, schema);
    expect(schema.safeParse(body).error).toBeUndefined();
    return body;
  }

  it("accounts, credits, keys and costs answer as documented", async () => {
    const limits = { burst: 5, per_s: 1, max_running_jobs: 2 };
    const acct = await answer(
      await admin("/accounts", { method: "POST", body: JSON.stringify({ name: "openapi", credits: 10, limits }) }),
      201,
      CreatedAccountSchema,
    );
    expect(acct).toMatchObject({ limits, balance: 10 });
    expect(await answer(await admin(`/accounts/${acct.id}`), 200, AccountDetailSchema)).toMatchObject({ id: acct.id, balance: 10 });
    const accounts = await answer(await admin("/accounts"), 200, AccountListSchema);
    expect(accounts.data.length).toBeGreaterThan(0);
    for (const a of accounts.data) sameKeys(a, AccountSchema);
    expect(
      await answer(
        await admin(`/accounts/${acct.id}/credits`, { method: "POST", body: JSON.stringify({ amount: 5 }) }),
        200,
        CreditsResultSchema,
      ),
    ).toEqual({ id: acct.id, balance: 15 });
    const key = await answer(await admin(`/accounts/${acct.id}/keys`, { method: "POST" }), 201, CreatedApiKeySchema);
    const keys = await answer(await admin(`/accounts/${acct.id}/keys`), 200, ApiKeyListSchema);
    expect(keys.data).toHaveLength(2);
    for (const k of keys.data) sameKeys(k, ApiKeySchema);
    expect(
      (await answer(await admin(`/accounts/${acct.id}/keys/${key.key_id}`, { method: "DELETE" }), 200, ApiKeySchema)).revoked_at,
    ).not.toBeNull();

    // A day of its own, so the report has a tier row and other tests' totals are untouched.
    const day = "2000-01-01";
    await costShard(env as unknown as Env, "vid_openapi_cost_row").record({
      job_id: "vid_openapi_cost_row",
      account_id: acct.id,
      tier: "standard",
      day,
      charged: 4,
      gpu_s: 2,
      encode_s: 0.5,
      bytes_stored: 1000,
      video_s: 4,
      ran_on_gpu: true,
    });
    const report = await answer(await admin(`/costs?from=${day}&to=${day}`), 200, CostReportSchema);
    expect(report.tiers).toHaveLength(1);
    sameKeys(report.tiers[0], CostReportSchema.shape.tiers.element);
  });

  it("errors are problems the document lists, with their codes", async () => {
    const doc = (await served()) as any;
    const cases: [Promise<Response>, string, string][] = [
      [call("/admin/accounts", { key: null }), "get", "/admin/accounts"],
      [admin("/accounts", { method: "POST", body: JSON.stringify({ name: "" }) }), "post", "/admin/accounts"],
      [admin("/accounts/acct_missing"), "get", "/admin/accounts/{id}"],
      [
        admin("/accounts/acct_missing/credits", { method: "POST", body: JSON.stringify({ amount: 1 }) }),
        "post",
        "/admin/accounts/{id}/credits",
      ],
      [admin("/accounts/acct_missing/keys/key_missing", { method: "DELETE" }), "delete", "/admin/accounts/{id}/keys/{keyId}"],
      [admin("/costs?from=yesterday"), "get", "/admin/costs"],
    ];
    for (const [pending, method, path] of cases) {
      const res = await pending;
      const problem = await res.json<{ code: string }>();
      expect(ProblemSchema.safeParse(problem).error).toBeUndefined();
      expect(doc.paths[path][method].responses[String(res.status)]?.description, `${method} ${path} ${res.status}`).toContain(
        `\`${problem.code}\``,
      );
    }
  });
});
