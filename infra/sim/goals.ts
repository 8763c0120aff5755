import type { PolicyMetrics } from "./metrics.ts";
import { duration } from "./report.ts";

/** The goals reelmesh's policy is held to, with 60 s cold starts (docs/scaling.md#goals). */
export const GOALS = {
  standardP95WaitS: 20,
  gpuHoursOverOracle: 1.1,
  /** Cost, all hours at on-demand prices, against static peak's. */
  costShareOfStaticPeak: 0.4,
  economyOutsidePeaks: 0.9,
} as const;

/** Two runs did the same work when their oracles are this close. */
const SAME_WORK = 0.99;

export interface GoalCheck {
  /** Which tier's values the goal judges (the tuner searches the two in turn). */
  tier: "standard" | "economy" | "both";
  goal: string;
  value: string;
  met: boolean;
}

export function checkGoals(m: Record<"reelmesh" | "static-peak" | "keda-default" | "cdk-default", PolicyMetrics>): GoalCheck[] {
  const r = m.reelmesh;
  // Raw GPU-hours reward leaving work undone: against a policy that finished less of the day's
  // work, compare GPU-hours per hour of work done (GPU-hours / oracle) instead.
  const fewerHours = (o: PolicyMetrics) =>
    o.oracleGpuHours < SAME_WORK * r.oracleGpuHours ? r.gpuHoursOverOracle < o.gpuHoursOverOracle : r.gpuHours.total < o.gpuHours.total;
  const beats = (o: PolicyMetrics) => fewerHours(o) && r.waitS.standard.p95 < o.waitS.standard.p95;
  const vs = (o: PolicyMetrics) =>
    `${r.gpuHours.total.toFixed(1)} vs ${o.gpuHours.total.toFixed(1)} GPU-h for ${r.oracleGpuHours.toFixed(1)} vs ${o.oracleGpuHours.toFixed(1)} h of work ` +
    `(${r.gpuHoursOverOracle.toFixed(3)} vs ${o.gpuHoursOverOracle.toFixed(3)} ×); p95 ${duration(r.waitS.standard.p95)} vs ${duration(o.waitS.standard.p95)}`;
  const saving = 1 - r.costAtOnDemandUsd / m["static-peak"].costAtOnDemandUsd;
  return [
    {
      tier: "standard",
      goal: `standard p95 wait ≤ ${GOALS.standardP95WaitS} s, spike included`,
      value: `${r.waitS.standard.p95.toFixed(1)} s`,
      met: r.waitS.standard.p95 <= GOALS.standardP95WaitS,
    },
    {
      tier: "both",
      goal: `GPU-hours ≤ ${GOALS.gpuHoursOverOracle} × oracle`,
      value: `${r.gpuHoursOverOracle.toFixed(3)} ×`,
      met: r.gpuHoursOverOracle <= GOALS.gpuHoursOverOracle,
    },
    {
      tier: "both",
      goal: `≥ ${Math.round((1 - GOALS.costShareOfStaticPeak) * 100)} % below static peak's cost, both at on-demand prices`,
      value: `${(saving * 100).toFixed(1)} % below`,
      met: saving >= 1 - GOALS.costShareOfStaticPeak,
    },
    {
      tier: "both",
      goal: "fewer GPU-hours for its work and lower standard p95 than keda-default",
      value: vs(m["keda-default"]),
      met: beats(m["keda-default"]),
    },
    {
      tier: "both",
      goal: "fewer GPU-hours for its work and lower standard p95 than cdk-default",
      value: vs(m["cdk-default"]),
      met: beats(m["cdk-default"]),
    },
    { tier: "both", goal: "no job killed by scale-in", value: `${r.killedByScaleIn}`, met: r.killedByScaleIn === 0 },
    {
      tier: "economy",
      goal: "every economy job done within the job timeout (6 h), so within the day",
      value: `${(r.economy.doneWithinTimeout * 100).toFixed(2)} % within 6 h, ${(r.economy.doneWithinDay * 100).toFixed(2)} % within 24 h`,
      met: r.economy.doneWithinTimeout === 1,
    },
    {
      tier: "economy",
      goal: `≥ ${GOALS.economyOutsidePeaks * 100} % of economy GPU-seconds outside the standard peaks`,
      value: `${(r.economy.gpuSharesOutsidePeaks * 100).toFixed(1)} %`,
      met: r.economy.gpuSharesOutsidePeaks >= GOALS.economyOutsidePeaks,
    },
  ];
}
