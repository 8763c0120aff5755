import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type SimConfig } from "./config.ts";
import { replay } from "./fleet.ts";
import { summarize } from "./metrics.ts";
import type { PoolSpec, Scaler } from "./model.ts";
import { buildScenario, POLICY_NAMES, prepareDay, runScenario } from "./scenarios.ts";
import { WORKLOADS, type Workload } from "./service.ts";
import { syntheticTrace, type Arrival } from "./trace.ts";

/** A workload where a 1 s chunk is 10 s of work on the L40S (speed 1), so times are easy to read. */
const workload: Workload = { ...WORKLOADS.wan, speeds: { l40s: 1 }, batchMarginalCost: 1 };
const CHUNK_WORK = 10;

function run(arrivals: Arrival[], pools: PoolSpec[], config: Partial<SimConfig> = {}, endS = 7200) {
  const cfg = { ...DEFAULT_CONFIG, workload, ...config };
  return replay({
    scenario: { name: "test", description: "", pools },
    config: cfg,
    workload,
    arrivals,
    workOf: (clipS) => clipS * CHUNK_WORK,
    fromS: 0,
    window: { fromS: 0, toS: endS },
    endS,
    peakHours: new Array<boolean>(24).fill(false),
  });
}

function pool(scaler: Scaler, spec: Partial<PoolSpec> = {}): PoolSpec {
  return {
    id: "p",
    tiers: ["standard", "economy"],
    classId: "l40s",
    onDemandBase: 0,
    spot: false,
    scaleIn: "idle-only",
    drainS: 0,
    initial: 0,
    scaler,
    ...spec,
  };
}

/** Wants `before` tasks until `at`, then `after`. */
const step = (at: number, before: number, after: number): Scaler => ({ periodS: 10, decide: (v) => (v.now < at ? before : after) });
const onBacklog: Scaler = { periodS: 10, decide: (v) => (v.queues.standard.visible + v.queues.standard.inFlight > 0 ? 1 : 0) };
const jobs = (tier: Arrival["tier"], ats: number[], clipS = 4): Arrival[] => ats.map((at) => ({ tier, at, clipS }));

