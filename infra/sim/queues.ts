import { TIERS, type Tier } from "../scaling/policy.ts";
import type { Job, QueueView } from "./model.ts";

/**
 * The two SQS queues as the simulator sees them: visible messages in arrival order (a standard
 * queue is only roughly ordered; a backlog drains close to oldest first), messages handed back
 * by a draining worker ahead of them (they are the oldest), and the count received and not yet
 * deleted.
 */
export class JobQueues {
  readonly #fifo: Record<Tier, Job[]> = { standard: [], economy: [] };
  readonly #head: Record<Tier, number> = { standard: 0, economy: 0 };
  readonly #returned: Record<Tier, Job[]> = { standard: [], economy: [] };
  readonly #inFlight: Record<Tier, number> = { standard: 0, economy: 0 };

  visible(tier: Tier): number {
    return this.#returned[tier].length + this.#fifo[tier].length - this.#head[tier];
  }

  inFlight(tier: Tier): number {
    return this.#inFlight[tier];
  }

  oldestAgeS(tier: Tier, now: number): number {
    const at = Math.min(this.#returned[tier][0]?.at ?? Infinity, this.#fifo[tier][this.#head[tier]]?.at ?? Infinity);
    return at === Infinity ? 0 : now - at;
  }

  /** A job created with no free worker to receive it at once. */
  add(job: Job): void {
    this.#fifo[job.tier].push(job);
  }

  /** The message the next receive gets, if any is visible. */
  take(tier: Tier): Job | undefined {
    return this.#returned[tier].length ? this.#returned[tier].shift() : this.#fifo[tier][this.#head[tier]++];
  }

  received(tier: Tier): void {
    this.#inFlight[tier]++;
  }

  deleted(tier: Tier): void {
    this.#inFlight[tier]--;
  }

  /** A received message visible again: handed back by a worker, or its visibility timeout ran out. */
  visibleAgain(job: Job): void {
    this.#inFlight[job.tier]--;
    this.#returned[job.tier].push(job);
  }

  view(now: number): Record<Tier, QueueView> {
    const one = (tier: Tier): QueueView => ({
      visible: this.visible(tier),
      inFlight: this.#inFlight[tier],
      oldestAgeS: this.oldestAgeS(tier, now),
    });
    return Object.fromEntries(TIERS.map((tier) => [tier, one(tier)])) as Record<Tier, QueueView>;
  }
}
