import type { Tier } from "../scaling/policy.ts";
import { classSpeed, meanClipS, peakThroughput, workPerVideoS, type ClassId, type Workload } from "./service.ts";
import { hourlyMedianPerMinute, type Trace } from "./trace.ts";

/**
 * Fleet sizes from queueing theory. A task is `concurrency` slots; at full occupancy it finishes
 * jobs at peakThroughput / (mean job time alone), so each slot is a server of a quarter of that
 * rate, and a fleet of N tasks is an M/M/(N × concurrency) queue (Erlang C). This is
 * conservative: a task with free slots runs its jobs faster than a full one.
 */
export interface SizingModel {
  workload: Workload;
  classId: ClassId;
  concurrency: number;
}

/** Mean seconds a job needs alone on the class. */
function meanJobS(m: SizingModel): number {
  return (meanClipS() * workPerVideoS(m.workload)) / classSpeed(m.workload, m.classId);
}

/** Jobs per second one task finishes when full. */
export function taskJobRate(m: SizingModel): number {
  return peakThroughput(m.concurrency, m.workload.batchMarginalCost) / meanJobS(m);
}

/** Erlang C: the chance an arrival waits, for c servers offered `a` erlangs. */
export function erlangC(c: number, a: number): number {
  if (a >= c) return 1;
  let b = 1; // Erlang B by recursion: B(k) = a B(k−1) / (k + a B(k−1))
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b / (1 - (a / c) * (1 - b));
}

/** Fewest tasks that keep P(wait > goalS) at or below `tailShare` at `perSecond` arrivals. */
export function tasksFor(m: SizingModel, perSecond: number, goalS: number, tailShare: number): number {
  if (perSecond <= 0) return 0;
  const mu = taskJobRate(m) / m.concurrency;
  const a = perSecond / mu;
  for (let n = 1; n < 10_000; n++) {
    const c = n * m.concurrency;
    if (c <= a) continue;
    if (erlangC(c, a) * Math.exp(-(c * mu - perSecond) * goalS) <= tailShare) return n;
  }
  throw new Error(`no fleet below 10,000 tasks serves ${perSecond} jobs/s`);
}

/**
 * The predictive floor for each hour (UTC) of a tier: the Erlang C fleet for the lowest rate of
 * the hour-of-day profile in that hour, the profile looked at `leadS` ahead (the cold start), so
 * the floor is up when the rate arrives and never above what the hour needs at its quietest.
 * The profile is each hour's median rate, placed at the half hour and linear in between.
 */
export function floorByHour(
  trace: Trace,
  tier: Tier,
  m: SizingModel,
  opts: { leadS: number; goalS: number; tailShare: number; share: number },
): number[] {
  const med = hourlyMedianPerMinute(trace, tier);
  const rateAt = (s: number) => {
    const h = (((s / 3600 - 0.5) % 24) + 24) % 24;
    const i = Math.floor(h);
    const f = h - i;
    return (med[i]! * (1 - f) + med[(i + 1) % 24]! * f) / 60;
  };
  return Array.from({ length: 24 }, (_, hour) => {
    let low = Infinity;
    for (let s = hour * 3600; s < (hour + 1) * 3600; s += 60) low = Math.min(low, rateAt(s + opts.leadS));
    return Math.floor(tasksFor(m, low, opts.goalS, opts.tailShare) * opts.share);
  });
}

/** Jobs per second of both tiers together in the day's busiest `windowMin` minutes. */
export function peakRate(trace: Trace, windowMin: number): number {
  let best = 0;
  for (let m = 0; m < 1440; m++) {
    let n = 0;
    for (let i = 0; i < windowMin; i++) n += trace.standard[(m + i) % 1440]! + trace.economy[(m + i) % 1440]!;
    best = Math.max(best, n / (windowMin * 60));
  }
  return best;
}

/** Jobs per second of both tiers over the day. */
export function meanRate(trace: Trace): number {
  return [...trace.standard, ...trace.economy].reduce((s, x) => s + x, 0) / 86_400;
}
