import { env, runInDurableObject } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CreateVideoRequestSchema } from "../../shared/schemas/request.ts";
import { app as edgeApp } from "../src/app.ts";
import type { Env } from "../src/env.ts";
import { openApiDocument, ProblemSchema, ModerationResultSchema, QuoteSchema, VideoSchema } from "../src/http/openapi/index.ts";
import { Slots } from "../src/limits/slots.ts";
import { ApiError, problemResponse } from "../src/http/problem.ts";
import { jobView } from "../src/http/videos.ts";
import type { JobRecord } from "../src/jobs/record.ts";
import { CATEGORIES } from "../src/safety/moderate.ts";
import { app, deref, isObject, type Json, METHODS, pointer, served } from "./openapi-support.ts";
import { call, cfg } from "./support.ts";

/** The OpenAPI document's structure, and the public API as it describes it (the admin routes: openapi-admin.test.ts). */

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) collectRefs(v, out);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

/**
 * A compact structural check of an OpenAPI 3.1 document: the required fields of the
 * document, Info, Paths / Path Item / Operation / Responses / Response, Parameter, Request
 * Body, Security Scheme and Security Requirement objects. Returns the problems found.
 */
function checkOpenApi31(doc: unknown): string[] {
  const errs: string[] = [];
  const err = (where: string, what: string) => errs.push(`${where}: ${what}`);
  if (!isObject(doc)) return ["document is not an object"];
  if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) err("openapi", "must be 3.1.x");
  const info = doc.info;
  if (!isObject(info)) err("info", "missing");
  else {
    if (typeof info.title !== "string" || !info.title) err("info.title", "missing");
    if (typeof info.version !== "string" || !info.version) err("info.version", "missing");
  }
  if (!("paths" in doc) && !("components" in doc) && !("webhooks" in doc)) err("document", "needs paths, components or webhooks");
  if (doc.servers !== undefined) {
    if (!Array.isArray(doc.servers)) err("servers", "must be an array");
    else doc.servers.forEach((s, i) => (!isObject(s) || typeof s.url !== "string") && err(`servers[${i}]`, "needs url"));
  }
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  for (const [name, raw] of Object.entries(schemes)) {
    const s = deref(doc, raw);
    const at = `components.securitySchemes.${name}`;
    if (!isObject(s)) {
      err(at, "not an object");
      continue;
    }
    if (!["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"].includes(s.type as string)) err(at, `bad type ${String(s.type)}`);
    if (s.type === "apiKey" && (typeof s.name !== "string" || !["query", "header", "cookie"].includes(s.in as string)))
      err(at, "apiKey needs name and in");
    if (s.type === "http" && typeof s.scheme !== "string") err(at, "http needs scheme");
  }
  for (const [name, s] of Object.entries(isObject(components.schemas) ? components.schemas : {})) {
    if (!isObject(s) && typeof s !== "boolean") err(`components.schemas.${name}`, "not a schema");
  }
  const checkSecurity = (at: string, sec: unknown) => {
    if (sec === undefined) return;
    if (!Array.isArray(sec)) return err(at, "security must be an array");
    for (const req of sec) {
      if (!isObject(req)) {
        err(at, "security requirement not an object");
        continue;
      }
      for (const [name, scopes] of Object.entries(req)) {
        if (!(name in schemes)) err(at, `security scheme ${name} is not declared`);
        if (!Array.isArray(scopes)) err(at, `scopes of ${name} must be an array`);
      }
    }
  };
  checkSecurity("security", doc.security);
  const operationIds = new Set<string>();

  const checkPathItem = (at: string, item: unknown, template: string | null) => {
    if (!isObject(item)) return err(at, "path item is not an object");
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    const templateVars = template ? [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!) : [];
    let operations = 0;
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      operations++;
      const where = `${at}.${method}`;
      if (!isObject(op)) {
        err(where, "operation is not an object");
        continue;
      }
      if (op.operationId !== undefined) {
        if (typeof op.operationId !== "string") err(where, "operationId must be a string");
        else if (operationIds.has(op.operationId)) err(where, `duplicate operationId ${op.operationId}`);
        else operationIds.add(op.operationId);
      }
      checkSecurity(where, op.security);
      // Parameters: name, in, schema (or content); path parameters required and in the template.
      const params = [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])].map((p) => deref(doc, p));
      if (op.parameters !== undefined && !Array.isArray(op.parameters)) err(where, "parameters must be an array");
      const seen = new Set<string>();
      for (const p of params) {
        if (!isObject(p)) {
          err(where, "parameter does not resolve to an object");
          continue;
        }
        const pw = `${where} parameter ${String(p.name)}`;
        if (typeof p.name !== "string" || !p.name) err(pw, "needs name");
        if (!["path", "query", "header", "cookie"].includes(p.in as string)) err(pw, `bad in: ${String(p.in)}`);
        if (!isObject(p.schema) && !isObject(p.content)) err(pw, "needs schema (or content)");
        const key = `${String(p.in)}:${p.in === "header" ? String(p.name).toLowerCase() : String(p.name)}`;
        if (seen.has(key)) err(pw, "duplicate (name, in)");
        seen.add(key);
        if (p.in === "path") {
          if (p.required !== true) err(pw, "path parameter must be required: true");
          if (template !== null && !templateVars.includes(p.name as string)) err(pw, `not in the template ${template}`);
        }
      }
      for (const v of templateVars) {
        if (!params.some((p) => isObject(p) && p.in === "path" && p.name === v))
          err(where, `template variable {${v}} has no path parameter`);
      }
      if (op.requestBody !== undefined) {
        const body = deref(doc, op.requestBody);
        if (!isObject(body) || !isObject(body.content) || Object.keys(body.content).length === 0) err(where, "requestBody needs content");
      }
      // Responses: at least one; keys are status codes, ranges or default; each has a description.
      if (!isObject(op.responses) || Object.keys(op.responses).length === 0) {
        err(where, "needs at least one response");
        continue;
      }
      for (const [code, raw] of Object.entries(op.responses)) {
        if (code !== "default" && !/^[1-5](\d\d|XX)$/.test(code)) err(where, `bad response key ${code}`);
        const r = deref(doc, raw);
        if (!isObject(r) || typeof r.description !== "string") err(`${where} ${code}`, "response needs a description");
        else if (r.content !== undefined && !isObject(r.content)) err(`${where} ${code}`, "content must be a map");
      }
    }
    if (operations === 0 && item.$ref === undefined) err(at, "no operations");
  };

  if (doc.paths !== undefined) {
    if (!isObject(doc.paths)) err("paths", "not an object");
    else
      for (const [path, item] of Object.entries(doc.paths)) {
        if (!path.startsWith("/")) err(`paths.${path}`, "must start with /");
        checkPathItem(`paths.${path}`, item, path);
      }
  }
  if (doc.webhooks !== undefined) {
    if (!isObject(doc.webhooks)) err("webhooks", "not an object");
    else for (const [name, item] of Object.entries(doc.webhooks)) checkPathItem(`webhooks.${name}`, item, null);
  }
  return errs;
}

