import { POLICY } from "../scaling/policy.ts";
import type { SimConfig } from "./config.ts";
import { checkGoals, type GoalCheck } from "./goals.ts";
import { summarize, type PolicyMetrics } from "./metrics.ts";
import type { RunLog } from "./record.ts";
import type { PlacementRow, SweepRow } from "./report.ts";
import {
  buildScenario,
  classOfInstance,
  DEPLOYMENT_NAMES,
  POLICY_NAMES,
  prepareDay,
  runScenario,
  sizingModel,
  type Day,
  type PolicyName,
  type PolicyValues,
  type ScenarioOptions,
  withTiers,
} from "./scenarios.ts";
import { floorByHour } from "./sizing.ts";
import { classSpeed, type ClassId } from "./service.ts";
import type { Trace } from "./trace.ts";

/** Every run `npm run sim` reports: the policies side by side, the cold-start sweep, where economy runs. */
export interface Study {
  day: Day;
  results: { name: PolicyName; metrics: PolicyMetrics; log: RunLog }[];
  goals: GoalCheck[];
  /** reelmesh's policy under each deployment's control loop, with its goals. */
  deployments: { name: PolicyName; metrics: PolicyMetrics; goals: GoalCheck[] }[];
  sweep: SweepRow[];
  placement: PlacementRow[];
}

const SWEEP_COLD_STARTS_S = [2, 60, 300] as const;
const SWEEP_POLICIES: readonly PolicyName[] = ["reelmesh", "target-tracking", "keda-default"];

/** Economy placements compared for reelmesh's policy (the first is POLICY's own when it says so). */
const PLACEMENTS: readonly { label: string; classId: ClassId; spot: boolean }[] = [
  { label: "L40S spot", classId: "l40s", spot: true },
  { label: "L40S on-demand", classId: "l40s", spot: false },
  { label: "L4 spot", classId: "l4", spot: true },
  { label: "L4 on-demand", classId: "l4", spot: false },
  { label: "H100 spot", classId: "h100", spot: true },
];

/**
 * The share of standard jobs that may wait past the goal with the floor alone, at the quietest
 * rate of its hour: the floor is a lower bound and the reactive part runs above it
 * (docs/scaling.md#reelmesh; chosen with `npm run sim -- --tune`).
 */
const FLOOR_WAIT_TAIL = 0.8;

export function runPolicy(day: Day, name: PolicyName, policy?: PolicyValues, placement?: ScenarioOptions["placement"]) {
  const scenario = buildScenario(name, day, { ...(policy ? { policy } : {}), ...(placement ? { placement } : {}) });
  const log = runScenario(day, scenario);
  return { name, metrics: summarize(day, log, name, scenario.description), log };
}

export function runStudy(
  config: SimConfig,
  trace: Trace,
  opts: { sweep?: boolean; placement?: boolean; policy?: PolicyValues } = {},
): Study {
  const day = prepareDay(config, trace);
  const results = POLICY_NAMES.map((name) => runPolicy(day, name, opts.policy));
  const by = Object.fromEntries(results.map((r) => [r.name, r.metrics])) as Record<PolicyName, PolicyMetrics>;
  const deployments = DEPLOYMENT_NAMES.map((name) => {
    const metrics = runPolicy(day, name, opts.policy).metrics;
    return { name, metrics, goals: checkGoals({ ...by, reelmesh: metrics }) };
  });
  const sweep: SweepRow[] = [];
  if (opts.sweep ?? true) {
    for (const policy of SWEEP_POLICIES) {
      for (const coldStartS of SWEEP_COLD_STARTS_S) {
        const metrics =
          coldStartS === config.coldStartS
            ? by[policy]
            : runPolicy({ ...day, config: { ...config, coldStartS } }, policy, opts.policy).metrics;
        sweep.push({ policy, coldStartS, metrics });
      }
    }
  }
  const placement: PlacementRow[] = [];
  const runsOn = Object.keys(day.workload.speeds);
  if ((opts.placement ?? true) && PLACEMENTS.every((p) => runsOn.includes(p.classId))) {
    const policy = opts.policy ?? POLICY;
    const own = policy.tiers.economy;
    const ownClass = classOfInstance(own.instanceType);
    for (const p of PLACEMENTS) {
      const isOwn = p.classId === ownClass && p.spot === own.spot && own.onDemandBase === 0;
      // The same throughput on a slower or faster class: task counts scale by the speed ratio.
      const k = classSpeed(day.workload, ownClass) / classSpeed(day.workload, p.classId);
      const scaled = withTiers(policy, {
        economy: {
          maxTasks: Math.ceil(own.maxTasks * k),
          maxByHour: own.maxByHour.map((n) => Math.ceil(n * k)),
          floorByHour: own.floorByHour.map((n) => Math.ceil(n * k)),
          deadlineGuard: own.deadlineGuard && { ...own.deadlineGuard, tasks: Math.ceil(own.deadlineGuard.tasks * k) },
        },
      });
      const metrics = isOwn ? by.reelmesh : runPolicy(day, "reelmesh", scaled, { economy: { classId: p.classId, spot: p.spot } }).metrics;
      placement.push({ label: isOwn ? `${p.label} (policy.ts)` : p.label, metrics });
    }
  }
  return { day, results, goals: checkGoals(by), deployments, sweep, placement };
}

/** reelmesh's standard floor by hour as the simulator derives it from the trace's hour-of-day profile, led by POLICY's cold start. */
export function standardFloor(day: Day, tailShare = FLOOR_WAIT_TAIL, policy: PolicyValues = POLICY): number[] {
  const model = sizingModel(day, classOfInstance(policy.tiers.standard.instanceType));
  return floorByHour(day.trace, "standard", model, { leadS: POLICY.coldStartS, goalS: day.config.waitGoalS, tailShare, share: 1 });
}
