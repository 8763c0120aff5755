import { describe, expect, it } from "vitest";
import { call, cfg } from "./support.ts";

/** Access between callers of one account: app tokens stay inside their subject and their account's limits. */
const admin = { key: cfg.REELMESH_ADMIN_TOKEN! };

type Limits = { burst: number; per_s: number; max_running_jobs: number };

async function newAccount(limits?: Limits): Promise<{ id: string; api_key: string; key_id: string }> {
  const res = await call("/admin/accounts", {
    ...admin,
    method: "POST",
    body: JSON.stringify({ name: "access", credits: 100_000, ...(limits ? { limits } : {}) }),
  });
  expect(res.status).toBe(201);
  return res.json<{ id: string; api_key: string; key_id: string }>();
}
const account = async (limits?: Limits) => (await newAccount(limits)).api_key;

async function token(key: string, subject: string): Promise<string> {
  const res = await call("/v1/tokens", { method: "POST", key, body: JSON.stringify({ subject }) });
  expect(res.status).toBe(201);
  return (await res.json<{ token: string }>()).token;
}

const create = (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call("/v1/videos", { method: "POST", key, headers, body: JSON.stringify(body) });

describe("app tokens", () => {
  it("keep Idempotency-Keys per subject: another end user's key never replays its answer", async () => {
    const key = await account();
    const [alice, bob] = [await token(key, "alice"), await token(key, "bob")];
    const body = { prompt: `a yellow triangle moving left ${crypto.randomUUID().slice(0, 8)}`, duration_s: 1 };
    const headers = { "idempotency-key": "order-42" };
    const first = await create(alice, body, headers);
    expect(first.status).toBe(202);
    const aliceJob = (await first.json<{ id: string }>()).id;

    const replay = await create(alice, body, headers);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.json<{ id: string }>()).id).toBe(aliceJob);

    const other = await create(bob, body, headers);
    expect(other.status).toBe(202);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    const bobJob = (await other.json<{ id: string }>()).id;
    expect(bobJob).not.toBe(aliceJob);
    // And bob cannot read alice's job either.
    expect((await call(`/v1/videos/${aliceJob}`, { key: bob })).status).toBe(404);
  });

  it("are held to their account's own limits, not the edge's defaults", async () => {
    const key = await account({ burst: 2, per_s: 0.001, max_running_jobs: 100 });
    const phone = await token(key, "carol");
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await create(phone, { prompt: `a white ball ${i} ${crypto.randomUUID().slice(0, 8)}`, duration_s: 1 }));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 429]);
    expect(answers[2]!.headers.get("ratelimit-limit")).toBe("2");
  });
});

describe("revoking an API key", () => {
  it("revokes the app tokens it minted within the key-cache bound", async () => {
    const acct = await newAccount();
    const phone = await token(acct.api_key, "erin");
    expect((await call("/v1/usage", { key: phone })).status).toBe(200);
    expect((await call(`/admin/accounts/${acct.id}/keys/${acct.key_id}`, { ...admin, method: "DELETE" })).status).toBe(200);
    // The tests run with REELMESH_KEY_CACHE_S = 1.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call("/v1/usage", { key: phone })).status).toBe(401);
    expect((await call("/v1/usage", { key: acct.api_key })).status).toBe(401);
  });
});

describe("webhooks", () => {
  it("cannot be set by an app token: the account's receiver trusts what its secret signs", async () => {
    const key = await account();
    const phone = await token(key, "dave");
    const res = await create(phone, { prompt: "a red ball bouncing", duration_s: 1, webhook_url: "https://hooks.example.com/reelmesh" });
    expect(res.status).toBe(403);
    expect((await res.json<{ code: string }>()).code).toBe("insufficient_scope");
    // With the account's API key it is accepted.
    expect(
      (await create(key, { prompt: "a red ball bouncing", duration_s: 1, webhook_url: "https://hooks.example.com/reelmesh" })).status,
    ).toBe(202);
  });
});
