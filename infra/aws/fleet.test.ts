import { CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { AsgCapacityProvider } from "aws-cdk-lib/aws-ecs";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { POLICY, QUEUES, TIERS } from "../scaling/policy.ts";
import { buildApp } from "./app.ts";
import { DEFAULT_INSTANCE_TYPES } from "./fleet.ts";
import { BACKLOG_PER_TASK, WAKE_FROM_ZERO } from "./scaling.ts";
import type { ReelmeshStack } from "./stack.ts";

/*
 * The GPU fleet, the tier services and their scaling, from one synthesis, against
 * infra/scaling/policy.ts: expected values are read from the policy, never written here.
 * policy-drift.test.ts reads every number back the other way.
 */
type Resource = { Type: string; Properties: any; DependsOn?: string[] };
let stack: ReelmeshStack;
let template: Template;
let resources: Record<string, Resource>;
/** The CloudFormation element behind a construct (an AsgCapacityProvider's is not its default child). */
const cfn = (c: IConstruct): CfnElement =>
  c instanceof CfnElement ? c : ((c.node.defaultChild ?? c.node.children.find((x) => x instanceof CfnElement)) as CfnElement);
const id = (c: IConstruct) => stack.getLogicalId(cfn(c));
const resource = (c: IConstruct) => resources[id(c)]!;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);
/** A CloudFormation string value, references and all, as one searchable text. */
const text = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));
const launchData = (provider: AsgCapacityProvider) => {
  const spec = resource(provider.autoScalingGroup).Properties.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification;
  return resources[spec.LaunchTemplateId.Ref]!.Properties.LaunchTemplateData;
};

beforeAll(() => {
  ({ stack } = buildApp());
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

describe("the GPU fleet", () => {
  const providers = () => [stack.fleet.onDemand, stack.fleet.spot];

  it("spreads each Auto Scaling group over at least two availability zones", () => {
    for (const p of providers()) {
      const subnets: { Ref: string }[] = resource(p.autoScalingGroup).Properties.VPCZoneIdentifier;
      expect(new Set(subnets.map((s) => text(resources[s.Ref]!.Properties.AvailabilityZone))).size).toBeGreaterThanOrEqual(2);
    }
  });

  it("launches at least three one-GPU instance types, the policy's own first", () => {
    expect(DEFAULT_INSTANCE_TYPES.length).toBeGreaterThanOrEqual(3);
    expect(DEFAULT_INSTANCE_TYPES[0]).toBe(POLICY.tiers.standard.instanceType);
    for (const tier of TIERS) expect(DEFAULT_INSTANCE_TYPES).toContain(POLICY.tiers[tier].instanceType);
    for (const p of providers()) {
      const overrides: { InstanceType: string }[] = resource(p.autoScalingGroup).Properties.MixedInstancesPolicy.LaunchTemplate.Overrides;
      expect(overrides.map((o) => o.InstanceType)).toEqual(DEFAULT_INSTANCE_TYPES);
    }
  });

  it("has an on-demand and a spot capacity provider with managed scaling, termination protection and draining", () => {
    template.resourceCountIs("AWS::ECS::CapacityProvider", 2);
    for (const p of providers()) {
      expect(resource(p).Properties.AutoScalingGroupProvider).toMatchObject({
        AutoScalingGroupArn: { Ref: id(p.autoScalingGroup) },
        ManagedScaling: { Status: "ENABLED" },
        ManagedTerminationProtection: "ENABLED",
        ManagedDraining: "ENABLED",
      });
      expect(resource(p.autoScalingGroup).Properties.NewInstancesProtectedFromScaleIn).toBe(true);
    }
    template.hasResourceProperties("AWS::ECS::ClusterCapacityProviderAssociations", {
      CapacityProviders: Match.arrayEquals([{ Ref: id(stack.fleet.onDemand) }, { Ref: id(stack.fleet.spot) }]),
    });
    const distribution = (p: AsgCapacityProvider) => resource(p.autoScalingGroup).Properties.MixedInstancesPolicy.InstancesDistribution;
    expect(distribution(stack.fleet.onDemand).OnDemandPercentageAboveBaseCapacity).toBe(100);
    expect(distribution(stack.fleet.spot)).toMatchObject({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0 });
  });

  it("enables spot instance draining in the spot instances' user data", () => {
    expect(text(launchData(stack.fleet.spot).UserData)).toContain("echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config");
  });

  it("boots the ECS GPU AMI (an SSM parameter, no lookup) on an encrypted volume, and keeps tasks off the instance role", () => {
    for (const p of providers()) {
      const data = launchData(p);
      expect(template.toJSON().Parameters[data.ImageId.Ref].Default).toBe(
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
      );
      expect(data.BlockDeviceMappings).toEqual([expect.objectContaining({ Ebs: expect.objectContaining({ Encrypted: true }) })]);
      expect(data.MetadataOptions).toEqual({ HttpTokens: "required" });
      expect(text(data.UserData)).toContain("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config");
    }
  });

  it("turns on Container Insights, whose RunningTaskCount the scaling divides by", () => {
    template.hasResourceProperties("AWS::ECS::Cluster", { ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }] });
  });
});

