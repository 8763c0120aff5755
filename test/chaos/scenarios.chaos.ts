import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChaosStack, type JobView, type Usage } from "./harness.ts";
import { figures, sleep, waitFor } from "./support.ts";

/**
 * Faults on the run side, on the real local stack (two GPU functions), with faults caused the way
 * production causes them: the edge cut off from the workers (its fault proxy resets every
 * connection), S3 writes failing (the emulator's fault proxy answers 503 SlowDown, 500, or resets
 * the connection), a worker killed with SIGKILL. `npm run chaos` runs it with queue.test.ts; each
 * scenario prints its figures (`chaos <scenario>: …`), and docs/benchmarks.md quotes one run.
 */
let h: ChaosStack;
let usageBefore: Usage;
const RECONCILE_S = 5;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  h = await ChaosStack.start({ workers: 2, edgeEnv: { REELMESH_RECONCILE_S: String(RECONCILE_S) } });
  usageBefore = await h.read<Usage>("/v1/usage");
}, 300_000);

afterAll(async () => {
  await h?.stop();
});

describe("chaos, the run side", () => {
  it("events are never lost: the edge unreachable for 20 s mid-job; the job succeeds whole, charged once", async () => {
    const job0 = await h.create({ prompt: "a yellow star moving left", duration_s: 20, steps: 50 });
    const ok = await waitFor(() => (h.chunkWork(job0.id).distinct >= 2 ? true : undefined), 120_000, 20);
    expect(ok, h.log.tail()).toBe(true);
    h.edgeProxy.setDown(true);
    const cut = performance.now();
    // Clients still read the job (straight to the edge) while its worker cannot reach it.
    let doneAt: number | undefined;
    while (performance.now() - cut < 20_000) {
      if (doneAt === undefined && (await h.read<JobView>(`/v1/videos/${job0.id}`)).status === "succeeded") doneAt = performance.now();
      await sleep(200);
    }
    h.edgeProxy.setDown(false);
    const job = await h.finished(job0.id);
    doneAt ??= performance.now();
    expect(job, h.log.tail()).toMatchObject({ status: "succeeded", chunks_ready: 20 });
    expect(await h.playlistLength(job0.id)).toBe(20);
    expect(job.charged).toBe(job.price.credits);
    // The worker went on computing while its events waited (they were not given up).
    const stored = h.log.find(job0.id, "chunk stored");
    const duringOutage = stored.filter((l) => l.at > cut && l.at < cut + 20_000).length;
    expect(h.log.find(job0.id, "event not delivered yet").length).toBeGreaterThan(0);
    expect(h.log.find(job0.id, "event undeliverable")).toEqual([]);
    figures("edge-outage", {
      outage_s: 20,
      connections_cut: h.edgeProxy.stats.refused,
      chunks_committed_during_outage: duringOutage,
      s_from_cut_to_last_chunk: ((stored.at(-1)!.at - cut) / 1000).toFixed(1),
      s_from_cut_to_succeeded: ((doneAt - cut) / 1000).toFixed(1),
      playlist: await h.playlistLength(job0.id),
      chunks_ready: job.chunks_ready,
      charged: `${job.charged}/${job.price.credits}`,
    });
  });

  it("reconciliation from S3: with the edge unreachable across completed, a read of the stalled job finds it succeeded", async () => {
    const job0 = await h.create({ prompt: "a white circle growing", duration_s: 12, steps: 50 });
    const ok = await waitFor(() => (h.chunkWork(job0.id).distinct >= 1 ? true : undefined), 120_000, 10);
    expect(ok, h.log.tail()).toBe(true);
    h.edgeProxy.setDown(true);
    const cut = performance.now();
    try {
      // The worker has finished (manifest succeeded) but cannot say so: the read reconciles.
      const job = await h.finished(job0.id, 90_000);
      expect(job, h.log.tail()).toMatchObject({ status: "succeeded", chunks_ready: 12 });
      // The worker logs "job succeeded" only once the edge has taken its completed: not yet.
      expect(h.log.find(job0.id, "job succeeded"), h.log.tail()).toEqual([]);
      figures("completed-lost", {
        reconcile_s: RECONCILE_S,
        s_from_cut_to_succeeded: ((performance.now() - cut) / 1000).toFixed(1),
        playlist: await h.playlistLength(job0.id),
        chunks_ready: job.chunks_ready,
        charged: `${job.charged}/${job.price.credits}`,
      });
    } finally {
      h.edgeProxy.setDown(false);
    }
    // Back up: the worker's completed is taken and its message deleted.
    const deleted = await waitFor(() => h.log.find(job0.id, "job succeeded")[0], 30_000);
    expect(deleted, h.log.tail()).toBeDefined();
  });

  it("transient S3 faults are retried: one write in five fails, the job completes with the same bytes", async () => {
    const params = { prompt: "a purple square turning", duration_s: 8, steps: 20, seed: 4242 };
    const base = await h.finished((await h.create(params)).id);
    expect(base.status).toBe("succeeded");
    h.awsProxy.setWriteFaults(5);
    const before = { ...h.awsProxy.stats };
    let faulty: JobView;
    try {
      faulty = await h.finished((await h.create(params)).id);
    } finally {
      h.awsProxy.setWriteFaults(0);
    }
    expect(faulty, h.log.tail()).toMatchObject({ status: "succeeded", chunks_ready: 8 });
    const files = ["init.mp4", ...Array.from({ length: 8 }, (_, k) => `seg-${String(k).padStart(5, "0")}.m4s`), "content"];
    let same = 0;
    for (const f of files)
      if (sha(await h.bytes(`/v1/videos/${base.id}/${f}`)) === sha(await h.bytes(`/v1/videos/${faulty.id}/${f}`))) same++;
    expect(same).toBe(files.length);
    figures("s3-faults", {
      writes: h.awsProxy.stats.writes - before.writes,
      failed_writes: h.awsProxy.stats.failedWrites - before.failedWrites,
      identical_files: `${same}/${files.length}`,
      charged: `${faulty.charged}/${faulty.price.credits}`,
    });
  });

  it("fast recovery: a worker killed mid-job; the job resumes elsewhere within 15 s, at most one chunk computed twice", async () => {
    const job0 = await h.create({ prompt: "an orange triangle falling", duration_s: 16, steps: 50 });
    const owner = await waitFor(
      () => {
        const stored = h.log.find(job0.id, "chunk stored");
        return stored.length >= 3 ? stored[0]!.worker : undefined;
      },
      120_000,
      20,
    );
    expect(owner, h.log.tail()).toBeDefined();
    const victim = h.stack.workers.find((w) => w.name === owner)!;
    victim.proc.kill("SIGKILL");
    const killedAt = performance.now();
    const job = await h.finished(job0.id);
    expect(job, h.log.tail()).toMatchObject({ status: "succeeded", chunks_ready: 16 });
    const resumed = h.log.find(job0.id, "resuming").find((l) => l.at > killedAt);
    expect(resumed, h.log.tail()).toBeDefined();
    const recoveryS = (resumed!.at - killedAt) / 1000;
    const work = h.chunkWork(job0.id);
    // The chunk in progress at the kill was lost with the worker and computed again.
    // Counted whether or not the victim had stepped far into it: at most that one.
    const twice = work.computed - work.distinct + 1;
    expect(recoveryS).toBeLessThan(15);
    expect(twice).toBeLessThanOrEqual(1);
    expect(job.charged).toBe(job.price.credits);
    figures("worker-killed", {
      recovery_s: recoveryS.toFixed(1),
      resumed_by: resumed!.worker,
      from_chunk: resumed!.from_chunk as number,
      chunks_recomputed: twice,
      playlist: await h.playlistLength(job0.id),
      charged: `${job.charged}/${job.price.credits}`,
    });
  });

  it("charges: every job charged once at its price when it succeeded, nothing left reserved", async () => {
    const c = await h.charges(usageBefore);
    expect(c, JSON.stringify(await h.read<Usage>("/v1/usage"))).toBeDefined();
    expect(c!.spent).toBe(c!.charged);
    figures("charges", { jobs: c!.jobs, credits_charged: c!.charged, reserved_left: c!.reserved });
  });
});
