import { createServer, type Server } from "node:http";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { AwsEndpoint } from "../../infra/local/resources.ts";

/** Helpers of the chaos suite: the stack's log as data, the queues and bucket over their real protocols, a webhook receiver. */

export interface LogLine {
  at: number;
  worker: string;
  msg: string;
  job_id?: string;
  [key: string]: unknown;
}

/** Every output line of the stack, with when it arrived (performance.now()). */
export class StackLog {
  readonly lines: { at: number; line: string }[] = [];
  add = (line: string) => this.lines.push({ at: performance.now(), line });

  /** The GPU functions' JSON log lines about job `id`. */
  worker(id: string): LogLine[] {
    const out: LogLine[] = [];
    for (const { at, line } of this.lines) {
      if (!line.includes(id)) continue;
      const m = /^\[(gpu-\d+)\] (\{.*\})$/.exec(line);
      if (!m) continue;
      const entry = JSON.parse(m[2]!) as { msg: string; job_id?: string };
      if (entry.job_id === id) out.push({ ...entry, at, worker: m[1]! });
    }
    return out;
  }

  find(id: string, msg: string): LogLine[] {
    return this.worker(id).filter((l) => l.msg === msg);
  }

  /** Lines of any worker with this message (those that name no job, e.g. an invalid message). */
  any(msg: string): LogLine[] {
    const out: LogLine[] = [];
    for (const { at, line } of this.lines) {
      const m = /^\[(gpu-\d+)\] (\{.*\})$/.exec(line);
      if (!m || !line.includes(`"msg":"${msg}"`)) continue;
      out.push({ ...(JSON.parse(m[2]!) as { msg: string }), at, worker: m[1]! });
    }
    return out;
  }

  tail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => l.line)
      .join("\n");
  }
}

export function awsClients(aws: AwsEndpoint) {
  const credentials = { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey };
  return {
    sqs: new SQSClient({ endpoint: aws.endpoint, region: aws.region, credentials }),
    s3: new S3Client({ endpoint: aws.endpoint, region: aws.region, credentials, forcePathStyle: true }),
  };
}

/** Takes job `jobId`'s message out of the queue (no worker runs yet) and returns its body. */
export async function takeMessage(sqs: SQSClient, queueUrl: string, jobId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 20; i++) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 5 }),
    );
    for (const m of res.Messages ?? []) {
      const body = JSON.parse(m.Body!) as Record<string, unknown>;
      if (body.job_id !== jobId) continue;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      return body;
    }
  }
  throw new Error(`no message for ${jobId}`);
}

export async function sendMessage(sqs: SQSClient, queueUrl: string, body: unknown): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: typeof body === "string" ? body : JSON.stringify(body) }));
}

/** Messages waiting plus in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

export async function countObjects(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  return res.KeyCount ?? 0;
}

/** A webhook receiver on this machine: what arrived, by path. */
export async function startReceiver(): Promise<{ url: string; received: { path: string; body: string }[]; close(): Promise<void> }> {
  const received: { path: string; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "/", body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 100,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  return undefined;
}

/** One figure line per scenario, in a form the docs quote. */
export function figures(scenario: string, values: Record<string, string | number | boolean>): void {
  console.log(
    `chaos ${scenario}: ${Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
  );
}
