import type { Tier } from "../../shared/schemas/request.ts";
import type { LoadedModel } from "./model.ts";
import type { TiledTensor } from "./ort-host.ts";
import { ort } from "./runtime.ts";

/**
 * Dynamic batching of denoiser runs. Every job denoising a chunk opens a lane; each
 * step it submits its latents (cond + uncond rows) and awaits its share of one run. Lanes
 * whose runs can share a tensor (same model and window position: equal frame_index, and
 * equal timestep when the model takes a scalar one) are concatenated on the batch axis.
 *
 * Policy, one run at a time per session (a GPU serialises them anyway):
 * - A group is flushed when every open lane that could join it has submitted, when it holds
 *   `maxJobs` lanes, or `maxWaitMs` after its first submission or after the session became
 *   free, whichever is later: the wait is bounded and only spent on lanes that are open, i.e.
 *   computing their sampler step right now (the lanes of the run that just ended, so jobs
 *   fall into step and stay there).
 * - Standard-tier work never waits for, or shares a run with, economy work (a larger run is
 *   a slower run on saturated hardware): tiers batch among themselves, and a waiting
 *   standard group always runs before an economy one.
 * - Submissions that arrive while the session is busy simply queue; they cost no wait.
 *
 * With `maxJobs: 1` every lane runs alone: the unbatched engine is the same code path.
 */
export interface BatcherOptions {
  /** Most jobs in one denoiser run. */
  maxJobs: number;
  /** Longest a submission waits for partners. */
  maxWaitMs: number;
  /** Observes each run as it starts (tests, metrics). */
  onRun?: (run: RunInfo) => void;
}

export interface RunInfo {
  tier: Tier;
  jobs: number;
  /** Submissions left queued when this run started, by tier. */
  queued: Record<Tier, number>;
}

export interface LaneSpec {
  tier: Tier;
  /** Conditioned rows: [rows, tokens, dim] (cond, and uncond with guidance). */
  text: ort.Tensor;
  frameIndex?: BigInt64Array;
}

/** The sampler step to apply on the ORT thread: x ← a·x + Σ coef[r]·output row r. */
interface SamplerStep {
  /** The model sees inputScale·x. */
  inputScale: number;
  a: number;
  /** One per row: [b·g, b·(1−g)] with guidance, [b] without. */
  coef: number[];
}

interface LaneResult {
  /** This lane's rows of the denoiser output; absent when a step was applied instead. */
  out?: Float32Array;
  /** The submitted sample, handed back: it was lent to the ORT thread (see TiledTensor). */
  sample: Float32Array;
  /** Milliseconds inside ONNX Runtime for the (possibly shared) run. */
  ms: number;
}

export interface DenoiseLane {
  /**
   * Runs the denoiser on one sample shared by all of the lane's rows (cond and uncond see the
   * same latents) at per-row timesteps. `sample` is lent to the ORT thread (its buffer is
   * detached) and comes back as LaneResult.sample; it must own its whole ArrayBuffer.
   */
  run(sample: Float32Array, timesteps: number[], step?: SamplerStep): Promise<LaneResult>;
  close(): void;
}

export interface BatcherStats {
  runs: number;
  submissions: number;
  /** runs by how many jobs shared them: jobsPerRun[n] = runs with n jobs. */
  jobsPerRun: Record<number, number>;
}

interface Lane {
  spec: LaneSpec;
  key: string;
  rows: number;
  waiting: boolean;
}

interface Pending {
  lane: Lane;
  groupKey: string;
  sample: Float32Array;
  timesteps: number[];
  step: SamplerStep | undefined;
  at: number;
  resolve(out: LaneResult): void;
  reject(err: unknown): void;
}

export class DenoiseBatcher {
  private readonly model: LoadedModel;
  private readonly opts: BatcherOptions;
  private readonly lanes = new Set<Lane>();
  private queue: Pending[] = [];
  private running = false;
  /** When the session last became free: a queued group's wait starts no earlier. */
  private freeSince = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly sampleSize: number;
  private readonly scalarTimestep: boolean;
  readonly stats: BatcherStats = { runs: 0, submissions: 0, jobsPerRun: {} };

  constructor(model: LoadedModel, opts: Partial<BatcherOptions> = {}) {
    this.model = model;
    this.opts = { maxJobs: opts.maxJobs ?? 4, maxWaitMs: opts.maxWaitMs ?? 5, ...(opts.onRun ? { onRun: opts.onRun } : {}) };
    if (this.opts.maxJobs < 1) throw new Error("maxJobs must be at least 1");
    const l = model.manifest.latent;
    this.sampleSize = l.channels * l.frames * l.height * l.width;
    this.scalarTimestep = timestepSpec(model).shape.length === 0;
  }

