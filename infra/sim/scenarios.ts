import { POLICY, TIERS, type Tier, type TierScaling } from "../scaling/policy.ts";
import type { SimConfig } from "./config.ts";
import { replay } from "./fleet.ts";
import type { PoolSpec, Scenario } from "./model.ts";
import { cdkQueueProcessing, fixed, kedaSqs, targetTracking } from "./policies.ts";
import { createRandom } from "./random.ts";
import type { RunLog } from "./record.ts";
import { reelmeshOnEcs, reelmeshScaler } from "./reelmesh.ts";
import { CLASSES, classSpeed, drawClipS, workPerVideoS, type ClassId, type Workload } from "./service.ts";
import { meanRate, peakRate, taskJobRate, tasksFor, type SizingModel } from "./sizing.ts";
import { arrivals, DAY_S, detectSpike, standardPeakHours, type Arrival, type Trace } from "./trace.ts";

/** The policies compared, in the order the report shows them. */
export const POLICY_NAMES = ["static-peak", "static-mean", "cdk-default", "keda-default", "target-tracking", "reelmesh"] as const;
/** reelmesh's policy under each deployment's own control loop. */
export const DEPLOYMENT_NAMES = ["reelmesh-eks", "reelmesh-ecs"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number] | (typeof DEPLOYMENT_NAMES)[number];

/** The parts of infra/scaling/policy.ts the simulator runs; `POLICY` itself by default. */
export interface PolicyValues {
  scaleInIdleOnly: boolean;
  drainBoundS: number;
  tiers: Record<Tier, TierScaling>;
}

/** A copy of the policy values with some of a tier's fields replaced. */
export function withTiers(base: PolicyValues, patch: { standard?: Partial<TierScaling>; economy?: Partial<TierScaling> }): PolicyValues {
  return {
    scaleInIdleOnly: base.scaleInIdleOnly,
    drainBoundS: base.drainBoundS,
    tiers: { standard: { ...base.tiers.standard, ...patch.standard }, economy: { ...base.tiers.economy, ...patch.economy } },
  };
}

/** One replay's inputs, shared by every policy run on it: the same jobs for all. */
export interface Day {
  config: SimConfig;
  workload: Workload;
  trace: Trace;
  arrivals: Arrival[];
  fromS: number;
  window: { fromS: number; toS: number };
  endS: number;
  peakHours: boolean[];
  spikeStartS: number;
  /** The burst's rate over that of the half hour before it. */
  spikeRatio: number;
}

export function prepareDay(config: SimConfig, trace: Trace): Day {
  const workload = config.workload;
  const window = { fromS: DAY_S, toS: 2 * DAY_S };
  const fromS = window.fromS - config.warmupH * 3600;
  const endS = window.toS + config.tailH * 3600;
  const rand = createRandom(config.seed).fork("arrivals");
  const spike = detectSpike(trace);
  return {
    config,
    workload,
    trace,
    arrivals: arrivals(trace, fromS, endS, rand, (u) => drawClipS(u)),
    fromS,
    window,
    endS,
    peakHours: standardPeakHours(trace),
    spikeStartS: window.fromS + spike.startS,
    spikeRatio: spike.ratio,
  };
}

export function classOfInstance(instanceType: string): ClassId {
  const found = Object.values(CLASSES).find((c) => c.instanceType === instanceType);
  if (!found)
    throw new Error(
      `no simulated class for instance type "${instanceType}"; known: ${Object.values(CLASSES)
        .map((c) => c.instanceType)
        .join(", ")}`,
    );
  return found.id;
}

/** The class a workload runs on when the policy's instance type is not one it runs on (the CPU image for the reference model). */
function runnableClass(w: Workload, wanted: ClassId): ClassId {
  return w.speeds[wanted] !== undefined ? wanted : (Object.keys(w.speeds)[0] as ClassId);
}

export function sizingModel(day: Day, classId: ClassId): SizingModel {
  return { workload: day.workload, classId: runnableClass(day.workload, classId), concurrency: day.config.concurrency };
}

export interface ScenarioOptions {
  policy?: PolicyValues;
  /** Replace the class (and capacity) a reelmesh tier runs on, for the placement comparison. */
  placement?: Partial<Record<Tier, { classId: ClassId; spot: boolean }>>;
}

