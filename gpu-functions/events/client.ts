import { SIGNATURE_HEADER, signBody } from "../../shared/signing.ts";
import type { WorkerEvent } from "../../shared/schemas/events.ts";
import type { Logger } from "../log.ts";

/**
 * Signed worker → edge events (shared/signing.ts). Sent one at a time per job, in order; a 5xx or a
 * network error is retried with backoff; a 4xx is not (the edge refused it for good).
 */
const ATTEMPTS = 4;
const BACKOFF_MS = 250;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventPayload = DistributiveOmit<WorkerEvent, "job_id" | "worker_id" | "at">;

export class EventSender {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly url: string;
  private readonly secret: string;
  private readonly jobId: string;
  private readonly workerId: string;
  private readonly log: Logger;
  private readonly onStop: (() => void) | undefined;

  /** `onStop`: the edge answered an event with `stop: true` (the job was canceled). */
  constructor(opts: { url: string; secret: string; jobId: string; workerId: string; log: Logger; onStop?: () => void }) {
    this.onStop = opts.onStop;
    this.url = opts.url;
    this.secret = opts.secret;
    this.jobId = opts.jobId;
    this.workerId = opts.workerId;
    this.log = opts.log;
  }

  /** Queues an event behind earlier ones; resolves when it was delivered (or given up). */
  send(event: EventPayload): Promise<boolean> {
    const full = { ...event, job_id: this.jobId, worker_id: this.workerId, at: new Date().toISOString() };
    const next = this.chain.then(() => this.deliver(full));
    this.chain = next.catch(() => {});
    return next;
  }

  private async deliver(event: WorkerEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const res = await fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json", [SIGNATURE_HEADER]: await signBody(this.secret, body) },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        if (res.ok) {
          const answer = (await res.json().catch(() => null)) as { stop?: boolean } | null;
          if (answer?.stop) this.onStop?.();
          return true;
        }
        const detail = await res.text().catch(() => "");
        if (res.status < 500) {
          this.log("event refused", { job_id: this.jobId, type: event.type, status: res.status, detail: detail.slice(0, 300) });
          return false;
        }
      } catch (err) {
        if (attempt === ATTEMPTS) this.log("event undeliverable", { job_id: this.jobId, type: event.type, error: (err as Error).message });
      }
      await new Promise((r) => setTimeout(r, BACKOFF_MS * 2 ** (attempt - 1)));
    }
    return false;
  }
}
