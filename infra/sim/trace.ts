import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Tier } from "../scaling/policy.ts";
import type { Random } from "./random.ts";

/** Per-minute arrivals over one day (infra/sim/data/tidal-trace.csv), replayed as a repeating day. */
export interface Trace {
  /** Jobs created in each minute of the day, per tier; index = minute of the day. */
  standard: readonly number[];
  economy: readonly number[];
}

export const DEFAULT_TRACE = new URL("./data/tidal-trace.csv", import.meta.url);
export const DAY_S = 86_400;

const Row = z.object({
  minute: z.coerce.number().int().min(0).max(1439),
  hour: z.coerce.number(),
  standard_jobs: z.coerce.number().int().min(0),
  economy_jobs: z.coerce.number().int().min(0),
});

export function loadTrace(path: URL | string = DEFAULT_TRACE): Trace {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = header!.split(",");
  const standard = new Array<number>(1440).fill(0);
  const economy = new Array<number>(1440).fill(0);
  const seen = new Set<number>();
  for (const line of lines) {
    const row = Row.parse(Object.fromEntries(line.split(",").map((v, i) => [names[i], v])));
    if (seen.has(row.minute)) throw new Error(`trace ${String(path)}: minute ${row.minute} appears twice`);
    seen.add(row.minute);
    standard[row.minute] = row.standard_jobs;
    economy[row.minute] = row.economy_jobs;
  }
  if (seen.size !== 1440) throw new Error(`trace ${String(path)}: ${seen.size} minutes, expected 1440`);
  return { standard, economy };
}

/** A trace built from rates per minute, for tests: `minutes` long, repeated to fill the day. */
export function syntheticTrace(standard: readonly number[], economy: readonly number[] = []): Trace {
  const fill = (xs: readonly number[]) => Array.from({ length: 1440 }, (_, m) => (xs.length ? xs[m % xs.length]! : 0));
  return { standard: fill(standard), economy: fill(economy) };
}

export interface Arrival {
  tier: Tier;
  /** Seconds since the start of day 0. */
  at: number;
  clipS: number;
}

/**
 * The jobs created in [fromS, toS): each minute's count from the trace (the day repeats), at
 * uniform random times within the minute, each with a clip length drawn by `drawClip`.
 */
export function arrivals(trace: Trace, fromS: number, toS: number, rand: Random, drawClip: (u: number) => number): Arrival[] {
  const out: Arrival[] = [];
  for (let m = Math.floor(fromS / 60); m * 60 < toS; m++) {
    const minute = ((m % 1440) + 1440) % 1440;
    for (const tier of ["standard", "economy"] as const) {
      for (let i = 0; i < trace[tier][minute]!; i++) {
        const at = m * 60 + rand.next() * 60;
        if (at >= fromS && at < toS) out.push({ tier, at, clipS: drawClip(rand.next()) });
      }
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Jobs per hour of the day, per tier. */
function hourlyTotals(trace: Trace, tier: Tier): number[] {
  return Array.from({ length: 24 }, (_, h) => trace[tier].slice(h * 60, h * 60 + 60).reduce((s, x) => s + x, 0));
}

/**
 * The hour-of-day profile a predictive floor may know: each hour's median jobs per minute. The
 * median, not the mean, so that a one-off burst (a viral spike) is not mistaken for the hour's
 * usual level.
 */
export function hourlyMedianPerMinute(trace: Trace, tier: Tier): number[] {
  return Array.from({ length: 24 }, (_, h) => {
    const xs = trace[tier].slice(h * 60, h * 60 + 60).toSorted((a, b) => a - b);
    return (xs[29]! + xs[30]!) / 2;
  });
}

/** Standard peaks: the hours whose standard jobs are above the day's mean hour. */
export function standardPeakHours(trace: Trace): boolean[] {
  const hours = hourlyTotals(trace, "standard");
  const mean = hours.reduce((s, x) => s + x, 0) / 24;
  return hours.map((x) => x > mean);
}

/**
 * The day's largest burst of standard jobs: the minute where the rate over the next 10 minutes
 * most exceeds the rate over the previous 30. Returns its start (seconds into the day) and the
 * ratio of the two rates.
 */
export function detectSpike(trace: Trace): { startS: number; ratio: number } {
  const s = trace.standard;
  const mean = (from: number, n: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += s[(((from + i) % 1440) + 1440) % 1440]!;
    return sum / n;
  };
  let best = { startS: 0, ratio: 0 };
  for (let m = 0; m < 1440; m++) {
    const ratio = mean(m, 10) / Math.max(1, mean(m - 30, 30));
    if (ratio > best.ratio) best = { startS: m * 60, ratio };
  }
  return best;
}
