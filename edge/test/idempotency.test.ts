import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Hono } from "hono";
import { beforeEach, describe, expect, it } from "vitest";
import { ApiError, problemResponse } from "../src/http/problem.ts";
import { idempotency } from "../src/idempotency/middleware.ts";
import {
  idempotencyObjectName,
  STALE_RESERVATION_MS,
  TTL_MS,
  type IdempotencyEntry,
  type IdempotencyObject,
} from "../src/idempotency/object.ts";

/**
 * Idempotency-Key, tested on a small Hono app of its own that mounts the middleware
 * over counting handlers, with the app's own error rendering, against the real
 * IdempotencyObject (binding IDEMPOTENCY, declared in wrangler.jsonc, exported by index.ts).
 */
const IDEMPOTENCY = (env as unknown as { IDEMPOTENCY: DurableObjectNamespace<IdempotencyObject> }).IDEMPOTENCY;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let calls = 0;
let failNext = 0;

const account = (c: { req: { header(name: string): string | undefined } }) => c.req.header("x-account") ?? null;
/** One app with the default wait (2 s), one whose duplicates give up at once (409). */
const app = new Hono();
app.use("*", idempotency({ binding: () => IDEMPOTENCY, account }));
const impatient = new Hono();
impatient.use("*", idempotency({ binding: () => IDEMPOTENCY, account, waitMs: 0 }));
app.post("/things", async (c) => {
  calls++;
  const json = await c.req.json();
  const text = await c.req.text();
  c.header("set-cookie", "session=secret");
  return c.json({ id: crypto.randomUUID(), json, text }, 201, { location: "/things/x" });
});
app.post("/slow", async (c) => {
  calls++;
  await sleep(300);
  return c.json({ id: crypto.randomUUID(), body: await c.req.json() }, 201);
});
impatient.post("/impatient", async (c) => {
  calls++;
  await sleep(500);
  return c.json({ id: crypto.randomUUID() }, 201);
});
app.post("/flaky", (c) => {
  calls++;
  if (failNext > 0) {
    failNext--;
    return c.json({ error: "upstream down" }, 503);
  }
  return c.json({ id: crypto.randomUUID() }, 201);
});
app.post("/throws", () => {
  calls++;
  if (failNext > 0) {
    failNext--;
    throw new Error("boom");
  }
  return new Response(JSON.stringify({ id: crypto.randomUUID() }), { status: 201 });
});
app.post("/rejects", () => {
  calls++;
  throw new ApiError(400, "invalid_request", "Invalid request", `attempt ${calls}`);
});
for (const a of [app, impatient]) {
  a.onError((err, c) => {
    if (err instanceof ApiError) return problemResponse(c, err);
    return problemResponse(c, new ApiError(500, "internal_error", "Internal error", "Something went wrong on our side."));
  });
}

function post(path: string, body: unknown, opts: { key?: string | null; account?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== null && opts.key !== undefined) headers["idempotency-key"] = opts.key;
  if (opts.account !== null) headers["x-account"] = opts.account ?? "acct_a";
  const target = path === "/impatient" ? impatient : app;
  return Promise.resolve(target.request(path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }));
}

const newKey = () => `key-${crypto.randomUUID()}`;

beforeEach(() => {
  calls = 0;
  failNext = 0;
});

