import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, ServiceAccount } from "kubernetes-models/v1";
import type { ClusterConfig } from "./cluster.ts";
import { WORKER_SERVICE_ACCOUNT } from "./workload.ts";

/*
 * What the workers may do in the cluster: read and patch pods, for scale-in protection (the
 * worker keeps its own pod's deletion cost high while busy, low while idle, and the ReplicaSet
 * removes the cheapest pods first when the HPA scales in).
 */

const DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";
/** The pod a bound service-account token was issued to, as the API server reports its user. */
const TOKEN_POD_NAME = "authentication.kubernetes.io/pod-name";
const POLICY_NAME = "reelmesh-worker-own-pod-deletion-cost";

export function namespace(cluster: ClusterConfig): Namespace {
  return new Namespace({
    // Baseline admits the GPU pods (the device plugin hands them their GPU) and refuses privileged ones.
    metadata: { name: cluster.namespace, labels: { "pod-security.kubernetes.io/enforce": "baseline" } },
  });
}

export function workerServiceAccount(cluster: ClusterConfig): ServiceAccount {
  return new ServiceAccount({
    metadata: {
      name: WORKER_SERVICE_ACCOUNT,
      namespace: cluster.namespace,
      ...(cluster.workerRoleArn ? { annotations: { "eks.amazonaws.com/role-arn": cluster.workerRoleArn } } : {}),
    },
  });
}

/**
 * RBAC can name the objects a rule covers (`resourceNames`) but only by exact name, and a
 * Deployment's pods get generated names, so the rule covers every pod in the namespace; the
 * admission policy below narrows it to the worker's own pod and the one annotation.
 */
export function workerRole(cluster: ClusterConfig): Role {
  return new Role({
    metadata: { name: WORKER_SERVICE_ACCOUNT, namespace: cluster.namespace },
    rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "patch"] }],
  });
}

export function workerRoleBinding(cluster: ClusterConfig): RoleBinding {
  return new RoleBinding({
    metadata: { name: WORKER_SERVICE_ACCOUNT, namespace: cluster.namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: WORKER_SERVICE_ACCOUNT },
    subjects: [{ kind: "ServiceAccount", name: WORKER_SERVICE_ACCOUNT, namespace: cluster.namespace }],
  });
}

/** CEL: a metadata field of the pod is what it was before the update. */
const unchanged = (field: string) =>
  `has(object.metadata.${field}) == has(oldObject.metadata.${field}) && (!has(object.metadata.${field}) || object.metadata.${field} == oldObject.metadata.${field})`;

/**
 * A worker's token may update only the pod it was issued to (bound tokens carry the pod's name),
 * and only that pod's deletion-cost annotation: a pod patch could otherwise change another pod's
 * image or labels. Kubernetes 1.30 or later (admissionregistration.k8s.io/v1).
 */
export function workerPodPatchPolicy(cluster: ClusterConfig): [ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding] {
  const policy = new ValidatingAdmissionPolicy({
    metadata: { name: `${POLICY_NAME}.${cluster.namespace}` },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods"] }],
      },
      matchConditions: [
        {
          name: "by-worker",
          expression: `request.userInfo.username == 'system:serviceaccount:${cluster.namespace}:${WORKER_SERVICE_ACCOUNT}'`,
        },
      ],
      variables: [
        {
          name: "tokenPod",
          expression: `has(request.userInfo.extra) && '${TOKEN_POD_NAME}' in request.userInfo.extra ? request.userInfo.extra['${TOKEN_POD_NAME}'][0] : ''`,
        },
      ],
      validations: [
        {
          expression: "variables.tokenPod != '' && variables.tokenPod == object.metadata.name",
          message: "a worker may update only its own pod",
        },
        {
          expression: [
            "object.spec == oldObject.spec",
            unchanged("labels"),
            unchanged("finalizers"),
            unchanged("ownerReferences"),
            `(!has(object.metadata.annotations) || object.metadata.annotations.all(k, k == '${DELETION_COST}' || (has(oldObject.metadata.annotations) && k in oldObject.metadata.annotations && oldObject.metadata.annotations[k] == object.metadata.annotations[k])))`,
            `(!has(oldObject.metadata.annotations) || oldObject.metadata.annotations.all(k, k == '${DELETION_COST}' || (has(object.metadata.annotations) && k in object.metadata.annotations)))`,
          ].join(" && "),
          message: `a worker may change only its pod's ${DELETION_COST} annotation`,
        },
      ],
    },
  });
  const binding = new ValidatingAdmissionPolicyBinding({
    metadata: { name: `${POLICY_NAME}.${cluster.namespace}` },
    spec: {
      policyName: policy.metadata!.name!,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": cluster.namespace } } },
    },
  });
  return [policy, binding];
}