export function buildScenario(name: PolicyName, day: Day, opts: ScenarioOptions = {}): Scenario {
  const policy = opts.policy ?? POLICY;
  const cfg = day.config;
  const baseClass = runnableClass(day.workload, classOfInstance(policy.tiers.standard.instanceType));
  const model = sizingModel(day, baseClass);
  const pool = (
    id: string,
    tiers: readonly Tier[],
    initial: number,
    scaler: PoolSpec["scaler"],
    extra: Partial<PoolSpec> = {},
  ): PoolSpec => ({
    id,
    tiers,
    classId: baseClass,
    onDemandBase: 0,
    spot: false,
    scaleIn: "random",
    drainS: policy.drainBoundS,
    initial,
    scaler,
    ...extra,
  });
  const perTier = (make: (tier: Tier) => PoolSpec["scaler"], initial = 1) => TIERS.map((tier) => pool(tier, [tier], initial, make(tier)));
  const max = (tier: Tier) => policy.tiers[tier].maxTasks;
  switch (name) {
    case "static-peak": {
      const n = tasksFor(model, peakRate(day.trace, 5), cfg.waitGoalS, 0.05);
      return {
        name,
        description: `${n} tasks all day: Erlang C for the busiest 5 minutes, both tiers`,
        pools: [pool("all", TIERS, n, fixed(n))],
      };
    }
    case "static-mean": {
      const n = Math.ceil(meanRate(day.trace) / taskJobRate(model));
      return {
        name,
        description: `${n} tasks all day: the day's mean work at full batches, both tiers`,
        pools: [pool("all", TIERS, n, fixed(n))],
      };
    }
    case "cdk-default":
      return {
        name,
        description: "QueueProcessingEc2Service defaults per queue: visible-message steps, CPU target 50 %, min 1",
        pools: perTier((tier) => cdkQueueProcessing({ tier, poolId: tier, min: 1, max: max(tier), delayS: cfg.cloudWatchDelayS })),
      };
    case "keda-default":
      return {
        name,
        description: "KEDA aws-sqs-queue defaults per queue (queueLength 5, in-flight counted), HPA defaults",
        pools: perTier((tier) => kedaSqs({ tier, max: max(tier) })),
      };
    case "target-tracking":
      return {
        name,
        description:
          "(visible + in-flight) / task tracked at reelmesh's target per tier, AWS defaults (1-min metric, 3/15 datapoints, 300 s cooldowns)",
        pools: perTier((tier) =>
          targetTracking({
            tier,
            poolId: tier,
            target: policy.tiers[tier].targetBacklogPerTask,
            min: 1,
            max: max(tier),
            delayS: cfg.cloudWatchDelayS,
          }),
        ),
      };
    case "reelmesh":
    case "reelmesh-eks":
    case "reelmesh-ecs": {
      const how = {
        reelmesh: {
          description: "infra/scaling/policy.ts with its own control loop: the queue read every pollingIntervalS",
          scaleIn: "idle-only",
        },
        "reelmesh-eks": {
          description: "as infra/k8s renders it: KEDA + HPA (15 s sync), pod-deletion-cost (idle pods first)",
          scaleIn: "idle-first",
        },
        "reelmesh-ecs": {
          description: "as infra/aws deploys it: target tracking on 1-minute CloudWatch metrics, task protection",
          scaleIn: "idle-only",
        },
      } as const;
      return {
        name,
        description: how[name].description,
        pools: TIERS.map((tier) => {
          const t = policy.tiers[tier];
          const place = opts.placement?.[tier];
          const scaler =
            name === "reelmesh-ecs"
              ? reelmeshOnEcs(tier, t, cfg.cloudWatchDelayS)
              : reelmeshScaler(tier, t, name === "reelmesh-eks" ? { periodS: HPA_SYNC_S } : {});
          return pool(
            tier,
            [tier],
            Math.max(t.minTasks, t.floorByHour[((day.fromS % DAY_S) / 3600) | 0]!, tier === "standard" ? 1 : 0),
            scaler,
            {
              classId: runnableClass(day.workload, place?.classId ?? classOfInstance(t.instanceType)),
              onDemandBase: place ? (place.spot ? 0 : Infinity) : t.onDemandBase,
              spot: place ? place.spot : t.spot,
              scaleIn: policy.scaleInIdleOnly ? how[name].scaleIn : "random",
            },
          );
        }),
      };
    }
  }
}

/** The HPA's sync period (kube-controller-manager's default), which also paces KEDA-fed scaling. */
const HPA_SYNC_S = 15;

export function runScenario(day: Day, scenario: Scenario): RunLog {
  const perVideoS = workPerVideoS(day.workload);
  for (const p of scenario.pools) classSpeed(day.workload, p.classId);
  return replay({
    scenario,
    config: day.config,
    workload: day.workload,
    arrivals: day.arrivals,
    workOf: (clipS) => clipS * perVideoS,
    fromS: day.fromS,
    window: day.window,
    endS: day.endS,
    peakHours: day.peakHours,
  });
}
