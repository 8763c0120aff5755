import { Duration, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { TierScaling } from "../scaling/policy.ts";
import { SQS_METRIC_PERIOD } from "./queues.ts";

/**
 * The policy's deadline guard (TierScaling.deadlineGuard, infra/sim/reelmesh.ts): when a tier's
 * oldest message is older than `oldestAgeS`, run at least `tasks` whatever the hour's ceiling.
 * An alarm or a scaling policy cannot lift a scalable target's MaxCapacity, so the alarm's state
 * changes start a state machine that does: on ALARM it raises the bounds
 * to at least `tasks` and suspends the hourly scheduled actions (which would put the ceiling
 * back); on OK it resumes them, and the next hour's action restores that hour's bounds.
 */
export interface DeadlineGuardProps {
  service: ecs.BaseService;
  queue: sqs.IQueue;
  guard: NonNullable<TierScaling["deadlineGuard"]>;
  tierName: string;
}

const SCALABLE = { ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount" } as const;
const GUARD_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
/** Each execution is two or three API calls. */
const EXECUTION_TIMEOUT = Duration.minutes(5);

export class DeadlineGuard extends Construct {
  readonly alarm: cloudwatch.Alarm;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DeadlineGuardProps) {
    super(scope, id);
    const { service, guard } = props;
    const target = { ...SCALABLE, ResourceId: `service/${service.cluster.clusterName}/${service.serviceName}` };

    this.alarm = new cloudwatch.Alarm(this, "OldestMessage", {
      alarmDescription: `The oldest ${props.tierName} job is ${guard.oldestAgeS} s old: run at least ${guard.tasks} tasks whatever the hour's ceiling.`,
      metric: props.queue.metricApproximateAgeOfOldestMessage({ period: SQS_METRIC_PERIOD, statistic: "Maximum" }),
      threshold: guard.oldestAgeS,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const register = (name: string, parameters: Record<string, unknown>) =>
      tasks.CallAwsService.jsonPath(this, name, {
        service: "applicationautoscaling",
        action: "registerScalableTarget",
        iamAction: "application-autoscaling:RegisterScalableTarget",
        // A scalable target's ARN carries an id given at registration, unknown to the template.
        iamResources: ["*"],
        parameters: { ...target, ...parameters },
        resultPath: sfn.JsonPath.DISCARD,
      });
    const suspended = (on: boolean) => ({ SuspendedState: { ScheduledScalingSuspended: on } });
    const describe = tasks.CallAwsService.jsonPath(this, "ReadBounds", {
      service: "applicationautoscaling",
      action: "describeScalableTargets",
      iamAction: "application-autoscaling:DescribeScalableTargets",
      iamResources: ["*"],
      parameters: {
        ServiceNamespace: target.ServiceNamespace,
        ScalableDimension: target.ScalableDimension,
        ResourceIds: [target.ResourceId],
      },
      resultSelector: { "min.$": "$.ScalableTargets[0].MinCapacity", "max.$": "$.ScalableTargets[0].MaxCapacity" },
      resultPath: "$.bounds",
    });
    // Bounds become max(the hour's, the guard's): never lower than the hour's floor or ceiling.
    const raise = describe.next(
      new sfn.Choice(this, "BoundsBelowGuard")
        .when(
          sfn.Condition.numberLessThan("$.bounds.max", guard.tasks),
          register("RaiseFloorAndCeiling", { MinCapacity: guard.tasks, MaxCapacity: guard.tasks, ...suspended(true) }),
        )
        .when(
          sfn.Condition.numberLessThan("$.bounds.min", guard.tasks),
          register("RaiseFloor", { MinCapacity: guard.tasks, ...suspended(true) }),
        )
        .otherwise(register("HoldBounds", suspended(true))),
    );
    const definition = new sfn.Choice(this, "AlarmState")
      .when(sfn.Condition.stringEquals("$.detail.state.value", "ALARM"), raise)
      .otherwise(register("ResumeSchedule", suspended(false)));

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: EXECUTION_TIMEOUT,
      tracingEnabled: true,
      logs: { destination: new logs.LogGroup(this, "Logs", { retention: GUARD_LOG_RETENTION }), level: sfn.LogLevel.ALL },
    });
    // Application Auto Scaling validates that whoever registers an ECS service's target may
    // itself describe and update that service.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["ecs:DescribeServices", "ecs:UpdateService"], resources: [service.serviceArn] }),
    );
    Validations.of(this.stateMachine).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "DescribeScalableTargets takes no resource and a scalable target's ARN is assigned at registration; the calls name this one service's target, whose service alone the role may update. The rest is Step Functions' own log delivery and X-Ray, which take no resource.",
    });

    new events.Rule(this, "OnAlarmChange", {
      eventPattern: {
        source: ["aws.cloudwatch"],
        detailType: ["CloudWatch Alarm State Change"],
        resources: [this.alarm.alarmArn],
        detail: { state: { value: ["ALARM", "OK"] } },
      },
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });
  }
}
