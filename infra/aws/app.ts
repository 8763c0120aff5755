import { App, Validations } from "aws-cdk-lib";
import { CURRENTLY_RECOMMENDED_FLAGS } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import { z } from "zod";
import { EdgeConfigSchema } from "../../edge/src/config-schema.ts";
import { DEFAULT_INSTANCE_TYPES } from "./fleet.ts";
import { ReelmeshStack } from "./stack.ts";

/**
 * The CDK app: one reelmesh stack, configured by context (`-c key=value` to the CDK CLI, or
 * key=value arguments to infra/aws/synth.ts), checked here like every other configuration.
 * AwsSolutionsChecks (cdk-nag) runs on every synthesis: an unacknowledged finding fails it.
 */
const list = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);

const AppContextSchema = z.object({
  /** "production" uses the names of infra/local/resources.ts; any other stage suffixes them. */
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .default("production"),
  /** Defaults to the edge's own default (edge/src/config-schema.ts); staging's edge keeps one day. */
  retentionS: z.coerce
    .number()
    .int()
    .min(1)
    .default(() => EdgeConfigSchema.shape.REELMESH_RETENTION_S.parse(undefined)),
  imageRepository: z.string().min(1).default("reelmesh-gpu"),
  imageTag: z.string().min(1).default("latest"),
  instanceTypes: list.default(() => [...DEFAULT_INSTANCE_TYPES]),
  availabilityZones: list.optional(),
  bucketName: z.string().min(3).optional(),
  modelDir: z.string().min(1).optional(),
  alarmTopicArn: z.string().startsWith("arn:").optional(),
});

export function buildApp(opts: { outdir?: string; context?: Record<string, string> } = {}): { app: App; stack: ReelmeshStack } {
  // The feature flags `cdk init` writes into a new project's cdk.json, without a cdk.json to drift.
  const context = { ...CURRENTLY_RECOMMENDED_FLAGS, ...opts.context };
  const app = new App({ context, ...(opts.outdir ? { outdir: opts.outdir } : {}) });
  const raw = Object.fromEntries(Object.keys(AppContextSchema.shape).map((k) => [k, app.node.tryGetContext(k) as unknown]));
  const parsed = AppContextSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    throw new Error(`invalid CDK context:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  }
  const ctx = parsed.data;
  const stack = new ReelmeshStack(app, `reelmesh-${ctx.stage}`, {
    description: `reelmesh ${ctx.stage}: job queues, output bucket, GPU fleet (docs/deploy-aws.md)`,
    stage: ctx.stage,
    retentionS: ctx.retentionS,
    imageRepository: ctx.imageRepository,
    imageTag: ctx.imageTag,
    instanceTypes: ctx.instanceTypes,
    ...(ctx.availabilityZones ? { availabilityZones: ctx.availabilityZones } : {}),
    ...(ctx.bucketName ? { bucketName: ctx.bucketName } : {}),
    ...(ctx.modelDir ? { modelDir: ctx.modelDir } : {}),
    ...(ctx.alarmTopicArn ? { alarmTopicArn: ctx.alarmTopicArn } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
