import { Validations } from "aws-cdk-lib";
import * as autoscaling from "aws-cdk-lib/aws-autoscaling";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { POLICY, TIERS } from "../scaling/policy.ts";

/**
 * The GPU fleet: a VPC, an ECS cluster with Container Insights (its RunningTaskCount is the
 * denominator of the backlog per task, scaling.ts), and two EC2 capacity providers, one
 * on-demand and one spot, each an Auto Scaling group over several one-GPU instance types.
 */
export interface GpuFleetProps {
  /** One-GPU instance types, in order of preference. */
  instanceTypes: readonly string[];
  /** Explicit zones; unset: the first two of the region (all an environment-agnostic stack can name). */
  availabilityZones?: readonly string[];
  /** Where the Auto Scaling groups report launches, terminations and failures to launch. */
  notificationTopic?: sns.ITopic;
}

/**
 * The policy's instance types first (those the simulator timed, infra/sim/service.ts), then
 * other one-GPU types for spot capacity. On a slower type jobs take longer, the backlog per task
 * grows and target tracking starts more tasks, so a fallback type costs money, not the wait goal.
 */
const FALLBACK_INSTANCE_TYPES = ["g6e.xlarge", "g6.xlarge", "g5.xlarge"];
export const DEFAULT_INSTANCE_TYPES: readonly string[] = [
  ...new Set([...TIERS.map((t) => POLICY.tiers[t].instanceType), ...FALLBACK_INSTANCE_TYPES]),
];
/** A rolling deployment starts the new tasks before it stops the old (maxHealthyPercent, tier-service.ts). */
export const DEPLOYMENT_HEADROOM = 2;
/** Room for the CUDA image's layers and a baked model package, beyond the AMI's default root volume. */
const ROOT_VOLUME_GIB = 100;
const FLOW_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;

/** Instances each capacity provider may need: a tier's on-demand base, the rest of its tasks on spot. */
function instanceBounds(): { onDemand: number; spot: number } {
  let onDemand = 0;
  let spot = 0;
  for (const tier of TIERS) {
    const t = POLICY.tiers[tier];
    if (t.spot) {
      onDemand += t.onDemandBase;
      spot += t.maxTasks;
    } else {
      onDemand += t.maxTasks;
    }
  }
  return { onDemand: onDemand * DEPLOYMENT_HEADROOM, spot: spot * DEPLOYMENT_HEADROOM };
}

export class GpuFleet extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly onDemand: ecs.AsgCapacityProvider;
  readonly spot: ecs.AsgCapacityProvider;

  constructor(scope: Construct, id: string, props: GpuFleetProps) {
    super(scope, id);
    if (props.instanceTypes.length < 3)
      throw new Error("the fleet needs at least three GPU instance types (spot capacity is scarce per type)");

    this.vpc = new ec2.Vpc(this, "Vpc", {
      ...(props.availabilityZones ? { availabilityZones: [...props.availabilityZones] } : { maxAzs: 2 }),
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "workers", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      // Segments go to S3 without crossing the NAT gateways (and their per-GB charge).
      gatewayEndpoints: { s3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        rejected: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, "FlowLogs", { retention: FLOW_LOG_RETENTION })),
        },
      },
    });

    this.cluster = new ecs.Cluster(this, "Cluster", { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const bounds = instanceBounds();
    this.onDemand = this.capacity("OnDemand", props, bounds.onDemand, {
      onDemandPercentageAboveBaseCapacity: 100,
      onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
    });
    this.spot = this.capacity("Spot", props, bounds.spot, {
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: 0,
      // Prefers the types in order where capacity allows, as on-demand does.
      spotAllocationStrategy: autoscaling.SpotAllocationStrategy.CAPACITY_OPTIMIZED_PRIORITIZED,
    });
  }

  private capacity(
    name: "OnDemand" | "Spot",
    props: GpuFleetProps,
    maxCapacity: number,
    distribution: autoscaling.InstancesDistribution,
  ): ecs.AsgCapacityProvider {
    const spot = name === "Spot";
    const userData = ec2.UserData.forLinux();
    // awsvpc tasks get no credentials from the instance metadata service: a task has only its task role.
    userData.addCommands("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config");
    // On a spot interruption notice the agent drains the instance: its tasks get SIGTERM and
    // stopTimeout (tier-service.ts) to hand their jobs back, within the two-minute notice.
    if (spot) userData.addCommands("echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config");

    const securityGroup = new ec2.SecurityGroup(this, `${name}Instances`, {
      vpc: this.vpc,
      description: `reelmesh ${name} GPU instances: no inbound; outbound to ECS, ECR, SQS, S3 and the edge`,
      allowAllOutbound: true,
    });
    const role = new iam.Role(this, `${name}InstanceRole`, { assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com") });
    const launchTemplate = new ec2.LaunchTemplate(this, `${name}Template`, {
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.GPU),
      userData,
      role,
      securityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: ec2.BlockDeviceVolume.ebs(ROOT_VOLUME_GIB, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    const autoScalingGroup = new autoscaling.AutoScalingGroup(this, `${name}Group`, {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      minCapacity: 0,
      maxCapacity,
      mixedInstancesPolicy: {
        launchTemplate,
        launchTemplateOverrides: props.instanceTypes.map((t) => ({ instanceType: new ec2.InstanceType(t) })),
        instancesDistribution: distribution,
      },
      // Replace a spot instance at risk before its interruption, not after.
      capacityRebalance: spot,
      ...(props.notificationTopic ? { notifications: [{ topic: props.notificationTopic }] } : {}),
    });
    Validations.of(autoScalingGroup).acknowledge({
      id: "AwsSolutions-EC26",
      reason:
        "The rule cannot read a launch template through a mixed instances policy; the template's only volume is encrypted (above, and fleet.test.ts).",
    });
    if (!props.notificationTopic) {
      Validations.of(autoScalingGroup).acknowledge({
        id: "AwsSolutions-AS3",
        reason: "No alarmTopicArn was given, so there is no topic to notify; with one, the group reports every scaling event to it.",
      });
    }
    const provider = new ecs.AsgCapacityProvider(this, name, {
      autoScalingGroup,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
    });
    this.cluster.addAsgCapacityProvider(provider);
    // What Cluster.addAsgCapacityProvider grants the ECS agent (the scoped form of AmazonEC2ContainerServiceforEC2Role).
    Validations.of(role).acknowledge(
      {
        id: "AwsSolutions-IAM5[Action::ecs:Submit*]",
        reason: "The agent's Submit* calls (container and task state changes) are granted on this cluster only.",
      },
      {
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "ecr:GetAuthorizationToken and ecs:DiscoverPollEndpoint take no resource; ecs:Poll is conditioned on this cluster; the agent's log calls name their streams only at run time.",
      },
    );
    return provider;
  }
}
