import { SCHEDULERS, type SchedulerName } from "../../shared/models.ts";
import type { ModelManifest } from "./manifest.ts";

/**
 * Samplers: DDIM (η = 0), Euler (diffusers' EulerDiscreteScheduler) and flow
 * matching (FlowMatchEulerDiscreteScheduler). All three are deterministic first-order
 * methods, so each step is a linear map of the current latents x and the model's output o:
 *
 *   x_{i+1} = a[i] · x_i + b[i] · o_i        o_i = model(inputScale[i] · x_i, timesteps[i])
 *
 * A plan is therefore just numbers, computed once per job. The engine fuses classifier-free
 * guidance (o = o_u + g·(o_c − o_u), also linear) with this update in a single pass over the
 * latents, and writes the next model input in the same pass.
 *
 * Each sampler works in its own latent space; `alpha[i]`, `sigma[i]` say how x_i relates to
 * clean latents (x_i = alpha·x₀ + sigma·ε), which is how conditioning frames from the
 * previous chunk are brought to the noise level of step i (i = steps is the clean end).
 */
export { SCHEDULERS, type SchedulerName };
type SchedulerConfig = ModelManifest["scheduler"];
type Prediction = ModelManifest["prediction_type"];

export interface SamplingPlan {
  scheduler: SchedulerName;
  steps: number;
  /** Value given to the model's timestep input at step i. */
  timesteps: number[];
  /** Scale of the starting noise. */
  initNoiseScale: number;
  inputScale: number[];
  a: number[];
  b: number[];
  /** steps + 1 entries: x_i = alpha[i]·x₀ + sigma[i]·ε. */
  alpha: number[];
  sigma: number[];
}

export function alphasCumprod(
  cfg: Pick<SchedulerConfig, "num_train_timesteps" | "beta_start" | "beta_end" | "beta_schedule">,
): Float64Array {
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

/** Which samplers suit a model: flow models need flow matching; ε and v models the others. */
export function compatibleSchedulers(prediction: Prediction): SchedulerName[] {
  return prediction === "flow" ? ["flow_match_euler"] : ["ddim", "euler"];
}

/** diffusers' "leading" spacing with steps_offset 1 (the SD-family configs' choice). */
function leadingTimesteps(n: number, steps: number): number[] {
  const ratio = Math.floor(n / steps);
  return Array.from({ length: steps }, (_, i) => Math.min(n - 1, (steps - 1 - i) * ratio + 1));
}

export function plan(name: SchedulerName, cfg: SchedulerConfig, prediction: Prediction, steps: number): SamplingPlan {
  if (!compatibleSchedulers(prediction).includes(name)) {
    throw new Error(
      `scheduler ${name} does not suit a model that predicts ${prediction}; use ${compatibleSchedulers(prediction).join(" or ")}`,
    );
  }
  const n = cfg.num_train_timesteps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (steps > n) throw new Error(`steps (${steps}) exceeds the model's ${n} training timesteps`);
  const p: SamplingPlan = { scheduler: name, steps, timesteps: [], initNoiseScale: 1, inputScale: [], a: [], b: [], alpha: [], sigma: [] };

  if (name === "flow_match_euler") {
    // x_s = (1 − s)·x₀ + s·ε, the model predicts v = ε − x₀; s from 1 to 1/steps, shifted
    // (Wan and SD3 use shift > 1 to spend more steps at high noise), then 0.
    const shift = cfg.shift;
    const s = Array.from({ length: steps }, (_, i) => {
      const u = 1 - i / steps;
      return (shift * u) / (1 + (shift - 1) * u);
    });
    s.push(0);
    for (let i = 0; i < steps; i++) {
      p.timesteps.push(s[i]! * n);
      p.inputScale.push(1);
      p.a.push(1);
      p.b.push(s[i + 1]! - s[i]!);
    }
    p.alpha = s.map((v) => 1 - v);
    p.sigma = [...s];
    return p;
  }

  const abar = alphasCumprod(cfg);
  const ts = leadingTimesteps(n, steps);
  p.timesteps = ts;
  if (name === "ddim") {
    // x_t = √ᾱ·x₀ + √(1−ᾱ)·ε; the final step lands on ᾱ = 1 (set_alpha_to_one).
    const ab = [...ts.map((t) => abar[t]!), 1];
    for (let i = 0; i < steps; i++) {
      const sa = Math.sqrt(ab[i]!),
        s1 = Math.sqrt(1 - ab[i]!);
      const saP = Math.sqrt(ab[i + 1]!),
        s1P = Math.sqrt(1 - ab[i + 1]!);
      p.inputScale.push(1);
      if (prediction === "epsilon") {
        // x₀ = (x − s1·ε)/sa; x' = saP·x₀ + s1P·ε
        p.a.push(saP / sa);
        p.b.push(s1P - (saP * s1) / sa);
      } else {
        // v: x₀ = sa·x − s1·v, ε = s1·x + sa·v
        p.a.push(saP * sa + s1P * s1);
        p.b.push(s1P * sa - saP * s1);
      }
    }
    p.alpha = ab.map(Math.sqrt);
    p.sigma = ab.map((v) => Math.sqrt(1 - v));
    return p;
  }

  // Euler in the variance-exploding space x = x₀ + σ·ε, σ = √((1−ᾱ)/ᾱ); the model sees
  // x/√(σ²+1) (its own x_t), and the step is x' = x + (σ' − σ)·d with d = (x − x̂₀)/σ.
  const sig = [...ts.map((t) => Math.sqrt((1 - abar[t]!) / abar[t]!)), 0];
  p.initNoiseScale = Math.sqrt(sig[0]! ** 2 + 1);
  for (let i = 0; i < steps; i++) {
    const s = sig[i]!,
      dt = sig[i + 1]! - s,
      c = Math.sqrt(s * s + 1);
    p.inputScale.push(1 / c);
    if (prediction === "epsilon") {
      // x̂₀ = x − σ·ε ⇒ d = ε
      p.a.push(1);
      p.b.push(dt);
    } else {
      // x̂₀ = x/(σ²+1) − v·σ/√(σ²+1) ⇒ d = x·σ/(σ²+1) + v/√(σ²+1)
      p.a.push(1 + (dt * s) / (s * s + 1));
      p.b.push(dt / c);
    }
  }
  p.alpha = sig.map(() => 1);
  p.sigma = sig;
  return p;
}
