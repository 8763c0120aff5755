import { Duration, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { POLICY, QUEUES, type Tier } from "../scaling/policy.ts";
import { acknowledgeWorkerWildcards, workerStatements } from "./access.ts";
import { DEPLOYMENT_HEADROOM, type GpuFleet } from "./fleet.ts";
import { addTierScaling, type ServiceScaling } from "./scaling.ts";

/**
 * One tier's GPU workers: an ECS service on GPU capacity that consumes only its own queue, so
 * its backlog per task counts only its own work (scaling.ts).
 */
export interface TierServiceProps {
  tier: Tier;
  fleet: GpuFleet;
  queue: sqs.Queue;
  bucket: s3.IBucket;
  eventsSecret: secretsmanager.ISecret;
  image: ecs.ContainerImage;
  logGroup: logs.ILogGroup;
  /** REELMESH_MODEL_DIR; unset: the image's own (infra/images/gpu.Dockerfile). */
  modelDir?: string;
}

/** Metrics and probes (GET /healthz) of the worker: REELMESH_METRICS_PORT. */
const METRICS_PORT = 9464;
/** One task per one-GPU xlarge instance: 4 vCPUs and at least 16 GiB, less what the ECS agent and the OS keep. */
const TASK_CPU = 3_072;
const TASK_MEMORY_RESERVATION_MIB = 12_288;
/** After the drain bound (REELMESH_DRAIN_S) the worker still hands back its messages and exits. */
const STOP_MARGIN_S = 15;
/** The longest stopTimeout ECS accepts. */
const ECS_MAX_STOP_TIMEOUT_S = 120;

/** stopTimeout: the policy's drain bound and a margin, refused if ECS cannot grant it. */
function stopTimeoutS(): number {
  const s = POLICY.drainBoundS + STOP_MARGIN_S;
  if (s > ECS_MAX_STOP_TIMEOUT_S)
    throw new Error(
      `POLICY.drainBoundS ${POLICY.drainBoundS} + ${STOP_MARGIN_S} s exceeds ECS's stopTimeout of ${ECS_MAX_STOP_TIMEOUT_S} s`,
    );
  return s;
}

export class TierService extends Construct {
  readonly service: ecs.Ec2Service;
  readonly scaling: ServiceScaling;

  constructor(scope: Construct, id: string, props: TierServiceProps) {
    super(scope, id);
    const { tier, fleet, queue } = props;

    const taskDefinition = new ecs.Ec2TaskDefinition(this, "Task", { networkMode: ecs.NetworkMode.AWS_VPC });
    for (const statement of workerStatements(queue, props.bucket, fleet.cluster)) taskDefinition.addToTaskRolePolicy(statement);
    acknowledgeWorkerWildcards(taskDefinition.taskRole.node.findChild("DefaultPolicy"), props.bucket, fleet.cluster);

    taskDefinition.addContainer("worker", {
      image: props.image,
      cpu: TASK_CPU,
      memoryReservationMiB: TASK_MEMORY_RESERVATION_MIB,
      gpuCount: 1,
      environment: {
        AWS_REGION: Stack.of(this).region,
        // The worker polls SQS_QUEUE_URL_STANDARD alone when no economy URL is set
        // (gpu-functions/consumer/consumer.ts): each tier's service is given only its own queue.
        SQS_QUEUE_URL_STANDARD: queue.queueUrl,
        REELMESH_VISIBILITY_TIMEOUT_S: String(QUEUES.visibilityTimeoutS),
        REELMESH_MAX_ATTEMPTS: String(QUEUES.maxReceiveCount),
        REELMESH_CONCURRENT_JOBS: String(POLICY.concurrentJobsPerTask),
        REELMESH_DRAIN_S: String(POLICY.drainBoundS),
        REELMESH_METRICS_PORT: String(METRICS_PORT),
        // Stated, not detected: a worker that cannot protect itself fails at start instead of
        // running where scale-in may stop it mid-job (gpu-functions/scale-in/protection.ts).
        REELMESH_SCALE_IN_PROTECTION: "ecs",
        ...(props.modelDir ? { REELMESH_MODEL_DIR: props.modelDir } : {}),
      },
      secrets: { REELMESH_EVENTS_SECRET: ecs.Secret.fromSecretsManager(props.eventsSecret) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: tier }),
      healthCheck: {
        // ECS acts on this probe, not on the image's HEALTHCHECK (infra/images/gpu.Dockerfile), which it mirrors.
        command: [
          "CMD",
          "node",
          "-e",
          `fetch("http://127.0.0.1:${METRICS_PORT}/healthz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        // /healthz answers before the model loads (gpu-functions/health.ts); the cold start bounds the wait.
        startPeriod: Duration.seconds(POLICY.coldStartS),
      },
      stopTimeout: Duration.seconds(stopTimeoutS()),
    });
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "ecr:GetAuthorizationToken takes no resource; image layers are pulled from the one repository only.",
    });
    Validations.of(taskDefinition).acknowledge({
      id: "AwsSolutions-ECS2",
      reason:
        "The environment holds only queue URLs and numbers from infra/scaling/policy.ts; the one secret, REELMESH_EVENTS_SECRET, comes from Secrets Manager.",
    });

    this.service = new ecs.Ec2Service(this, "Service", {
      cluster: fleet.cluster,
      taskDefinition,
      capacityProviderStrategies: capacityStrategy(tier, fleet),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      placementStrategies: [ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE)],
      minHealthyPercent: 100,
      maxHealthyPercent: 100 * DEPLOYMENT_HEADROOM,
      circuitBreaker: { rollback: true },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    // A service that names a capacity provider fails to create until the cluster's association
    // with it exists, and the association cannot be removed while a service still uses it.
    this.service.node.addDependency(fleet.cluster);

    this.scaling = addTierScaling(this, tier, this.service, queue);
  }
}

/** On-demand for the tier's base, spot for the rest; a tier without spot stays on-demand. */
function capacityStrategy(tier: Tier, fleet: GpuFleet): ecs.CapacityProviderStrategy[] {
  const t = POLICY.tiers[tier];
  const onDemand = fleet.onDemand.capacityProviderName;
  const spot = fleet.spot.capacityProviderName;
  if (!t.spot) return [{ capacityProvider: onDemand, base: t.onDemandBase, weight: 1 }];
  const overflow = { capacityProvider: spot, weight: 1 };
  return t.onDemandBase > 0 ? [{ capacityProvider: onDemand, base: t.onDemandBase, weight: 0 }, overflow] : [overflow];
}
