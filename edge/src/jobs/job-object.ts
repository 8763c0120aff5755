import { DurableObject } from "cloudflare:workers";
import type { WorkerEvent } from "../../../shared/schemas/events.ts";
import type { Env } from "../env.ts";
import { applyEvent, isTerminal, type JobRecord } from "./record.ts";

/**
 * One Durable Object per job (DESIGN.md): the single writer of its state. Events from
 * workers and reads from clients meet here, serialized by the object's input gate.
 */
const KEY = "job";

export class JobObject extends DurableObject<Env> {
  /** Stores a new job; a second create with the same id returns the existing one. */
  async create(record: JobRecord): Promise<JobRecord> {
    const existing = await this.ctx.storage.get<JobRecord>(KEY);
    if (existing) return existing;
    await this.ctx.storage.put(KEY, record);
    return record;
  }

  async get(): Promise<JobRecord | null> {
    return (await this.ctx.storage.get<JobRecord>(KEY)) ?? null;
  }

  async apply(event: WorkerEvent): Promise<{ found: boolean; applied: boolean }> {
    const job = await this.ctx.storage.get<JobRecord>(KEY);
    if (!job) return { found: false, applied: false };
    const applied = applyEvent(job, event, new Date().toISOString());
    if (applied) await this.ctx.storage.put(KEY, job);
    return { found: true, applied };
  }

  /** Marks a job failed from the edge itself (e.g. it could not be enqueued). */
  async fail(code: string, message: string): Promise<void> {
    const job = await this.ctx.storage.get<JobRecord>(KEY);
    if (!job || isTerminal(job.status)) return;
    const now = new Date().toISOString();
    Object.assign(job, { status: "failed", error: { code, message }, completed_at: now, updated_at: now });
    await this.ctx.storage.put(KEY, job);
  }
}
