import { describe, expect, it } from "vitest";
import { mintToken } from "../src/accounts/tokens.ts";
import { call, cfg } from "./support.ts";

/**
 * Accounts, API keys and app tokens inside workerd: the admin API, keys shown once
 * and stored hashed, revocation within REELMESH_KEY_CACHE_S (1 s in the test config), tenant
 * and end-user isolation (404, never 403, for what is not yours), scopes, expiry, tampering.
 */
const ADMIN = cfg.REELMESH_ADMIN_TOKEN!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin = (path: string, init: RequestInit = {}) => call(`/admin${path}`, { ...init, key: ADMIN });

async function newAccount(name: string): Promise<{ id: string; api_key: string; key_id: string }> {
  const res = await admin("/accounts", { method: "POST", body: JSON.stringify({ name, credits: 100 }) });
  expect(res.status).toBe(201);
  return await res.json<{ id: string; api_key: string; key_id: string }>();
}

const create = (key: string, prompt = "a red ball bouncing") =>
  call("/v1/videos", { method: "POST", key, body: JSON.stringify({ prompt, duration_s: 1 }) });

async function token(key: string, body: Record<string, unknown>): Promise<string> {
  const res = await call("/v1/tokens", { method: "POST", key, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ token: string }>()).token;
}

describe("admin API and API keys", () => {
  it("refuses callers without the admin token", async () => {
    expect((await call("/admin/accounts", { method: "POST", body: JSON.stringify({ name: "x" }) })).status).toBe(401);
    expect((await call("/admin/accounts", { key: "rm_admin_wrong_token_000000" })).status).toBe(401);
  });

  it("creates an account whose key is shown once and listed only by prefix", async () => {
    const acct = await newAccount("shown-once");
    expect(acct.api_key).toMatch(/^rm_live_[A-Za-z0-9_-]{43}$/);
    const list = await (await admin(`/accounts/${acct.id}/keys`)).json<{ data: Record<string, unknown>[] }>();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ key_id: acct.key_id, prefix: acct.api_key.slice(0, 12), revoked_at: null });
    expect(JSON.stringify(list)).not.toContain(acct.api_key);
    expect((await create(acct.api_key)).status).toBe(202);
  });

  it("stops a revoked key within the cache time, and refuses unknown or malformed keys", async () => {
    const acct = await newAccount("revoked");
    expect((await call("/v1/webhook_secret", { key: acct.api_key })).status).toBe(200);
    expect((await admin(`/accounts/${acct.id}/keys/${acct.key_id}`, { method: "DELETE" })).status).toBe(200);
    await sleep(1100);
    const res = await call("/v1/webhook_secret", { key: acct.api_key });
    expect(res.status).toBe(401);
    expect((await res.json<{ code: string }>()).code).toBe("unauthorized");
    expect((await call("/v1/webhook_secret", { key: "rm_live_" + "A".repeat(43) })).status).toBe(401);
    expect((await call("/v1/webhook_secret", { headers: { authorization: "Basic abc" }, key: null })).status).toBe(401);
  });

  it("keeps accounts apart: another account's job is 404, not 403", async () => {
    const a = await newAccount("tenant-a");
    const b = await newAccount("tenant-b");
    const { id } = await (await create(a.api_key)).json<{ id: string }>();
    expect((await call(`/v1/videos/${id}`, { key: a.api_key })).status).toBe(200);
    for (const path of [`/v1/videos/${id}`, `/v1/videos/${id}/stream.m3u8`, `/v1/videos/${id}/events`]) {
      const res = await call(path, { key: b.api_key });
      expect(res.status, path).toBe(404);
      expect((await res.json<{ code: string }>()).code).toBe("video_not_found");
    }
    expect((await call(`/v1/videos/${id}`)).status).toBe(404); // the dev account
  });
});

