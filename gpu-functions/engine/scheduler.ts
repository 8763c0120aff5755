import type { ModelManifest } from "./manifest.ts";

/**
 * DDIM (Song et al. 2020, η = 0), as diffusers' DDIMScheduler with "leading" timestep
 * spacing, steps_offset 1 and set_alpha_to_one: deterministic, so a seed fixes the output.
 */
export interface Scheduler {
  /** Timesteps to evaluate, high noise first. */
  readonly timesteps: number[];
  /** x_{t-1} from x_t and the model output at step `i`; updates `sample` in place. */
  step(i: number, modelOutput: Float32Array, sample: Float32Array): void;
}

export function alphasCumprod(cfg: ModelManifest["scheduler"]): Float64Array {
  const n = cfg.num_train_timesteps;
  const out = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const beta =
      cfg.beta_schedule === "scaled_linear"
        ? (Math.sqrt(cfg.beta_start) + ((Math.sqrt(cfg.beta_end) - Math.sqrt(cfg.beta_start)) * i) / (n - 1)) ** 2
        : cfg.beta_start + ((cfg.beta_end - cfg.beta_start) * i) / (n - 1);
    prod *= 1 - beta;
    out[i] = prod;
  }
  return out;
}

export function ddim(cfg: ModelManifest["scheduler"], prediction: ModelManifest["prediction_type"], steps: number): Scheduler {
  if (prediction === "flow") throw new Error("DDIM needs an epsilon or v-prediction model; this model predicts flow");
  const n = cfg.num_train_timesteps;
  if (steps > n) throw new Error(`steps (${steps}) exceeds the model's ${n} training timesteps`);
  const abar = alphasCumprod(cfg);
  const ratio = Math.floor(n / steps);
  const timesteps = Array.from({ length: steps }, (_, i) => Math.min(n - 1, (steps - 1 - i) * ratio + 1));
  return {
    timesteps,
    step(i, out, x) {
      const t = timesteps[i]!;
      const prev = i + 1 < steps ? timesteps[i + 1]! : -1;
      const a = abar[t]!;
      const aPrev = prev >= 0 ? abar[prev]! : 1;
      const sa = Math.sqrt(a);
      const s1 = Math.sqrt(1 - a);
      const saPrev = Math.sqrt(aPrev);
      const s1Prev = Math.sqrt(1 - aPrev);
      for (let j = 0; j < x.length; j++) {
        const xt = x[j]!;
        const o = out[j]!;
        // Recover (x̂₀, ε̂) from the model output, then move to the previous timestep.
        const x0 = prediction === "epsilon" ? (xt - s1 * o) / sa : sa * xt - s1 * o;
        const eps = prediction === "epsilon" ? o : s1 * xt + sa * o;
        x[j] = saPrev * x0 + s1Prev * eps;
      }
    },
  };
}
