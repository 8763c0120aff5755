import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provision, type ProvisionedResources } from "../../infra/local/resources.ts";
import { MODEL_IDS } from "../../shared/models.ts";
import type { JobMessage } from "../../shared/schemas/job-message.ts";
import { Consumer, type JobOutcome } from "./consumer.ts";

/** The consumer against the SQS emulator (in memory: the visibility-0 bug is in its persistence). */
let emulator: FauxqsServer;
let sqs: SQSClient;
let queues: ProvisionedResources;

beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
  const aws = { endpoint: `http://127.0.0.1:${emulator.port}`, region: "us-east-1", accessKeyId: "test", secretAccessKey: "test" };
  queues = await provision(aws);
  sqs = new SQSClient({ endpoint: aws.endpoint, region: aws.region, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
});
afterAll(async () => {
  sqs?.destroy();
  await emulator?.stop();
});

const job = (id: string): JobMessage => ({
  v: 1,
  job_id: id,
  account_id: "acct_test",
  model: MODEL_IDS[0],
  prompt: "a red ball bouncing",
  negative_prompt: "",
  seed: 1,
  steps: 4,
  guidance: 3,
  width: 144,
  height: 256,
  fps: 12,
  chunk_frames: 12,
  num_chunks: 2,
  tier: "standard",
  output: { bucket: "reelmesh-outputs", prefix: `videos/${id}` },
  events_url: "http://127.0.0.1:9/events",
  enqueued_at: new Date().toISOString(),
});

describe("the job consumer", () => {
  it("hands a released job straight back, and tells the scale-in guard busy and idle only on transitions", async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.standardQueueUrl, MessageBody: JSON.stringify(job("vid_release")) }));
    const guard: { call: string; at: number }[] = [];
    const attempts: { attempt: number; at: number; end?: number }[] = [];
    const consumer: Consumer = new Consumer({
      sqs,
      standardQueueUrl: queues.standardQueueUrl,
      economyQueueUrl: queues.economyQueueUrl,
      visibilityTimeoutS: 60,
      maxAttempts: 3,
      maxJobs: 0,
      concurrency: 2,
      releaseVisibilityS: 0,
      log: () => {},
      protection: {
        busy: () => guard.push({ call: "busy", at: performance.now() }),
        heartbeat: () => guard.push({ call: "heartbeat", at: performance.now() }),
        idle: () => {
          guard.push({ call: "idle", at: performance.now() });
          consumer.stop();
        },
      },
      async handle(_job, { attempt }): Promise<JobOutcome> {
        const a: (typeof attempts)[number] = { attempt, at: performance.now() };
        attempts.push(a);
        // Second time round the job runs past an empty receive (2 s): still busy, not idle.
        if (attempt > 1) await new Promise((r) => setTimeout(r, 2_500));
        a.end = performance.now();
        return attempt === 1 ? "release" : "done";
      },
    });
    await consumer.run();
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    // Released with visibility 0: received again at once, not after the 60 s visibility timeout.
    expect(attempts[1]!.at - attempts[0]!.end!).toBeLessThan(1_000);
    expect(guard.map((g) => g.call)).toEqual(["busy", "busy", "idle"]);
    expect(guard[2]!.at).toBeGreaterThanOrEqual(attempts[1]!.end!);
  });
});