describe.each(TIERS)("the %s service", (tier) => {
  const policy = POLICY.tiers[tier];
  const container = () => resource(stack.services[tier].service.taskDefinition).Properties.ContainerDefinitions[0];

  it("runs on-demand for the policy's base and spot for the rest", () => {
    const strategy = resource(stack.services[tier].service).Properties.CapacityProviderStrategy;
    const onDemand = { Ref: id(stack.fleet.onDemand) };
    const spot = { Ref: id(stack.fleet.spot) };
    const expected = !policy.spot
      ? [{ CapacityProvider: onDemand, Base: policy.onDemandBase, Weight: 1 }]
      : policy.onDemandBase > 0
        ? [
            { CapacityProvider: onDemand, Base: policy.onDemandBase, Weight: 0 },
            { CapacityProvider: spot, Weight: 1 },
          ]
        : [{ CapacityProvider: spot, Weight: 1 }];
    expect(strategy).toEqual(expected);
  });

  it("is created after the cluster's capacity providers are associated", () => {
    const association = Object.entries(resources).find(([, r]) => r.Type === "AWS::ECS::ClusterCapacityProviderAssociations")![0];
    expect(resource(stack.services[tier].service).DependsOn).toContain(association);
  });

  it("asks for one GPU, probes /healthz with node, and lets a drain finish before SIGKILL", () => {
    const c = container();
    expect(c.ResourceRequirements).toEqual([{ Type: "GPU", Value: "1" }]);
    expect(c.HealthCheck.Command.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
    expect(c.HealthCheck.Command[3]).toContain("http://127.0.0.1:9464/healthz");
    expect(c.StopTimeout).toBeGreaterThan(POLICY.drainBoundS);
    expect(c.StopTimeout).toBeLessThanOrEqual(120);
  });

  it("takes its queue and the policy's numbers from the environment", () => {
    const env = Object.fromEntries(container().Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      SQS_QUEUE_URL_STANDARD: { Ref: id(stack.queues.queues[tier]) },
      REELMESH_VISIBILITY_TIMEOUT_S: String(QUEUES.visibilityTimeoutS),
      REELMESH_MAX_ATTEMPTS: String(QUEUES.maxReceiveCount),
      REELMESH_CONCURRENT_JOBS: String(POLICY.concurrentJobsPerTask),
      REELMESH_DRAIN_S: String(POLICY.drainBoundS),
      REELMESH_METRICS_PORT: "9464",
      REELMESH_SCALE_IN_PROTECTION: "ecs",
    });
    expect(env).not.toHaveProperty("SQS_QUEUE_URL_ECONOMY");
  });

  it("tracks the policy's backlog per task: (visible + in-flight messages) / running tasks", () => {
    const queueName = { "Fn::GetAtt": [id(stack.queues.queues[tier]), "QueueName"] };
    const service = stack.services[tier].service;
    expect(resource(stack.services[tier].scaling.backlogPerTask).Properties).toEqual({
      PolicyName: expect.stringContaining(`${tier}-backlog-per-task`),
      PolicyType: "TargetTrackingScaling",
      ScalingTargetId: { Ref: id(stack.services[tier].scaling.target) },
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: policy.targetBacklogPerTask,
        ScaleOutCooldown: policy.scaleOutCooldownS,
        ScaleInCooldown: policy.scaleInCooldownS,
        CustomizedMetricSpecification: {
          Metrics: [
            {
              Id: "visible",
              MetricStat: {
                Metric: {
                  Namespace: "AWS/SQS",
                  MetricName: "ApproximateNumberOfMessagesVisible",
                  Dimensions: [{ Name: "QueueName", Value: queueName }],
                },
                Stat: "Average",
              },
              ReturnData: false,
            },
            {
              Id: "inflight",
              MetricStat: {
                Metric: {
                  Namespace: "AWS/SQS",
                  MetricName: "ApproximateNumberOfMessagesNotVisible",
                  Dimensions: [{ Name: "QueueName", Value: queueName }],
                },
                Stat: "Average",
              },
              ReturnData: false,
            },
            {
              Id: "tasks",
              MetricStat: {
                Metric: {
                  Namespace: "ECS/ContainerInsights",
                  MetricName: "RunningTaskCount",
                  Dimensions: [
                    { Name: "ClusterName", Value: { Ref: id(stack.fleet.cluster) } },
                    { Name: "ServiceName", Value: { "Fn::GetAtt": [id(service), "Name"] } },
                  ],
                },
                Stat: "Average",
              },
              ReturnData: false,
            },
            { Id: "backlog_per_task", Expression: "(visible + inflight) / tasks", Label: `${tier} backlog per task`, ReturnData: true },
          ],
        },
      },
    });
    expect(BACKLOG_PER_TASK).toBe("(visible + inflight) / tasks");
  });

  it("wakes from zero tasks when the policy's activation backlog waits", () => {
    const wake = stack.services[tier].scaling.wake;
    const alarm = resource(wake.upperAlarm!).Properties;
    expect(alarm).toMatchObject({
      Threshold: policy.activationBacklog,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      EvaluationPeriods: 1,
    });
    expect(alarm.Metrics.find((m: { ReturnData: boolean }) => m.ReturnData).Expression).toBe(WAKE_FROM_ZERO);
    expect(WAKE_FROM_ZERO).toBe("IF(FILL(tasks, 0) == 0, visible, 0)");
    expect(
      alarm.Metrics.map((m: { Id: string; MetricStat?: { Metric: { MetricName: string } } }) => [m.Id, m.MetricStat?.Metric.MetricName]),
    ).toEqual(
      expect.arrayContaining([
        ["visible", "ApproximateNumberOfMessagesVisible"],
        ["tasks", "RunningTaskCount"],
      ]),
    );
    expect(resource(wake.upperAction!).Properties.StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: "ChangeInCapacity",
      StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
    });
    expect(wake.lowerAlarm).toBeUndefined();
  });

  it("sets each UTC hour's floor and ceiling by a scheduled action, as the simulator bounds them", () => {
    const target = resource(stack.services[tier].scaling.target).Properties;
    expect([target.MinCapacity, target.MaxCapacity]).toEqual([policy.minTasks, policy.maxTasks]);
    const actions = target.ScheduledActions;
    expect(actions).toHaveLength(24);
    actions.forEach((a: any, hour: number) => {
      const min = Math.min(policy.maxTasks, Math.max(policy.floorByHour[hour]!, policy.minTasks));
      const max = Math.min(policy.maxTasks, Math.max(policy.maxByHour[hour]!, min));
      expect(a).toEqual({
        ScheduledActionName: `Hour${String(hour).padStart(2, "0")}`,
        Schedule: `cron(0 ${hour} * * ? *)`,
        Timezone: "Etc/UTC",
        ScalableTargetAction: { MinCapacity: min, MaxCapacity: max },
      });
    });
  });

  it("lifts the hour's ceiling to the deadline guard's tasks once the oldest job is that old, where the policy has a guard", () => {
    const guard = stack.services[tier].scaling.guard;
    if (!policy.deadlineGuard) {
      expect(guard).toBeUndefined();
      return;
    }
    expect(guard).toBeDefined();
    if (!guard) return;
    expect(resource(guard.alarm).Properties).toMatchObject({
      MetricName: "ApproximateAgeOfOldestMessage",
      Threshold: policy.deadlineGuard.oldestAgeS,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    const definition = text(resource(guard.stateMachine).Properties.DefinitionString);
    const tasks = policy.deadlineGuard.tasks;
    expect(definition).toContain(
      `\\"MinCapacity\\":${tasks},\\"MaxCapacity\\":${tasks},\\"SuspendedState\\":{\\"ScheduledScalingSuspended\\":true}`,
    );
    expect(definition).toContain(`\\"SuspendedState\\":{\\"ScheduledScalingSuspended\\":false}`);
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: { "detail-type": ["CloudWatch Alarm State Change"], resources: [{ "Fn::GetAtt": [id(guard.alarm), "Arn"] }] },
      Targets: [Match.objectLike({ Arn: { Ref: id(guard.stateMachine) } })],
    });
  });
});

describe("scaling on anything but the queue", () => {
  it("is nowhere: no CPU or memory policy, no Auto Scaling group policy of its own", () => {
    for (const p of ofType("AWS::ApplicationAutoScaling::ScalingPolicy")) {
      expect(p.Properties.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification).toBeUndefined();
    }
    template.resourceCountIs("AWS::AutoScaling::ScalingPolicy", 0);
    expect(JSON.stringify(resources)).not.toMatch(/CPUUtilization|MemoryUtilization/);
  });

  it("has exactly one target tracking and one wake policy per tier", () => {
    const types = ofType("AWS::ApplicationAutoScaling::ScalingPolicy").map((p) => p.Properties.PolicyType);
    expect(types.sort()).toEqual(TIERS.flatMap(() => ["StepScaling", "TargetTrackingScaling"]).sort());
  });
});
