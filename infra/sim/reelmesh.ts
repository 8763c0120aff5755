import { POLICY, type Tier, type TierScaling } from "../scaling/policy.ts";
import type { Scaler } from "./model.ts";
import { targetTracking, withBounds } from "./policies.ts";
import { DAY_S } from "./trace.ts";

/**
 * reelmesh's scaler for one tier, read from infra/scaling/policy.ts (docs/scaling.md#reelmesh):
 * - every `pollingIntervalS` it reads the queue directly (visible + in-flight, the oldest age);
 * - reactive: ceil(backlog / targetBacklogPerTask) tasks, no more than the hour's `maxByHour`;
 * - predictive: never below the hour's `floorByHour` (already led by the cold start);
 * - deadline guard: when the oldest message is older than `deadlineGuard.oldestAgeS`, at least
 *   `deadlineGuard.tasks`, whatever the hour's cap, so economy work never outlives the job timeout;
 * - scale-out at once (after `scaleOutCooldownS`); scale-in only to the highest count asked for
 *   over the last `scaleInCooldownS`, and a tier keeps one task `cooldownToZeroS` after its last
 *   work. Which tasks go is the fleet's business: idle ones only (POLICY.scaleInIdleOnly).
 */
export function reelmeshScaler(tier: Tier, p: TierScaling, opts: { periodS?: number } = {}): Scaler {
  const recs: { t: number; n: number }[] = [];
  let lastOut = -Infinity;
  let lastWork = -Infinity;
  return {
    periodS: opts.periodS ?? p.pollingIntervalS,
    decide(v) {
      const q = v.queues[tier];
      const hour = Math.floor((v.now % DAY_S) / 3600);
      const backlog = q.visible + q.inFlight;
      if (backlog > 0) lastWork = v.now;
      const guard = p.deadlineGuard && q.oldestAgeS >= p.deadlineGuard.oldestAgeS ? p.deadlineGuard.tasks : 0;
      const cap = Math.max(p.maxByHour[hour]!, guard);
      let reactive = Math.ceil(backlog / p.targetBacklogPerTask);
      if (v.pool.target === 0 && q.visible < p.activationBacklog) reactive = 0;
      if (reactive === 0 && v.now - lastWork < p.cooldownToZeroS) reactive = 1;
      const want = clamp(Math.max(Math.min(reactive, cap), p.floorByHour[hour]!, guard), p.minTasks, p.maxTasks);
      recs.push({ t: v.now, n: want });
      while (recs[0]!.t <= v.now - p.scaleInCooldownS) recs.shift();
      const cur = v.pool.target;
      if (want > cur) {
        if (v.now - lastOut < p.scaleOutCooldownS) return null;
        lastOut = v.now;
        return want;
      }
      // The hour's cap applies at once; below it, only what the whole window agreed on.
      const stable = Math.min(Math.max(...recs.map((r) => r.n)), Math.max(cap, p.floorByHour[hour]!, p.minTasks));
      return stable < cur ? stable : null;
    },
  };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** The hour's bounds as scheduled actions set them: the floor (or the guard's count) to the ceiling. */
export function hourBounds(p: TierScaling, now: number, guarded: boolean): { min: number; max: number } {
  const hour = Math.floor((now % DAY_S) / 3600);
  const min = Math.min(p.maxTasks, Math.max(p.floorByHour[hour]!, p.minTasks, guarded && p.deadlineGuard ? p.deadlineGuard.tasks : 0));
  return { min, max: Math.min(p.maxTasks, Math.max(p.maxByHour[hour]!, min)) };
}

/**
 * The same policy as infra/aws/scaling.ts deploys it on ECS: Application Auto Scaling's target
 * tracking on (visible + in-flight) / running tasks from one-minute CloudWatch metrics (3
 * datapoints above target to scale out, 15 below 90 % of it to scale in) with the tier's
 * cooldowns; a step policy that wakes a tier with no running task (once per cold start);
 * hourly scheduled actions for the floor and the ceiling; and the deadline guard, an alarm on
 * the oldest message's age that lifts the bounds until the next hour's action restores them.
 */
export function reelmeshOnEcs(tier: Tier, p: TierScaling, delayS: number): Scaler {
  const tracking = targetTracking({
    tier,
    poolId: tier,
    target: p.targetBacklogPerTask,
    min: p.minTasks,
    max: p.maxTasks,
    delayS,
    cooldowns: { scaleOutS: p.scaleOutCooldownS, scaleInS: p.scaleInCooldownS },
  });
  let lastWake = -Infinity;
  let guardedUntil = -Infinity;
  const inner: Scaler = {
    periodS: tracking.periodS,
    decide(v) {
      const asked = tracking.decide(v);
      const running = v.history.average(`running:${tier}`, v.now, 60, delayS) ?? 0;
      const visible = v.history.average(`visible:${tier}`, v.now, 60, delayS) ?? 0;
      if (running === 0 && visible >= p.activationBacklog && v.now - lastWake >= POLICY.coldStartS) {
        lastWake = v.now;
        return Math.max(asked ?? 0, v.pool.target + 1);
      }
      return asked;
    },
  };
  return withBounds(inner, (v) => {
    const age = v.history.average(`age:${tier}`, v.now, 60, delayS) ?? 0;
    if (p.deadlineGuard && age >= p.deadlineGuard.oldestAgeS) guardedUntil = (Math.floor(v.now / 3600) + 1) * 3600;
    return hourBounds(p, v.now, v.now < guardedUntil);
  });
}
