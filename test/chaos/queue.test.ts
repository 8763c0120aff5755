import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUES } from "../../infra/scaling/policy.ts";
import { ROOT } from "../../infra/local/stack.ts";
import { newJobId } from "../../shared/ids.ts";
import { ChaosStack, type JobView, type Usage } from "./harness.ts";
import { countObjects, figures, queueDepth, sendMessage, sleep, takeMessage, waitFor } from "./support.ts";

/**
 * Faults on the queue side, on the real local stack: a message delivered twice, a job the model
 * cannot render, a malformed message that must reach the dead-letter queue, a message for a job
 * nobody knows. The messages are queued before any worker runs (then two start), so their receive
 * counts and the duplicate's timing are the scenario's own. Part of `npm test` (the integration
 * project runs every *.test.ts under test/) and of `npm run chaos`; each scenario prints its figures.
 */
const run = promisify(execFile);
let h: ChaosStack;
let poison: JobView;
let unrenderable: JobView;
let duplicated: JobView;
let usageBefore: Usage;
/** A real job message (the duplicated job's, as the queue carried it), copied for a job nobody knows. */
let template: Record<string, unknown>;

beforeAll(async () => {
  h = await ChaosStack.start({ workers: 0 });
  const queue = h.stack.resources.standardQueueUrl;
  usageBefore = await h.read<Usage>("/v1/usage");
  poison = await h.create({ prompt: "a blue cube spinning", duration_s: 2, webhook_url: `${h.receiver.url}/hook/poison` });
  unrenderable = await h.create({ prompt: "a green ball", duration_s: 2 });
  duplicated = await h.create({ prompt: "a red ball bouncing", duration_s: 12, steps: 40 });
  // Every original is taken before anything is sent: taking one receives the others, and the
  // messages the workers get must start with a receive count of 0.
  const body = await takeMessage(h.aws.sqs, queue, poison.id);
  const bodyU = await takeMessage(h.aws.sqs, queue, unrenderable.id);
  template = await takeMessage(h.aws.sqs, queue, duplicated.id);
  // A poison message: its job exists, its body is not a job a worker can read.
  await sendMessage(h.aws.sqs, queue, { ...body, steps: "fifty" });
  // A job the model cannot render (a permanent fault): fails at once, not retried.
  await sendMessage(h.aws.sqs, queue, { ...bodyU, width: 320 });
  // SQS delivers at least once: two copies of one job, received at the same time by two workers.
  await sendMessage(h.aws.sqs, queue, template);
  await sendMessage(h.aws.sqs, queue, template);
  await Promise.all([h.stack.addWorker(), h.stack.addWorker()]);
}, 300_000);

afterAll(async () => {
  await h?.stop();
});

