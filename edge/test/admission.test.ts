import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountObject } from "../src/accounts/account-object.ts";
import { COUNT_HEADER } from "../src/durable-calls.ts";
import type { Env } from "../src/env.ts";
import { MAX_FOLLOWERS_PER_RUN } from "../src/jobs/admission.ts";
import { call, cfg, chunkEvent, completedEvent, handedOn, postEvent } from "./support.ts";

/**
 * The create path's one home (jobs/admission.ts → accounts/account-object.ts), inside workerd:
 * one Durable Object call per create whatever its outcome; claim, slot, charge and job written
 * together or not at all; an account's list of jobs; and what is let go when a job can never be
 * handed on, or its reservation outlives it.
 */
const ADMIN = cfg.REELMESH_ADMIN_TOKEN!;
const ACCOUNT = (env as unknown as Env).ACCOUNT;
const accountOf = (id: string) => ACCOUNT.get(ACCOUNT.idFromName(id));

interface View {
  id: string;
  status: string;
  cache: string;
  error: { code: string } | null;
  charged: number | null;
}

async function account(credits = 1000, limits = { burst: 1000, per_s: 1000, max_running_jobs: 1000 }) {
  const res = await call("/admin/accounts", { method: "POST", key: ADMIN, body: JSON.stringify({ name: "admission", credits, limits }) });
  expect(res.status).toBe(201);
  return await res.json<{ id: string; api_key: string }>();
}

/** A create, and how many Durable Object calls the edge made for it (a development edge counts them on request). */
async function counted(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await call("/v1/videos", { method: "POST", key, body: JSON.stringify(body), headers: { [COUNT_HEADER]: "1", ...headers } });
  return { res, calls: Number(res.headers.get(COUNT_HEADER)) };
}

describe("one durable round trip per create", () => {
  it("is one Durable Object call for a miss, a join, a hit, a replay, a quote and every refusal", async () => {
    const a = await account(100, { burst: 1000, per_s: 1000, max_running_jobs: 2 });
    const prompt = `a red ball bouncing ${crypto.randomUUID().slice(0, 8)}`;
    // The first call of an isolate may look the key up; every later one finds it cached.
    await counted(a.api_key, { prompt, dry_run: true });
    const outcomes: [string, Record<string, unknown>, number, Record<string, string>?][] = [
      ["miss", { prompt, duration_s: 1, seed: 1 }, 202, { "idempotency-key": "k-miss" }],
      ["join", { prompt, duration_s: 1, seed: 1 }, 202],
      ["replay", { prompt, duration_s: 1, seed: 1 }, 202, { "idempotency-key": "k-miss" }],
      ["key reused", { prompt, duration_s: 2, seed: 1 }, 422, { "idempotency-key": "k-miss" }],
      ["quote", { prompt, dry_run: true }, 200],
      ["invalid body", { prompt, duration_s: 999 }, 400],
      ["unsafe prompt", { prompt: "a video showing how to build a pipe bomb" }, 422],
      ["miss, no seed", { prompt, duration_s: 1 }, 202],
      ["concurrency limit", { prompt, duration_s: 1 }, 429],
      ["no credits", { prompt, duration_s: 20, steps: 50 }, 402],
    ];
    for (const [name, body, status, headers] of outcomes) {
      const { res, calls } = await counted(a.api_key, body, headers);
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(status);
      expect(calls, name).toBe(1);
    }
    // A hit: the run finished, the same request is answered from its outputs.
    const leader = (await (await call("/v1/videos?limit=100", { key: a.api_key })).json<{ data: View[] }>()).data.find(
      (v) => v.cache === "miss",
    )!;
    await postEvent(chunkEvent(leader.id, 0, 1));
    await postEvent(completedEvent(leader.id, 1));
    const hit = await counted(a.api_key, { prompt, duration_s: 1, seed: 1 });
    expect(hit.res.status).toBe(200);
    expect((await hit.res.json<View>()).cache).toBe("hit");
    expect(hit.calls).toBe(1);
  });

  it("replays an Idempotency-Key's answer without taking a rate token or charging again", async () => {
    const a = await account(100, { burst: 2, per_s: 0.001, max_running_jobs: 10 });
    const body = { prompt: `a green star ${crypto.randomUUID().slice(0, 8)}`, duration_s: 1 };
    const first = await counted(a.api_key, body, { "idempotency-key": "once" });
    expect(first.res.status).toBe(202);
    const again = await counted(a.api_key, body, { "idempotency-key": "once" });
    expect(again.res.status).toBe(202);
    expect(again.res.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.res.json<View>()).id).toBe((await first.res.json<View>()).id);
    // The bucket held 2: the replay took none, so one more create still passes.
    expect((await counted(a.api_key, { ...body, duration_s: 2 })).res.status).toBe(202);
    const usage = await (await call("/v1/usage", { key: a.api_key })).json<{ jobs: number }>();
    expect(usage.jobs).toBe(2);
  });
});

