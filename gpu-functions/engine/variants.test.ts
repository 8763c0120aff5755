import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReferenceModel, DEFAULT_VARIANT, type ReferenceVariant } from "../reference-model/build.ts";
import { ensureReferenceModel } from "../reference-model/ensure.ts";
import { loadModel, type LoadedModel } from "./model.ts";
import { generate, type GeneratedChunk, type GenerateRequest } from "./pipeline.ts";

/**
 * Real exports differ in layout, timestep rank and dtype, prediction type and how chunks
 * condition each other; the engine reads all of it from the manifest. The same reference
 * model built each way must give the same clip (a seed means one clip), and every sampler
 * must draw what the prompt says.
 */
const cpu = { providers: ["cpu" as const], allowCpuFallback: false };
let work: string;
let base: LoadedModel;
const loaded: LoadedModel[] = [];

async function variant(name: string, v: Partial<ReferenceVariant>): Promise<LoadedModel> {
  const dir = join(work, name);
  await buildReferenceModel("tiny", dir, { ...DEFAULT_VARIANT, ...v });
  const model = await loadModel(dir, cpu);
  loaded.push(model);
  return model;
}

async function clip(model: LoadedModel, over: Partial<GenerateRequest> = {}): Promise<GeneratedChunk[]> {
  const out: GeneratedChunk[] = [];
  const req = { prompt: "a red ball orbiting", negativePrompt: "", seed: 7, steps: 10, guidance: 3, numChunks: 2, ...over };
  for await (const c of generate(model, req)) out.push(c);
  return out;
}

/** Largest per-byte difference between two clips' pixels. */
function maxDiff(a: GeneratedChunk[], b: GeneratedChunk[]): number {
  let max = 0;
  a.forEach((c, k) => {
    const other = b[k]!.frames;
    for (let i = 0; i < c.frames.length; i++) max = Math.max(max, Math.abs(c.frames[i]! - other[i]!));
  });
  return max;
}

function meanRgb(c: GeneratedChunk, frame: number): [number, number, number] {
  const px = c.width * c.height;
  const sum = [0, 0, 0];
  for (let i = 0; i < px; i++) for (let k = 0; k < 3; k++) sum[k]! += c.frames[(frame * px + i) * 3 + k]!;
  return sum.map((s) => s / px) as [number, number, number];
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "reelmesh-variants-"));
  base = await loadModel(await ensureReferenceModel(), cpu);
  loaded.push(base);
}, 60_000);
afterAll(async () => {
  await Promise.all(loaded.map((m) => m.release()));
  await rm(work, { recursive: true, force: true });
});

describe("model variants and samplers", () => {
  it("gives the same clip for a [B,F,C,h,w] model with an int64 scalar timestep and [B,F,3,H,W] pixels", async () => {
    const other = await variant("bfchw-int64", { layout: "BFCHW", timestep: "int64[]" });
    expect(other.manifest.graphs.denoiser.inputs[1]).toMatchObject({ dtype: "int64", shape: [] });
    const [a, b] = [await clip(base), await clip(other)];
    expect(b.map((c) => [c.frameCount, c.width, c.height])).toEqual(a.map((c) => [c.frameCount, c.width, c.height]));
    expect(maxDiff(a, b)).toBeLessThanOrEqual(1);
  });

  it("runs a flow-matching model with the flow sampler to the clip the ε model makes", async () => {
    const flow = await variant("flow", { prediction: "flow" });
    expect(flow.manifest.scheduler.type).toBe("flow_match_euler");
    const [a, b] = [await clip(base, { steps: 20 }), await clip(flow, { steps: 20 })];
    // Different noise paths reach the same posterior mean; only seed texture (σ = 0.015) differs.
    const ra = meanRgb(a[1]!, 5),
      rb = meanRgb(b[1]!, 5);
    for (let k = 0; k < 3; k++) expect(Math.abs(ra[k]! - rb[k]!)).toBeLessThan(3);
    await expect(clip(flow, { scheduler: "ddim" })).rejects.toThrow(/ddim does not suit a model that predicts flow/);
  });

  it.each(["ddim", "euler"] as const)("draws a red ball and a blue square with %s", async (scheduler) => {
    // The object's pixels: those far from the background colour (the frame's corner).
    const objectRgb = (c: GeneratedChunk) => {
      const px = c.width * c.height;
      const corner = [0, 1, 2].map((k) => c.frames[k]!);
      const sum = [0, 0, 0];
      let n = 0;
      for (let i = 0; i < px; i++) {
        const p = [0, 1, 2].map((k) => c.frames[i * 3 + k]!);
        if (p.reduce((s, v, k) => s + Math.abs(v - corner[k]!), 0) < 120) continue;
        p.forEach((v, k) => (sum[k]! += v));
        n++;
      }
      expect(n / px).toBeGreaterThan(0.01);
      return sum.map((s) => s / n);
    };
    const red = objectRgb((await clip(base, { prompt: "a red ball", scheduler }))[0]!);
    const blue = objectRgb((await clip(base, { prompt: "一个蓝色的方块", scheduler }))[0]!);
    expect(red[0]).toBeGreaterThan(180);
    expect(red[2]).toBeLessThan(80);
    expect(blue[2]).toBeGreaterThan(180);
    expect(blue[0]).toBeLessThan(80);
  });

  it("conditions each chunk on the previous chunk's tail: a window of 14 latent frames yields 12 new ones", async () => {
    expect(base.manifest.latent.frames - base.manifest.conditioning_frames).toBe(12);
    const none = await variant("unconditioned", { conditioningFrames: 0 });
    const [a, b] = [await clip(base), await clip(none)];
    expect(a.map((c) => c.frameCount)).toEqual([12, 12]);
    // With 2 context frames, output frame j of chunk k is window frame j + 2: the moment
    // k·12 + j + 2 of the motion, which the unconditioned model draws as its frame j + 2.
    const frame = (c: GeneratedChunk, f: number) => c.frames.subarray(f * c.width * c.height * 3, (f + 1) * c.width * c.height * 3);
    const meanAbs = (x: Uint8Array, y: Uint8Array) => x.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0) / x.length;
    expect(meanAbs(frame(a[1]!, 0), frame(b[1]!, 2))).toBeLessThan(2);
    expect(meanAbs(frame(a[1]!, 0), frame(b[1]!, 0))).toBeGreaterThan(2 * meanAbs(frame(a[1]!, 0), frame(b[1]!, 2)));
  });
});
