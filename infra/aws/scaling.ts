import { Duration, Stack, TimeZone } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { POLICY, type Tier } from "../scaling/policy.ts";
import { DeadlineGuard } from "./deadline-guard.ts";
import { SQS_METRIC_PERIOD } from "./queues.ts";

/**
 * A tier's scaling on ECS, as infra/sim/reelmesh.ts simulates it (docs/deploy-aws.md, scaling):
 * - reactive: target tracking on (visible + in-flight messages) / running tasks, held at the
 *   tier's targetBacklogPerTask. In-flight counts: a queue whose last long jobs are all running
 *   has no visible message, and must not look empty. No CPU policy: a worker's CPU says nothing
 *   about its queue, and scale-in on it stops workers mid-job (aws/aws-cdk#20706).
 * - wake: over zero running tasks the ratio has no value, so a step policy adds a task when
 *   activationBacklog messages wait and none runs;
 * - hourly bounds: scheduled actions (UTC) set the hour's floor (floorByHour) and ceiling
 *   (maxByHour) together;
 * - deadline guard, where the tier has one (deadline-guard.ts).
 */

/** The metric maths: the backlog per task, and the waiting jobs counted only while no task runs. */
export const BACKLOG_PER_TASK = "(visible + inflight) / tasks";
export const WAKE_FROM_ZERO = "IF(FILL(tasks, 0) == 0, visible, 0)";

/** The hour's bounds as the simulator clamps them: the floor wins over the ceiling, maxTasks over both. */
function hourBounds(tier: Tier, hour: number): { min: number; max: number } {
  const t = POLICY.tiers[tier];
  const min = Math.min(t.maxTasks, Math.max(t.floorByHour[hour]!, t.minTasks));
  return { min, max: Math.min(t.maxTasks, Math.max(t.maxByHour[hour]!, min)) };
}

export interface ServiceScaling {
  target: appscaling.ScalableTarget;
  backlogPerTask: appscaling.CfnScalingPolicy;
  wake: appscaling.StepScalingPolicy;
  guard?: DeadlineGuard;
}

export function addTierScaling(scope: Construct, tier: Tier, service: ecs.Ec2Service, queue: sqs.IQueue): ServiceScaling {
  const scaling = POLICY.tiers[tier];
  const taskCount = service.autoScaleTaskCount({ minCapacity: scaling.minTasks, maxCapacity: scaling.maxTasks });
  const target = taskCount.node.findChild("Target");
  if (!(target instanceof appscaling.ScalableTarget)) throw new Error("ScalableTaskCount no longer holds its ScalableTarget as 'Target'");

  const visible = queue.metricApproximateNumberOfMessagesVisible({ period: SQS_METRIC_PERIOD, statistic: "Average" });
  const inflight = queue.metricApproximateNumberOfMessagesNotVisible({ period: SQS_METRIC_PERIOD, statistic: "Average" });
  // Container Insights (enabled on the cluster, fleet.ts) publishes the service's running tasks.
  const tasks = new cloudwatch.Metric({
    namespace: "ECS/ContainerInsights",
    metricName: "RunningTaskCount",
    dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
    period: SQS_METRIC_PERIOD,
    statistic: "Average",
  });

  // The L2 target-tracking policy takes a single metric, not metric maths: the L1 takes both.
  const stat = (id: string, metric: cloudwatch.Metric) => ({
    id,
    returnData: false,
    metricStat: {
      metric: {
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensions: Object.entries(metric.dimensions ?? {}).map(([name, value]) => ({ name, value: String(value) })),
      },
      stat: metric.statistic,
    },
  });
  const backlogPerTask = new appscaling.CfnScalingPolicy(scope, "BacklogPerTask", {
    policyName: `${Stack.of(scope).stackName}-${tier}-backlog-per-task`,
    policyType: "TargetTrackingScaling",
    scalingTargetId: target.scalableTargetId,
    targetTrackingScalingPolicyConfiguration: {
      targetValue: scaling.targetBacklogPerTask,
      scaleOutCooldown: scaling.scaleOutCooldownS,
      scaleInCooldown: scaling.scaleInCooldownS,
      customizedMetricSpecification: {
        metrics: [
          stat("visible", visible),
          stat("inflight", inflight),
          stat("tasks", tasks),
          { id: "backlog_per_task", expression: BACKLOG_PER_TASK, label: `${tier} backlog per task`, returnData: true },
        ],
      },
    },
  });

  const wake = target.scaleOnMetric("WakeFromZero", {
    metric: new cloudwatch.MathExpression({
      expression: WAKE_FROM_ZERO,
      usingMetrics: { visible, tasks },
      period: SQS_METRIC_PERIOD,
      label: `${tier} jobs waiting with no task running`,
    }),
    scalingSteps: [
      { upper: scaling.activationBacklog, change: 0 },
      { lower: scaling.activationBacklog, change: +1 },
    ],
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    // Running tasks stay 0 until the first has cold-started: one wake per cold start.
    cooldown: Duration.seconds(POLICY.coldStartS),
    evaluationPeriods: 1,
    metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
  });

  for (let hour = 0; hour < 24; hour++) {
    const { min, max } = hourBounds(tier, hour);
    target.scaleOnSchedule(`Hour${String(hour).padStart(2, "0")}`, {
      schedule: appscaling.Schedule.cron({ hour: String(hour), minute: "0" }),
      timeZone: TimeZone.ETC_UTC,
      minCapacity: min,
      maxCapacity: max,
    });
  }

  if (!scaling.deadlineGuard) return { target, backlogPerTask, wake };
  const guard = new DeadlineGuard(scope, "DeadlineGuard", { service, queue, guard: scaling.deadlineGuard, tierName: tier });
  return { target, backlogPerTask, wake, guard };
}
