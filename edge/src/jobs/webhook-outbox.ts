import { edgeConfig, type Env } from "../env.ts";
import { accountWebhookSecret } from "../webhooks/account.ts";
import { isRetryableStatus, nextAttemptDelayS } from "../webhooks/schedule.ts";
import { signWebhook } from "../webhooks/sign.ts";
import { checkWebhookUrl } from "../webhooks/url.ts";
import type { JobRecord } from "./record.ts";

/**
 * A job's webhook outbox (the `outbox` key): a delivery per terminal event, signed (Standard
 * Webhooks) and sent from the object's alarm, retried with backoff for about a day, then
 * given up.
 */
const OUTBOX = "outbox";

interface Delivery {
  /** webhook-id: the same for every attempt of one event, so receivers can deduplicate. */
  id: string;
  type: string;
  body: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

export class WebhookOutbox {
  private readonly storage: DurableObjectStorage;
  private readonly env: Env;

  constructor(storage: DurableObjectStorage, env: Env) {
    this.storage = storage;
    this.env = env;
  }

  /** Queues `type` (e.g. `video.completed`) with the job's state, due at once. */
  async enqueue(job: JobRecord, type: string): Promise<void> {
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data: webhookView(job) });
    const outbox = await this.pending();
    outbox.push({ id: `msg_${job.id}_${type.replace(/\W/g, "_")}`, type, body, attempts: 0, next_at: Date.now(), last_error: null });
    await this.storage.put(OUTBOX, outbox);
  }

  /** When each pending delivery is due (the alarm fires at the earliest). */
  async dueTimes(): Promise<number[]> {
    return (await this.pending()).map((d) => d.next_at);
  }

  /** Attempts every delivery due by `now`; keeps the ones to retry, drops the rest. */
  async deliverDue(job: JobRecord, now: number): Promise<void> {
    const outbox = await this.pending();
    const remaining: Delivery[] = [];
    const attempted = new Set<string>();
    for (const d of outbox) {
      if (d.next_at > now) {
        remaining.push(d);
        continue;
      }
      attempted.add(d.id);
      const outcome = await this.deliver(job, d).catch((err: unknown) => ({
        ok: false as const,
        retryable: true,
        error: (err as Error).message,
      }));
      d.attempts++;
      if (outcome.ok) continue;
      d.last_error = outcome.error;
      const delay = outcome.retryable ? (nextAttemptDelayS(d.attempts) ?? null) : null;
      if (delay === null) {
        console.warn(
          JSON.stringify({ msg: "webhook given up", job_id: job.id, webhook_id: d.id, attempts: d.attempts, error: d.last_error }),
        );
        continue;
      }
      d.next_at = now + delay * 1000;
      remaining.push(d);
    }
    // Deliveries are outgoing calls, during which a new one may have been enqueued: keep what
    // is in the outbox now, with this pass's outcome for the ones it attempted.
    const outcome = new Map(remaining.map((d) => [d.id, d]));
    const current = await this.pending();
    await this.storage.put(
      OUTBOX,
      current.flatMap((d) => (attempted.has(d.id) ? (outcome.has(d.id) ? [outcome.get(d.id)!] : []) : [d])),
    );
  }

  private async pending(): Promise<Delivery[]> {
    return (await this.storage.get<Delivery[]>(OUTBOX)) ?? [];
  }

  private async deliver(job: JobRecord, d: Delivery): Promise<{ ok: true } | { ok: false; retryable: boolean; error: string }> {
    const cfg = edgeConfig(this.env);
    // Checked again at delivery: the rules may have tightened since the job was created.
    const check = checkWebhookUrl(job.webhook_url!, { allowPrivate: cfg.REELMESH_ENV === "development" });
    if (!check.ok) return { ok: false, retryable: false, error: check.reason };
    const secret = await accountWebhookSecret(cfg.REELMESH_WEBHOOK_SECRET, job.account_id);
    const headers = await signWebhook(secret, d.id, Math.floor(Date.now() / 1000), d.body);
    try {
      const res = await fetch(check.url, {
        method: "POST",
        body: d.body,
        headers: { "content-type": "application/json", "user-agent": "reelmesh-webhooks/1", ...headers },
        redirect: "manual",
        signal: AbortSignal.timeout(15_000),
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, retryable: isRetryableStatus(res.status), error: `receiver answered ${res.status}` };
    } catch (err) {
      return { ok: false, retryable: true, error: (err as Error).message };
    }
  }
}

/** What a webhook carries: the job's state, with links to its outputs. */
function webhookView(job: JobRecord) {
  const base = `${job.base_url}/v1/videos/${job.id}`;
  return {
    id: job.id,
    object: "video",
    status: job.status,
    created_at: job.created_at,
    completed_at: job.completed_at,
    model: job.model,
    duration_s: job.duration_s,
    total_chunks: job.total_chunks,
    usage: job.usage,
    error: job.error,
    metadata: job.metadata,
    /** The end user whose app token created it; null for a job created with an API key. */
    subject: job.subject,
    expires_at: job.expires_at,
    links: { self: base, hls: `${base}/stream.m3u8`, content: `${base}/content`, poster: `${base}/poster.jpg` },
  };
}
