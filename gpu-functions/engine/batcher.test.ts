import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureReferenceModel } from "../reference-model/ensure.ts";
import { DenoiseBatcher, type RunInfo } from "./batcher.ts";
import { loadModel, type LoadedModel } from "./model.ts";
import { generate, type GeneratedChunk, type GenerateRequest } from "./pipeline.ts";

/**
 * Dynamic batching on the real reference model: jobs that run at the same time share
 * denoiser runs, each gets the clip it would have got alone, and standard work is never
 * queued behind economy work.
 */
let model: LoadedModel;

beforeAll(async () => {
  model = await loadModel(await ensureReferenceModel(), { providers: ["cpu"], allowCpuFallback: false });
}, 60_000);
afterAll(() => model?.release());

async function clip(req: Partial<GenerateRequest>, batcher?: DenoiseBatcher): Promise<GeneratedChunk[]> {
  const out: GeneratedChunk[] = [];
  const full = { prompt: "a red ball bouncing", negativePrompt: "", seed: 1, steps: 8, guidance: 3, numChunks: 2, ...req };
  for await (const c of generate(model, full, undefined, batcher ? { batcher } : {})) out.push(c);
  return out;
}

function maxDiff(a: GeneratedChunk[], b: GeneratedChunk[]): number {
  let max = 0;
  a.forEach((c, k) => c.frames.forEach((v, i) => (max = Math.max(max, Math.abs(v - b[k]!.frames[i]!)))));
  return max;
}

const jobs: Partial<GenerateRequest>[] = [
  { prompt: "a red ball bouncing", seed: 1 },
  { prompt: "一个蓝色的方块向左移动", seed: 2 },
  { prompt: "a green star orbiting", seed: 3, guidance: 1 }, // no guidance: one row, not two
];

describe("dynamic batching", () => {
  it("gives every job in a shared run the clip it gets alone", async () => {
    const alone: GeneratedChunk[][] = [];
    for (const j of jobs) alone.push(await clip(j));
    const batcher = new DenoiseBatcher(model, { maxJobs: 4, maxWaitMs: 50 });
    const together = await Promise.all(jobs.map((j) => clip(j, batcher)));
    // 3 jobs x 2 chunks x 8 steps; lanes open when a job reaches a chunk, so a job that is
    // still encoding text or decoding is not waited for, but the rest run as one.
    expect(batcher.stats.submissions).toBe(3 * 2 * 8);
    expect(batcher.stats.jobsPerRun[3]).toBeGreaterThanOrEqual(8);
    expect(batcher.stats.runs).toBeLessThan(batcher.stats.submissions / 2);
    together.forEach((t, i) => expect(maxDiff(t, alone[i]!)).toBeLessThanOrEqual(1));
  });

  it("respects the batch cap and runs lanes alone when batching is off", async () => {
    const capped = new DenoiseBatcher(model, { maxJobs: 2, maxWaitMs: 50 });
    await Promise.all(jobs.map((j) => clip(j, capped)));
    expect(Math.max(...Object.keys(capped.stats.jobsPerRun).map(Number))).toBe(2);
    const off = new DenoiseBatcher(model, { maxJobs: 1 });
    await Promise.all(jobs.slice(0, 2).map((j) => clip(j, off)));
    expect(off.stats.jobsPerRun).toEqual({ 1: 2 * 2 * 8 });
  });

  it("never shares a run across tiers and never runs economy work while standard work waits", async () => {
    const runs: RunInfo[] = [];
    const batcher = new DenoiseBatcher(model, { maxJobs: 4, maxWaitMs: 50, onRun: (r) => runs.push(r) });
    const economy = [clip({ seed: 10, tier: "economy" }, batcher), clip({ seed: 11, tier: "economy" }, batcher)];
    const standard = clip({ seed: 12, tier: "standard" }, batcher);
    await Promise.all([...economy, standard]);
    expect(runs.filter((r) => r.tier === "economy" && r.queued.standard > 0)).toEqual([]);
    expect(runs.filter((r) => r.tier === "standard").map((r) => r.jobs)).toEqual(Array(2 * 8).fill(1));
    expect(runs.filter((r) => r.tier === "economy").some((r) => r.jobs === 2)).toBe(true);
  });
});
