import { TIERS, type Tier } from "../scaling/policy.ts";
import type { RunLog } from "./record.ts";
import type { Day } from "./scenarios.ts";
import { classSpeed, peakThroughput, type ClassId } from "./service.ts";

/** Everything the report shows for one policy over the measured day (docs/scaling.md#metrics). */
export interface PolicyMetrics {
  name: string;
  description: string;
  gpuHours: { onDemand: number; spot: number; total: number };
  /** The busy time itself: the day's work at full batches on the classes that did it. */
  oracleGpuHours: number;
  gpuHoursOverOracle: number;
  costUsd: number;
  /** The same hours all priced on-demand (the saving from scaling alone). */
  costAtOnDemandUsd: number;
  /** Share of billed GPU time with at least one job running. */
  utilisation: number;
  /** Seconds from create to first start, per tier (a job never started counts to the end of the replay). */
  waitS: Record<Tier, { p50: number; p95: number; p99: number }>;
  standardWithinGoal: number;
  standardP95InSpikeS: number;
  economy: { doneWithinTimeout: number; doneWithinDay: number; gpuSharesOutsidePeaks: number };
  coldStarts: number;
  coldStartGpuS: number;
  processRestarts: number;
  restartGpuS: number;
  scaleOuts: number;
  scaleIns: number;
  killedByScaleIn: number;
  preemptions: number;
  preemptedJobs: number;
  reworkGpuS: number;
  peakBacklog: Record<Tier, number>;
  /** From the spike's start until its backlog no longer holds a standard message past the wait goal. */
  drainAfterSpikeS: number;
  jobs: Record<Tier, number>;
}

const SPIKE_WINDOW_S = 20 * 60;
const SETTLED_S = 300;
/** EC2 bills per second with a one-minute minimum. */
const MIN_BILLED_S = 60;

export function summarize(day: Day, log: RunLog, name: string, description: string): PolicyMetrics {
  const { fromS, toS } = log.window;
  const cfg = day.config;
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, toS) - Math.max(a, fromS));
  const hours = { onDemand: 0, spot: 0 };
  let cost = 0;
  let costOnDemand = 0;
  let coldStarts = 0;
  let coldStartGpuS = 0;
  for (const t of log.tasks) {
    const end = Math.min(t.endAt, log.endS);
    const billed = overlap(t.launchedAt, Math.max(end, t.launchedAt + MIN_BILLED_S));
    const price = cfg.onDemandUsdPerHour[t.pool.spec.classId];
    hours[t.spot ? "spot" : "onDemand"] += billed / 3600;
    cost += (billed / 3600) * price * (t.spot ? cfg.spotPriceShare : 1);
    costOnDemand += (billed / 3600) * price;
    if (t.readyAt > t.launchedAt && t.launchedAt >= fromS && t.launchedAt < toS) coldStarts++;
    coldStartGpuS += overlap(t.launchedAt, Math.min(t.readyAt, end));
  }
  const full = peakThroughput(cfg.concurrency, day.workload.batchMarginalCost);
  let oracle = 0;
  for (const [cls, work] of Object.entries(log.usefulWork)) oracle += work / (classSpeed(day.workload, cls as ClassId) * full) / 3600;
  const total = hours.onDemand + hours.spot;

  const dayJobs = log.jobs.filter((j) => j.at >= fromS && j.at < toS);
  const byTier = (tier: Tier) => dayJobs.filter((j) => j.tier === tier);
  const waitOf = (j: (typeof dayJobs)[number]) => (j.start >= 0 ? j.start : log.endS) - j.at;
  const waits = Object.fromEntries(TIERS.map((tier) => [tier, percentiles(byTier(tier).map(waitOf))])) as PolicyMetrics["waitS"];
  const std = byTier("standard");
  const spike = std.filter((j) => j.at >= day.spikeStartS && j.at < day.spikeStartS + SPIKE_WINDOW_S);
  const eco = byTier("economy");
  const done = (limitS: number) => share(eco, (j) => j.end >= 0 && j.end - j.at <= limitS);
  const ecoGpu = log.economyGpuS.peak + log.economyGpuS.offPeak;

  const s = log.samples;
  const inDay = s.t.map((t, i) => [t, i] as const).filter(([t]) => t >= fromS && t < toS);
  const peakBacklog = Object.fromEntries(TIERS.map((tier) => [tier, Math.max(0, ...inDay.map(([, i]) => s.visible[tier][i]!))])) as Record<
    Tier,
    number
  >;

  return {
    name,
    description,
    gpuHours: { ...hours, total },
    oracleGpuHours: oracle,
    gpuHoursOverOracle: oracle > 0 ? total / oracle : 0,
    costUsd: cost,
    costAtOnDemandUsd: costOnDemand,
    utilisation: total > 0 ? log.busyS / 3600 / total : 0,
    waitS: waits,
    standardWithinGoal: share(std, (j) => waitOf(j) <= cfg.waitGoalS),
    standardP95InSpikeS: percentiles(spike.map(waitOf)).p95,
    economy: {
      doneWithinTimeout: done(cfg.jobTimeoutS),
      doneWithinDay: done(86_400),
      gpuSharesOutsidePeaks: ecoGpu > 0 ? log.economyGpuS.offPeak / ecoGpu : 1,
    },
    coldStarts,
    coldStartGpuS,
    processRestarts: log.processRestarts,
    restartGpuS: log.restartGpuS,
    scaleOuts: log.scaleOuts,
    scaleIns: log.scaleIns,
    killedByScaleIn: log.killedByScaleIn,
    preemptions: log.preemptions,
    preemptedJobs: log.preemptedJobs,
    reworkGpuS: log.reworkGpuS,
    peakBacklog,
    drainAfterSpikeS: drainTime(log, day.spikeStartS, cfg.waitGoalS),
    jobs: { standard: std.length, economy: eco.length },
  };
}

function share<T>(xs: readonly T[], ok: (x: T) => boolean): number {
  return xs.length ? xs.filter(ok).length / xs.length : 1;
}

/** Nearest-rank percentiles. */
function percentiles(xs: number[]): { p50: number; p95: number; p99: number } {
  if (!xs.length) return { p50: 0, p95: 0, p99: 0 };
  const s = xs.toSorted((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/**
 * From the spike's start to the end of the last time the oldest standard message was older than
 * the goal, before the queue settles (5 minutes within the goal) after the spike's 20 minutes.
 */
function drainTime(log: RunLog, spikeS: number, goalS: number): number {
  const { t, oldestAgeS } = log.samples;
  const age = oldestAgeS.standard;
  const settledAt = (i: number) => {
    for (let k = i; k < t.length && t[k]! < t[i]! + SETTLED_S; k++) if (age[k]! > goalS) return false;
    return true;
  };
  let end = t.findIndex((x) => x >= spikeS + SPIKE_WINDOW_S);
  if (end < 0) return 0;
  while (end < t.length && !settledAt(end)) end++;
  let last = -1;
  for (let i = t.findIndex((x) => x >= spikeS); i >= 0 && i < end; i++) if (age[i]! > goalS) last = i;
  if (last < 0) return 0;
  return (last + 1 < t.length ? t[last + 1]! : log.endS) - spikeS;
}