const EXPECTED: Record<string, string[]> = {
  "/v1/videos": ["post"],
  "/v1/videos/{id}": ["get"],
  "/v1/videos/{id}/events": ["get"],
  "/v1/videos/{id}/stream.m3u8": ["get"],
  "/v1/videos/{id}/media.m3u8": ["get"],
  "/v1/videos/{id}/init.mp4": ["get"],
  "/v1/videos/{id}/seg-{n}.m4s": ["get"],
  "/v1/videos/{id}/content": ["get"],
  "/v1/videos/{id}/poster.jpg": ["get"],
  "/v1/webhook_secret": ["get"],
  "/v1/moderations": ["post"],
  "/healthz": ["get"],
};

/** Every POST the app serves, as OpenAPI path and as a URL with a stand-in for each path parameter. */
const POST_ROUTES = [...new Set(edgeApp.routes.filter((r) => r.method === "POST").map((r) => r.path))].map((path) => ({
  path: path.replace(/:(\w+)/g, "{$1}"),
  url: path.replace(/:(\w+)/g, "$1_missing"),
}));

describe("OpenAPI document", () => {
  it("is served at /openapi.json as OpenAPI 3.1.0, the same as openApiDocument()", async () => {
    const doc = await served();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(doc.info).toMatchObject({ title: "reelmesh", version: "1.0.0" });
    expect(doc.servers).toEqual([{ url: "/" }]);
  });

  it("passes the structural OpenAPI 3.1 check", async () => {
    expect(checkOpenApi31(await served())).toEqual([]);
  });

  it("has a checker that does catch broken documents", async () => {
    const doc = structuredClone(await served()) as any;
    delete doc.info.version;
    doc.paths["/v1/videos/{id}"].get.parameters = [{ name: "id", in: "path", schema: { type: "string" } }];
    doc.paths["/v1/videos/{id}/events"].get.parameters.push({ name: "x", in: "body", schema: {} });
    doc.paths["/healthz"].get.responses = {};
    doc.paths["/v1/moderations"].post.security = [{ nope: [] }];
    const errs = checkOpenApi31(doc).join("\n");
    expect(errs).toMatch(/info\.version/);
    expect(errs).toMatch(/path parameter must be required/);
    expect(errs).toMatch(/bad in: body/);
    expect(errs).toMatch(/healthz\.get: needs at least one response/);
    expect(errs).toMatch(/security scheme nope is not declared/);
    const noParam = structuredClone(await served()) as any;
    noParam.paths["/v1/videos/{id}/seg-{n}.m4s"].get.parameters.splice(1, 1);
    expect(checkOpenApi31(noParam).join("\n")).toMatch(/\{n\} has no path parameter/);
  });

  it("resolves every $ref within the document", async () => {
    const doc = await served();
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(20);
    const broken = refs.filter((r) => pointer(doc, r) === undefined);
    expect(broken).toEqual([]);
  });

  it("documents every route with its methods", async () => {
    const paths = (await served()).paths as Json;
    for (const [path, methods] of Object.entries(EXPECTED)) {
      expect(paths, path).toHaveProperty([path]);
      const item = paths[path] as Json;
      for (const m of methods) expect(item, `${m} ${path}`).toHaveProperty([m]);
    }
    const statuses = (path: string, m: string) => Object.keys(((paths[path] as Json)[m] as Json).responses as Json);
    expect(statuses("/v1/videos", "post")).toEqual(expect.arrayContaining(["202", "400", "401", "413", "415", "503"]));
    expect(statuses("/v1/videos/{id}", "get")).toEqual(expect.arrayContaining(["200", "401", "404", "410"]));
    for (const f of ["init.mp4", "seg-{n}.m4s", "content", "poster.jpg"]) {
      expect(statuses(`/v1/videos/{id}/${f}`, "get")).toEqual(expect.arrayContaining(["200", "206"]));
    }
    const content = (path: string) => Object.keys((((paths[path] as Json).get as Json).responses as any)["200"].content);
    expect(content("/v1/videos/{id}/events")).toEqual(["text/event-stream"]);
    expect(content("/v1/videos/{id}/stream.m3u8")).toEqual(["application/vnd.apple.mpegurl"]);
  });

  it("answers every error with problem+json referencing the Problem component", async () => {
    const doc = await served();
    let count = 0;
    for (const item of Object.values(doc.paths as Json)) {
      for (const m of METHODS) {
        const op = (item as Json)[m] as Json | undefined;
        if (!op) continue;
        for (const [code, r] of Object.entries(op.responses as Json)) {
          if (Number(code) < 400) continue;
          count++;
          expect((r as any).content, code).toEqual({ "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } });
        }
      }
    }
    expect(count).toBeGreaterThan(30);
  });

  it("uses bearer auth, and the playback token on media and events routes", async () => {
    const doc = (await served()) as any;
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.playbackToken).toMatchObject({ type: "apiKey", in: "query", name: "token" });
    expect(doc.paths["/v1/videos"].post.security).toEqual([{ bearerAuth: [] }]);
    for (const f of ["events", "stream.m3u8", "media.m3u8", "init.mp4", "seg-{n}.m4s", "content", "poster.jpg"]) {
      expect(doc.paths[`/v1/videos/{id}/${f}`].get.security).toEqual([{ bearerAuth: [] }, { playbackToken: [] }]);
    }
  });

  it("lists every tag its operations use, once each, with a description", async () => {
    const doc = (await served()) as any;
    const used = new Set<string>();
    for (const items of [doc.paths, doc.webhooks]) {
      for (const item of Object.values(items)) for (const m of METHODS) for (const tag of (item as any)[m]?.tags ?? []) used.add(tag);
    }
    const listed: string[] = doc.tags.map((t: Json) => t.name);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...used].sort());
    for (const tag of doc.tags) expect(tag.description, tag.name).toMatch(/\S/);
  });

  it("takes the create body from CreateVideoRequestSchema: prompt required, strict", async () => {
    const doc = (await served()) as any;
    const bodyRef = doc.paths["/v1/videos"].post.requestBody.content["application/json"].schema;
    const schema = deref(doc, bodyRef) as any;
    expect(schema.type).toBe("object");
    expect(schema.required).toContain("prompt");
    expect(schema.required).not.toContain("duration_s"); // defaulted: optional on input
    expect(schema.additionalProperties).toBe(false);
    const { $schema: _, ...generated } = z.toJSONSchema(CreateVideoRequestSchema, { target: "draft-2020-12", io: "input" }) as Json;
    expect(schema).toEqual(generated);
  });
});

