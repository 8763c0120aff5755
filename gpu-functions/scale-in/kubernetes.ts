import { request } from "node:https";
import { readFile } from "node:fs/promises";
import type { ProtectionBackend } from "./protection.ts";

/**
 * Kubernetes: the ReplicaSet controller removes the pods with the lowest
 * `controller.kubernetes.io/pod-deletion-cost` first when the HPA scales in, so the worker keeps
 * its own pod's annotation high while busy and low while idle. One merge-patch of the pod per
 * transition, with the pod's service-account token (its Role must allow `patch` on `pods`).
 */
export const DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";
/** Idle equals an unannotated pod (0), so a pod that has not yet taken a job counts as idle. */
const DELETION_COST = { busy: 1_000, idle: 0 } as const;
const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
const CALL_TIMEOUT_MS = 5_000;

export interface PodTarget {
  /** KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. */
  host: string;
  port: number;
  namespace: string;
  pod: string;
  /** Injectable for tests; default: the mounted service account. */
  tokenPath?: string;
  caPath?: string;
}

/** The pod's namespace when POD_NAMESPACE is unset: the service account's own. */
export async function serviceAccountNamespace(path = `${SERVICE_ACCOUNT}/namespace`): Promise<string | null> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.trim() || null;
}

export function podDeletionCost(target: PodTarget): ProtectionBackend {
  const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}`;
  return {
    name: "kubernetes",
    async set(busy) {
      // Read each time: the kubelet rotates projected tokens.
      const [token, ca] = await Promise.all([
        readFile(target.tokenPath ?? `${SERVICE_ACCOUNT}/token`, "utf8"),
        readFile(target.caPath ?? `${SERVICE_ACCOUNT}/ca.crt`),
      ]);
      const cost = busy ? DELETION_COST.busy : DELETION_COST.idle;
      const body = JSON.stringify({ metadata: { annotations: { [DELETION_COST_ANNOTATION]: String(cost) } } });
      await new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: target.host,
            port: target.port,
            path,
            method: "PATCH",
            ca,
            timeout: CALL_TIMEOUT_MS,
            headers: {
              authorization: `Bearer ${token.trim()}`,
              "content-type": "application/merge-patch+json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on("data", (d: Buffer) => parts.push(d));
            res.on("end", () => {
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) resolve();
              else reject(new Error(`API server answered ${status}: ${Buffer.concat(parts).toString("utf8").slice(0, 300)}`));
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
        req.on("error", reject);
        req.end(body);
      });
    },
  };
}