describe("app tokens", () => {
  it("lets an end user create and read only their own jobs", async () => {
    const acct = await newAccount("app");
    const alice = await token(acct.api_key, { subject: "user-alice", expires_in_s: 600 });
    const bob = await token(acct.api_key, { subject: "user-bob" });
    const created = await create(alice);
    expect(created.status).toBe(202);
    const { id } = await created.json<{ id: string }>();
    expect((await call(`/v1/videos/${id}`, { key: alice })).status).toBe(200);
    expect((await call(`/v1/videos/${id}/media.m3u8`, { key: alice })).status).toBe(200);
    expect((await call(`/v1/videos/${id}`, { key: bob })).status).toBe(404);
    expect((await call(`/v1/videos/${id}`, { key: acct.api_key })).status).toBe(200); // the account sees all
  });

  it("honours scopes and refuses key-only calls", async () => {
    const acct = await newAccount("scopes");
    const reader = await token(acct.api_key, { subject: "u1", scopes: ["videos:read"] });
    const res = await create(reader);
    expect(res.status).toBe(403);
    expect((await res.json<{ code: string }>()).code).toBe("insufficient_scope");
    expect((await call("/v1/tokens", { method: "POST", key: reader, body: JSON.stringify({ subject: "u2" }) })).status).toBe(403);
    expect((await call("/v1/webhook_secret", { key: reader })).status).toBe(403);
  });

  it("refuses expired, tampered and over-long tokens, and bad mint requests", async () => {
    const acct = await newAccount("expiry");
    const now = Math.floor(Date.now() / 1000);
    const claims = { v: 1 as const, acct: acct.id, sub: "u", scopes: ["videos:read" as const], cap: null, jti: "t1" };
    const expired = await mintToken(cfg.REELMESH_TOKEN_SECRET!, { ...claims, iat: now - 120, exp: now - 60 });
    expect((await call("/v1/videos/vid_00000000000000000000000000", { key: expired })).status).toBe(401);
    const tooLong = await mintToken(cfg.REELMESH_TOKEN_SECRET!, { ...claims, iat: now, exp: now + 7200 });
    expect((await call("/v1/videos/vid_00000000000000000000000000", { key: tooLong })).status).toBe(401);
    const good = await token(acct.api_key, { subject: "u" });
    const [payload, sig] = good.slice(4).split(".");
    const widened = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    widened.sub = "someone-else";
    const forged = `rmt_${btoa(JSON.stringify(widened)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}.${sig}`;
    expect((await call("/v1/videos/vid_00000000000000000000000000", { key: forged })).status).toBe(401);
    for (const bad of [{ subject: "" }, { subject: "u", expires_in_s: 7200 }, { subject: "u", scopes: ["admin"] }, { subject: "a b" }]) {
      expect((await call("/v1/tokens", { method: "POST", key: acct.api_key, body: JSON.stringify(bad) })).status, JSON.stringify(bad)).toBe(
        400,
      );
    }
  });
});

describe("limits", () => {
  it("lets exactly `burst` concurrent creates through, with RateLimit headers, and 429 + Retry-After after", async () => {
    const res = await admin("/accounts", {
      method: "POST",
      body: JSON.stringify({ name: "limited", credits: 100_000, limits: { burst: 5, per_s: 0.001, max_running_jobs: 100 } }),
    });
    const acct = await res.json<{ api_key: string }>();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => create(acct.api_key, `a red ball number ${i}`)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    const ok = answers.find((r) => r.status === 202)!;
    expect(ok.headers.get("ratelimit-limit")).toBe("5");
    expect(ok.headers.get("ratelimit-policy")).toMatch(/^5;w=\d+/);
    const refused = answers.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect((await refused.json<{ code: string }>()).code).toBe("rate_limited");
  });

  it("counts refused creates too, and tells the client its quota on every answer", async () => {
    const res = await admin("/accounts", {
      method: "POST",
      body: JSON.stringify({ name: "quota", credits: 0, limits: { burst: 3, per_s: 0.001, max_running_jobs: 100 } }),
    });
    const acct = await res.json<{ api_key: string }>();
    const invalid = await call("/v1/videos", {
      method: "POST",
      key: acct.api_key,
      body: JSON.stringify({ prompt: "a red ball", duration_s: 999 }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get("ratelimit-remaining")).toBe("2");
    const broke = await create(acct.api_key, "a red ball");
    expect(broke.status).toBe(402);
    expect(broke.headers.get("ratelimit-remaining")).toBe("1");
    expect((await create(acct.api_key, "how to build a pipe bomb")).headers.get("ratelimit-remaining")).toBe("0");
    const limited = await create(acct.api_key, "a red ball");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).not.toBeNull();
  });

  it("caps jobs running at once and frees the slot when a job ends", async () => {
    const res = await admin("/accounts", {
      method: "POST",
      body: JSON.stringify({ name: "running", credits: 100_000, limits: { burst: 100, per_s: 100, max_running_jobs: 2 } }),
    });
    const acct = await res.json<{ api_key: string }>();
    const first = await (await create(acct.api_key, "a red ball one")).json<{ id: string }>();
    expect((await create(acct.api_key, "a red ball two")).status).toBe(202);
    const third = await create(acct.api_key, "a red ball three");
    expect(third.status).toBe(429);
    expect((await third.json<{ code: string }>()).code).toBe("concurrency_limit");
    const { postEvent } = await import("./support.ts");
    await postEvent({ type: "failed", job_id: first.id, error: { code: "x", message: "y" }, retryable: false });
    expect((await create(acct.api_key, "a red ball four")).status).toBe(202);
  });
});

describe("idempotency keys on create", () => {
  it("replays the original answer for the same key and body, and refuses the key with another body", async () => {
    const acct = await newAccount("idem");
    const key = `create-${crypto.randomUUID()}`;
    const body = JSON.stringify({ prompt: "a green star orbiting", duration_s: 1 });
    const send = (b: string) => call("/v1/videos", { method: "POST", key: acct.api_key, body: b, headers: { "idempotency-key": key } });
    const [a, b] = [await send(body), await send(body)];
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect((await b.json<{ id: string }>()).id).toBe((await a.json<{ id: string }>()).id);
    const other = await send(JSON.stringify({ prompt: "a blue square", duration_s: 1 }));
    expect(other.status).toBe(422);
    expect((await other.json<{ code: string }>()).code).toBe("idempotency_key_reused");
  });
});
