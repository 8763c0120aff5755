import { App, CfnElement, CfnResource, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { CURRENTLY_RECOMMENDED_FLAGS } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeConfigSchema } from "../../edge/src/config-schema.ts";
import { RESOURCE_NAMES } from "../local/resources.ts";
import { POLICY, QUEUES, TIERS } from "../scaling/policy.ts";
import { buildApp } from "./app.ts";
import type { ReelmeshStack } from "./stack.ts";
import { retentionDays } from "./storage.ts";

/*
 * The stack's queues, bucket and IAM, from one synthesis of the app as infra/aws/synth.ts builds
 * it (cdk-nag and CloudFormation validation included), against infra/scaling/policy.ts and the
 * code each grant serves.
 */
let stack: ReelmeshStack;
let template: Template;
const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const arn = (construct: IConstruct) => ({ "Fn::GetAtt": [id(construct), "Arn"] });
const objects = (prefix: string) => ({ "Fn::Join": ["", [arn(stack.storage.bucket), `/${prefix}`]] });

beforeAll(() => {
  ({ stack } = buildApp());
  template = Template.fromStack(stack);
});

describe("the job queues", () => {
  it.each(TIERS)("%s redrives to its own dead-letter queue after QUEUES.maxReceiveCount receives", (tier) => {
    const name = tier === "standard" ? RESOURCE_NAMES.standardQueue : RESOURCE_NAMES.economyQueue;
    template.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: name,
      VisibilityTimeout: QUEUES.visibilityTimeoutS,
      RedrivePolicy: { deadLetterTargetArn: arn(stack.queues.deadLetterQueues[tier]), maxReceiveCount: QUEUES.maxReceiveCount },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties("AWS::SQS::Queue", { QueueName: `${name}-dlq`, MessageRetentionPeriod: 14 * 86_400 });
  });

  it("keeps a job invisible longer than the worker's heartbeat, which extends it", () => {
    expect(QUEUES.heartbeatS).toBeLessThan(QUEUES.visibilityTimeoutS);
    const timeouts = Object.values(template.findResources("AWS::SQS::Queue", { Properties: { RedrivePolicy: Match.anyValue() } }));
    expect(timeouts.map((q) => q.Properties.VisibilityTimeout)).toEqual([QUEUES.visibilityTimeoutS, QUEUES.visibilityTimeoutS]);
  });

  it.each(TIERS)("%s raises an alarm on any dead-lettered job and on a job older than its QUEUES.oldestMessageAlarmS", (tier) => {
    const dimensions = (q: IConstruct) => [{ Name: "QueueName", Value: { "Fn::GetAtt": [id(q), "QueueName"] } }];
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: dimensions(stack.queues.deadLetterQueues[tier]),
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateAgeOfOldestMessage",
      Dimensions: dimensions(stack.queues.queues[tier]),
      Threshold: QUEUES.oldestMessageAlarmS[tier],
      ComparisonOperator: "GreaterThanThreshold",
    });
  });

  it("accepts only TLS", () => {
    template.resourcePropertiesCountIs(
      "AWS::SQS::QueuePolicy",
      {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
        },
      },
      4,
    );
  });
});

describe("the output bucket", () => {
  it("is private, encrypted and TLS-only", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LoggingConfiguration: Match.anyValue(),
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: id(stack.storage.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
  });

  it("expires videos/ after the edge's default REELMESH_RETENTION_S, in days rounded up", () => {
    const retentionS = EdgeConfigSchema.shape.REELMESH_RETENTION_S.parse(undefined);
    expect(retentionS).toBe(604_800);
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: "videos/", ExpirationInDays: 7, Status: "Enabled" })] },
    });
  });

  it("rounds a retention that is not whole days up", () => {
    expect([retentionDays(86_400), retentionDays(86_401), retentionDays(1)]).toEqual([1, 2, 1]);
  });
});

