import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { POLICY, QUEUES, TIERS } from "../scaling/policy.ts";
import { MANIFEST_DIR } from "./manifests.ts";

/*
 * The committed YAML, read back as a cluster would get it, against infra/scaling/policy.ts:
 * every number the policy decides, wherever it lands in the manifests.
 */
const docs: any[] = readdirSync(MANIFEST_DIR)
  .filter((name) => name.endsWith(".yaml"))
  .flatMap((name) => parseAllDocuments(readFileSync(join(MANIFEST_DIR, name), "utf8")).map((doc) => doc.toJS()));
const find = (kind: string, name: string) => {
  const found = docs.filter((d) => d.kind === kind && d.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0];
};
/** AWS gives a spot instance two minutes' notice; a drain that outlasts it is cut short. */
const SPOT_NOTICE_S = 120;

/**
 * Whether KEDA's cron scaler counts a daily window as active at a minute of the day
 * (pkg/scalers/cron_scaler.go): when the window's next end comes before its next start.
 */
function cronActive(trigger: { metadata: Record<string, string> }, minuteOfDay: number): boolean {
  const next = (expr: string) => {
    const match = /^0 (\d{1,2}) \* \* \*$/.exec(expr);
    expect(match, expr).not.toBeNull();
    const at = Number(match![1]) * 60;
    return at > minuteOfDay ? at : at + 24 * 60;
  };
  return next(trigger.metadata.end!) < next(trigger.metadata.start!);
}

describe.each(TIERS)("the %s tier on Kubernetes", (tier) => {
  const policy = POLICY.tiers[tier];
  const deployment = find("Deployment", `reelmesh-gpu-${tier}`);
  const scaled = find("ScaledObject", `reelmesh-gpu-${tier}`);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env = (name: string) => container.env.find((e: { name: string }) => e.name === name);
  const [backlog, ...floors] = scaled.spec.triggers;

  it("gives each worker one GPU and the policy's job settings", () => {
    expect(container.resources.limits["nvidia.com/gpu"]).toBe(1);
    expect(pod.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    expect(env("REELMESH_CONCURRENT_JOBS").value).toBe(String(POLICY.concurrentJobsPerTask));
    expect(env("REELMESH_VISIBILITY_TIMEOUT_S").value).toBe(String(QUEUES.visibilityTimeoutS));
    expect(env("REELMESH_MAX_ATTEMPTS").value).toBe(String(QUEUES.maxReceiveCount));
    expect(env("REELMESH_EVENTS_SECRET").valueFrom.secretKeyRef).toBeDefined();
  });

  it("lets a draining worker finish within its grace period and within a spot notice", () => {
    expect(env("REELMESH_DRAIN_S").value).toBe(String(POLICY.drainBoundS));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(POLICY.drainBoundS);
    expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(SPOT_NOTICE_S);
  });

  it("turns on deletion-cost scale-in protection with the pod's name and namespace", () => {
    expect(POLICY.scaleInIdleOnly).toBe(true);
    expect(env("REELMESH_SCALE_IN_PROTECTION").value).toBe("kubernetes");
    expect(env("POD_NAME").valueFrom.fieldRef.fieldPath).toBe("metadata.name");
    expect(env("POD_NAMESPACE").valueFrom.fieldRef.fieldPath).toBe("metadata.namespace");
    const role = find("Role", pod.serviceAccountName);
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "patch"] }]);
    expect(find("RoleBinding", pod.serviceAccountName).subjects[0].name).toBe(pod.serviceAccountName);
  });

  it("probes /healthz and /readyz on the metrics port, giving a start several cold starts to get ready", () => {
    const port = container.ports.find((p: { name: string }) => p.name === "metrics").containerPort;
    expect(env("REELMESH_METRICS_PORT").value).toBe(String(port));
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    const { periodSeconds, failureThreshold, httpGet } = container.startupProbe;
    expect(httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(periodSeconds * failureThreshold).toBeGreaterThanOrEqual(2 * POLICY.coldStartS);
  });

  it("runs on spot only, on-demand only, or preferably on-demand, as the policy allows", () => {
    const affinity = pod.affinity.nodeAffinity;
    const required = affinity.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0].matchExpressions[0].values;
    const preferred = affinity.preferredDuringSchedulingIgnoredDuringExecution?.[0].preference.matchExpressions[0].values;
    if (!policy.spot) expect(required).toEqual(["on-demand"]);
    else if (policy.onDemandBase === 0) expect(required).toEqual(["spot"]);
    else expect([required, preferred]).toEqual([undefined, ["on-demand"]]);
  });

  it("scales between the policy's bounds, at its polling interval and cooldowns", () => {
    expect(scaled.spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    expect(scaled.spec.minReplicaCount).toBe(policy.minTasks);
    expect(scaled.spec.maxReplicaCount).toBe(policy.maxTasks);
    expect(scaled.spec.pollingInterval).toBe(policy.pollingIntervalS);
    expect(scaled.spec.cooldownPeriod).toBe(policy.cooldownToZeroS);
    const behavior = scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(behavior.scaleDown.stabilizationWindowSeconds).toBe(policy.scaleInCooldownS);
    expect(behavior.scaleUp.stabilizationWindowSeconds).toBe(policy.scaleOutCooldownS);
    expect(behavior.scaleUp.policies).toEqual([{ type: "Pods", value: policy.maxTasks, periodSeconds: policy.pollingIntervalS }]);
  });

  it("holds the backlog per pod at the target, counting in-flight jobs, from the queue the pods poll", () => {
    expect(backlog.type).toBe("aws-sqs-queue");
    expect(backlog.metadata.queueLength).toBe(String(policy.targetBacklogPerTask));
    expect(backlog.metadata.scaleOnInFlight).toBe("true");
    // KEDA activates on a queue longer than activationQueueLength.
    expect(Number(backlog.metadata.activationQueueLength) + 1).toBe(policy.activationBacklog);
    expect(backlog.metadata.queueURL).toBe(env("SQS_QUEUE_URL_STANDARD").value);
    expect(env("SQS_QUEUE_URL_ECONOMY")).toBeUndefined();
    expect(backlog.metadata.awsRegion).toBe(env("AWS_REGION").value);
    expect(find("TriggerAuthentication", backlog.authenticationRef.name).spec.podIdentity.provider).toBe("aws");
  });

  it("keeps the predictive floor in every hour of the day (UTC)", () => {
    for (const floor of floors) expect(floor).toMatchObject({ type: "cron", metadata: { timezone: "UTC" } });
    for (let hour = 0; hour < 24; hour++) {
      const held = floors.filter((f: { metadata: Record<string, string> }) => cronActive(f, hour * 60 + 30));
      const replicas = Math.max(
        policy.minTasks,
        ...held.map((f: { metadata: Record<string, string> }) => Number(f.metadata.desiredReplicas)),
      );
      expect(replicas, `${tier} at ${hour}:30`).toBe(Math.max(policy.minTasks, policy.floorByHour[hour]!));
    }
  });
});
