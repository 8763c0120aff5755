import { env, runInDurableObject } from "cloudflare:test";
import { Ledger } from "../src/billing/ledger.ts";
import type { JobObject } from "../src/jobs/job-object.ts";
import { describe, expect, it } from "vitest";
import { call, cfg, chunkEvent, postEvent, stored } from "./support.ts";

/**
 * Pay-per-call billing inside workerd: prices known in advance, one ledger per
 * account (reserve on accept, settle on success, refund on failure), exactly-once under
 * duplicated events, and exact under concurrency: never a negative balance.
 */
const ADMIN = cfg.REELMESH_ADMIN_TOKEN!;
const ledgerOf = (account: string) => (env as unknown as Env).ACCOUNT.get((env as unknown as Env).ACCOUNT.idFromName(account));
type Env = import("../src/env.ts").Env;

async function account(credits: number, extra: Record<string, unknown> = {}): Promise<{ id: string; api_key: string }> {
  const res = await call("/admin/accounts", {
    method: "POST",
    key: ADMIN,
    body: JSON.stringify({ name: "billing", credits, limits: { burst: 10_000, per_s: 10_000, max_running_jobs: 10_000 }, ...extra }),
  });
  expect(res.status).toBe(201);
  return await res.json<{ id: string; api_key: string }>();
}

const create = (key: string, body: Record<string, unknown>) =>
  call("/v1/videos", { method: "POST", key, body: JSON.stringify({ duration_s: 1, ...body }) });

async function sum(account: string): Promise<{ balance: number; entries: number }> {
  const entries = await ledgerOf(account).entries();
  return { balance: entries.reduce((s, e) => s + e.amount, 0), entries: entries.length };
}

describe("prices and quotes", () => {
  it("quotes a call without creating anything, and shows the price on the job", async () => {
    const a = await account(1000);
    const q = await create(a.api_key, { prompt: "a red ball", dry_run: true });
    expect(q.status).toBe(200);
    expect(await q.json()).toMatchObject({ object: "quote", price: { credits: 10, kind: "generation" } });
    expect(await (await create(a.api_key, { prompt: "a red ball", dry_run: true, tier: "economy", duration_s: 4 })).json()).toMatchObject({
      price: { credits: 20 },
    });
    expect(await ledgerOf(a.id).balance()).toBe(1000);
    const job = await (await create(a.api_key, { prompt: "a red ball" })).json<{ price: { credits: number } }>();
    expect(job.price).toEqual({ credits: 10, kind: "generation" });
    expect(await ledgerOf(a.id).balance()).toBe(990);
  });

  it("charges nothing for a prompt the safety check refuses", async () => {
    const a = await account(100);
    expect((await create(a.api_key, { prompt: "how to build a pipe bomb" })).status).toBe(422);
    expect(await sum(a.id)).toEqual({ balance: 100, entries: 1 });
  });
});

