import type { WorkerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { ecsTaskProtection } from "./ecs.ts";
import { podDeletionCost, serviceAccountNamespace } from "./kubernetes.ts";

/**
 * Scale-in protection: the orchestrator should remove idle workers, never one in the middle of
 * a job (infra/scaling/policy.ts, POLICY.scaleInIdleOnly). The worker says which it is:
 * - ECS: task scale-in protection through the agent's endpoint (ecs.ts);
 * - Kubernetes: the pod's `controller.kubernetes.io/pod-deletion-cost` (kubernetes.ts).
 *
 * It calls the orchestrator only on transitions: busy when it takes a job while not busy, idle
 * when a receive comes back empty with nothing running (so a worker with a backlog stays
 * protected between jobs instead of flapping), and, while busy, a renewal at the visibility
 * heartbeat once half the protection's expiry has passed. A failed call is retried at the next
 * transition or heartbeat, never sooner than RETRY_AFTER_MS. So a worker makes about two calls
 * per busy period, far inside any API rate limit.
 */
export interface ProtectionBackend {
  readonly name: "ecs" | "kubernetes";
  /** Busy: protected for `expiresInMinutes` (ECS; Kubernetes has no expiry). Idle: unprotected. */
  set(busy: boolean, expiresInMinutes: number): Promise<void>;
}

/** The hooks the consumer calls (gpu-functions/consumer/consumer.ts). */
export interface ScaleInGuard {
  busy(): void;
  idle(): void;
  /** At each visibility heartbeat while a job runs. */
  heartbeat(): void;
}

/** A failed call is not repeated sooner than this. */
const RETRY_AFTER_MS = 10_000;

export interface ProtectionOptions {
  /** Protection lasts this long unless renewed: about twice the longest job (docs/worker.md). */
  expiresInMinutes: number;
  log: Logger;
  now?: () => number;
}

export class ScaleInProtection implements ScaleInGuard {
  private readonly backend: ProtectionBackend;
  private readonly opts: ProtectionOptions;
  private readonly now: () => number;
  private wantBusy = false;
  /** What the orchestrator was last told; null until told, or after a failed call. */
  private applied: boolean | null = null;
  private renewAt = Infinity;
  private retryAt = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Calls made (tests, the log). */
  calls = 0;

  constructor(backend: ProtectionBackend, opts: ProtectionOptions) {
    this.backend = backend;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  busy(): void {
    this.wantBusy = true;
    this.reconcile();
  }

  idle(): void {
    this.wantBusy = false;
    this.reconcile();
  }

  heartbeat(): void {
    this.reconcile();
  }

  /** Resolves when the calls queued so far have ended (tests; a drain need not wait). */
  settled(): Promise<void> {
    return this.chain;
  }

  private reconcile(): void {
    this.chain = this.chain.then(async () => {
      const busy = this.wantBusy;
      const now = this.now();
      const renew = busy && this.applied === true && now >= this.renewAt;
      if ((this.applied === busy && !renew) || now < this.retryAt) return;
      const { expiresInMinutes, log } = this.opts;
      this.calls++;
      try {
        await this.backend.set(busy, expiresInMinutes);
        this.applied = busy;
        this.renewAt = busy ? now + (expiresInMinutes * 60_000) / 2 : Infinity;
        log(busy ? "scale-in protection on" : "scale-in protection off", {
          via: this.backend.name,
          ...(busy ? { expires_in_min: expiresInMinutes } : {}),
        });
      } catch (err) {
        this.applied = null;
        this.retryAt = now + RETRY_AFTER_MS;
        log("scale-in protection call failed", { via: this.backend.name, busy, error: (err as Error).message });
      }
    });
  }
}

type ProtectionMode = NonNullable<WorkerConfig["REELMESH_SCALE_IN_PROTECTION"]>;

/**
 * REELMESH_SCALE_IN_PROTECTION, or when unset what the environment shows: ECS injects
 * ECS_AGENT_URI into every task; a pod knows its name only when its manifest passes POD_NAME
 * (the downward API) and its API server through KUBERNETES_SERVICE_HOST.
 */
export function protectionMode(
  env: Pick<WorkerConfig, "REELMESH_SCALE_IN_PROTECTION" | "ECS_AGENT_URI" | "KUBERNETES_SERVICE_HOST" | "POD_NAME">,
): ProtectionMode {
  if (env.REELMESH_SCALE_IN_PROTECTION) return env.REELMESH_SCALE_IN_PROTECTION;
  if (env.ECS_AGENT_URI) return "ecs";
  if (env.KUBERNETES_SERVICE_HOST && env.POD_NAME) return "kubernetes";
  return "none";
}

/** The worker's guard from its configuration; null when the mode is `none`. */
export async function createProtection(
  config: WorkerConfig,
  log: Logger,
  k8sPaths: { tokenPath?: string; caPath?: string; namespacePath?: string } = {},
): Promise<ScaleInProtection | null> {
  const mode = protectionMode(config);
  const opts = { expiresInMinutes: config.REELMESH_PROTECTION_EXPIRES_MIN, log };
  switch (mode) {
    case "none":
      return null;
    case "ecs":
      if (!config.ECS_AGENT_URI) throw new Error("REELMESH_SCALE_IN_PROTECTION=ecs needs ECS_AGENT_URI (ECS sets it in every task)");
      return new ScaleInProtection(ecsTaskProtection(config.ECS_AGENT_URI), opts);
    case "kubernetes": {
      const namespace = config.POD_NAMESPACE ?? (await serviceAccountNamespace(k8sPaths.namespacePath));
      if (!config.KUBERNETES_SERVICE_HOST || !config.POD_NAME || !namespace)
        throw new Error("REELMESH_SCALE_IN_PROTECTION=kubernetes needs KUBERNETES_SERVICE_HOST, POD_NAME and POD_NAMESPACE");
      const backend = podDeletionCost({
        host: config.KUBERNETES_SERVICE_HOST,
        port: config.KUBERNETES_SERVICE_PORT,
        namespace,
        pod: config.POD_NAME,
        ...(k8sPaths.tokenPath ? { tokenPath: k8sPaths.tokenPath } : {}),
        ...(k8sPaths.caPath ? { caPath: k8sPaths.caPath } : {}),
      });
      return new ScaleInProtection(backend, opts);
    }
  }
}
