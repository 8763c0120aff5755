import { describe, expect, it } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import type { JobObject } from "../src/jobs/job-object.ts";
import { call, cfg, chunkEvent, completedEvent, postEvent } from "./support.ts";

/**
 * Races on a job's record inside workerd. A Durable Object's input gate does not hold across an
 * outgoing call, so a read-modify-write that awaits another object in the middle can overwrite
 * what ran meanwhile: these tests drive such interleavings and check that nothing is lost.
 */

const admin = { key: cfg.REELMESH_ADMIN_TOKEN! };

async function account(credits = 1_000_000): Promise<string> {
  const res = await call("/admin/accounts", { ...admin, method: "POST", body: JSON.stringify({ name: "races", credits }) });
  return (await res.json<{ api_key: string }>()).api_key;
}

interface View {
  id: string;
  status: string;
  cache: string;
  charged: number | null;
  price: { credits: number };
}

describe("a job's record cannot go back", () => {
  /**
   * In production a Durable Object's input gate opens while it awaits another object, so a
   * cancel (or an alarm) can run in the middle of an event's handling. The local runtime does
   * not always interleave them, so the test makes the interleaving happen: while the event is
   * forwarded to the jobs that joined the leader, the leader's own cancel runs.
   */
  it("keeps a cancel that runs while an event is forwarded to the jobs that joined it", async () => {
    const key = await account();
    const marker = crypto.randomUUID().slice(0, 8);
    const body = JSON.stringify({ prompt: `a green star orbiting ${marker}`, duration_s: 4, seed: 3 });
    const views = await Promise.all(
      Array.from({ length: 3 }, () => call("/v1/videos", { method: "POST", key, body }).then((r) => r.json<View>())),
    );
    const leader = views.find((v) => v.cache === "miss")!;
    // A read hands each job just admitted on at once (written to its object, joined to its leader).
    for (const v of views) await call(`/v1/videos/${v.id}`, { key });
    await postEvent({ type: "started", job_id: leader.id });

    const jobs = (env as unknown as { JOBS: DurableObjectNamespace<JobObject> }).JOBS;
    const stub = jobs.get(jobs.idFromName(leader.id));
    await runInDurableObject(stub, async (instance: JobObject) => {
      const followers = (instance as unknown as { followers: { forward: (send: unknown) => Promise<void> } }).followers;
      const forward = followers.forward.bind(followers);
      followers.forward = async (send) => {
        await instance.cancel();
        await forward(send);
      };
      await instance.apply({ ...chunkEvent(leader.id, 0, 4), worker_id: "w", at: new Date().toISOString() } as never);
      followers.forward = forward;
    });
    for (let i = 1; i < 4; i++) await postEvent(chunkEvent(leader.id, i, 4));
    await postEvent(completedEvent(leader.id, 4));

    const after = await (await call(`/v1/videos/${leader.id}`, { key })).json<View>();
    expect(after.status).toBe("canceled");
    // Canceled before the whole clip: never the full price, and never a finished video.
    expect(after.charged).toBeLessThan(leader.price.credits);
    expect((await call(`/v1/videos/${leader.id}/content`, { key })).status).not.toBe(200);
  });
});

describe("the worker is told to stop", () => {
  const jobs = () => (env as unknown as { JOBS: DurableObjectNamespace<JobObject> }).JOBS;

  it("for a job that ended without it (expired, failed at the edge), and the job stays ended", async () => {
    const key = await account();
    const job = await (
      await call("/v1/videos", {
        method: "POST",
        key,
        body: JSON.stringify({ prompt: `a purple box ${crypto.randomUUID()}`, duration_s: 2 }),
      })
    ).json<View>();
    await call(`/v1/videos/${job.id}`, { key });
    await jobs().get(jobs().idFromName(job.id)).fail("expired", "The job did not finish in time; nothing was charged.");
    const answer = await (await postEvent(chunkEvent(job.id, 0, 2))).json<{ applied: boolean; stop: boolean }>();
    expect(answer).toMatchObject({ applied: false, stop: true });
    expect((await (await call(`/v1/videos/${job.id}`, { key })).json<View>()).status).toBe("failed");
  });

  it("not for a leader canceled by its caller while jobs that joined it still want the run", async () => {
    const key = await account();
    const body = JSON.stringify({ prompt: `a cyan star ${crypto.randomUUID()}`, duration_s: 2, seed: 9 });
    const views = await Promise.all([0, 1].map(() => call("/v1/videos", { method: "POST", key, body }).then((r) => r.json<View>())));
    const leader = views.find((v) => v.cache === "miss")!;
    const joined = views.find((v) => v.cache === "joined")!;
    for (const v of views) await call(`/v1/videos/${v.id}`, { key });
    await postEvent({ type: "started", job_id: leader.id });
    expect((await call(`/v1/videos/${leader.id}/cancel`, { method: "POST", key })).status).toBe(200);
    const answer = await (await postEvent(chunkEvent(leader.id, 0, 2))).json<{ stop: boolean }>();
    expect(answer.stop).toBe(false);
    await postEvent(chunkEvent(leader.id, 1, 2));
    await postEvent(completedEvent(leader.id, 2));
    expect((await (await call(`/v1/videos/${joined.id}`, { key })).json<View>()).status).toBe("succeeded");
    expect((await (await call(`/v1/videos/${leader.id}`, { key })).json<View>()).status).toBe("canceled");
  });
});

describe("a joined job canceled by its caller", () => {
  it("pays for the share of the clip delivered to it, like a leader, and the shared run goes on", async () => {
    const key = await account();
    const body = JSON.stringify({ prompt: `a grey square moving right ${crypto.randomUUID()}`, duration_s: 4, seed: 21 });
    const views = await Promise.all([0, 1].map(() => call("/v1/videos", { method: "POST", key, body }).then((r) => r.json<View>())));
    const leader = views.find((v) => v.cache === "miss")!;
    const joined = views.find((v) => v.cache === "joined")!;
    await postEvent({ type: "started", job_id: leader.id });
    await postEvent(chunkEvent(leader.id, 0, 4));
    await postEvent(chunkEvent(leader.id, 1, 4));
    const canceled = await (await call(`/v1/videos/${joined.id}/cancel`, { method: "POST", key })).json<View>();
    expect(canceled.status).toBe("canceled");
    // Two of four chunks delivered: half of the joined price, rounded up.
    expect(canceled.charged).toBe(Math.ceil(joined.price.credits / 2));
    expect(canceled.charged).toBeGreaterThan(0);
    expect((await (await call(`/v1/videos/${leader.id}`, { key })).json<View>()).status).toBe("running");
  });
});
