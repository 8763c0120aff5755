import { CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { afterAll, describe, expect, it } from "vitest";
import { POLICY, QUEUES, TIERS, type Tier, type TierScaling } from "../scaling/policy.ts";
import { buildApp } from "./app.ts";
import type { ReelmeshStack } from "./stack.ts";

/*
 * Every number infra/scaling/policy.ts decides, read back out of the synthesized template and
 * compared with the policy; then again with every one of those numbers changed in memory, so a
 * value copied into infra/aws/ instead of read from the policy fails here.
 */
type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
/** The policy's numbers without the literal types of `as const`, so a test may change them. */
const policy = POLICY as unknown as {
  concurrentJobsPerTask: number;
  drainBoundS: number;
  coldStartS: number;
  tiers: Record<Tier, Mutable<TierScaling>>;
};
const queues = QUEUES as unknown as { visibilityTimeoutS: number; maxReceiveCount: number; oldestMessageAlarmS: Record<Tier, number> };

/** What the template says, in the policy's terms. */
function readBack(stack: ReelmeshStack) {
  const resources = Template.fromStack(stack).toJSON().Resources;
  const cfn = (c: IConstruct) =>
    c instanceof CfnElement ? c : ((c.node.defaultChild ?? c.node.children.find((x) => x instanceof CfnElement)) as CfnElement);
  const props = (c: IConstruct) => resources[stack.getLogicalId(cfn(c))].Properties;
  const ref = (c: IConstruct) => ({ Ref: stack.getLogicalId(cfn(c)) });
  const tier = (t: Tier) => {
    const { service, scaling } = stack.services[t];
    const container = props(service.taskDefinition).ContainerDefinitions[0];
    const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    const tracking = props(scaling.backlogPerTask).TargetTrackingScalingPolicyConfiguration;
    const target = props(scaling.target);
    const strategy: { CapacityProvider: unknown; Base?: number }[] = props(service).CapacityProviderStrategy;
    const on = (c: IConstruct) => strategy.find((s) => JSON.stringify(s.CapacityProvider) === JSON.stringify(ref(c)));
    const guardMachine = scaling.guard && JSON.stringify(props(scaling.guard.stateMachine).DefinitionString);
    return {
      queue: {
        visibilityTimeoutS: props(stack.queues.queues[t]).VisibilityTimeout,
        maxReceiveCount: props(stack.queues.queues[t]).RedrivePolicy.maxReceiveCount,
      },
      oldestMessageAlarmS: props(stack.queues.alarms[t].oldestMessage).Threshold,
      worker: {
        visibilityTimeoutS: Number(env.REELMESH_VISIBILITY_TIMEOUT_S),
        maxAttempts: Number(env.REELMESH_MAX_ATTEMPTS),
        concurrentJobs: Number(env.REELMESH_CONCURRENT_JOBS),
        drainS: Number(env.REELMESH_DRAIN_S),
        stopsAfterDrain: container.StopTimeout > Number(env.REELMESH_DRAIN_S),
      },
      targetBacklogPerTask: tracking.TargetValue,
      scaleOutCooldownS: tracking.ScaleOutCooldown,
      scaleInCooldownS: tracking.ScaleInCooldown,
      minTasks: target.MinCapacity,
      maxTasks: target.MaxCapacity,
      activationBacklog: props(scaling.wake.upperAlarm!).Threshold,
      wakeCooldownS: props(scaling.wake.upperAction!).StepScalingPolicyConfiguration.Cooldown,
      onDemandBase: on(stack.fleet.onDemand)?.Base ?? 0,
      spot: on(stack.fleet.spot) !== undefined,
      hours: target.ScheduledActions.map((a: { ScalableTargetAction: { MinCapacity: number; MaxCapacity: number } }) => [
        a.ScalableTargetAction.MinCapacity,
        a.ScalableTargetAction.MaxCapacity,
      ]),
      deadlineGuard: scaling.guard
        ? {
            oldestAgeS: props(scaling.guard.alarm).Threshold,
            tasks: Number(/MinCapacity\\+":(\d+),\\+"MaxCapacity/.exec(guardMachine!)![1]),
          }
        : null,
    };
  };
  return Object.fromEntries(TIERS.map((t) => [t, tier(t)]));
}

/** What the policy says, in the same terms: the hours clamped as infra/sim/reelmesh.ts clamps them. */
function fromPolicy() {
  const tier = (t: Tier) => {
    const p = POLICY.tiers[t];
    return {
      queue: { visibilityTimeoutS: QUEUES.visibilityTimeoutS, maxReceiveCount: QUEUES.maxReceiveCount },
      oldestMessageAlarmS: QUEUES.oldestMessageAlarmS[t],
      worker: {
        visibilityTimeoutS: QUEUES.visibilityTimeoutS,
        maxAttempts: QUEUES.maxReceiveCount,
        concurrentJobs: POLICY.concurrentJobsPerTask,
        drainS: POLICY.drainBoundS,
        stopsAfterDrain: true,
      },
      targetBacklogPerTask: p.targetBacklogPerTask,
      scaleOutCooldownS: p.scaleOutCooldownS,
      scaleInCooldownS: p.scaleInCooldownS,
      minTasks: p.minTasks,
      maxTasks: p.maxTasks,
      activationBacklog: p.activationBacklog,
      wakeCooldownS: POLICY.coldStartS,
      onDemandBase: p.onDemandBase,
      spot: p.spot,
      hours: p.floorByHour.map((floor, h) => {
        const min = Math.min(p.maxTasks, Math.max(floor, p.minTasks));
        return [min, Math.min(p.maxTasks, Math.max(p.maxByHour[h]!, min))];
      }),
      deadlineGuard: p.deadlineGuard ? { ...p.deadlineGuard } : null,
    };
  };
  return Object.fromEntries(TIERS.map((t) => [t, tier(t)]));
}

describe("the AWS stack against infra/scaling/policy.ts", () => {
  it("carries every number the policy decides", () => {
    expect(readBack(buildApp().stack)).toEqual(fromPolicy());
  });

  const saved = structuredClone({ policy, queues });
  afterAll(() => {
    const { tiers, ...top } = saved.policy;
    Object.assign(policy, top);
    for (const t of TIERS) Object.assign(policy.tiers[t], tiers[t]);
    Object.assign(queues, saved.queues);
  });

  it("follows the policy when every one of those numbers changes", () => {
    const before = fromPolicy();
    queues.visibilityTimeoutS += 30;
    queues.maxReceiveCount += 2;
    for (const t of TIERS) queues.oldestMessageAlarmS[t] += 17;
    policy.concurrentJobsPerTask += 1;
    policy.drainBoundS += 5;
    policy.coldStartS += 5;
    for (const t of TIERS) {
      const p = policy.tiers[t];
      p.targetBacklogPerTask += 0.5;
      p.minTasks += 1;
      p.maxTasks += 3;
      p.activationBacklog += 2;
      p.scaleOutCooldownS += 7;
      p.scaleInCooldownS += 11;
      p.onDemandBase += 1;
      p.floorByHour = [...p.floorByHour].reverse();
      p.maxByHour = [...p.maxByHour].reverse();
      if (p.deadlineGuard) p.deadlineGuard = { oldestAgeS: p.deadlineGuard.oldestAgeS + 60, tasks: p.deadlineGuard.tasks + 1 };
    }
    const changed = fromPolicy();
    for (const t of TIERS) {
      for (const key of Object.keys(changed[t]!) as (keyof ReturnType<typeof fromPolicy>[Tier])[]) {
        if (key !== "spot" && !(key === "deadlineGuard" && changed[t]![key] === null))
          expect(changed[t]![key], `${t}.${key}`).not.toEqual(before[t]![key]);
      }
    }
    expect(readBack(buildApp().stack)).toEqual(changed);
  });
});