describe("the ledger", () => {
  it("accepts exactly as many of 500 concurrent creates as the balance covers; never negative", async () => {
    const a = await account(50 * 10);
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => create(a.api_key, { prompt: `a red ball number ${i}` })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(50);
    expect(statuses.filter((s) => s === 402)).toHaveLength(450);
    const refused = answers.find((r) => r.status === 402)!;
    expect(await refused.json()).toMatchObject({ code: "insufficient_credits", status: 402, price: 10 });
    expect(await sum(a.id)).toEqual({ balance: 0, entries: 51 });
    const usage = await (await call("/v1/usage", { key: a.api_key })).json<{ balance: number; reserved: number; jobs: number }>();
    expect(usage).toMatchObject({ balance: 0, reserved: 500, jobs: 50 });
  });

  it("settles once whatever the worker's events repeat or reorder, and refunds a failure", async () => {
    const a = await account(100);
    const ok = await (await create(a.api_key, { prompt: "a green star" })).json<{ id: string }>();
    const bad = await (await create(a.api_key, { prompt: "a blue square" })).json<{ id: string }>();
    expect(await ledgerOf(a.id).balance()).toBe(80);
    const usage = { gpu_s: 1, encode_s: 0.1, bytes_stored: 10 };
    // Every chunk first: a job is never succeeded with chunks missing.
    const { total_chunks: total } = await (await call(`/v1/videos/${ok.id}`, { key: a.api_key })).json<{ total_chunks: number }>();
    for (let k = 0; k < total; k++) await postEvent(chunkEvent(ok.id, k, total));
    const completed = {
      type: "completed",
      job_id: ok.id,
      usage,
      total_chunks: total,
      content: { key: `videos/${ok.id}/video.mp4`, bytes: 9 },
    };
    await postEvent(completed);
    await postEvent(completed);
    await postEvent({ type: "failed", job_id: ok.id, error: { code: "late", message: "after success" }, retryable: false });
    const failed = { type: "failed", job_id: bad.id, error: { code: "generation_failed", message: "x" }, retryable: false };
    await postEvent(failed);
    await postEvent(failed);
    await postEvent({
      type: "completed",
      job_id: bad.id,
      usage,
      total_chunks: 1,
      content: { key: `videos/${bad.id}/video.mp4`, bytes: 9 },
    });
    expect(await sum(a.id)).toEqual({ balance: 90, entries: 5 }); // grant, 2 reserves, 1 settle, 1 refund
    const u = await (
      await call("/v1/usage", { key: a.api_key })
    ).json<{ balance: number; reserved: number; spent: number; by_day: { tier: string; spent: number }[] }>();
    expect(u).toMatchObject({ balance: 90, reserved: 0, spent: 10 });
    expect(u.by_day).toEqual([expect.objectContaining({ tier: "standard", spent: 10, jobs: 1 })]);
  });

  it("prices cache hits and joined requests at a fraction", async () => {
    const a = await account(1000);
    const body = { prompt: "a purple triangle", seed: 3 };
    const leader = await (await create(a.api_key, body)).json<{ id: string; price: { credits: number } }>();
    const joined = await (await create(a.api_key, body)).json<{ cache: string; price: { credits: number; kind: string } }>();
    expect(joined).toMatchObject({ cache: "joined", price: { credits: 3, kind: "joined" } });
    await postEvent({
      type: "chunk",
      job_id: leader.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader.id}/init.mp4`, bytes: 4 },
      chunk: {
        index: 0,
        key: `videos/${leader.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader.id,
      usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 },
      total_chunks: 1,
      content: { key: `videos/${leader.id}/video.mp4`, bytes: 9 },
    });
    const hit = await (await create(a.api_key, body)).json<{ cache: string; price: { credits: number; kind: string } }>();
    expect(hit).toMatchObject({ cache: "hit", price: { credits: 1, kind: "hit" } });
    expect(await ledgerOf(a.id).balance()).toBe(1000 - 10 - 3 - 1);
  });

  it("charges a cache hit in the same transaction that admits it; a refused hit keeps nothing", async () => {
    const a = await account(12, { limits: { burst: 5, per_s: 0.001, max_running_jobs: 10 } });
    const body = { prompt: "a grey cube spinning", seed: 11 };
    const leader = await (await create(a.api_key, body)).json<{ id: string }>();
    await postEvent({
      type: "chunk",
      job_id: leader.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader.id}/init.mp4`, bytes: 4 },
      chunk: {
        index: 0,
        key: `videos/${leader.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader.id,
      usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 },
      total_chunks: 1,
      content: { key: `videos/${leader.id}/video.mp4`, bytes: 9 },
    });
    const hits = [];
    for (let i = 0; i < 2; i++) {
      const res = await create(a.api_key, body);
      expect(res.status).toBe(200);
      hits.push(await res.json<{ id: string; cache: string; charged: number; status: string }>());
    }
    for (const h of hits) expect(h).toMatchObject({ cache: "hit", status: "succeeded", charged: 1 });
    const entries = await ledgerOf(a.id).entries();
    for (const h of hits)
      expect(entries.filter((e) => e.ref === h.id).map((e) => [e.kind, e.amount])).toEqual([
        ["reserve", -1],
        ["settle", 0],
      ]);
    // Out of credits: 402, and nothing was written for it.
    const broke = await create(a.api_key, body);
    expect(broke.status).toBe(402);
    expect((await broke.json<{ code: string }>()).code).toBe("insufficient_credits");
    expect((await ledgerOf(a.id).entries()).length).toBe(entries.length);
    // Over the rate limit (5 creates: leader, two hits, the refused one, this): the 6th is 429.
    expect((await create(a.api_key, body)).status).toBe(402);
    const limited = await create(a.api_key, body);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).not.toBeNull();
    expect(await ledgerOf(a.id).audit()).toMatchObject({ balance: 0, sum: 0 });
    const usage = await (await call("/v1/usage", { key: a.api_key })).json<{ spent: number; reserved: number }>();
    expect(usage).toMatchObject({ spent: 12, reserved: 0 });
  });

  it("keeps its running totals and usage equal to the sums of its entries, per account, app token and subject", async () => {
    const stub = ledgerOf(`acct-totals-${crypto.randomUUID()}`);
    await runInDurableObject(stub, (_obj, state) => {
      const ledger = new Ledger(state.storage.sql);
      ledger.credit("grant", 100);
      const meta = (token: string | null) => ({ tier: "standard", subject: token ? "u" : null, token, tokenCap: token ? 50 : null });
      expect(ledger.reserve("j1", 30, meta("t1")).ok).toBe(true);
      expect(ledger.reserve("j2", 30, meta("t1")).reason).toBe("token_cap");
      expect(ledger.reserve("j3", 20, meta("t1")).ok).toBe(true);
      expect(ledger.settle("j1", 10)).toBe(20);
      // t1 now uses 10 (j1 as charged) + 20 (j3): 30 more would pass the cap of 50, 20 does not.
      expect(ledger.reserve("j4", 30, meta("t1")).reason).toBe("token_cap");
      expect(ledger.reserve("j4", 20, meta("t1")).ok).toBe(true);
      expect(ledger.refund("j3")).toBe(20);
      expect(ledger.refund("j3")).toBe(0);
      expect(ledger.reserve("j5", 5, meta(null)).ok).toBe(true);
      // undo: takes back a settled charge (a hit whose job could never be stored), once.
      expect(ledger.settle("j5", 5)).toBe(0);
      expect(ledger.undo("j5")).toBe(5);
      expect(ledger.undo("j5")).toBe(0);
      expect(ledger.refund("j5")).toBe(0);
      const audit = ledger.audit();
      expect(audit.balance).toBe(audit.sum);
      expect(audit.balance).toBe(100 - 10 - 20);
      expect(audit.tokens).toEqual([{ token: "t1", used: 30, sum: 30 }]);
      // /v1/usage reads totals kept as entries are written; they match a scan of the entries.
      expect(audit.usage.kept).toEqual(audit.usage.scanned);
      expect(audit.usage.kept).toMatchObject({ reserved: 20, spent: 10, jobs: 4 });
      expect(ledger.usage("u")).toMatchObject({ reserved: 20, spent: 10, jobs: 3 });
    });
  });

  it("holds an app token to its credit cap", async () => {
    const a = await account(1000);
    const res = await call("/v1/tokens", { method: "POST", key: a.api_key, body: JSON.stringify({ subject: "user-7", credit_cap: 25 }) });
    const { token } = await res.json<{ token: string }>();
    expect((await create(token, { prompt: "a red ball one" })).status).toBe(202);
    expect((await create(token, { prompt: "a red ball two" })).status).toBe(202);
    const third = await create(token, { prompt: "a red ball three" });
    expect(third.status).toBe(402);
    expect((await third.json<{ code: string }>()).code).toBe("token_credit_cap");
    expect((await create(a.api_key, { prompt: "the account itself is not capped" })).status).toBe(202);
    const mine = await (await call("/v1/usage", { key: token })).json<{ subject: string; reserved: number; balance?: number }>();
    expect(mine).toMatchObject({ subject: "user-7", reserved: 20 });
    expect(mine.balance).toBeUndefined();
  });
});