  lane(spec: LaneSpec): DenoiseLane {
    const lane: Lane = { spec, key: spec.frameIndex ? `f${spec.frameIndex[0]}` : "-", rows: spec.text.dims[0]!, waiting: false };
    this.lanes.add(lane);
    return {
      run: (sample, timesteps, step) =>
        new Promise<LaneResult>((resolve, reject) => {
          if (!this.lanes.has(lane)) throw new Error("lane is closed");
          if (timesteps.length !== lane.rows || sample.length !== this.sampleSize) {
            throw new Error(
              `a lane submits one sample of ${this.sampleSize} values for ${lane.rows} rows; got ${sample.length} values, ${timesteps.length} timesteps`,
            );
          }
          if (this.scalarTimestep && new Set(timesteps).size > 1) throw new Error("this model takes one timestep per run");
          const groupKey = this.scalarTimestep ? `${lane.key}|t${timesteps[0]}` : lane.key;
          lane.waiting = true;
          this.stats.submissions++;
          this.queue.push({ lane, groupKey, sample, timesteps, step, at: performance.now(), resolve, reject });
          this.schedule();
        }),
      close: () => {
        this.lanes.delete(lane);
        this.schedule();
      },
    };
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    // The group to run next: the oldest standard submission's, else the oldest submission's.
    const head = this.queue.find((p) => p.lane.spec.tier === "standard") ?? this.queue[0]!;
    const standard = head.lane.spec.tier === "standard";
    const members = this.queue
      .filter((p) => p.groupKey === head.groupKey && (p.lane.spec.tier === "standard") === standard)
      .slice(0, this.opts.maxJobs);
    if (members.length < this.opts.maxJobs) {
      const expected = [...this.lanes].filter(
        (l) => !l.waiting && l.key === head.lane.key && (!standard || l.spec.tier === "standard"),
      ).length;
      const waitLeft = Math.max(head.at, this.freeSince) + this.opts.maxWaitMs - performance.now();
      if (expected > 0 && waitLeft > 0) {
        this.timer = setTimeout(() => this.schedule(), waitLeft);
        return;
      }
    }
    void this.execute(members);
  }

  private async execute(members: Pending[]): Promise<void> {
    this.running = true;
    const taken = new Set(members);
    this.queue = this.queue.filter((p) => !taken.has(p));
    for (const p of members) p.lane.waiting = false;
    this.stats.runs++;
    this.stats.jobsPerRun[members.length] = (this.stats.jobsPerRun[members.length] ?? 0) + 1;
    this.opts.onRun?.({
      tier: members[0]!.lane.spec.tier,
      jobs: members.length,
      queued: {
        standard: this.queue.filter((p) => p.lane.spec.tier === "standard").length,
        economy: this.queue.filter((p) => p.lane.spec.tier === "economy").length,
      },
    });
    try {
      const { out, ms, samples } = await this.runOnce(members);
      let row = 0;
      for (const [i, p] of members.entries()) {
        const mine = out?.subarray(row * this.sampleSize, (row + p.lane.rows) * this.sampleSize);
        p.resolve({ ...(mine ? { out: mine } : {}), sample: samples[i]!, ms });
        row += p.lane.rows;
      }
    } catch (err) {
      for (const p of members) p.reject(err);
    } finally {
      this.running = false;
      this.freeSince = performance.now();
      this.schedule();
    }
  }

  private async runOnce(members: Pending[]): Promise<{ out: Float32Array | undefined; ms: number; samples: Float32Array[] }> {
    const { manifest: m, sessions } = this.model;
    const io = m.io.denoiser;
    const l = m.latent;
    const rows = members.reduce((s, p) => s + p.lane.rows, 0);
    const first = members[0]!;
    const dims = l.layout === "BCFHW" ? [rows, l.channels, l.frames, l.height, l.width] : [rows, l.frames, l.channels, l.height, l.width];
    // Assembled on the ORT thread: each lane's sample repeated for its rows, lanes concatenated.
    const stepped = members.every((p) => p.step);
    const sample: TiledTensor = {
      tiled: true,
      type: "float32",
      dims,
      lend: true,
      parts: members.map((p) => ({
        data: p.sample,
        repeat: p.lane.rows,
        ...(p.step ? { scale: p.step.inputScale } : {}),
        ...(stepped ? { update: { a: p.step!.a, coef: p.step!.coef } } : {}),
      })),
      ...(stepped ? { updateFrom: io.out } : {}),
    };
    const textDims = [rows, ...first.lane.spec.text.dims.slice(1)];
    const text: TiledTensor = {
      tiled: true,
      type: "float32",
      dims: textDims,
      parts: members.map((p) => ({ data: p.lane.spec.text.data as Float32Array, repeat: 1 })),
    };
    const feeds: Record<string, ort.Tensor | TiledTensor> = {
      [io.sample]: sample,
      [io.timestep]: timestepTensor(
        this.model,
        members.flatMap((p) => p.timesteps),
      ),
      [io.encoder_hidden_states]: text,
    };
    if (io.frame_index) feeds[io.frame_index] = new ort.Tensor("int64", first.lane.spec.frameIndex!, [l.frames]);
    const { outputs, ms, returned } = await sessions.denoiser.run(feeds);
    return { out: stepped ? undefined : (outputs[io.out]!.data as Float32Array), ms, samples: returned[io.sample]! };
  }
}

function timestepSpec(model: LoadedModel) {
  const name = model.manifest.io.denoiser.timestep;
  const spec = model.manifest.graphs.denoiser.inputs.find((i) => i.name === name);
  if (!spec) throw new Error(`denoiser timestep input "${name}" is not declared in the manifest`);
  return spec;
}

/** The timestep tensor in the model's own dtype and rank: [] (one for the run) or [batch]. */
function timestepTensor(model: LoadedModel, values: number[]): ort.Tensor {
  const spec = timestepSpec(model);
  const dims = spec.shape.length === 0 ? [] : [values.length];
  const vals = spec.shape.length === 0 ? values.slice(0, 1) : values;
  switch (spec.dtype) {
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(vals), dims);
    case "int64":
      return new ort.Tensor(
        "int64",
        BigInt64Array.from(vals, (v) => BigInt(Math.round(v))),
        dims,
      );
    case "int32":
      return new ort.Tensor(
        "int32",
        Int32Array.from(vals, (v) => Math.round(v)),
        dims,
      );
    default:
      throw new Error(`timestep dtype ${spec.dtype} is not supported`);
  }
}