describe("Idempotency-Key", () => {
  it("replays the original response for the same key and body; the handler runs once", async () => {
    const key = newKey();
    const first = await post("/things", { prompt: "a red ball" }, { key });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.json<{ id: string; json: unknown; text: string }>();
    // The middleware read the body; the handler could still read it as JSON and as text.
    expect(firstBody.json).toEqual({ prompt: "a red ball" });
    expect(firstBody.text).toBe(JSON.stringify({ prompt: "a red ball" }));

    const again = await post("/things", { prompt: "a red ball" }, { key });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe("/things/x");
    expect(again.headers.get("content-type")).toMatch(/^application\/json/);
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await again.json()).toEqual(firstBody);
    expect(calls).toBe(1);
  });

  it("answers 422 idempotency_key_reused for the same key with a different body", async () => {
    const key = newKey();
    expect((await post("/things", { prompt: "one" }, { key })).status).toBe(201);
    const res = await post("/things", { prompt: "two" }, { key });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "idempotency_key_reused", status: 422 });
    // Same body on another path is another request too.
    expect((await post("/slow", { prompt: "one" }, { key })).status).toBe(422);
    expect(calls).toBe(1);
  });

  it("runs the handler once for 20 concurrent identical requests; all get the same answer", async () => {
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 20 }, () => post("/slow", { n: 1 }, { key })));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(calls).toBe(1);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(bodies).size).toBe(1);
    expect(responses.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
  });

  it("answers 409 idempotency_in_progress with Retry-After when the first is still running past the wait", async () => {
    const key = newKey();
    const first = post("/impatient", {}, { key });
    while (calls === 0) await sleep(10);
    const second = await post("/impatient", {}, { key });
    expect(second.status).toBe(409);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await second.json()).toMatchObject({ code: "idempotency_in_progress" });
    expect((await first).status).toBe(201);
    expect((await post("/impatient", {}, { key })).headers.get("idempotent-replayed")).toBe("true");
    expect(calls).toBe(1);
  });

  it("does not store a 5xx: a retry with the same key runs the handler again", async () => {
    const key = newKey();
    failNext = 1;
    expect((await post("/flaky", {}, { key })).status).toBe(503);
    const retry = await post("/flaky", {}, { key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(calls).toBe(2);
    expect((await post("/flaky", {}, { key })).headers.get("idempotent-replayed")).toBe("true");
    expect(calls).toBe(2);
  });

  it("releases the key when the handler throws (rendered as 500)", async () => {
    const key = newKey();
    failNext = 1;
    const res = await post("/throws", {}, { key });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: "internal_error" });
    expect((await post("/throws", {}, { key })).status).toBe(201);
    expect(calls).toBe(2);
  });

  it("stores and replays a 4xx the handler threw", async () => {
    const key = newKey();
    const first = await post("/rejects", {}, { key });
    expect(first.status).toBe(400);
    const firstBody = await first.json();
    const again = await post("/rejects", {}, { key });
    expect(again.status).toBe(400);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toBe("application/problem+json");
    expect(await again.json()).toEqual(firstBody);
    expect(calls).toBe(1);
  });

  it("rejects an invalid key with 400 invalid_idempotency_key", async () => {
    for (const key of ["", "x".repeat(256), "naïve", "tab\there"]) {
      const res = await post("/things", { a: 1 }, { key });
      expect(res.status, JSON.stringify(key)).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_idempotency_key" });
    }
    expect((await post("/things", { a: 1 }, { key: "k".repeat(255) })).status).toBe(201);
    expect((await post("/things", { a: 1 }, { key: " !~ printable ~! " })).status).toBe(201);
    expect(calls).toBe(2);
  });

  it("keeps keys per account", async () => {
    const key = newKey();
    const a = await post("/things", { who: "a" }, { key, account: "acct_a" });
    const b = await post("/things", { who: "b" }, { key, account: "acct_b" });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get("idempotent-replayed")).toBeNull();
    expect(calls).toBe(2);
    const replayA = await post("/things", { who: "a" }, { key, account: "acct_a" });
    expect(await replayA.json()).toEqual(await a.json());
    // An account id containing ":" cannot alias another account's key.
    expect(idempotencyObjectName("a:b", "c")).not.toBe(idempotencyObjectName("a", "b:c"));
  });

  it("skips requests without a key, without an account, and non-POST requests", async () => {
    await post("/things", { a: 1 });
    await post("/things", { a: 1 });
    expect(calls).toBe(2);
    const key = newKey();
    await post("/things", { a: 1 }, { key, account: null });
    await post("/things", { a: 1 }, { key, account: null });
    expect(calls).toBe(4);
    const res = await app.request("/things", { method: "GET", headers: { "idempotency-key": "" } });
    expect(res.status).toBe(404);
  });
});

describe("IdempotencyObject", () => {
  const stubFor = (key: string) => IDEMPOTENCY.get(IDEMPOTENCY.idFromName(idempotencyObjectName("acct_obj", key)));
  const response = { status: 201, headers: { "content-type": "application/json" }, body: "{}" };

  it("reserves, reports in_progress and mismatch, then replays", async () => {
    const stub = stubFor(newKey());
    expect(await stub.begin("fp1")).toEqual({ state: "new" });
    expect(await stub.begin("fp1")).toEqual({ state: "in_progress" });
    expect(await stub.begin("fp2")).toEqual({ state: "mismatch" });
    await stub.finish("fp2", response); // not the holder: ignored
    expect(await stub.begin("fp1")).toEqual({ state: "in_progress" });
    await stub.finish("fp1", response);
    expect(await stub.begin("fp1")).toEqual({ state: "replay", ...response });
    expect(await stub.begin("fp2")).toEqual({ state: "mismatch" });
    await stub.abandon("fp1"); // a finished key is not released
    expect((await stub.begin("fp1")).state).toBe("replay");
  });

  it("abandon releases a reservation for a retry", async () => {
    const stub = stubFor(newKey());
    expect((await stub.begin("fp1")).state).toBe("new");
    await stub.abandon("fp1");
    expect((await stub.begin("fp2")).state).toBe("new");
  });

  it(`treats a reservation older than ${STALE_RESERVATION_MS / 1000} s as abandoned`, async () => {
    const stub = stubFor(newKey());
    expect((await stub.begin("fp1")).state).toBe("new");
    await runInDurableObject(stub, (_obj, state) => {
      const entry = state.storage.kv.get<IdempotencyEntry>("entry")!;
      state.storage.kv.put("entry", { ...entry, at: entry.at - STALE_RESERVATION_MS - 1 });
    });
    expect((await stub.begin("fp2")).state).toBe("new");
    expect((await stub.begin("fp1")).state).toBe("mismatch");
  });

  it("keeps a finished key 24 h, then the alarm deletes everything", async () => {
    const stub = stubFor(newKey());
    const before = Date.now();
    await stub.begin("fp1");
    await stub.finish("fp1", response);
    const alarmAt = await runInDurableObject(stub, (_obj, state) => state.storage.getAlarm());
    expect(alarmAt).toBeGreaterThanOrEqual(before + TTL_MS);
    // An alarm that fires early (before expiry) keeps the entry and re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.begin("fp1")).state).toBe("replay");
    // Past expiry: the alarm deletes the entry and the key is new again.
    await runInDurableObject(stub, (_obj, state) => {
      const entry = state.storage.kv.get<IdempotencyEntry>("entry")!;
      state.storage.kv.put("entry", { ...entry, expires_at: Date.now() - 1 });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_obj, state) => [...state.storage.kv.list()].length)).toBe(0);
    expect(await runInDurableObject(stub, (_obj, state) => state.storage.getAlarm())).toBeNull();
    expect((await stub.begin("fp2")).state).toBe("new");
  });
});
