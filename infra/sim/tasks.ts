import type { Job, Pool, Task } from "./model.ts";
import { batchRate } from "./service.ts";
import type { Arrival } from "./trace.ts";

/** A task's and a job's arithmetic: who shares the GPU now, how fast, and what a hand-back keeps. */

/** The jobs whose runs go now: standard work first, economy only on a task without standard work (engine.md, dynamic batching). */
export function runningGroup(t: Task): Job[] {
  const std = t.jobs.filter((j) => j.tier === "standard");
  return std.length ? std : t.jobs;
}

/** Work per second each job of the running group gets. */
export function jobRate(t: Task, group: readonly Job[], batchMarginalCost: number): number {
  return t.speed * batchRate(group.length, batchMarginalCost);
}

/** A handed-back job resumes from its last committed chunk (1 s of video): returns the work lost. */
export function backToLastChunk(j: Job): number {
  const chunk = j.work / j.clipS;
  const kept = Math.floor(j.progress / chunk + 1e-9) * chunk;
  const lost = j.progress - kept;
  j.progress = kept;
  return lost;
}

export function newTask(id: number, pool: Pool, o: { spot: boolean; speed: number; now: number; readyAt: number }): Task {
  return {
    id,
    pool,
    spot: o.spot,
    speed: o.speed,
    launchedAt: o.now,
    readyAt: o.readyAt,
    endAt: Infinity,
    state: o.readyAt > o.now ? "booting" : "ready",
    jobs: [],
    last: o.now,
    version: 0,
    received: 0,
    restarts: 0,
  };
}

export function newJob(id: number, a: Arrival, work: number): Job {
  return { id, tier: a.tier, at: a.at, clipS: a.clipS, work, progress: 0, start: -1, end: -1, restarts: 0, task: null };
}
