import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { POLICY, type Tier } from "../scaling/policy.ts";
import type { ClusterConfig } from "./cluster.ts";
import { cronSchedule, floorWindows } from "./floor.ts";
import { deploymentName } from "./workload.ts";

/** KEDA reads the queues with this TriggerAuthentication's identity. */
const TRIGGER_AUTH_NAME = "reelmesh-sqs";

/**
 * How KEDA's operator reads the queue attributes: AWS pod identity (EKS Pod Identity or IRSA on
 * the operator's service account), needing only sqs:GetQueueAttributes on the two queues. The
 * workers' role is not lent to KEDA ("identityOwner: workload" would read an IRSA annotation, which
 * EKS Pod Identity does not have).
 */
export function triggerAuthentication(cluster: ClusterConfig): TriggerAuthentication {
  return new TriggerAuthentication({
    metadata: { name: TRIGGER_AUTH_NAME, namespace: cluster.namespace },
    spec: {
      podIdentity: cluster.kedaRoleArn ? { provider: "aws", roleArn: cluster.kedaRoleArn } : { provider: "aws", identityOwner: "keda" },
    },
  });
}

/**
 * One tier's autoscaling, every number from POLICY.tiers[tier]:
 * - the `aws-sqs-queue` trigger holds (visible + in-flight) messages per pod at
 *   targetBacklogPerTask (KEDA's queueLength is a per-replica target);
 * - KEDA wakes a tier at zero when the queue holds more than activationQueueLength messages, so
 *   that is activationBacklog - 1 for activationBacklog messages to wake it;
 * - the queue is read once per pollingIntervalS, by KEDA and (cached metrics) for the HPA alike;
 * - one `cron` trigger per run of hours of the predictive floor (floor.ts);
 * - scale-in waits scaleInCooldownS, scale-out scaleOutCooldownS, and a last pod stays
 *   cooldownToZeroS after the last activity.
 */
export function scaledObject(tier: Tier, cluster: ClusterConfig): ScaledObject {
  const policy = POLICY.tiers[tier];
  const floors = floorWindows(policy.floorByHour, policy.minTasks).map((window) => ({
    type: "cron",
    name: `floor-${String(window.startHour).padStart(2, "0")}h`,
    metadata: { timezone: "UTC", ...cronSchedule(window), desiredReplicas: String(window.replicas) },
  }));
  return new ScaledObject({
    metadata: { name: deploymentName(tier), namespace: cluster.namespace },
    spec: {
      scaleTargetRef: { name: deploymentName(tier) },
      minReplicaCount: policy.minTasks,
      maxReplicaCount: policy.maxTasks,
      pollingInterval: policy.pollingIntervalS,
      cooldownPeriod: policy.cooldownToZeroS,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleDown: { stabilizationWindowSeconds: policy.scaleInCooldownS },
            // One step may go straight to the count the backlog asks for, as target tracking
            // does on ECS; the HPA's default would add at most 4 pods or 100% every 15 s.
            scaleUp: {
              stabilizationWindowSeconds: policy.scaleOutCooldownS,
              selectPolicy: "Max",
              policies: [{ type: "Pods", value: policy.maxTasks, periodSeconds: policy.pollingIntervalS }],
            },
          },
        },
      },
      triggers: [
        {
          type: "aws-sqs-queue",
          name: "backlog",
          authenticationRef: { name: TRIGGER_AUTH_NAME },
          useCachedMetrics: true,
          metadata: {
            queueURL: cluster.queueUrls[tier],
            awsRegion: cluster.awsRegion,
            queueLength: String(policy.targetBacklogPerTask),
            activationQueueLength: String(policy.activationBacklog - 1),
            scaleOnInFlight: "true",
          },
        },
        ...floors,
      ],
    },
  });
}