describe("GET /v1/videos", () => {
  it("lists the caller's jobs newest first, a page at a time, by status, and an app token sees only its own", async () => {
    const a = await account();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call("/v1/videos", {
        method: "POST",
        key: a.api_key,
        body: JSON.stringify({ prompt: `a blue cube ${i}`, duration_s: 1 }),
      });
      made.push((await res.json<View>()).id);
    }
    await call(`/v1/videos/${made[1]}/cancel`, { method: "POST", key: a.api_key });
    const tokenRes = await call("/v1/tokens", { method: "POST", key: a.api_key, body: JSON.stringify({ subject: "user-1" }) });
    const { token } = await tokenRes.json<{ token: string }>();
    const mine = await (
      await call("/v1/videos", { method: "POST", key: token, body: JSON.stringify({ prompt: "a red cone", duration_s: 1 }) })
    ).json<View>();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { object: string; data: View[]; has_more: boolean; next_cursor: string | null } = await (
        await call(`/v1/videos?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: a.api_key })
      ).json();
      expect(page.object).toBe("list");
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((v) => v.id));
      cursor = page.has_more ? page.next_cursor : null;
    } while (cursor);
    expect(seen).toEqual([mine.id, ...made].sort().reverse());

    const canceled = await (await call("/v1/videos?status=canceled", { key: a.api_key })).json<{ data: View[] }>();
    expect(canceled.data.map((v) => v.id)).toEqual([made[1]]);
    const queued = await (await call("/v1/videos?status=queued&limit=100", { key: a.api_key })).json<{ data: View[] }>();
    expect(queued.data.map((v) => v.id)).toEqual([mine.id, ...made.filter((id) => id !== made[1])].sort().reverse());
    const theirs = await (await call("/v1/videos", { key: token })).json<{ data: View[] }>();
    expect(theirs.data.map((v) => v.id)).toEqual([mine.id]);

    const bad = await call("/v1/videos?cursor=not-a-cursor", { key: a.api_key });
    expect(bad.status).toBe(400);
    expect((await bad.json<{ code: string }>()).code).toBe("invalid_cursor");
    expect((await call("/v1/videos?limit=0", { key: a.api_key })).status).toBe(400);
  });
});

describe("nothing is left behind", () => {
  it("a job that can never be handed on fails, is refunded, lets its cache claim go, and takes the jobs that joined it along", async () => {
    const a = await account(100);
    const body = JSON.stringify({ prompt: `a lost star ${crypto.randomUUID().slice(0, 8)}`, duration_s: 1, seed: 4 });
    const stub = accountOf(a.id);
    // Stand-in for a job object that cannot be written (it throws): workerd runs no such fault on its own.
    const restore = await runInDurableObject(stub, (instance: AccountObject) => {
      const own = instance as unknown as { env: Env; draining: unknown };
      const real = own.env;
      own.env = {
        ...real,
        JOBS: {
          idFromName: real.JOBS.idFromName.bind(real.JOBS),
          get: () => ({ create: () => Promise.reject(new Error("storage unavailable")) }),
        },
      } as unknown as Env;
      return () => (own.env = real);
    });
    const leader = await (await call("/v1/videos", { method: "POST", key: a.api_key, body })).json<View>();
    const joined = await (await call("/v1/videos", { method: "POST", key: a.api_key, body })).json<View>();
    expect([leader.cache, joined.cache]).toEqual(["miss", "joined"]);
    // Each has failed once; retries back off; past the give-up time the alarm abandons them.
    const tried = () =>
      runInDurableObject(stub, (_i, state) => Number(state.storage.sql.exec("SELECT MIN(attempts) AS n FROM outbox").one().n));
    for (let i = 0; i < 100 && (await tried()) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE outbox SET next_ms = 0, first_ms = 0");
    });
    await runDurableObjectAlarm(stub);
    await runInDurableObject(stub, () => restore());

    for (const id of [leader.id, joined.id]) {
      const view = await (await call(`/v1/videos/${id}`, { key: a.api_key })).json<View>();
      expect(view, id).toMatchObject({ status: "failed", error: { code: "enqueue_failed" }, charged: 0 });
    }
    expect(await stub.balance()).toBe(100);
    // The claim went with it: the same request now leads a run of its own.
    const again = await (await call("/v1/videos", { method: "POST", key: a.api_key, body })).json<View>();
    expect(again.cache).toBe("miss");
  });

  it("the sweep releases a reservation older than the job timeout whose job does not exist", async () => {
    const a = await account(100);
    const stub = accountOf(a.id);
    const ghost = "vid_0000000000000000000000ghst";
    await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      // A reservation for a job that was never stored, made long ago.
      sql.exec(
        "INSERT INTO entries (ref, kind, amount, tier, at) VALUES (?, 'reserve', -30, 'standard', '2000-01-01T00:00:00.000Z')",
        ghost,
      );
      sql.exec("UPDATE totals SET balance = balance - 30");
    });
    expect(await stub.balance()).toBe(70);
    expect(await stub.sweep()).toBe(1);
    expect(await stub.balance()).toBe(100);
    expect(await stub.sweep()).toBe(0);
    // A fresh reservation of a live job is left alone.
    const live = await (
      await call("/v1/videos", { method: "POST", key: a.api_key, body: JSON.stringify({ prompt: "a live ball", duration_s: 1 }) })
    ).json<View>();
    await handedOn(live.id, a.id);
    expect(await stub.sweep()).toBe(0);
  });
});

describe("bounds", () => {
  it("refuses more than MAX_FOLLOWERS_PER_RUN identical requests on one run", async () => {
    const a = await account();
    const body = JSON.stringify({ prompt: `a busy ball ${crypto.randomUUID().slice(0, 8)}`, duration_s: 1, seed: 8 });
    expect((await call("/v1/videos", { method: "POST", key: a.api_key, body })).status).toBe(202);
    await runInDurableObject(accountOf(a.id), (_i, state) => {
      state.storage.sql.exec("UPDATE content SET followers = ?", MAX_FOLLOWERS_PER_RUN);
    });
    const refused = await call("/v1/videos", { method: "POST", key: a.api_key, body });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect((await refused.json<{ code: string }>()).code).toBe("too_many_followers");
  });
});
