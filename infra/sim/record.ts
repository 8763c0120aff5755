import type { Tier } from "../scaling/policy.ts";
import type { Job, MetricHistory, Task } from "./model.ts";
import type { ClassId } from "./service.ts";

/** What one replay leaves behind: raw facts, summarised by metrics.ts. */
export interface RunLog {
  /** The measured day, [fromS, toS). */
  window: { fromS: number; toS: number };
  endS: number;
  jobs: Job[];
  tasks: Task[];
  /** Work done inside the window (anchor-device seconds) per class, net of work lost to hand-backs. */
  usefulWork: Partial<Record<ClassId, number>>;
  /** Task-seconds inside the window with at least one job. */
  busyS: number;
  /** GPU-seconds inside the window spent on economy jobs, in standard peak hours and outside them. */
  economyGpuS: { peak: number; offPeak: number };
  /** GPU-seconds of work lost to hand-backs inside the window (redone from the last chunk). */
  reworkGpuS: number;
  killedByScaleIn: number;
  /** Worker processes replaced on their instance at REELMESH_MAX_JOBS, and the seconds that took. */
  processRestarts: number;
  restartGpuS: number;
  preemptions: number;
  preemptedJobs: number;
  scaleOuts: number;
  scaleIns: number;
  samples: Samples;
}

/** State every `sampleS` seconds, for the chart and the drain time. */
interface Samples {
  t: number[];
  visible: Record<Tier, number[]>;
  oldestAgeS: Record<Tier, number[]>;
  /** Tasks billed at the sample (booting, serving or draining), per pool, and of those on spot. */
  tasks: Record<string, number[]>;
  spotTasks: number[];
}

export function newLog(fromS: number, toS: number, endS: number, poolIds: readonly string[]): RunLog {
  return {
    window: { fromS, toS },
    endS,
    jobs: [],
    tasks: [],
    usefulWork: {},
    busyS: 0,
    economyGpuS: { peak: 0, offPeak: 0 },
    reworkGpuS: 0,
    killedByScaleIn: 0,
    processRestarts: 0,
    restartGpuS: 0,
    preemptions: 0,
    preemptedJobs: 0,
    scaleOuts: 0,
    scaleIns: 0,
    samples: {
      t: [],
      visible: { standard: [], economy: [] },
      oldestAgeS: { standard: [], economy: [] },
      tasks: Object.fromEntries(poolIds.map((id) => [id, []])),
      spotTasks: [],
    },
  };
}

/** Minute datapoints of named metrics, averaged over aligned periods like a CloudWatch alarm. */
export class History implements MetricHistory {
  readonly #t: number[] = [];
  readonly #series = new Map<string, number[]>();

  record(t: number, values: Record<string, number>): void {
    this.#t.push(t);
    for (const [k, v] of Object.entries(values)) {
      let s = this.#series.get(k);
      if (!s) this.#series.set(k, (s = []));
      s.push(v);
    }
  }

  average(key: string, now: number, periodS: number, delayS: number): number | undefined {
    const s = this.#series.get(key);
    if (!s) return undefined;
    const end = Math.floor((now - delayS) / periodS) * periodS;
    let sum = 0;
    let n = 0;
    // Datapoints are appended in time order: walk back from the newest.
    for (let i = this.#t.length - 1; i >= 0; i--) {
      const t = this.#t[i]!;
      if (t > end) continue;
      if (t <= end - periodS) break;
      sum += s[i]!;
      n++;
    }
    return n ? sum / n : undefined;
  }
}