describe("the fleet", () => {
  it("serves a step of arrivals only after the cold start of the task it launches", () => {
    for (const coldStartS of [2, 60, 300]) {
      const log = run(jobs("standard", [100.5, 100.6]), [pool(onBacklog)], { coldStartS });
      // The scaler sees the backlog at its tick at 110 s; the task serves from 110 + cold start.
      for (const j of log.jobs) expect(j.start).toBe(110 + coldStartS);
      expect(log.tasks).toHaveLength(1);
      expect(log.tasks[0]!.readyAt - log.tasks[0]!.launchedAt).toBe(coldStartS);
    }
  });

  it("runs a task's jobs in one shared batch: n jobs each progress at 1 / (1 + (n − 1) c)", () => {
    const shared = { ...workload, batchMarginalCost: 0.5 };
    const log = replay({
      scenario: { name: "t", description: "", pools: [pool(step(Infinity, 1, 1), { initial: 1 })] },
      config: { ...DEFAULT_CONFIG, workload: shared },
      workload: shared,
      arrivals: jobs("standard", [10, 10, 10, 10]),
      workOf: (clipS) => clipS * CHUNK_WORK,
      fromS: 0,
      window: { fromS: 0, toS: 3600 },
      endS: 3600,
      peakHours: new Array<boolean>(24).fill(false),
    });
    for (const j of log.jobs) expect(j.end - j.start).toBeCloseTo(40 * (1 + 3 * 0.5), 6);
  });

  it("runs standard work before economy work on the same task", () => {
    const log = run([...jobs("economy", [0]), ...jobs("standard", [10])], [pool(step(Infinity, 1, 1), { initial: 1 })]);
    const [eco, std] = log.jobs;
    expect(std!.end).toBeCloseTo(10 + 40, 6); // alone on the GPU while it runs
    expect(eco!.end).toBeCloseTo(40 + 40, 6); // paused for the standard job's 40 s
  });

  it("kills busy workers' jobs on scale-in only when the policy does not keep to idle ones", () => {
    const arrivals = jobs("standard", [0, 0, 0, 0, 0, 0, 0, 0], 20);
    const respectful = run(arrivals, [pool(step(60, 2, 1), { initial: 2, scaleIn: "idle-only" })]);
    expect(respectful.killedByScaleIn).toBe(0);
    expect(respectful.jobs.every((j) => j.end > 0 && j.restarts === 0)).toBe(true);

    const blunt = run(arrivals, [pool(step(60, 2, 1), { initial: 2, scaleIn: "random", drainS: 5 })]);
    expect(blunt.killedByScaleIn).toBe(4);
    // Handed back from their last committed chunk, then finished by the task that stayed.
    expect(blunt.jobs.every((j) => j.end > 0)).toBe(true);
    expect(blunt.reworkGpuS).toBeLessThanOrEqual(4 * CHUNK_WORK);
  });

  it("redoes at most one chunk of a job a spot interruption takes away", () => {
    const arrivals = jobs(
      "standard",
      Array.from({ length: 200 }, (_, i) => i * 30),
      20,
    );
    const log = run(
      arrivals,
      [pool(step(Infinity, 3, 3), { initial: 3, spot: true, drainS: 3 })],
      { spotInterruptionsPerHour: 6, seed: 7 },
      6 * 3600,
    );
    expect(log.preemptions).toBeGreaterThan(5);
    expect(log.preemptedJobs).toBeGreaterThan(0);
    expect(log.reworkGpuS).toBeGreaterThan(0);
    expect(log.reworkGpuS).toBeLessThanOrEqual(log.preemptedJobs * CHUNK_WORK);
    expect(log.jobs.every((j) => j.end > 0 && j.progress === j.work)).toBe(true);
  });

  it("replaces a worker process at its job limit on the same instance, without a cold start", () => {
    const log = run(jobs("standard", [0, 100, 200, 300, 400]), [pool(step(Infinity, 1, 1), { initial: 1 })], {
      maxJobsPerProcess: 2,
      processRestartS: 20,
    });
    expect(log.tasks).toHaveLength(1);
    expect(log.processRestarts).toBe(2);
    expect(log.jobs.every((j) => j.end > 0)).toBe(true);
  });

  it("stops booting tasks before serving ones when the target drops", () => {
    const log = run(jobs("standard", [0], 100), [pool(step(20, 3, 1), { initial: 1 })], { coldStartS: 60 });
    expect(log.tasks).toHaveLength(3);
    expect(log.tasks.filter((t) => t.endAt < t.readyAt)).toHaveLength(2);
    expect(log.killedByScaleIn).toBe(0);
  });
});

describe("every policy on a day", () => {
  const trace = syntheticTrace([2, 0, 1, 6, 0, 0, 3, 12, 12, 1], [1, 0, 2]);
  const small = { ...DEFAULT_CONFIG, warmupH: 2, tailH: 7 };

  it("bills at least the oracle's GPU-hours, whatever the policy, cold start and batching", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...POLICY_NAMES),
        fc.constantFrom(2, 60, 300),
        fc.double({ min: 0.3, max: 1.2, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (name, coldStartS, batchMarginalCost, seed) => {
          const day = prepareDay({ ...small, seed, coldStartS, workload: { ...WORKLOADS.wan, batchMarginalCost } }, trace);
          const m = summarize(day, runScenario(day, buildScenario(name, day)), name, "");
          expect(m.oracleGpuHours).toBeGreaterThan(0);
          expect(m.gpuHours.total).toBeGreaterThanOrEqual(m.oracleGpuHours);
        },
      ),
      { numRuns: 12, seed: 42 },
    );
  });

  it("gives the same figures for the same seed, and others for another", () => {
    const figures = (seed: number) => {
      const day = prepareDay({ ...small, seed, spotInterruptionsPerHour: 0.5 }, trace);
      return JSON.stringify(summarize(day, runScenario(day, buildScenario("reelmesh", day)), "reelmesh", ""));
    };
    expect(figures(3)).toBe(figures(3));
    expect(figures(3)).not.toBe(figures(4));
  });
});