describe("cancel", () => {
  it("cancels a queued job at once and refunds it whole; the worker that gets it later is told to stop", async () => {
    const a = await account(100);
    const job = await (await create(a.api_key, { prompt: "a red ball" })).json<{ id: string }>();
    const res = await call(`/v1/videos/${job.id}/cancel`, { method: "POST", key: a.api_key });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "canceled", charged: 0 });
    expect(await ledgerOf(a.id).balance()).toBe(100);
    const started = await postEvent({ type: "started", job_id: job.id });
    expect(await started.json()).toMatchObject({ applied: false, stop: true });
  });

  it("stops a running job at the worker's next event and charges the chunks delivered", async () => {
    const a = await account(100);
    const job = await (await create(a.api_key, { prompt: "a red ball", duration_s: 4 })).json<{ id: string; price: { credits: number } }>();
    expect(job.price.credits).toBe(40);
    await postEvent({
      type: "chunk",
      job_id: job.id,
      total_chunks: 4,
      codecs: "avc1.64000b",
      init: { key: `videos/${job.id}/init.mp4`, bytes: 4 },
      chunk: {
        index: 0,
        key: `videos/${job.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    const asked = await (
      await call(`/v1/videos/${job.id}/cancel`, { method: "POST", key: a.api_key })
    ).json<{ status: string; cancel_requested: boolean }>();
    expect(asked).toMatchObject({ status: "running", cancel_requested: true });
    const progress = await postEvent({ type: "progress", job_id: job.id, chunk: 1, step: 3, steps: 12 });
    expect((await progress.json<{ stop: boolean }>()).stop).toBe(true);
    await postEvent({ type: "canceled", job_id: job.id, chunks: 1 });
    await postEvent({ type: "canceled", job_id: job.id, chunks: 1 });
    const done = await (await call(`/v1/videos/${job.id}`, { key: a.api_key })).json<{ status: string; charged: number }>();
    expect(done).toMatchObject({ status: "canceled", charged: 10 });
    expect(await ledgerOf(a.id).balance()).toBe(90);
  });
});

describe("cost to serve", () => {
  it("reports cost per delivered video-second and margin per tier, GPU time counted once per run", async () => {
    const a = await account(1000);
    const body = { prompt: `a cyan star orbiting ${crypto.randomUUID().slice(0, 6)}`, seed: 5, duration_s: 1 };
    const before = await (
      await call("/admin/costs", { key: ADMIN })
    ).json<{ tiers: { tier: string; jobs: number; gpu_s: number; video_s: number }[] }>();
    const std0 = before.tiers.find((t) => t.tier === "standard") ?? { jobs: 0, gpu_s: 0, video_s: 0 };
    const leader = await (await create(a.api_key, body)).json<{ id: string }>();
    const joined = await (await create(a.api_key, body)).json<{ id: string }>(); // joins: shares the run
    // A read hands a job just admitted to its object (and a joined one to its leader) at once.
    await call(`/v1/videos/${joined.id}`, { key: a.api_key });
    await postEvent({
      type: "chunk",
      job_id: leader.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader.id}/init.mp4`, bytes: 4 },
      chunk: {
        index: 0,
        key: `videos/${leader.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader.id,
      usage: { gpu_s: 36, encode_s: 1, bytes_stored: 12 },
      total_chunks: 1,
      content: { key: `videos/${leader.id}/video.mp4`, bytes: 9 },
    });
    const report = await (
      await call("/admin/costs", { key: ADMIN })
    ).json<{
      prices: { gpu_hour_usd: number; credit_usd: number };
      tiers: { tier: string; jobs: number; gpu_s: number; video_s: number; cost_per_video_second_usd: number; margin: number }[];
    }>();
    const std = report.tiers.find((t) => t.tier === "standard")!;
    expect(std.jobs - std0.jobs).toBe(2);
    expect(std.gpu_s - std0.gpu_s).toBeCloseTo(36, 6); // the joined job used no GPU of its own
    expect(std.video_s - std0.video_s).toBe(2);
    expect(report.prices).toEqual({ gpu_hour_usd: 1.2, credit_usd: 0.001 });
    expect(std.cost_per_video_second_usd).toBeGreaterThan(0);
    expect(typeof std.margin).toBe("number");
    expect((await call("/admin/costs?from=yesterday", { key: ADMIN })).status).toBe(400);
  });
});

describe("cost records from the request path", () => {
  it("batches cache hits' costs and bytes served into the cost report", async () => {
    const { putObject } = await import("./support.ts");
    const a = await account(1000);
    const body = { prompt: `a magenta disc ${crypto.randomUUID().slice(0, 6)}`, seed: 9, tier: "economy" };
    const leader = await (await create(a.api_key, body)).json<{ id: string }>();
    await putObject(`videos/${leader.id}/init.mp4`, new Uint8Array(13));
    await postEvent({
      type: "chunk",
      job_id: leader.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader.id}/init.mp4`, bytes: 13 },
      chunk: {
        index: 0,
        key: `videos/${leader.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader.id,
      usage: { gpu_s: 2, encode_s: 0.1, bytes_stored: 21 },
      total_chunks: 1,
      content: { key: `videos/${leader.id}/video.mp4`, bytes: 9 },
    });
    type Report = { bytes_served: number; tiers: { tier: string; jobs: number; gpu_s: number; video_s: number }[] };
    const report = async () => await (await call("/admin/costs", { key: ADMIN })).json<Report>();
    const economy = (r: Report) => r.tiers.find((t) => t.tier === "economy") ?? { jobs: 0, gpu_s: 0, video_s: 0 };
    // The leader's own record comes from its object when it ends; wait for it, then measure.
    let before = await report();
    for (let i = 0; i < 40 && economy(before).jobs === 0; i++) before = (await new Promise((r) => setTimeout(r, 50)), await report());
    const hits = await Promise.all([create(a.api_key, body), create(a.api_key, body), create(a.api_key, body)]);
    for (const h of hits) expect(h.status).toBe(200);
    const hit = await hits[0].json<{ id: string }>();
    for (let i = 0; i < 2; i++) expect((await call(`/v1/videos/${hit.id}/init.mp4`, { key: a.api_key })).status).toBe(200);
    let after = before;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await report();
      if (economy(after).jobs - economy(before).jobs >= 3 && after.bytes_served - before.bytes_served >= 26) break;
    }
    expect(economy(after).jobs - economy(before).jobs).toBe(3);
    expect(economy(after).gpu_s - economy(before).gpu_s).toBeCloseTo(0, 6); // hits share the leader's run
    expect(economy(after).video_s - economy(before).video_s).toBe(3);
    expect(after.bytes_served - before.bytes_served).toBe(26);
  });
});

describe("jobs that never finish", () => {
  it("fail as expired after REELMESH_JOB_TIMEOUT_S and give their reservation back", async () => {
    const { runInDurableObject, runDurableObjectAlarm } = await import("cloudflare:test");
    const a = await account(100);
    const job = await (await create(a.api_key, { prompt: "a lost ball" })).json<{ id: string }>();
    expect(await ledgerOf(a.id).balance()).toBe(90);
    await stored(job.id);
    const jobs = (env as unknown as Env).JOBS;
    const stub = jobs.get(jobs.idFromName(job.id));
    // As if accepted 11 minutes ago (the test timeout is 600 s) and never picked up.
    await runInDurableObject(stub, async (_instance, state) => {
      const record = (await state.storage.get<Record<string, unknown>>("job"))!;
      record.created_at = new Date(Date.now() - 660_000).toISOString();
      await state.storage.put("job", record);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await (await call(`/v1/videos/${job.id}`, { key: a.api_key })).json<{ status: string; error: { code: string } }>();
    expect(after).toMatchObject({ status: "failed", error: { code: "expired" } });
    expect(await ledgerOf(a.id).balance()).toBe(100);
  });

  it("counts the bytes of its media the edge serves", async () => {
    const { putObject } = await import("./support.ts");
    const a = await account(100);
    const job = await (await create(a.api_key, { prompt: "a served ball" })).json<{ id: string }>();
    await putObject(`videos/${job.id}/init.mp4`, new Uint8Array(7));
    await postEvent({
      type: "chunk",
      job_id: job.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${job.id}/init.mp4`, bytes: 7 },
      chunk: {
        index: 0,
        key: `videos/${job.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    // Count the job objects' writes of bytes served (RPC calls methods of the class, so the count sits there while this runs):
    // the responses are summed per flush, not written one by one.
    const jobs = (env as unknown as Env).JOBS;
    const stub = jobs.get(jobs.idFromName(job.id));
    const restore = await runInDurableObject(stub, (instance: JobObject) => {
      const proto = Object.getPrototypeOf(instance) as { addServed: (this: JobObject, n: number) => Promise<void>; servedWrites?: number };
      const original = proto.addServed;
      proto.servedWrites = 0;
      proto.addServed = function (n: number) {
        proto.servedWrites!++;
        return original.call(this, n);
      };
      return () => {
        proto.addServed = original;
        return proto.servedWrites!;
      };
    });
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(`/v1/videos/${job.id}/init.mp4`, { key: a.api_key })));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    let served = 0;
    for (let i = 0; i < 20 && served < 70; i++) {
      await new Promise((r) => setTimeout(r, 50));
      served = (await (await call(`/v1/videos/${job.id}`, { key: a.api_key })).json<{ bytes_served: number }>()).bytes_served;
    }
    expect(served).toBe(70);
    const writes = await runInDurableObject(stub, () => restore());
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(2);
  });
});
