import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { JobMessage } from "../../../shared/schemas/job-message.ts";
import type { Tier } from "../../../shared/schemas/request.ts";
import type { EdgeConfig } from "../env.ts";

/** Hands a job to the GPU fleet: one SQS queue per tier. */
let client: { key: string; sqs: SQSClient } | undefined;

function sqsClient(cfg: EdgeConfig): SQSClient {
  const key = `${cfg.AWS_REGION}|${cfg.AWS_ENDPOINT_URL ?? ""}|${cfg.AWS_ACCESS_KEY_ID}`;
  if (client?.key !== key) {
    client = {
      key,
      sqs: new SQSClient({
        region: cfg.AWS_REGION,
        ...(cfg.AWS_ENDPOINT_URL ? { endpoint: cfg.AWS_ENDPOINT_URL } : {}),
        credentials: { accessKeyId: cfg.AWS_ACCESS_KEY_ID, secretAccessKey: cfg.AWS_SECRET_ACCESS_KEY },
        maxAttempts: 3,
      }),
    };
  }
  return client.sqs;
}

function queueUrlFor(cfg: EdgeConfig, tier: Tier): string {
  return tier === "economy" && cfg.SQS_QUEUE_URL_ECONOMY ? cfg.SQS_QUEUE_URL_ECONOMY : cfg.SQS_QUEUE_URL_STANDARD;
}

/** Messages waiting (not yet taken by a worker) in a tier's queue: SQS's approximate count. */
export async function queueDepth(cfg: EdgeConfig, tier: Tier): Promise<number> {
  const res = await sqsClient(cfg).send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrlFor(cfg, tier), AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0);
}

export async function enqueueJob(cfg: EdgeConfig, message: JobMessage): Promise<string> {
  const res = await sqsClient(cfg).send(
    new SendMessageCommand({
      QueueUrl: queueUrlFor(cfg, message.tier),
      MessageBody: JSON.stringify(message),
      MessageAttributes: { job_id: { DataType: "String", StringValue: message.job_id } },
    }),
  );
  return res.MessageId ?? "";
}
