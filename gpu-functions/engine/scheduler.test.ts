import { describe, expect, it } from "vitest";
import type { ModelManifest } from "./manifest.ts";
import { alphasCumprod, ddim } from "./scheduler.ts";

const cfg: ModelManifest["scheduler"] = { type: "ddim", num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: "scaled_linear" };

describe("DDIM", () => {
  it("spaces timesteps like diffusers' 'leading' spacing with offset 1", () => {
    expect(ddim(cfg, "epsilon", 10).timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });

  it("lands exactly on x0 when the model predicts the true noise at every step", () => {
    const abar = alphasCumprod(cfg);
    const x0 = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.7);
    const noise = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i * 1.7));
    const s = ddim(cfg, "epsilon", 12);
    const t0 = s.timesteps[0]!;
    const x = x0.map((v, i) => Math.sqrt(abar[t0]!) * v + Math.sqrt(1 - abar[t0]!) * noise[i]!);
    for (let i = 0; i < s.timesteps.length; i++) s.step(i, noise, x);
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(x0[i]!, 4);
  });

  it("refuses a flow-matching model and more steps than training timesteps", () => {
    expect(() => ddim(cfg, "flow", 10)).toThrow(/flow/);
    expect(() => ddim(cfg, "epsilon", 1001)).toThrow(/exceeds/);
  });
});
