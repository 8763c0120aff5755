import type { Tier } from "../scaling/policy.ts";
import type { Scaler, ScalerView } from "./model.ts";

/**
 * The baseline autoscalers, each with its platform's default mechanics (docs/scaling.md#policies).
 * reelmesh's own is in reelmesh.ts.
 */

/** A fixed task count. */
export function fixed(n: number): Scaler {
  return { periodS: 3600, decide: () => n };
}

/**
 * aws-ecs-patterns QueueProcessingEc2Service as CDK builds it by default
 * (QueueProcessingServiceBase, aws-cdk-lib 2.276): step scaling on the queue's
 * ApproximateNumberOfMessagesVisible (Average over CloudWatch's default 5-minute period) with
 * steps [{ upper: 0, change: −1 }, { lower: 100, change: +1 }, { lower: 500, change: +5 }],
 * alarms of one evaluation period re-evaluated each minute, Application Auto Scaling's default
 * cooldown (300 s); plus target tracking on the service's CPU at 50 %. When both policies act at
 * once, the larger capacity wins.
 */
const CDK_DEFAULTS = {
  steps: [
    { upper: 0, change: -1 },
    { lower: 100, change: 1 },
    { lower: 500, change: 5 },
  ],
  metricPeriodS: 300,
  cooldownS: 300,
  cpuTargetPercent: 50,
  /** Target tracking: alarm high after 3 datapoints above target, low after 15 below 90 % of it. */
  highDatapoints: 3,
  lowDatapoints: 15,
} as const;

export function cdkQueueProcessing(o: { tier: Tier; poolId: string; min: number; max: number; delayS: number }): Scaler {
  const d = CDK_DEFAULTS;
  let lastOut = -Infinity;
  let lastOutChange = 0;
  let lastIn = -Infinity;
  let cpuHigh = 0;
  let cpuLow = 0;
  let lastCpuOut = -Infinity;
  let lastCpuIn = -Infinity;
  return {
    periodS: 60,
    decide(v) {
      const cur = v.pool.target;
      const proposals: number[] = [];
      const visible = v.history.average(`visible:${o.tier}`, v.now, d.metricPeriodS, o.delayS);
      if (visible !== undefined) {
        const step =
          d.steps.find((s) => ("upper" in s ? visible <= s.upper : false)) ?? d.steps.findLast((s) => "lower" in s && visible >= s.lower);
        const change = step?.change ?? 0;
        if (change > 0) {
          // Within the cooldown, capacity added by the last scale-out counts toward this one.
          const add = v.now - lastOut < d.cooldownS ? change - lastOutChange : change;
          if (add > 0) {
            proposals.push(cur + add);
            lastOut = v.now;
            lastOutChange = change;
          }
        } else if (change < 0 && v.now - lastIn >= d.cooldownS) {
          proposals.push(cur + change);
          lastIn = v.now;
        }
      }
      const cpu = v.history.average(`cpu:${o.poolId}`, v.now, 60, o.delayS);
      const running = v.history.average(`running:${o.poolId}`, v.now, 60, o.delayS);
      if (cpu !== undefined && running) {
        cpuHigh = cpu > d.cpuTargetPercent ? cpuHigh + 1 : 0;
        cpuLow = cpu < 0.9 * d.cpuTargetPercent ? cpuLow + 1 : 0;
        const want = Math.ceil((running * cpu) / d.cpuTargetPercent);
        if (cpuHigh >= d.highDatapoints && want > cur && v.now - lastCpuOut >= d.cooldownS) {
          proposals.push(want);
          lastCpuOut = v.now;
        } else if (cpuLow >= d.lowDatapoints && want < cur && v.now - lastCpuIn >= d.cooldownS) {
          proposals.push(want);
          lastCpuIn = v.now;
        }
      }
      const outs = proposals.filter((p) => p > cur);
      const ins = proposals.filter((p) => p < cur);
      const next = outs.length ? Math.max(...outs) : ins.length ? Math.max(...ins) : cur;
      return Math.min(o.max, Math.max(o.min, next));
    },
  };
}

/**
 * A KEDA ScaledObject with the aws-sqs-queue scaler at its defaults (queueLength 5,
 * activationQueueLength 0, scaleOnInFlight true: visible + in-flight), pollingInterval 30 s,
 * cooldownPeriod 300 s (to zero only), minReplicaCount 0; and the HPA it drives at Kubernetes'
 * defaults: a sync every 15 s, 10 % tolerance, scale-up by at most max(100 %, 4 pods) per sync,
 * scale-down to the highest recommendation of the last 300 s.
 */
