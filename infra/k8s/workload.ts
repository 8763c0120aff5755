import { Deployment } from "kubernetes-models/apps/v1";
import type { IAffinity, IEnvVar, IProbe } from "kubernetes-models/v1";
import { POLICY, QUEUES, type Tier } from "../scaling/policy.ts";
import type { ClusterConfig } from "./cluster.ts";

/** The service account the workers run as (access.ts gives it what scale-in protection needs). */
export const WORKER_SERVICE_ACCOUNT = "reelmesh-worker";
/** The Secret, created by the operator, that holds REELMESH_EVENTS_SECRET (never rendered). */
const EVENTS_SECRET = { name: "reelmesh-events", key: "REELMESH_EVENTS_SECRET" } as const;
/** /metrics, /healthz and /readyz share the port the GPU image exposes (infra/images/gpu.Dockerfile). */
const METRICS_PORT = 9464;
/**
 * Time after the drain bound for the worker to hand its jobs back to SQS, release the ONNX
 * session and flush its logs; it gives up on a drain itself 5 s past the bound
 * (gpu-functions/main.ts). Past the grace period the kubelet kills it, and whatever it had not
 * handed back waits out QUEUES.visibilityTimeoutS instead.
 */
const EXIT_MARGIN_S = 20;
/**
 * How long a pod may take to become ready (model loaded, execution provider up) before the
 * kubelet restarts it: several cold starts, since a first start on a fresh node may also page the
 * model in from a cold disk, and restarting a slow load only starts it again from nothing. The
 * probes answer before the model loads (gpu-functions/health.ts), so it is readiness that marks
 * the end of a start.
 */
const STARTUP_BUDGET_S = 5 * POLICY.coldStartS;
const PROBE_PERIOD_S = 5;
const PROBE_FAILURES = 3;
/** Probe answers come from the worker's event loop, which ONNX Runtime does not block (gpu-functions/engine/ort-host.ts). */
const PROBE_TIMEOUT_S = 2;

export const deploymentName = (tier: Tier) => `reelmesh-gpu-${tier}`;
const podLabels = (tier: Tier) => ({ "app.kubernetes.io/name": "reelmesh-gpu", "app.kubernetes.io/instance": tier });

/**
 * A tier's GPU functions: one GPU each, polling only that tier's queue so that the tier's
 * ScaledObject (scaling.ts) sizes the pods that serve its backlog. No `replicas`: KEDA's HPA owns
 * the count, and a `kubectl apply` that carried one would reset it.
 */
export function deployment(tier: Tier, cluster: ClusterConfig): Deployment {
  const probe = (path: string, failureThreshold: number): IProbe => ({
    httpGet: { path, port: "metrics" },
    periodSeconds: PROBE_PERIOD_S,
    timeoutSeconds: PROBE_TIMEOUT_S,
    failureThreshold,
  });
  return new Deployment({
    metadata: { name: deploymentName(tier), namespace: cluster.namespace, labels: podLabels(tier) },
    spec: {
      selector: { matchLabels: podLabels(tier) },
      // New pods come up before old ones drain, so a new image never lowers capacity.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
      template: {
        metadata: { labels: podLabels(tier) },
        spec: {
          serviceAccountName: WORKER_SERVICE_ACCOUNT,
          // The worker patches its own pod's deletion cost with this token.
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds: POLICY.drainBoundS + EXIT_MARGIN_S,
          affinity: capacityAffinity(tier, cluster),
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
          containers: [
            {
              name: "gpu-function",
              image: cluster.image,
              ports: [{ name: "metrics", containerPort: METRICS_PORT }],
              env: workerEnv(tier, cluster),
              resources: {
                requests: { cpu: cluster.resources.cpu, memory: cluster.resources.memory },
                // No CPU limit: throttling would stall FFmpeg between denoiser runs. Memory is held
                // to its request: under node memory pressure the kubelet evicts pods using more
                // than they asked for first, and a worker's eviction costs its jobs.
                limits: { "nvidia.com/gpu": 1, memory: cluster.resources.memory },
              },
              startupProbe: probe("/readyz", Math.ceil(STARTUP_BUDGET_S / PROBE_PERIOD_S)),
              livenessProbe: probe("/healthz", PROBE_FAILURES),
              readinessProbe: probe("/readyz", PROBE_FAILURES),
              securityContext: { allowPrivilegeEscalation: false, seccompProfile: { type: "RuntimeDefault" } },
            },
          ],
        },
      },
    },
  });
}

/** The worker's environment (gpu-functions/config.ts), the policy's numbers among it. */
function workerEnv(tier: Tier, cluster: ClusterConfig): IEnvVar[] {
  const value = (name: string, v: string | number): IEnvVar => ({ name, value: String(v) });
  const field = (name: string, fieldPath: string): IEnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return [
    value("AWS_REGION", cluster.awsRegion),
    // The worker polls SQS_QUEUE_URL_STANDARD first and SQS_QUEUE_URL_ECONOMY only when that one
    // is empty (gpu-functions/consumer/consumer.ts); with one URL it polls that queue alone, so
    // each tier's pods get their own tier's queue there. Jobs carry their tier in the message.
    value("SQS_QUEUE_URL_STANDARD", cluster.queueUrls[tier]),
    { name: "REELMESH_EVENTS_SECRET", valueFrom: { secretKeyRef: { name: EVENTS_SECRET.name, key: EVENTS_SECRET.key } } },
    value("REELMESH_CONCURRENT_JOBS", POLICY.concurrentJobsPerTask),
    value("REELMESH_VISIBILITY_TIMEOUT_S", QUEUES.visibilityTimeoutS),
    value("REELMESH_MAX_ATTEMPTS", QUEUES.maxReceiveCount),
    value("REELMESH_DRAIN_S", POLICY.drainBoundS),
    value("REELMESH_METRICS_PORT", METRICS_PORT),
    value("REELMESH_SCALE_IN_PROTECTION", "kubernetes"),
    field("POD_NAME", "metadata.name"),
    field("POD_NAMESPACE", "metadata.namespace"),
  ];
}

/**
 * Where a tier's pods may run, from POLICY.tiers[tier].spot and onDemandBase. A tier with no
 * on-demand base must run on spot; a tier not allowed spot must not. Kubernetes has no "first N
 * pods on-demand, the rest on spot" (ECS's capacity-provider base), so a tier with a base prefers
 * on-demand nodes for all of its pods and takes spot ones when on-demand has no room.
 */
function capacityAffinity(tier: Tier, cluster: ClusterConfig): IAffinity {
  const { spot, onDemandBase } = POLICY.tiers[tier];
  const { label, spot: spotValue, onDemand } = cluster.capacityType;
  const only = (v: string): IAffinity => ({
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: label, operator: "In", values: [v] }] }],
      },
    },
  });
  if (!spot) return only(onDemand);
  if (onDemandBase === 0) return only(spotValue);
  return {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, preference: { matchExpressions: [{ key: label, operator: "In", values: [onDemand] }] } },
      ],
    },
  };
}