describe("IAM", () => {
  const policyOf = (principal: { Ref: string }) => {
    const found = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
      [...(p.Properties.Roles ?? []), ...(p.Properties.Users ?? [])].some((r: unknown) => JSON.stringify(r) === JSON.stringify(principal)),
    );
    expect(found).toHaveLength(1);
    return found[0]!.Properties.PolicyDocument.Statement;
  };

  it.each(TIERS)("lets a %s worker consume only its own queue, use videos/ and models/, and protect its own task", (tier) => {
    const taskRole = stack.services[tier].service.taskDefinition.taskRole;
    const cluster = stack.fleet.cluster;
    expect(policyOf({ Ref: id(taskRole) })).toEqual([
      {
        Sid: "ConsumeOwnQueue",
        Effect: "Allow",
        Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        Resource: arn(stack.queues.queues[tier]),
      },
      { Sid: "WriteOutputs", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: objects("videos/*") },
      { Sid: "ReadModels", Effect: "Allow", Action: "s3:GetObject", Resource: objects("models/*") },
      { Sid: "ListForNotFound", Effect: "Allow", Action: "s3:ListBucket", Resource: arn(stack.storage.bucket) },
      {
        Sid: "OwnTaskProtection",
        Effect: "Allow",
        Action: ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"],
        Resource: {
          "Fn::Join": [
            "",
            [
              "arn:",
              { Ref: "AWS::Partition" },
              ":ecs:",
              { Ref: "AWS::Region" },
              ":",
              { Ref: "AWS::AccountId" },
              ":task/",
              { Ref: id(cluster) },
              "/*",
            ],
          ],
        },
      },
    ]);
    expect(template.toJSON().Resources[id(taskRole)].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it("lets the edge send to both queues, read their depth, and read and expire videos/ only", () => {
    expect(policyOf({ Ref: id(stack.edge.user) })).toEqual([
      {
        Sid: "EnqueueJobs",
        Effect: "Allow",
        Action: ["sqs:GetQueueAttributes", "sqs:SendMessage"],
        Resource: [arn(stack.queues.queues.economy), arn(stack.queues.queues.standard)],
      },
      { Sid: "ServeAndExpireOutputs", Effect: "Allow", Action: ["s3:DeleteObject", "s3:GetObject"], Resource: objects("videos/*") },
      { Sid: "ListForNotFound", Effect: "Allow", Action: "s3:ListBucket", Resource: arn(stack.storage.bucket) },
    ]);
  });

  it("creates no access key: the edge's key is made by hand and kept by wrangler", () => {
    template.resourceCountIs("AWS::IAM::AccessKey", 0);
    expect(template.toJSON().Resources[id(stack.edge.user)].Properties?.LoginProfile).toBeUndefined();
  });

  it("gives the workers REELMESH_EVENTS_SECRET from Secrets Manager, never as plain environment", () => {
    for (const tier of TIERS) {
      template.hasResourceProperties("AWS::ECS::TaskDefinition", {
        TaskRoleArn: arn(stack.services[tier].service.taskDefinition.taskRole),
        ContainerDefinitions: [
          Match.objectLike({
            Secrets: [{ Name: "REELMESH_EVENTS_SECRET", ValueFrom: { Ref: id(stack.eventsSecret) } }],
            Environment: Match.not(Match.arrayWith([Match.objectLike({ Name: "REELMESH_EVENTS_SECRET" })])),
          }),
        ],
      });
    }
  });
});

describe("a stage configured by context", () => {
  const topic = "arn:aws:sns:us-east-1:123456789012:reelmesh-ops";
  let staging: Template;
  beforeAll(() => {
    const built = buildApp({
      context: { stage: "staging", retentionS: "86400", alarmTopicArn: topic, availabilityZones: "us-east-1a,us-east-1b,us-east-1c" },
    });
    staging = Template.fromStack(built.stack);
  });

  it("suffixes the names and keeps outputs as long as the stage's edge does", () => {
    staging.hasResourceProperties("AWS::SQS::Queue", { QueueName: `${RESOURCE_NAMES.standardQueue}-staging` });
    staging.hasResourceProperties("AWS::SQS::Queue", { QueueName: `${RESOURCE_NAMES.economyQueue}-staging-dlq` });
    staging.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: "videos/", ExpirationInDays: 1 })] },
    });
  });

  it("sends the queue alarms and every scaling event of the fleet to the topic, which satisfies cdk-nag's AS3", () => {
    const alarms = Object.values(staging.findResources("AWS::CloudWatch::Alarm", { Properties: { MetricName: Match.anyValue() } }));
    const queueAlarms = alarms.filter((a) => a.Properties.Namespace === "AWS/SQS" && a.Properties.AlarmActions);
    expect(queueAlarms.length).toBeGreaterThanOrEqual(2 * TIERS.length);
    for (const a of queueAlarms) expect(a.Properties.AlarmActions).toEqual([topic]);
    staging.resourcePropertiesCountIs(
      "AWS::AutoScaling::AutoScalingGroup",
      {
        NotificationConfigurations: [
          Match.objectLike({ TopicARN: topic, NotificationTypes: Match.arrayWith(["autoscaling:EC2_INSTANCE_LAUNCH_ERROR"]) }),
        ],
      },
      2,
    );
  });

  it("puts the fleet in the zones it is given", () => {
    const zones = Object.values(staging.findResources("AWS::EC2::Subnet")).map((s) => s.Properties.AvailabilityZone);
    expect(new Set(zones)).toEqual(new Set(["us-east-1a", "us-east-1b", "us-east-1c"]));
  });

  it("refuses context it cannot use, before building anything", () => {
    expect(() => buildApp({ context: { stage: "Prod!" } })).toThrow(/invalid CDK context:\n {2}stage/);
    expect(() => buildApp({ context: { retentionS: "a week" } })).toThrow(/retentionS/);
  });
});

