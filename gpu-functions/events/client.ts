import { SIGNATURE_HEADER, signBody } from "../../shared/signing.ts";
import type { WorkerEvent } from "../../shared/schemas/events.ts";
import type { Logger } from "../log.ts";

/**
 * Signed worker → edge events (shared/signing.ts), in two kinds:
 * - `send`: what the edge must not miss (started, chunk, completed, failed, canceled). Sent one at
 *   a time per job, in order, and retried (5xx, 429, a reset or refused connection: an edge that
 *   is deploying or unreachable) with capped exponential backoff and jitter for as long as the job
 *   could still be resumed (REELMESH_EVENT_RETRY_S). A 404 means the edge does not know the job:
 *   nothing more is sent. Another 4xx is a refusal for good, except 409 (a `completed` that came
 *   before the edge could see every chunk), retried a few times.
 * - `notify`: what only matters now (progress, heartbeat): one try, skipped while reliable events
 *   wait (the edge is not answering then, and a backlog of stale progress helps nobody).
 */
const CONFLICT_ATTEMPTS = 3;
const FIRST_BACKOFF_MS = 250;
const REQUEST_TIMEOUT_MS = 10_000;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventPayload = DistributiveOmit<WorkerEvent, "job_id" | "worker_id" | "at" | "run" | "message">;

/** The edge's answer to a taken event (edge/src/http/events.ts). */
interface EdgeAnswer {
  applied?: boolean;
  stop?: boolean;
  reason?: StopReason;
  retry_after_s?: number;
  lease_s?: number;
}

/** Why the edge told the worker to stop; `unknown`: it does not know the job (404). */
export type StopReason = "canceled" | "ended" | "not_owner" | "duplicate" | "unknown";

export type Delivery =
  { outcome: "taken"; answer: EdgeAnswer } | { outcome: "unknown" } | { outcome: "refused"; status: number } | { outcome: "undelivered" };

export interface EventSenderOptions {
  url: string;
  secret: string;
  jobId: string;
  workerId: string;
  /** This attempt of the job (the edge leases the job to one run), and the SQS message that delivered it. */
  run?: string;
  message?: string;
  log: Logger;
  /** The edge said to stop (canceled, ended, another run owns the job) or does not know the job. */
  onStop?: (reason: StopReason, answer: EdgeAnswer) => void;
  /** How long a reliable event is retried; default 6 h, the edge's job timeout. */
  retryWindowMs?: number;
  /** Longest wait between two tries. */
  maxBackoffMs?: number;
}

export class EventSender {
  private chain: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private gone = false;
  private readonly opts: EventSenderOptions;
  private readonly retryWindowMs: number;
  private readonly maxBackoffMs: number;

  constructor(opts: EventSenderOptions) {
    this.opts = opts;
    this.retryWindowMs = opts.retryWindowMs ?? 6 * 3600_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  }

  /** Reliable events still waiting for the edge. */
  get backlog(): number {
    return this.pending;
  }

  /** Queues a reliable event behind earlier ones; resolves with what became of it (never rejects). */
  send(event: EventPayload): Promise<Delivery> {
    const full = this.stamp(event);
    this.pending++;
    const next = this.chain.then(() => this.deliver(full)).finally(() => this.pending--);
    this.chain = next.catch(() => {});
    return next;
  }

  /** One try, now, unless reliable events wait; never rejects. */
  async notify(event: EventPayload): Promise<void> {
    if (this.pending > 0 || this.gone) return;
    await this.post(this.stamp(event)).catch(() => {});
  }

  private stamp(event: EventPayload): WorkerEvent {
    const { jobId, workerId, run, message } = this.opts;
    return {
      ...event,
      job_id: jobId,
      worker_id: workerId,
      at: new Date().toISOString(),
      ...(run ? { run } : {}),
      ...(message ? { message } : {}),
    };
  }

  private async deliver(event: WorkerEvent): Promise<Delivery> {
    const deadline = Date.now() + this.retryWindowMs;
    let conflicts = 0;
    for (let attempt = 1; ; attempt++) {
      if (this.gone) return { outcome: "unknown" };
      let lastError: string;
      try {
        const d = await this.post(event);
        if (d.outcome !== "retry") return d;
        if (d.status === 409 && ++conflicts >= CONFLICT_ATTEMPTS) return { outcome: "refused", status: 409 };
        lastError = `HTTP ${d.status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (attempt === 1 || attempt % 10 === 0) {
        this.opts.log("event not delivered yet", { job_id: this.opts.jobId, type: event.type, attempt, error: lastError });
      }
      // Full jitter over an exponential ceiling: workers cut off by one outage do not return in step.
      const ceiling = Math.min(this.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** Math.min(attempt - 1, 16));
      const wait = ceiling / 2 + Math.random() * (ceiling / 2);
      if (Date.now() + wait > deadline) {
        this.opts.log("event undeliverable", { job_id: this.opts.jobId, type: event.type, attempts: attempt, error: lastError });
        return { outcome: "undelivered" };
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** One POST; a network error rejects. */
  private async post(event: WorkerEvent): Promise<Delivery | { outcome: "retry"; status: number }> {
    const body = JSON.stringify(event);
    const res = await fetch(this.opts.url, {
      method: "POST",
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: await signBody(this.opts.secret, body) },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (res.ok) {
      const answer = ((await res.json().catch(() => null)) ?? {}) as EdgeAnswer;
      if (answer.stop) this.opts.onStop?.(answer.reason ?? "canceled", answer);
      return { outcome: "taken", answer };
    }
    const detail = (await res.text().catch(() => "")).slice(0, 300);
    if (res.status === 404) {
      this.gone = true;
      this.opts.log("event refused: the edge does not know the job", { job_id: this.opts.jobId, type: event.type });
      this.opts.onStop?.("unknown", {});
      return { outcome: "unknown" };
    }
    if (res.status >= 500 || res.status === 429 || res.status === 409) return { outcome: "retry", status: res.status };
    this.opts.log("event refused", { job_id: this.opts.jobId, type: event.type, status: res.status, detail });
    return { outcome: "refused", status: res.status };
  }
}
