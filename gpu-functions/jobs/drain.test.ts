import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { loadModel, type LoadedModel } from "../engine/model.ts";
import { generate, type GeneratedChunk, type GenerateRequest } from "../engine/pipeline.ts";
import { ensureReferenceModel } from "../reference-model/ensure.ts";
import { ChunkClock, chooseDrain, Drain, DRAIN_RESERVE_MS, watchDrain } from "./drain.ts";

describe("the drain decision", () => {
  it("finishes the chunk in progress only when it is committed before the cut-off", () => {
    expect(chooseDrain(500, 1_000, 2_000)).toBe("finish");
    expect(chooseDrain(1_500, 1_000, 2_000)).toBe("abandon");
    // Nothing known of the job's pace (still encoding its prompt): little to lose.
    expect(chooseDrain(null, 1_000, 2_000)).toBe("abandon");
  });

  it("estimates the chunk's commit from its steps so far and the last chunk's decode-to-stored time", () => {
    const clock = new ChunkClock();
    expect(clock.etaMs(0)).toBeNull();
    clock.onChunkStart(0, 10, 0);
    for (let s = 1; s <= 10; s++) clock.onStep(0, s, 10, s * 100);
    clock.onStored(0, 1_300);
    clock.onChunkStart(1, 10, 1_300);
    for (let s = 1; s <= 4; s++) clock.onStep(1, s, 10, 1_300 + s * 100);
    // 6 steps of 100 ms left, then the 300 ms the last chunk took from its last step to stored.
    expect(clock.etaMs(1_700)).toBe(900);
    expect(clock.inProgress()).toBe(1);
  });

  it("by default keeps a drained worker's extra work under 10 s", () => {
    const config = loadConfig({ SQS_QUEUE_URL_STANDARD: "http://127.0.0.1:1/q", REELMESH_EVENTS_SECRET: "0123456789abcdef" });
    // REELMESH_DRAIN_S defaults to infra/scaling/policy.ts POLICY.drainBoundS; computing stops
    // DRAIN_RESERVE_MS before it, leaving one run, the last stores and the hand-back.
    expect(config.REELMESH_DRAIN_S * 1000 - DRAIN_RESERVE_MS).toBeLessThan(10_000);
    expect(config.REELMESH_DRAIN_S).toBeLessThanOrEqual(10);
  });

  it("keeps a reserve of the bound for handing back and exiting", () => {
    const drain = new Drain();
    drain.begin(10_000, 5_000);
    expect(drain.cutoffAt).toBe(5_000 + 10_000 - DRAIN_RESERVE_MS);
    expect(drain.begun).toBe(true);
  });

  it("drops the chunk in progress at once when it cannot be committed in time, and says which", () => {
    const drain = new Drain();
    const clock = new ChunkClock();
    const t = performance.now();
    clock.onChunkStart(3, 50, t - 1_000);
    clock.onStep(3, 10, 50, t);
    const job = watchDrain(drain, clock);
    drain.begin(DRAIN_RESERVE_MS + 1_000, t);
    expect(job.choice).toBe("abandon");
    expect(job.signals.afterChunk.aborted && job.signals.now.aborted).toBe(true);
    expect(job.abandonedChunk).toBe(3);
    job.dispose();
  });

  it("lets a chunk that overran its estimate go at the cut-off", async () => {
    const drain = new Drain();
    const clock = new ChunkClock();
    const t = performance.now();
    clock.onChunkStart(1, 10, t - 90);
    clock.onStep(1, 9, 10, t);
    const job = watchDrain(drain, clock);
    drain.begin(DRAIN_RESERVE_MS + 200);
    expect(job.choice).toBe("finish");
    expect(job.signals.afterChunk.aborted).toBe(true);
    expect(job.signals.now.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(job.signals.now.aborted).toBe(true);
    job.dispose();
  });
});

describe("the engine under a drain", () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await loadModel(await ensureReferenceModel(), { providers: ["cpu"], allowCpuFallback: false });
  }, 60_000);
  afterAll(() => model?.release());

  const request = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    prompt: "a red ball bouncing",
    negativePrompt: "",
    seed: 7,
    steps: 6,
    guidance: 3,
    numChunks: 4,
    ...over,
  });
  const run = async (req: GenerateRequest) => {
    const out: GeneratedChunk[] = [];
    for await (const c of generate(model, req)) out.push(c);
    return out;
  };
  /** Drain signals aborted at step `step` of chunk `chunk`. */
  const drainAt = (which: "afterChunk" | "now", chunk: number, step: number) => {
    const afterChunk = new AbortController();
    const now = new AbortController();
    return {
      drain: { afterChunk: afterChunk.signal, now: now.signal },
      onStep: (k: number, s: number) => {
        if (k !== chunk || s !== step) return;
        afterChunk.abort();
        if (which === "now") now.abort();
      },
    };
  };

  it("stops after the chunk in progress, and a resume from its tail continues the same clip", async () => {
    const whole = await run(request());
    const first = await run(request(drainAt("afterChunk", 1, 2)));
    expect(first.map((c) => c.index)).toEqual([0, 1]);
    const rest = await run(request({ firstChunk: 2, tail: first[1]!.tail! }));
    expect([...first, ...rest].map((c) => c.index)).toEqual([0, 1, 2, 3]);
    for (const c of [...first, ...rest]) expect(Buffer.from(c.frames).equals(Buffer.from(whole[c.index]!.frames))).toBe(true);
  });

  it("dropping the chunk in progress still yields the chunk already decoded", async () => {
    const got = await run(request(drainAt("now", 2, 1)));
    expect(got.map((c) => c.index)).toEqual([0, 1]);
  });
});
