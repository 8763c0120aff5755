import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AwsClient } from "aws4fetch";
import { env, SELF } from "cloudflare:test";
import { signBody, SIGNATURE_HEADER } from "../../shared/signing.ts";

/** Helpers for edge tests: they run inside workerd and speak real SQS/S3 to the emulator. */
export const cfg = env as unknown as Record<string, string>;
export const KEY = cfg.REELMESH_DEV_KEY!;

export function call(path: string, init: RequestInit & { key?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? KEY : init.key;
  if (key) headers.set("authorization", `Bearer ${key}`);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return SELF.fetch(`http://edge.test${path}`, { ...init, headers });
}

const sqs = new SQSClient({
  region: cfg.AWS_REGION!,
  endpoint: cfg.AWS_ENDPOINT_URL!,
  credentials: { accessKeyId: cfg.AWS_ACCESS_KEY_ID!, secretAccessKey: cfg.AWS_SECRET_ACCESS_KEY! },
});

/** Receives and deletes everything waiting in a queue; returns the bodies, parsed. */
export async function drain(queueUrl: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!res.Messages?.length) return out;
    for (const m of res.Messages) {
      out.push(JSON.parse(m.Body!));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}

const s3 = new AwsClient({
  accessKeyId: cfg.AWS_ACCESS_KEY_ID!,
  secretAccessKey: cfg.AWS_SECRET_ACCESS_KEY!,
  region: cfg.AWS_REGION!,
  service: "s3",
});

export async function putObject(key: string, body: Uint8Array): Promise<void> {
  const res = await s3.fetch(`${cfg.AWS_ENDPOINT_URL}/${cfg.S3_BUCKET}/${key}`, { method: "PUT", body });
  if (!res.ok) throw new Error(`put ${key}: ${res.status} ${await res.text()}`);
}

/**
 * Posts a worker event signed as a GPU function would (or with `secret` to forge one). A worker
 * hears of a job only from its queue message, which the account's outbox sends after writing the
 * job's object: like a worker, this waits for that object first (`unknown`: a job that never exists).
 */
export async function postEvent(
  event: Record<string, unknown>,
  opts: { secret?: string; nowS?: number; unknown?: boolean } = {},
): Promise<Response> {
  if (!opts.unknown && typeof event.job_id === "string") await stored(event.job_id);
  const body = JSON.stringify({ worker_id: "test-worker", at: new Date().toISOString(), ...event });
  const signature = await signBody(opts.secret ?? cfg.REELMESH_EVENTS_SECRET!, body, opts.nowS);
  return SELF.fetch("http://edge.test/internal/events", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature },
  });
}

/** Waits (up to 5 s) until job `id`'s own object has its record, as the account's outbox writes it after admission. */
export async function stored(id: string): Promise<void> {
  const jobs = (env as unknown as { JOBS: DurableObjectNamespace<import("../src/jobs/job-object.ts").JobObject> }).JOBS;
  const stub = jobs.get(jobs.idFromName(id));
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
    if (await stub.get()) return;
  }
  throw new Error(`job ${id} was never handed to its object`);
}

/** Hands a job just admitted on at once (its object written, its message queued), as a read of it does. */
export async function handedOn(id: string, account = "acct_dev"): Promise<void> {
  const accounts = (env as unknown as { ACCOUNT: DurableObjectNamespace<import("../src/accounts/account-object.ts").AccountObject> })
    .ACCOUNT;
  await accounts.get(accounts.idFromName(account)).unstored(id);
}

export async function createJob(
  body: Record<string, unknown> = { prompt: "a red ball bouncing", duration_s: 4 },
): Promise<{ id: string; signed_hls_url: string }> {
  const res = await call("/v1/videos", { method: "POST", body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`create: ${res.status} ${await res.text()}`);
  const job = await res.json<{ id: string; playback: { signed_hls_url: string } }>();
  return { id: job.id, signed_hls_url: job.playback.signed_hls_url };
}

/** A worker's `chunk` event for segment `index` of a job of `total` chunks, under the job's own prefix. */
export function chunkEvent(id: string, index: number, total = 2) {
  return {
    type: "chunk",
    job_id: id,
    total_chunks: total,
    codecs: "avc1.64000b",
    init: { key: `videos/${id}/init.mp4`, bytes: 4 },
    chunk: {
      index,
      key: `videos/${id}/seg-${String(index).padStart(5, "0")}.m4s`,
      frames: 12,
      duration_s: 1,
      bytes: 8,
      committed_at: new Date().toISOString(),
    },
  };
}

/** A worker's `completed` event for a job of `total` chunks, its MP4 under the job's own prefix. */
export function completedEvent(id: string, total: number) {
  return {
    type: "completed",
    job_id: id,
    usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 },
    total_chunks: total,
    content: { key: `videos/${id}/video.mp4`, bytes: 9 },
  };
}
