import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from "aws-cdk-lib";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { TIERS, type Tier } from "../scaling/policy.ts";
import { EdgeAccess } from "./access.ts";
import { GpuFleet } from "./fleet.ts";
import { JobQueues } from "./queues.ts";
import { OutputStorage } from "./storage.ts";
import { TierService } from "./tier-service.ts";

/**
 * reelmesh on AWS (docs/deploy-aws.md): the job queues, the output bucket, the GPU fleet with
 * one ECS service per tier, the events secret the workers share with the edge, and the IAM user
 * the edge signs with. Environment-agnostic unless given an env, so it synthesizes offline.
 */
export interface ReelmeshStackProps extends StackProps {
  /** "production" keeps the names of infra/local/resources.ts; another stage suffixes them ("-staging"). */
  stage: string;
  /** The edge's REELMESH_RETENTION_S; the output lifecycle rule keeps this many days, rounded up. */
  retentionS: number;
  /** ECR repository (in the stack's account and region) and tag of the GPU image (infra/images/gpu.Dockerfile). */
  imageRepository: string;
  imageTag: string;
  instanceTypes: readonly string[];
  availabilityZones?: readonly string[];
  bucketName?: string;
  modelDir?: string;
  /** An SNS topic of the operator's for the queue alarms and the fleet's scaling events. */
  alarmTopicArn?: string;
}

/** The workers' JSON lines (gpu-functions/log.ts). */
const WORKER_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
/** Length of the generated HMAC secret of worker events (the edge requires at least 16). */
const EVENTS_SECRET_LENGTH = 48;

export class ReelmeshStack extends Stack {
  readonly queues: JobQueues;
  readonly storage: OutputStorage;
  readonly fleet: GpuFleet;
  readonly services: Record<Tier, TierService>;
  readonly edge: EdgeAccess;
  readonly eventsSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ReelmeshStackProps) {
    super(scope, id, props);
    const nameSuffix = props.stage === "production" ? "" : `-${props.stage}`;

    const alarmTopic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, "AlarmTopic", props.alarmTopicArn) : undefined;
    this.queues = new JobQueues(this, "Queues", { nameSuffix, ...(alarmTopic ? { alarmTopic } : {}) });
    this.storage = new OutputStorage(this, "Storage", {
      retentionS: props.retentionS,
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
    });
    this.fleet = new GpuFleet(this, "Fleet", {
      instanceTypes: props.instanceTypes,
      ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : {}),
      ...(alarmTopic ? { notificationTopic: alarmTopic } : {}),
    });

    this.eventsSecret = new secretsmanager.Secret(this, "EventsSecret", {
      description: "REELMESH_EVENTS_SECRET: HMAC of the GPU workers' signed events; the edge holds the same value (wrangler secret).",
      generateSecretString: { passwordLength: EVENTS_SECRET_LENGTH, excludePunctuation: true },
    });
    Validations.of(this.eventsSecret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The edge keeps a copy as a wrangler secret, which Secrets Manager cannot update; rotation is the manual two-sided procedure in docs/deploy-aws.md.",
    });

    const repository = ecr.Repository.fromRepositoryName(this, "GpuImage", props.imageRepository);
    const image = ecs.ContainerImage.fromEcrRepository(repository, props.imageTag);
    const logGroup = new logs.LogGroup(this, "WorkerLogs", { retention: WORKER_LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });

    const services: Partial<Record<Tier, TierService>> = {};
    for (const tier of TIERS) {
      services[tier] = new TierService(this, `${tier}-workers`, {
        tier,
        fleet: this.fleet,
        queue: this.queues.queues[tier],
        bucket: this.storage.bucket,
        eventsSecret: this.eventsSecret,
        image,
        logGroup,
        ...(props.modelDir ? { modelDir: props.modelDir } : {}),
      });
    }
    this.services = services as Record<Tier, TierService>;

    this.edge = new EdgeAccess(this, "Edge", { queues: TIERS.map((t) => this.queues.queues[t]), bucket: this.storage.bucket });

    // What the edge's wrangler configuration needs (docs/deploy-cloudflare.md).
    new CfnOutput(this, "SqsQueueUrlStandard", { value: this.queues.queues.standard.queueUrl });
    new CfnOutput(this, "SqsQueueUrlEconomy", { value: this.queues.queues.economy.queueUrl });
    new CfnOutput(this, "S3Bucket", { value: this.storage.bucket.bucketName });
    new CfnOutput(this, "EdgeUserName", { value: this.edge.user.userName });
    new CfnOutput(this, "EventsSecretArn", { value: this.eventsSecret.secretArn });
    new CfnOutput(this, "ClusterName", { value: this.fleet.cluster.clusterName });
  }
}
