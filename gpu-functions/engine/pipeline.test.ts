import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureReferenceModel } from "../reference-model/ensure.ts";
import { loadModel, type LoadedModel } from "./model.ts";
import { generate, type GeneratedChunk, type GenerateRequest } from "./pipeline.ts";

/**
 * The engine on the real reference model through ONNX Runtime (CPU EP): determinism per
 * seed, and a clip that matches its prompt (colour, shape position, motion, continuity).
 */
let model: LoadedModel;

beforeAll(async () => {
  model = await loadModel(await ensureReferenceModel(), { providers: ["cpu"], allowCpuFallback: false });
}, 60_000);
afterAll(() => model?.release());

async function clip(prompt: string, over: Partial<GenerateRequest> = {}): Promise<GeneratedChunk[]> {
  const chunks: GeneratedChunk[] = [];
  for await (const c of generate(model, { prompt, negativePrompt: "", seed: 1, steps: 8, guidance: 3, numChunks: 2, ...over }))
    chunks.push(c);
  return chunks;
}

interface FrameStats {
  /** Mean rgb of pixels that differ from the frame's corner (the background). */
  object: [number, number, number];
  centroid: { x: number; y: number };
  area: number;
}

function frameStats(c: GeneratedChunk, f: number): FrameStats {
  const { width: w, height: h } = c;
  const px = (x: number, y: number) => (f * w * h + y * w + x) * 3;
  const bg = [0, 1, 2].map((k) => c.frames[px(0, 0) + k]!);
  const sum = [0, 0, 0];
  let n = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = px(x, y);
      const d = Math.abs(c.frames[i]! - bg[0]!) + Math.abs(c.frames[i + 1]! - bg[1]!) + Math.abs(c.frames[i + 2]! - bg[2]!);
      if (d < 120) continue;
      for (let k = 0; k < 3; k++) sum[k]! += c.frames[i + k]!;
      n++;
      sx += x;
      sy += y;
    }
  }
  return {
    object: sum.map((s) => s / Math.max(1, n)) as [number, number, number],
    centroid: { x: sx / Math.max(1, n), y: sy / Math.max(1, n) },
    area: n / (w * h),
  };
}

describe("the reference pipeline", () => {
  it("yields 12-frame 144x256 chunks and is deterministic for a seed", async () => {
    const a = await clip("a red ball bouncing");
    const b = await clip("a red ball bouncing");
    const c = await clip("a red ball bouncing", { seed: 2 });
    expect(a.map((ch) => [ch.index, ch.frameCount, ch.width, ch.height])).toEqual([
      [0, 12, 144, 256],
      [1, 12, 144, 256],
    ]);
    expect(Buffer.from(a[1]!.frames).equals(Buffer.from(b[1]!.frames))).toBe(true);
    expect(Buffer.from(a[1]!.frames).equals(Buffer.from(c[1]!.frames))).toBe(false);
  });

  it("paints the colour the prompt names, in English and in Chinese", async () => {
    const red = frameStats((await clip("a red ball"))[0]!, 0).object;
    expect(red[0]).toBeGreaterThan(180);
    expect(red[1]).toBeLessThan(80);
    const blue = frameStats((await clip("蓝色的方块"))[0]!, 0).object;
    expect(blue[2]).toBeGreaterThan(180);
    expect(blue[0]).toBeLessThan(80);
  });

  it("moves the object as the prompt says", async () => {
    const left = await clip("a blue square moving left");
    const xs = [0, 3, 6].map((f) => frameStats(left[0]!, f).centroid.x);
    expect(xs[1]).toBeLessThan(xs[0]!);
    expect(xs[2]).toBeLessThan(xs[1]!);
    const bounce = await clip("a red ball bouncing");
    const ys = Array.from({ length: 12 }, (_, f) => frameStats(bounce[0]!, f).centroid.y);
    expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(40);
  });

  it("draws an object only when the prompt describes one", async () => {
    expect(frameStats((await clip("a sunset"))[0]!, 0).area).toBeLessThan(0.01);
    expect(frameStats((await clip("a star"))[0]!, 0).area).toBeGreaterThan(0.02);
  });

  it("continues across a chunk boundary without a jump", async () => {
    // An orbit moves at constant speed: the step from chunk 0's last frame to chunk 1's
    // first must equal the steps inside a chunk.
    const [a, b] = await clip("a red ball orbiting");
    const step = (p: FrameStats, q: FrameStats) => Math.hypot(q.centroid.x - p.centroid.x, q.centroid.y - p.centroid.y);
    const inside = step(frameStats(a!, 10), frameStats(a!, 11));
    const across = step(frameStats(a!, 11), frameStats(b!, 0));
    expect(inside).toBeGreaterThan(3);
    expect(Math.abs(across - inside)).toBeLessThan(1);
  });

  it("resumes at any chunk from the previous chunk's tail latents, giving the same bytes", async () => {
    const full = await clip("a green star orbiting", { numChunks: 3 });
    expect(full[1]!.tail).not.toBeNull();
    const resumed = await clip("a green star orbiting", { numChunks: 3, firstChunk: 2, tail: full[1]!.tail! });
    expect(resumed.map((c) => c.index)).toEqual([2]);
    expect(Buffer.from(resumed[0]!.frames).equals(Buffer.from(full[2]!.frames))).toBe(true);
    await expect(clip("a green star orbiting", { numChunks: 3, firstChunk: 2 })).rejects.toThrow(/needs the previous chunk's tail/);
  });
});
