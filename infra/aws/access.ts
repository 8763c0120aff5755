import { ArnFormat, Stack, Validations } from "aws-cdk-lib";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { MODEL_PREFIX, OUTPUT_PREFIX } from "./storage.ts";

/**
 * Who may do what, statement by statement, from the calls the code makes. The worker:
 * gpu-functions/consumer/consumer.ts (receive, delete, change visibility; GetQueueAttributes
 * reads only its own queue's counts and settings), storage/output.ts (get and put under
 * videos/), and ECS task scale-in protection (gpu-functions/scale-in/). The edge: edge/src/aws/sqs.ts
 * (send, and the queue depth it shows as queue_position) and edge/src/aws/s3.ts (read, and
 * list + delete when a job's retention ends: edge/src/jobs/retention.ts).
 */

/**
 * S3 answers a GET of a missing key 403, not 404, to a caller without s3:ListBucket on the
 * bucket. Both sides read keys that may not exist yet: the worker the manifest of a job it starts
 * (storage/output.ts takes NoSuchKey as "new job"), the edge a poster not yet written
 * (edge/src/http/playback.ts). S3 documents the 404 for s3:ListBucket on the bucket, not for a
 * grant narrowed by s3:prefix, so the grant is the bucket's; it reveals key names only.
 */
function listBucket(bucket: s3.IBucket): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid: "ListForNotFound", actions: ["s3:ListBucket"], resources: [bucket.bucketArn] });
}

export function workerStatements(queue: sqs.IQueue, bucket: s3.IBucket, cluster: ecs.ICluster): iam.PolicyStatement[] {
  const tasks = Stack.of(cluster).formatArn({
    service: "ecs",
    resource: "task",
    resourceName: `${cluster.clusterName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  return [
    new iam.PolicyStatement({
      sid: "ConsumeOwnQueue",
      actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
      resources: [queue.queueArn],
    }),
    new iam.PolicyStatement({
      sid: "WriteOutputs",
      actions: ["s3:GetObject", "s3:PutObject"],
      resources: [bucket.arnForObjects(`${OUTPUT_PREFIX}*`)],
    }),
    new iam.PolicyStatement({ sid: "ReadModels", actions: ["s3:GetObject"], resources: [bucket.arnForObjects(`${MODEL_PREFIX}*`)] }),
    listBucket(bucket),
    // The worker protects itself from scale-in while it has a job ($ECS_AGENT_URI/task-protection/v1/state).
    new iam.PolicyStatement({
      sid: "OwnTaskProtection",
      actions: ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
      resources: [tasks],
    }),
  ];
}

/** Acknowledges the wildcards of workerStatements: each is a prefix or the cluster's tasks, not "*". */
export function acknowledgeWorkerWildcards(policyScope: Construct, bucket: s3.IBucket, cluster: ecs.ICluster): void {
  const stack = Stack.of(policyScope);
  const ids = [
    `Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${OUTPUT_PREFIX}*`,
    `Resource::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${MODEL_PREFIX}*`,
    `Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${stack.getLogicalId(cluster.node.defaultChild as ecs.CfnCluster)}>/*`,
  ];
  const reasons = [
    "Jobs write under videos/<job>/ (shared/layout.ts); the job id is only known per message.",
    "A model package is a folder of files under models/<id>/ (docs/exporting-models.md); which one is configuration.",
    "A task protects only itself, but its ARN exists only at run time; the grant is limited to this cluster's tasks.",
  ];
  ids.forEach((id, i) => Validations.of(policyScope).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason: reasons[i]! }));
}

/**
 * The edge runs on Cloudflare, outside AWS, so it signs with an IAM user's access key. The
 * stack creates the user and its policy but no key: a key in the template would be a secret in
 * CloudFormation's outputs (docs/deploy-aws.md says how to create one and `wrangler secret put` it).
 */
export class EdgeAccess extends Construct {
  readonly user: iam.User;

  constructor(scope: Construct, id: string, props: { queues: sqs.IQueue[]; bucket: s3.IBucket }) {
    super(scope, id);
    this.user = new iam.User(this, "User");
    const policy = new iam.Policy(this, "Policy", {
      users: [this.user],
      statements: [
        new iam.PolicyStatement({
          sid: "EnqueueJobs",
          actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
          resources: props.queues.map((q) => q.queueArn),
        }),
        new iam.PolicyStatement({
          sid: "ServeAndExpireOutputs",
          actions: ["s3:GetObject", "s3:DeleteObject"],
          resources: [props.bucket.arnForObjects(`${OUTPUT_PREFIX}*`)],
        }),
        listBucket(props.bucket),
      ],
    });
    const bucketId = Stack.of(this).getLogicalId(props.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${OUTPUT_PREFIX}*]`,
      reason: "The edge reads and expires any job's outputs, all under videos/ (shared/layout.ts).",
    });
  }
}
