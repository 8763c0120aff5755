import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateBucketCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { QUEUES } from "../scaling/policy.ts";

/**
 * The queues and bucket reelmesh needs, created idempotently against any SQS/S3 endpoint
 * (the local emulator here; in AWS the cloud stack owns them).
 */
export const RESOURCE_NAMES = {
  standardQueue: "reelmesh-jobs-standard",
  economyQueue: "reelmesh-jobs-economy",
  deadLetterQueue: "reelmesh-jobs-dlq",
  bucket: "reelmesh-outputs",
} as const;

/** Fixed account id of the emulator; real queue URLs carry the AWS account. */
const LOCAL_ACCOUNT = "000000000000";

export interface AwsEndpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ProvisionedResources {
  standardQueueUrl: string;
  economyQueueUrl: string;
  deadLetterQueueUrl: string;
  bucket: string;
}

function sqsClient(aws: AwsEndpoint): SQSClient {
  return new SQSClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  });
}

function s3Client(aws: AwsEndpoint): S3Client {
  return new S3Client({
    endpoint: aws.endpoint,
    region: aws.region,
    forcePathStyle: true,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  });
}

/** Queue URL on the given endpoint; the emulator's own URLs carry a host that does not resolve. */
function queueUrl(endpoint: string, name: string): string {
  return `${endpoint}/${LOCAL_ACCOUNT}/${name}`;
}

export async function provision(aws: AwsEndpoint): Promise<ProvisionedResources> {
  const sqs = sqsClient(aws);
  const s3 = s3Client(aws);
  try {
    await sqs.send(new CreateQueueCommand({ QueueName: RESOURCE_NAMES.deadLetterQueue }));
    const dlqUrl = queueUrl(aws.endpoint, RESOURCE_NAMES.deadLetterQueue);
    const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
    const dlqArn = dlq.Attributes?.QueueArn;
    if (!dlqArn) throw new Error(`no QueueArn for ${RESOURCE_NAMES.deadLetterQueue}`);
    const attributes = {
      // The queue settings every deployment shares (infra/scaling/policy.ts).
      VisibilityTimeout: String(QUEUES.visibilityTimeoutS),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: QUEUES.maxReceiveCount }),
    };
    for (const name of [RESOURCE_NAMES.standardQueue, RESOURCE_NAMES.economyQueue]) {
      await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    }
    try {
      await s3.send(new CreateBucketCommand({ Bucket: RESOURCE_NAMES.bucket }));
    } catch (err) {
      const owned = err instanceof S3ServiceException && /BucketAlready(OwnedByYou|Exists)/.test(err.name);
      if (!owned) throw err;
    }
    return {
      standardQueueUrl: queueUrl(aws.endpoint, RESOURCE_NAMES.standardQueue),
      economyQueueUrl: queueUrl(aws.endpoint, RESOURCE_NAMES.economyQueue),
      deadLetterQueueUrl: dlqUrl,
      bucket: RESOURCE_NAMES.bucket,
    };
  } finally {
    sqs.destroy();
    s3.destroy();
  }
}