describe("response schemas follow the code", () => {
  it("Problem matches what problemResponse sends", async () => {
    const errApp = new Hono();
    errApp.get("/x", () => {
      throw new ApiError(400, "validation_failed", "Invalid request body", "prompt: too short", {
        errors: [{ field: "prompt", code: "too_small", message: "too short" }],
      });
    });
    errApp.get("/y", () => {
      throw new ApiError(410, "video_expired", "Video expired", undefined, { extensions: { expired_at: "2025-01-01T00:00:00.000Z" } });
    });
    errApp.onError((e, c) => problemResponse(c, e as ApiError));
    for (const path of ["/x", "/y"]) {
      const res = await errApp.request(path);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(ProblemSchema.safeParse(await res.json()).error).toBeUndefined();
    }
  });

  it("Video lists exactly the fields jobView returns, with the right types", async () => {
    const record = {
      id: "vid_01jabcdefghjkmnpqrstvwxyz0",
      account_id: "acct_dev",
      status: "running",
      created_at: "2025-01-01T00:00:00.000Z",
      updated_at: "2025-01-01T00:00:01.000Z",
      started_at: "2025-01-01T00:00:01.000Z",
      completed_at: null,
      model: "reelmesh-ref-tiny",
      prompt: "a red ball",
      negative_prompt: "",
      duration_s: 4,
      aspect_ratio: "9:16",
      resolution: "144p",
      width: 144,
      height: 256,
      fps: 12,
      seed: 7,
      steps: 12,
      guidance: 3,
      scheduler: "ddim",
      tier: "standard",
      chunk_frames: 12,
      total_chunks: 4,
      codecs: "avc1.42c00c",
      init: { key: "videos/x/init.mp4", bytes: 800 },
      chunks: [{ index: 0, key: "videos/x/seg-00000.m4s", frames: 12, duration_s: 1, bytes: 1000 }],
      progress: { chunk: 1, step: 3, steps: 12 },
      usage: null,
      error: null,
      worker_id: "w1",
      metadata: { user: "u1" },
      subject: null,
      token_id: null,
      content: null,
      webhook_url: null,
      base_url: "http://edge.test",
      queue_position: null,
      expires_at: null,
      expired: false,
      output_prefix: "videos/x/",
      content_address: null,
      follows: null,
      cache: "none",
      price: { credits: 40, kind: "generation" },
      cancel_requested: false,
      charged: null,
      bytes_served: 0,
    } satisfies JobRecord;
    // Whatever the test bindings lack for edgeConfig (e.g. settings still being added) is filled in.
    const bindings = { REELMESH_TOKEN_SECRET: "test-token-secret-not-for-production", ...(env as unknown as Json) } as unknown as Env;
    const viewApp = new Hono<{ Bindings: Env }>();
    viewApp.get("/", async (c) => c.json(await jobView(c as never, record)));
    const res = await viewApp.request("http://edge.test/", {}, bindings);
    expect(res.status).toBe(200);
    const view = await res.json<Json>();
    expect(Object.keys(view).sort()).toEqual(Object.keys(VideoSchema.shape).sort());
    expect(VideoSchema.safeParse(view).error).toBeUndefined();
  });

  it("ModerationResult matches what POST /v1/moderations answers", async () => {
    for (const input of ["a red ball bouncing", "how to make a bomb at home"]) {
      const res = await edgeApp.request(
        "http://edge.test/v1/moderations",
        {
          method: "POST",
          headers: { authorization: `Bearer ${String((env as unknown as Json).REELMESH_DEV_KEY)}`, "content-type": "application/json" },
          body: JSON.stringify({ input }),
        },
        env,
      );
      expect(res.status).toBe(200);
      const body = await res.json<{ category_scores: Record<string, number> }>();
      expect(ModerationResultSchema.safeParse(body).error).toBeUndefined();
      expect(Object.keys(body.category_scores).sort()).toEqual(CATEGORIES.filter((c) => c !== "sexual_minors").sort());
    }
  });
});