const KEDA_DEFAULTS = {
  queueLength: 5,
  activationQueueLength: 0,
  pollingIntervalS: 30,
  cooldownPeriodS: 300,
  hpaSyncS: 15,
  tolerance: 0.1,
  scaleDownStabilizationS: 300,
} as const;

export function kedaSqs(o: { tier: Tier; max: number }): Scaler {
  const d = KEDA_DEFAULTS;
  let lastActive = -Infinity;
  let lastPoll = -Infinity;
  const recs: { t: number; n: number }[] = [];
  return {
    periodS: d.hpaSyncS,
    decide(v) {
      const q = v.queues[o.tier];
      const metric = q.visible + q.inFlight;
      const cur = v.pool.target;
      if (v.now - lastPoll >= d.pollingIntervalS) {
        lastPoll = v.now;
        if (metric > d.activationQueueLength) {
          lastActive = v.now;
          if (cur === 0) return 1;
        } else if (cur > 0 && v.now - lastActive >= d.cooldownPeriodS) {
          recs.length = 0;
          return 0;
        }
      }
      if (cur === 0) return null;
      const ratio = metric / (d.queueLength * cur);
      const raw = Math.max(1, Math.abs(ratio - 1) <= d.tolerance ? cur : Math.ceil(metric / d.queueLength));
      recs.push({ t: v.now, n: raw });
      while (recs[0]!.t <= v.now - d.scaleDownStabilizationS) recs.shift();
      const next = raw > cur ? Math.min(raw, Math.max(2 * cur, cur + 4)) : Math.max(...recs.map((r) => r.n));
      return Math.min(o.max, next);
    },
  };
}

/**
 * Target tracking on backlog per task, as AWS documents it for queue workers: a custom metric
 * (visible + in-flight) / running tasks published each minute, Application Auto Scaling's
 * target-tracking alarms (3 datapoints above target to scale out, 15 below 90 % of it to scale
 * in) and ECS's default cooldowns (300 s each; a larger scale-out is not held back).
 */
const TARGET_TRACKING_DEFAULTS = {
  periodS: 60,
  highDatapoints: 3,
  lowDatapoints: 15,
  scaleOutCooldownS: 300,
  scaleInCooldownS: 300,
} as const;

export function targetTracking(o: {
  tier: Tier;
  poolId: string;
  target: number;
  min: number;
  max: number;
  delayS: number;
  cooldowns?: { scaleOutS: number; scaleInS: number };
}): Scaler {
  const d = TARGET_TRACKING_DEFAULTS;
  const outCooldownS = o.cooldowns?.scaleOutS ?? d.scaleOutCooldownS;
  const inCooldownS = o.cooldowns?.scaleInS ?? d.scaleInCooldownS;
  let high = 0;
  let low = 0;
  let lastOut = -Infinity;
  let lastOutTo = 0;
  let lastIn = -Infinity;
  return {
    periodS: d.periodS,
    decide(v) {
      const visible = v.history.average(`visible:${o.tier}`, v.now, d.periodS, o.delayS);
      const inFlight = v.history.average(`inflight:${o.tier}`, v.now, d.periodS, o.delayS);
      const running = v.history.average(`running:${o.poolId}`, v.now, d.periodS, o.delayS);
      if (visible === undefined || inFlight === undefined || !running) return null;
      const perTask = (visible + inFlight) / running;
      high = perTask > o.target ? high + 1 : 0;
      low = perTask < 0.9 * o.target ? low + 1 : 0;
      const want = Math.min(o.max, Math.max(o.min, Math.ceil((running * perTask) / o.target)));
      const cur = v.pool.target;
      if (high >= d.highDatapoints && want > cur && (v.now - lastOut >= outCooldownS || want > lastOutTo)) {
        lastOut = v.now;
        lastOutTo = want;
        return want;
      }
      if (low >= d.lowDatapoints && want < cur && v.now - lastIn >= inCooldownS && v.now - lastOut >= outCooldownS) {
        lastIn = v.now;
        return want;
      }
      return null;
    },
  };
}

/**
 * Application Auto Scaling's minimum and maximum capacity around a scaler: set by scheduled
 * actions (or a guard) and applied at once, whatever the scaler asks for.
 */
export function withBounds(inner: Scaler, bounds: (v: ScalerView) => { min: number; max: number }): Scaler {
  return {
    periodS: inner.periodS,
    decide(v) {
      const { min, max } = bounds(v);
      const want = inner.decide(v) ?? v.pool.target;
      return Math.min(max, Math.max(min, want));
    },
  };
}
