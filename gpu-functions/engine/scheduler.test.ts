import { describe, expect, it } from "vitest";
import type { ModelManifest } from "./manifest.ts";
import { alphasCumprod, plan, type SchedulerName } from "./scheduler.ts";

const cfg: ModelManifest["scheduler"] = {
  type: "ddim",
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  shift: 1,
};
const abar = alphasCumprod(cfg);

/**
 * With an oracle model (the true ε, v or flow velocity), every step must move x from the
 * noise level of step i exactly to that of step i+1, and the last lands on x₀. That checks
 * each sampler's coefficients against its own (alpha, sigma) path, which is also what
 * conditioning frames are re-noised with.
 */
function oracleRun(name: SchedulerName, prediction: ModelManifest["prediction_type"], steps: number, shift = 1) {
  const p = plan(name, { ...cfg, shift }, prediction, steps);
  const x0 = Float64Array.from({ length: 32 }, (_, i) => Math.sin(i) * 0.7);
  const eps = Float64Array.from({ length: 32 }, (_, i) => Math.cos(i * 1.7));
  const x = x0.map((v, j) => p.alpha[0]! * v + p.sigma[0]! * eps[j]!);
  for (let i = 0; i < steps; i++) {
    const t = p.timesteps[i]!;
    const out = x0.map((v, j) => {
      if (prediction === "epsilon") return eps[j]!;
      if (prediction === "flow") return eps[j]! - v;
      return Math.sqrt(abar[t]!) * eps[j]! - Math.sqrt(1 - abar[t]!) * v; // v = √ᾱ·ε − √(1−ᾱ)·x₀
    });
    for (let j = 0; j < x.length; j++) x[j] = p.a[i]! * x[j]! + p.b[i]! * out[j]!;
    for (let j = 0; j < x.length; j++) expect(x[j]).toBeCloseTo(p.alpha[i + 1]! * x0[j]! + p.sigma[i + 1]! * eps[j]!, 9);
  }
  return { p, x, x0 };
}

describe("samplers", () => {
  it("DDIM spaces timesteps like diffusers' 'leading' spacing with offset 1", () => {
    expect(plan("ddim", cfg, "epsilon", 10).timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });

  it.each([
    ["ddim", "epsilon"],
    ["ddim", "v_prediction"],
    ["euler", "epsilon"],
    ["euler", "v_prediction"],
    ["flow_match_euler", "flow"],
  ] as const)("%s with an oracle %s model follows its noise path and lands on x0", (name, prediction) => {
    const { p, x, x0 } = oracleRun(name, prediction, 12);
    expect(p.alpha.at(-1)).toBe(1);
    expect(p.sigma.at(-1)).toBe(0);
    for (let j = 0; j < x.length; j++) expect(x[j]).toBeCloseTo(x0[j]!, 9);
  });

  it("Euler scales the model input to the model's own x_t and starts from noise of scale √(σ²+1)", () => {
    const p = plan("euler", cfg, "epsilon", 10);
    const sigma0 = Math.sqrt((1 - abar[901]!) / abar[901]!);
    expect(p.initNoiseScale).toBeCloseTo(Math.sqrt(sigma0 ** 2 + 1), 9);
    expect(p.inputScale[0]).toBeCloseTo(Math.sqrt(abar[901]!), 9);
  });

  it("flow matching feeds 1000·s and shifts s toward high noise", () => {
    const plain = plan("flow_match_euler", cfg, "flow", 4);
    expect(plain.timesteps).toEqual([1000, 750, 500, 250]);
    const shifted = oracleRun("flow_match_euler", "flow", 4, 3).p;
    expect(shifted.sigma[1]).toBeCloseTo((3 * 0.75) / (1 + 2 * 0.75), 12);
  });

  it("refuses a sampler that does not suit the model's prediction, and too many steps", () => {
    expect(() => plan("ddim", cfg, "flow", 10)).toThrow(/ddim does not suit a model that predicts flow; use flow_match_euler/);
    expect(() => plan("flow_match_euler", cfg, "epsilon", 10)).toThrow(/use ddim or euler/);
    expect(() => plan("ddim", cfg, "epsilon", 1001)).toThrow(/exceeds/);
  });
});