describe("Idempotency-Key, as the app answers it", () => {
  const IDEMPOTENCY_KEY = "#/components/parameters/IdempotencyKey";
  /** A POST with an Idempotency-Key, and the credential its path needs. */
  const post = (url: string, body: unknown, idempotencyKey: string) =>
    call(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "idempotency-key": idempotencyKey },
      key: url.startsWith("/admin/") ? cfg.REELMESH_ADMIN_TOKEN! : undefined,
    });
  const newKey = () => `openapi-${crypto.randomUUID()}`;

  it("is declared by exactly the POSTs that replay, with the answers it adds", async () => {
    const doc = (await served()) as any;
    const idempotent: string[] = [];
    for (const { path, url } of POST_ROUTES) {
      // Every answer but a 5xx or 429 is stored, a refusal too: an empty body tells, whatever the route takes.
      const key = newKey();
      const first = await post(url, {}, key);
      const again = await post(url, {}, key);
      const op = doc.paths[path]?.post;
      const declared = (op?.parameters ?? []).some((p: Json) => p.$ref === IDEMPOTENCY_KEY);
      if (again.headers.get("idempotent-replayed") !== "true") {
        await Promise.all([first.text(), again.text()]);
        expect(declared, `POST ${path} declares Idempotency-Key but does not replay (${first.status}, ${again.status})`).toBe(false);
        continue;
      }
      idempotent.push(path);
      expect([again.status, await again.text()], path).toEqual([first.status, await first.text()]);
      expect(op, `POST ${path} replays but is not documented`).toBeDefined();
      expect(declared, `POST ${path} replays but does not declare Idempotency-Key`).toBe(true);
      for (const [status, r] of Object.entries(op.responses as Json)) {
        if (status.startsWith("2")) expect((r as any).headers, `POST ${path} ${status}`).toHaveProperty(["Idempotent-Replayed"]);
      }
      if (path === "/v1/videos") {
        // A create's key is checked in the same transaction that admits it: never in progress.
        expect(op.responses["409"], `POST ${path} 409`).toBeUndefined();
      } else {
        expect(op.responses["409"]?.description, `POST ${path} 409`).toContain("`idempotency_in_progress`");
        expect(op.responses["409"].headers, `POST ${path} 409`).toHaveProperty(["Retry-After"]);
      }
      const refusals: [Response, string][] = [
        [await post(url, { other: 1 }, key), "idempotency_key_reused"],
        [await post(url, {}, "k".repeat(256)), "invalid_idempotency_key"],
      ];
      for (const [res, code] of refusals) {
        expect((await res.json<{ code: string }>()).code, `POST ${path}`).toBe(code);
        expect(op.responses[String(res.status)]?.description, `POST ${path} ${res.status}`).toContain(`\`${code}\``);
      }
    }
    expect(idempotent).toEqual(expect.arrayContaining(["/v1/videos", "/v1/tokens", "/admin/accounts"]));
  });

  it("replays a success with Idempotent-Replayed, as documented", async () => {
    const doc = (await served()) as any;
    const cases: [string, unknown][] = [
      ["/v1/videos", { prompt: "a red ball bouncing", dry_run: true }],
      ["/v1/tokens", { subject: "openapi-user" }],
    ];
    for (const [path, body] of cases) {
      const key = newKey();
      const first = await post(path, body, key);
      const again = await post(path, body, key);
      expect(first.status, path).toBeLessThan(300);
      expect(first.headers.get("idempotent-replayed"), path).toBeNull();
      expect(again.headers.get("idempotent-replayed"), path).toBe("true");
      expect([again.status, await again.text()], path).toEqual([first.status, await first.text()]);
      expect(doc.paths[path].post.responses[String(first.status)].headers, path).toHaveProperty(["Idempotent-Replayed"]);
    }
  });
});

