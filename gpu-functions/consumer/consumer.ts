import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { QUEUES } from "../../infra/scaling/policy.ts";
import { JobMessageSchema, type JobMessage } from "../../shared/schemas/job-message.ts";
import type { Logger } from "../log.ts";
import type { ScaleInGuard } from "../scale-in/protection.ts";

/**
 * Long-polls the job queues, standard before economy (economy never delays standard work),
 * up to `concurrency` jobs at a time per GPU (they share denoiser runs). While a job runs, a heartbeat extends its
 * visibility; a finished job is deleted; a failed one is left for SQS to redeliver, and
 * after the redrive count it lands in the DLQ. `stop()` drains: no new receives; a job the
 * handler hands back (outcome "release") is made visible again at once for another worker.
 * The scale-in guard hears when the worker turns busy or idle, and each heartbeat.
 */
export interface ConsumerOptions {
  sqs: SQSClient;
  standardQueueUrl: string;
  economyQueueUrl?: string;
  visibilityTimeoutS: number;
  maxAttempts: number;
  /** Stop after this many jobs (0 = never). */
  maxJobs: number;
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /**
   * Visibility given to a message handed back by a drain, or left for the dead-letter queue
   * (default 0: receivable at once; the local emulator needs 1, docs/worker.md).
   */
  releaseVisibilityS?: number;
  /**
   * A message that is not a job (malformed): called on each receive before it is left for the
   * DLQ, with whether this is its last receive (the next one dead-letters it).
   */
  onInvalid?(body: string, meta: { attempt: number; lastAttempt: boolean }): Promise<void>;
  protection?: ScaleInGuard | null;
  log: Logger;
  /**
   * "done": delete the message; "retry": SQS redelivers it later; "release": hand it back now;
   * `{ releaseAfterS }`: hand it back, receivable after that long (another run owns the job);
   * "leave": touch it no more (another worker holds it now).
   */
  handle(job: JobMessage, meta: { attempt: number; lastAttempt: boolean; messageId?: string }): Promise<JobOutcome>;
}

export type JobOutcome = "done" | "retry" | "release" | "leave" | { releaseAfterS: number };

/** Long-poll wait on the standard queue when an economy queue must also be checked. */
const STANDARD_WAIT_S = 2;
const SOLO_WAIT_S = 10;
/** Visibility given back to a job that failed but may be retried. */
const RETRY_DELAY_S = 5;
/** The heartbeat's share of the visibility timeout (a third, by the queue policy). */
const HEARTBEAT_SHARE = QUEUES.heartbeatS / QUEUES.visibilityTimeoutS;

export class Consumer {
  private readonly opts: ConsumerOptions;
  private stopping = false;
  private readonly abort = new AbortController();
  jobsHandled = 0;

  constructor(opts: ConsumerOptions) {
    this.opts = opts;
  }

  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }

  /**
   * Runs until stopped or `maxJobs` started, with up to `concurrency` jobs at once; a free
   * slot is filled standard-first, like the first. Returns when the running jobs finish.
   */
  async run(): Promise<void> {
    const { maxJobs } = this.opts;
    const concurrency = this.opts.concurrency ?? 1;
    const running = new Set<Promise<void>>();
    let started = 0;
    while (!this.stopping && (maxJobs === 0 || started < maxJobs)) {
      if (running.size >= concurrency) {
        await Promise.race(running);
        continue;
      }
      const found = await this.receive();
      if (!found) {
        // Idle only when nothing runs and the queues are empty: a backlog keeps the worker busy.
        if (running.size === 0 && !this.stopping) this.opts.protection?.idle();
        continue;
      }
      this.opts.protection?.busy();
      started++;
      const job = this.process(found.queueUrl, found.message)
        .catch((err: unknown) => this.opts.log("job bookkeeping failed", { error: (err as Error).message }))
        .finally(() => running.delete(job));
      running.add(job);
    }
    await Promise.all(running);
  }

  private async receive(): Promise<{ queueUrl: string; message: Message } | null> {
    const queues: [string, number][] = this.opts.economyQueueUrl
      ? [
          [this.opts.standardQueueUrl, STANDARD_WAIT_S],
          [this.opts.economyQueueUrl, 0],
        ]
      : [[this.opts.standardQueueUrl, SOLO_WAIT_S]];
    for (const [queueUrl, wait] of queues) {
      if (this.stopping) return null;
      try {
        const res = await this.opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: wait,
            VisibilityTimeout: this.opts.visibilityTimeoutS,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: this.abort.signal },
        );
        const message = res.Messages?.[0];
        if (message) return { queueUrl, message };
      } catch (err) {
        if (this.stopping) return null;
        this.opts.log("receive failed", { queue: queueUrl, error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return null;
  }

  private async process(queueUrl: string, message: Message): Promise<void> {
    const { sqs, log } = this.opts;
    const receipt = message.ReceiptHandle!;
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? "1");
    let job: JobMessage;
    try {
      job = JobMessageSchema.parse(JSON.parse(message.Body ?? ""));
    } catch (err) {
      // Not a job this worker understands: leave it for the DLQ (kept for inspection, not lost).
      // Not at visibility 0 where the queue cannot take it (fauxqs 2.4.1 loses such a message).
      const lastAttempt = attempt >= this.opts.maxAttempts;
      log("invalid job message", {
        message_id: message.MessageId,
        attempt,
        last_attempt: lastAttempt,
        error: (err as Error).message.slice(0, 500),
      });
      await this.opts
        .onInvalid?.(message.Body ?? "", { attempt, lastAttempt })
        .catch((e: unknown) => log("invalid message report failed", { message_id: message.MessageId, error: (e as Error).message }));
      await this.setVisibility(queueUrl, receipt, this.opts.releaseVisibilityS ?? 0);
      return;
    }
    // The last heartbeat is awaited before the message's fate is set, so a late one cannot
    // hide a released message for a whole visibility timeout.
    let beat: Promise<boolean> = Promise.resolve(true);
    const heartbeat = setInterval(
      () => {
        beat = this.setVisibility(queueUrl, receipt, this.opts.visibilityTimeoutS);
        this.opts.protection?.heartbeat();
      },
      this.opts.visibilityTimeoutS * 1000 * HEARTBEAT_SHARE,
    );
    let outcome: JobOutcome;
    try {
      outcome = await this.opts.handle(job, {
        attempt,
        lastAttempt: attempt >= this.opts.maxAttempts,
        ...(message.MessageId ? { messageId: message.MessageId } : {}),
      });
    } catch (err) {
      log("job handler threw", { job_id: job.job_id, error: (err as Error).message });
      outcome = "retry";
    } finally {
      clearInterval(heartbeat);
      await beat;
    }
    this.jobsHandled++;
    if (outcome === "leave") return;
    if (outcome === "done") {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    } else if (outcome === "release" || typeof outcome === "object") {
      const floor = this.opts.releaseVisibilityS ?? 0;
      const visibility = typeof outcome === "object" ? Math.max(floor, outcome.releaseAfterS) : floor;
      if (await this.setVisibility(queueUrl, receipt, visibility)) log("job released", { job_id: job.job_id, visibility_s: visibility });
    } else {
      await this.setVisibility(queueUrl, receipt, RETRY_DELAY_S);
    }
  }

  private async setVisibility(queueUrl: string, receipt: string, seconds: number): Promise<boolean> {
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt, VisibilityTimeout: seconds }),
      );
      return true;
    } catch (err) {
      this.opts.log("visibility change failed", { error: (err as Error).message });
      return false;
    }
  }
}