describe("the independent checks", () => {
  /** cdk-nag acknowledgments on the construct tree (Validations.of(…).acknowledge), as "path rule". */
  const acknowledged = () =>
    stack.node.findAll().flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([rule]) => rule.startsWith("Annotation::AwsSolutions-"))
        .map(([rule, reason]) => ({ at: `${c.node.path.replace(`${stack.stackName}/`, "")} ${rule.replace("Annotation::", "")}`, reason })),
    );

  it("synthesized under cdk-nag's AwsSolutions pack with exactly these findings acknowledged", () => {
    // Template.fromStack synthesized the app: an unacknowledged finding would have thrown there.
    const bucket = `<${id(stack.storage.bucket)}.Arn>`;
    const tasks = `arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${id(stack.fleet.cluster)}>/*`;
    const expected = [
      "Storage/AccessLogs AwsSolutions-S1",
      "EventsSecret AwsSolutions-SMG4",
      "Edge/Policy AwsSolutions-IAM5[Resource::" + bucket + "/videos/*]",
      ...["OnDemand", "Spot"].flatMap((c) => [
        `Fleet/${c}InstanceRole AwsSolutions-IAM5[Action::ecs:Submit*]`,
        `Fleet/${c}InstanceRole AwsSolutions-IAM5[Resource::*]`,
        `Fleet/${c}Group AwsSolutions-EC26`,
        `Fleet/${c}Group AwsSolutions-AS3`,
      ]),
      ...TIERS.flatMap((t) => [
        `${t}-workers/Task AwsSolutions-ECS2`,
        `${t}-workers/Task/ExecutionRole AwsSolutions-IAM5[Resource::*]`,
        `${t}-workers/Task/TaskRole/DefaultPolicy AwsSolutions-IAM5[Resource::${bucket}/videos/*]`,
        `${t}-workers/Task/TaskRole/DefaultPolicy AwsSolutions-IAM5[Resource::${bucket}/models/*]`,
        `${t}-workers/Task/TaskRole/DefaultPolicy AwsSolutions-IAM5[Resource::${tasks}]`,
      ]),
      ...TIERS.filter((t) => POLICY.tiers[t].deadlineGuard).map(
        (t) => `${t}-workers/DeadlineGuard/StateMachine AwsSolutions-IAM5[Resource::*]`,
      ),
    ];
    expect(
      acknowledged()
        .map((a) => a.at)
        .sort(),
    ).toEqual(expected.sort());
  });

  it("gives every acknowledgment a reason of its own", () => {
    for (const a of acknowledged()) expect(a.reason.length, a.at).toBeGreaterThan(40);
  });

  it("fails a synthesis on a cdk-nag finding and on an invalid CloudFormation property: both checks are live", () => {
    const app = new App({ context: { ...CURRENTLY_RECOMMENDED_FLAGS } });
    const bad = new Stack(app, "bad");
    new s3.Bucket(bad, "Unlogged");
    new CfnResource(bad, "Queue", { type: "AWS::SQS::Queue", properties: { VisibilityTimeout: "sixty" } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let message = "";
    try {
      app.synth();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("AwsSolutions-S1");
    expect(message).toContain("VisibilityTimeout: 'sixty' is not of type 'integer'");
  });
});