describe("the create path answers as documented", () => {
  const RATE_LIMIT = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"];
  const account = async (body: Json) =>
    await (
      await call("/admin/accounts", { method: "POST", key: cfg.REELMESH_ADMIN_TOKEN!, body: JSON.stringify(body) })
    ).json<{ id: string; api_key: string }>();
  const create = (key: string, extra: Json = {}) =>
    call("/v1/videos", { method: "POST", key, body: JSON.stringify({ prompt: "a red ball bouncing", duration_s: 4, ...extra }) });

  it("a quote, and the 402 and 429 refusals with their codes and headers", async () => {
    const documented = ((await served()) as any).paths["/v1/videos"].post.responses;
    const broke = await account({ name: "openapi-broke" });
    const slow = await account({ name: "openapi-slow", credits: 100, limits: { burst: 1, per_s: 0.001, max_running_jobs: 1 } });
    const busy = await account({ name: "openapi-busy", credits: 100, limits: { burst: 100, per_s: 100, max_running_jobs: 1 } });
    const busyAccount = (env as unknown as Env).ACCOUNT.get((env as unknown as Env).ACCOUNT.idFromName(busy.id));
    await runInDurableObject(busyAccount, (_obj, state) => new Slots(state.storage.sql).acquire("vid_openapi_running", 1));
    const minted = await call("/v1/tokens", {
      method: "POST",
      key: busy.api_key,
      body: JSON.stringify({ subject: "openapi-user", credit_cap: 0 }),
    });
    const { token } = await minted.json<{ token: string }>();

    const quote = await create(slow.api_key, { dry_run: true });
    expect(quote.status).toBe(200);
    const body = await quote.json();
    expect(Object.keys(body as Json).sort()).toEqual(Object.keys(QuoteSchema.shape).sort());
    expect(QuoteSchema.safeParse(body).error).toBeUndefined();
    for (const h of RATE_LIMIT) {
      expect(quote.headers.has(h), h).toBe(true);
      expect(documented["200"].headers, h).toHaveProperty([h]);
    }

    const cases: [Response, string, string[]][] = [
      [await create(broke.api_key), "insufficient_credits", []],
      [await create(token), "token_credit_cap", []],
      [await create(slow.api_key, { dry_run: true }), "rate_limited", ["Retry-After", ...RATE_LIMIT]],
      [await create(busy.api_key), "concurrency_limit", ["Retry-After"]],
    ];
    for (const [res, code, headers] of cases) {
      const problem = await res.json<{ code: string }>();
      expect(problem.code).toBe(code);
      expect(ProblemSchema.safeParse(problem).error).toBeUndefined();
      const r = documented[String(res.status)];
      expect(r?.description, `${res.status} ${code}`).toContain(`\`${code}\``);
      for (const h of headers) {
        expect(res.headers.has(h), `${code} ${h}`).toBe(true);
        expect(r.headers, `${code} ${h}`).toHaveProperty([h]);
      }
    }
  });
});

describe("/docs", () => {
  it("is a self-contained HTML page that loads /openapi.json", async () => {
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/<script[^>]*\bsrc\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<(link|img|iframe)[^>]*\b(href|src)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