describe("chaos, the queue side", () => {
  it("one owner per running job: a duplicated message backs off without computing", async () => {
    const job = await h.finished(duplicated.id);
    expect(job, h.log.tail()).toMatchObject({ status: "succeeded", chunks_ready: 12 });
    const work = h.chunkWork(duplicated.id);
    // The copy that did not get the lease was dropped (deleted) without computing.
    const dropped = h.log.find(duplicated.id, "job dropped").filter((l) => l.reason === "duplicate");
    const backedOff = h.log.find(duplicated.id, "job owned elsewhere");
    const ran = new Set(h.log.find(duplicated.id, "chunk stored").map((l) => l.worker));
    expect(work.distinct).toBe(12);
    expect(work.computed / 12).toBeLessThanOrEqual(1.1);
    expect(dropped.length + backedOff.length, h.log.tail()).toBeGreaterThanOrEqual(1);
    expect(job.charged).toBe(job.price.credits);
    figures("duplicate", {
      copies: 2,
      workers_that_computed: ran.size,
      copies_dropped: dropped.length,
      back_offs: backedOff.length,
      gpu_work_ratio: (work.computed / 12).toFixed(2),
      chunks_recomputed: work.computed - work.distinct,
      charged: `${job.charged}/${job.price.credits}`,
      playlist: await h.playlistLength(duplicated.id),
    });
  });

  it("permanent faults fail at once: a job the model cannot render fails after one receive, refunded", async () => {
    const job = await h.finished(unrenderable.id, 60_000);
    expect(job).toMatchObject({ status: "failed", error: { code: "unsupported_geometry" }, charged: 0 });
    const tries = h.log.find(unrenderable.id, "job failed");
    expect(tries.map((l) => l.will_retry)).toEqual([false]);
    figures("permanent", { receives: tries.length, status: job.status, code: job.error!.code, charged: job.charged! });
  });

  it("dead letters: a malformed message lands in the DLQ after maxReceiveCount; its job fails, refunded, webhook sent; the operator lists and redrives it", async () => {
    const dlq = h.stack.resources.deadLetterQueueUrl;
    const job = await h.finished(poison.id, 90_000);
    expect(job).toMatchObject({ status: "failed", error: { code: "invalid_job_message" }, charged: 0 });
    const landed = await waitFor(async () => ((await queueDepth(h.aws.sqs, dlq)) > 0 ? true : undefined), 60_000, 500);
    expect(landed, h.log.tail()).toBe(true);
    const receivedAt = h.log.any("invalid job message").map((l) => l.at);
    const receives = receivedAt.length;
    expect(receives).toBe(QUEUES.maxReceiveCount);
    const hook = await waitFor(() => h.receiver.received.find((r) => r.path === "/hook/poison"), 30_000);
    expect(hook?.body).toContain('"video.failed"');
    // The operator's command, as an operator runs it against SQS (queues and credentials from the environment).
    const env = {
      ...process.env,
      SQS_QUEUE_URL_DLQ: dlq,
      SQS_QUEUE_URL_STANDARD: h.stack.resources.standardQueueUrl,
      AWS_ENDPOINT_URL: h.stack.aws.endpoint,
      AWS_REGION: h.stack.aws.region,
      AWS_ACCESS_KEY_ID: h.stack.aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: h.stack.aws.secretAccessKey,
    };
    const dlqCommand = async (...args: string[]) =>
      (await run(process.execPath, [join(ROOT, "infra/local/dlq-command.ts"), ...args], { env, encoding: "utf8" })).stdout;
    const listed = (await dlqCommand("list")).split("\n").find((l) => l.includes(poison.id));
    expect(listed, "npm run dlq -- list").toContain("steps");
    const messageId = listed!.split(/\s+/)[0]!;
    await sleep(2_500); // listing received it for 2 s
    expect(await dlqCommand("show", messageId)).toContain('"steps": "fifty"');
    await sleep(2_500);
    expect(await dlqCommand("redrive", messageId)).toContain("redriven: 1");
    const redriven = [messageId];
    figures("dead-letter", {
      receives_before_dlq: receives,
      in_dlq: true,
      status: job.status,
      code: job.error!.code,
      charged: job.charged!,
      webhook: "video.failed",
      redriven: redriven.length,
      s_first_to_last_receive: ((receivedAt.at(-1)! - receivedAt[0]!) / 1000).toFixed(1),
    });
  });

  it("work for nobody stops: a message for a job the edge does not know is dropped before any compute, nothing written", async () => {
    const id = newJobId();
    const body = { ...template, job_id: id, output: { bucket: h.stack.resources.bucket, prefix: `videos/${id}` } };
    const t0 = performance.now();
    await sendMessage(h.aws.sqs, h.stack.resources.standardQueueUrl, body);
    const dropped = await waitFor(() => h.log.find(id, "job dropped")[0], 60_000);
    expect(dropped, h.log.tail()).toMatchObject({ reason: "unknown" });
    await sleep(1_000);
    expect(h.chunkWork(id).computed).toBe(0);
    expect(await countObjects(h.aws.s3, h.stack.resources.bucket, `videos/${id}`)).toBe(0);
    figures("unknown-job", {
      chunks_computed: 0,
      objects_written: 0,
      settled: "deleted",
      s_to_drop: ((dropped!.at - t0) / 1000).toFixed(1),
    });
  });

  it("charges: the duplicated job charged once, the failed ones nothing, nothing left reserved", async () => {
    const c = await h.charges(usageBefore);
    expect(c, JSON.stringify(await h.read<Usage>("/v1/usage"))).toBeDefined();
    expect(c!.spent).toBe(c!.charged);
    figures("queue-charges", { jobs: c!.jobs, credits_charged: c!.charged, reserved_left: c!.reserved });
  });
});
