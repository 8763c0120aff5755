import type { DrainSignals } from "../engine/pipeline.ts";

/**
 * Drain (SIGTERM: ECS draining, a spot interruption notice, a pod eviction): the worker takes no
 * new job and hands each running one back, its checkpoint (the chunks S3 holds, docs/worker.md)
 * left for another worker to resume from. A job finishes the chunk in progress when that chunk
 * will be committed before the cut-off, and drops it at once otherwise; at the cut-off a chunk
 * that overran its estimate is dropped too. So the extra work after SIGTERM stays within
 * REELMESH_DRAIN_S.
 */

/**
 * Kept back from the bound for what follows the last step: one denoiser run that cannot be
 * interrupted, storing the chunks already decoded, handing the messages back, exiting.
 */
export const DRAIN_RESERVE_MS = 1_500;

/** The worker-wide drain: begun once, seen by every running job. */
export class Drain {
  private readonly controller = new AbortController();
  private cutoff = Infinity;
  /** performance.now() when it began. */
  startedAt = NaN;

  /** Aborted when the drain begins. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get begun(): boolean {
    return this.controller.signal.aborted;
  }

  /** performance.now() after which no job computes. */
  get cutoffAt(): number {
    return this.cutoff;
  }

  begin(boundMs: number, now = performance.now()): void {
    if (this.begun) return;
    this.startedAt = now;
    this.cutoff = now + Math.max(0, boundMs - DRAIN_RESERVE_MS);
    this.controller.abort();
  }
}

/**
 * When the chunk in progress will be committed, from the job's own pace: the steps of this
 * chunk so far, and how long its previous chunk took from its last step to stored (decode,
 * encode, upload).
 */
export class ChunkClock {
  private chunk = -1;
  private steps = 0;
  private stepsDone = 0;
  private startedAt = 0;
  private lastAt = 0;
  private stepMs: number | null = null;
  private tailMs: number | null = null;
  private readonly lastStepOf = new Map<number, number>();

  onChunkStart(chunk: number, steps: number, now = performance.now()): void {
    this.chunk = chunk;
    this.steps = steps;
    this.stepsDone = 0;
    this.startedAt = now;
    this.lastAt = now;
  }

  /** The engine finished `step` (1-based) of `steps` of `chunk`. */
  onStep(chunk: number, step: number, steps: number, now = performance.now()): void {
    if (chunk !== this.chunk) this.onChunkStart(chunk, steps, now);
    this.stepsDone = step;
    this.lastAt = now;
    this.stepMs = (now - this.startedAt) / step;
    if (step === steps) this.lastStepOf.set(chunk, now);
  }

  /** Chunk `chunk` is committed. */
  onStored(chunk: number, now = performance.now()): void {
    const last = this.lastStepOf.get(chunk);
    if (last !== undefined) this.tailMs = now - last;
    this.lastStepOf.delete(chunk);
  }

  /** The chunk being denoised, if its steps are not all done (what stopping now would drop). */
  inProgress(): number | null {
    return this.chunk >= 0 && this.stepsDone < this.steps ? this.chunk : null;
  }

  /** Milliseconds until the chunk in progress is committed; null while the pace is unknown. */
  etaMs(now = performance.now()): number | null {
    if (this.chunk < 0 || this.stepMs === null) return null;
    const left = (this.steps - this.stepsDone) * this.stepMs + (this.tailMs ?? 2 * this.stepMs) - (now - this.lastAt);
    return Math.max(0, left);
  }
}

export type DrainChoice = "finish" | "abandon";

/** Finish the chunk in progress only when it is known to be committed before the cut-off. */
export function chooseDrain(etaMs: number | null, now: number, cutoffAt: number): DrainChoice {
  return etaMs !== null && now + etaMs <= cutoffAt ? "finish" : "abandon";
}

export interface JobDrain {
  signals: DrainSignals;
  /** What the job did when the drain began; null while it has not. */
  readonly choice: DrainChoice | null;
  /** The chunk dropped in progress, if any. */
  readonly abandonedChunk: number | null;
  dispose(): void;
}

/** One job's side of the drain: its signals to the engine, set when the drain begins. */
export function watchDrain(drain: Drain, clock: ChunkClock): JobDrain {
  const afterChunk = new AbortController();
  const now = new AbortController();
  let choice: DrainChoice | null = null;
  let abandonedChunk: number | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const abandon = () => {
    abandonedChunk = clock.inProgress();
    now.abort();
  };
  const onDrain = () => {
    const t = performance.now();
    choice = chooseDrain(clock.etaMs(t), t, drain.cutoffAt);
    afterChunk.abort();
    if (choice === "abandon") abandon();
    else timer = setTimeout(abandon, drain.cutoffAt - t);
  };
  if (drain.begun) onDrain();
  else drain.signal.addEventListener("abort", onDrain, { once: true });
  return {
    signals: { afterChunk: afterChunk.signal, now: now.signal },
    get choice() {
      return choice;
    },
    get abandonedChunk() {
      return abandonedChunk;
    },
    dispose() {
      clearTimeout(timer);
      drain.signal.removeEventListener("abort", onDrain);
    },
  };
}
