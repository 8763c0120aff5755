/**
 * How long a job keeps a GPU busy: the service-time model (docs/scaling.md#service-time).
 *
 * Work is counted in seconds of the workload's anchor device running one job alone. A job of d
 * seconds of video costs d × (seconds per video-second), scaled from a published generation time
 * by steps, guidance, resolution and frame rate; a capacity class runs it `speed` times as fast.
 * A task runs up to POLICY.concurrentJobsPerTask jobs that share denoiser runs: with n jobs in
 * a run, each progresses at speed / (1 + (n − 1) × batchMarginalCost).
 */

/** A kind of machine a task can run on, with its list price (us-east-1, to be checked). */
export interface CapacityClass {
  id: string;
  instanceType: string;
  device: string;
  onDemandUsdPerHour: number;
}

/** Prices are AWS on-demand list prices in us-east-1 as known when this was written: check them. */
export const CLASSES = {
  l4: { id: "l4", instanceType: "g6.xlarge", device: "NVIDIA L4 24 GB", onDemandUsdPerHour: 0.8048 },
  l40s: { id: "l40s", instanceType: "g6e.xlarge", device: "NVIDIA L40S 48 GB", onDemandUsdPerHour: 1.861 },
  // p5.48xlarge holds 8 H100s at $98.32/h; one GPU's share. AWS cut P5 prices in 2025: check.
  h100: { id: "h100", instanceType: "p5.48xlarge (1/8)", device: "NVIDIA H100 SXM 80 GB", onDemandUsdPerHour: 12.29 },
  cpu: { id: "cpu", instanceType: "c7i.large", device: "2 vCPU (the CPU image)", onDemandUsdPerHour: 0.08925 },
} as const satisfies Record<string, CapacityClass>;
export type ClassId = keyof typeof CLASSES;

export interface Workload {
  id: string;
  description: string;
  /** A published (or, for the reference model, measured) generation time the model is scaled from. */
  anchor: {
    device: string;
    seconds: number;
    frames: number;
    fps: number;
    width: number;
    height: number;
    steps: number;
    cfg: boolean;
    source: string;
  };
  /** What reelmesh runs: a mobile product would run a distilled model with few steps. */
  run: { steps: number; cfg: boolean; fps: number; width: number; height: number };
  /** Share of the anchor's time spent in the denoiser (the rest: text encoder, VAE decode). */
  denoiseShare: number;
  /** Cost of 1 s windows with conditioning frames over one whole-clip window, per video-second. */
  windowOverhead: number;
  /** Denoiser cost grows as pixels^exponent (1: linear layers; 2: attention over all tokens). */
  resolutionExponent: number;
  /** Speed of each class that can run the workload, relative to the anchor device. */
  speeds: Partial<Record<ClassId, number>>;
  /** Extra cost of each further job in a shared denoiser run, relative to the first (1: no gain). */
  batchMarginalCost: number;
}

export const WORKLOADS = {
  wan: {
    id: "wan",
    description: "Wan 2.1 T2V-1.3B class DiT, 480p 9:16, 16 fps, step- and guidance-distilled to 8 steps",
    anchor: {
      device: "RTX 4090",
      seconds: 240,
      frames: 81,
      fps: 16,
      width: 832,
      height: 480,
      steps: 50,
      cfg: true,
      source: "Wan2.1 model card (Wan-AI/Wan2.1-T2V-1.3B): a 5 s 480P video on an RTX 4090 in about 4 minutes, no quantization",
    },
    run: { steps: 8, cfg: false, fps: 16, width: 480, height: 832 },
    denoiseShare: 0.95,
    windowOverhead: 1.3,
    resolutionExponent: 1.5,
    // L40S is the 4090's AD102 with 142 SMs to its 128; L4 and H100 by NVIDIA's dense BF16 tensor
    // rates against the L40S's (121, 989 and 362 TFLOPS). Spec ratios, not measured runs.
    speeds: { l4: 0.37, l40s: 1.1, h100: 3.0 },
    batchMarginalCost: 0.9,
  },
  reference: {
    id: "reference",
    description: "reelmesh-ref-tiny, 144×256, 12 fps, 12 steps, on the CPU image",
    anchor: {
      device: "2-core CPU (bench:engine)",
      // docs/benchmarks.md#engine: tiny, 4 chunks of 12 frames at 229.8 frames/s with one job.
      seconds: 48 / 229.8,
      frames: 48,
      fps: 12,
      width: 144,
      height: 256,
      steps: 12,
      cfg: true,
      source: "npm run bench:engine (docs/benchmarks.md): tiny, 229.8 frames/s with 1 job, 317 with 4 batched",
    },
    run: { steps: 12, cfg: true, fps: 12, width: 144, height: 256 },
    denoiseShare: 0.9,
    windowOverhead: 1,
    resolutionExponent: 1,
    speeds: { cpu: 1 },
    // 4 jobs batched: 317 / 229.8 = 1.38× one job's throughput, so 4 / 1.38 = 1 + 3c.
    batchMarginalCost: (4 / (317 / 229.8) - 1) / 3,
  },
} as const satisfies Record<string, Workload>;
export type WorkloadId = keyof typeof WORKLOADS;

/**
 * Clip lengths requested, in seconds, with their shares: 4 s is the API's default, so half of the
 * requests keep it; the rest spread up to the 20 s limit with a thin tail (an assumption).
 */
const CLIP_MIX: readonly (readonly [seconds: number, share: number])[] = [
  [2, 0.05],
  [3, 0.07],
  [4, 0.5],
  [5, 0.1],
  [6, 0.08],
  [8, 0.08],
  [10, 0.06],
  [15, 0.04],
  [20, 0.02],
];

export function meanClipS(mix = CLIP_MIX): number {
  return mix.reduce((s, [d, p]) => s + d * p, 0);
}

/** A clip length drawn from the mix, given a uniform number in [0, 1). */
export function drawClipS(u: number, mix = CLIP_MIX): number {
  let acc = 0;
  for (const [d, p] of mix) if (u < (acc += p)) return d;
  return mix[mix.length - 1]![0];
}

/** Anchor-device seconds for one second of video in the workload's run configuration. */
export function workPerVideoS(w: Workload): number {
  const a = w.anchor;
  const perVideoS = a.seconds / (a.frames / a.fps);
  const pixels = (w.run.width * w.run.height) / (a.width * a.height);
  const frames = w.run.fps / a.fps;
  const guidance = (w.run.cfg ? 2 : 1) / (a.cfg ? 2 : 1);
  const denoise = (w.run.steps / a.steps) * guidance * pixels ** w.resolutionExponent * frames;
  return perVideoS * w.windowOverhead * (w.denoiseShare * denoise + (1 - w.denoiseShare) * pixels * frames);
}

export function classSpeed(w: Workload, cls: ClassId): number {
  const s = w.speeds[cls];
  if (s === undefined) throw new Error(`workload "${w.id}" does not run on "${cls}"; it runs on: ${Object.keys(w.speeds).join(", ")}`);
  return s;
}

/** Progress rate of each job in a shared run of n jobs, as a share of one job alone. */
export function batchRate(n: number, marginalCost: number): number {
  return 1 / (1 + (n - 1) * marginalCost);
}

/** The most work per second a task can do, in units of one job alone (n jobs × their rate, best n). */
export function peakThroughput(concurrency: number, marginalCost: number): number {
  let best = 0;
  for (let n = 1; n <= concurrency; n++) best = Math.max(best, n * batchRate(n, marginalCost));
  return best;
}
