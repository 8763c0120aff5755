import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Tier } from "../scaling/policy.ts";

/**
 * What differs between clusters, as opposed to the scaling policy (infra/scaling/policy.ts),
 * which does not. The defaults are placeholders (AWS's documentation account 123456789012):
 * the committed manifests carry them, and a team renders its own with
 * `npm run render:k8s -- --config cluster.json --out <dir>`, the JSON holding any of these keys.
 */
const ClusterConfigSchema = z
  .object({
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .default("reelmesh"),
    /** The GPU image (infra/images/gpu.Dockerfile) as pushed to a registry the nodes can pull from. */
    image: z.string().min(1).default("123456789012.dkr.ecr.us-east-1.amazonaws.com/reelmesh-gpu:0.1.0"),
    awsRegion: z.string().min(1).default("us-east-1"),
    queueUrls: z
      .object({
        standard: z.url(),
        economy: z.url(),
      } satisfies Record<Tier, z.ZodType>)
      .default({
        standard: "https://sqs.us-east-1.amazonaws.com/123456789012/reelmesh-jobs-standard",
        economy: "https://sqs.us-east-1.amazonaws.com/123456789012/reelmesh-jobs-economy",
      }),
    /**
     * IRSA: the IAM role the workers' service account assumes (SQS and S3). Unset with EKS Pod
     * Identity, where the role is associated with the service account outside Kubernetes.
     */
    workerRoleArn: z.string().startsWith("arn:").optional(),
    /** A role KEDA's operator assumes to read the queues' attributes; unset: the operator's own identity. */
    kedaRoleArn: z.string().startsWith("arn:").optional(),
    /**
     * The node label that tells spot from on-demand capacity: Karpenter's by default; EKS managed
     * node groups use `eks.amazonaws.com/capacityType` with `SPOT` and `ON_DEMAND`.
     */
    capacityType: z
      .object({ label: z.string().min(1), spot: z.string().min(1), onDemand: z.string().min(1) })
      .default({ label: "karpenter.sh/capacity-type", spot: "spot", onDemand: "on-demand" }),
    /** CPU and memory beside the GPU: FFmpeg encodes and uploads chunks while the GPU denoises. Size to the model. */
    resources: z.object({ cpu: z.string().min(1), memory: z.string().min(1) }).default({ cpu: "4", memory: "16Gi" }),
  })
  .strict();
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;

/** The cluster configuration from a JSON file, or the placeholders when there is none. */
export function loadClusterConfig(path?: string): ClusterConfig {
  const raw: unknown = path ? JSON.parse(readFileSync(path, "utf8")) : {};
  const parsed = ClusterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`invalid cluster configuration${path ? ` in ${path}` : ""}:\n${lines}`);
  }
  return parsed.data;
}
