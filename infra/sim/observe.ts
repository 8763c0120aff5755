import { TIERS } from "../scaling/policy.ts";
import type { SimConfig } from "./config.ts";
import type { MetricHistory, Pool, ScalerView } from "./model.ts";
import type { JobQueues } from "./queues.ts";
import type { History, RunLog } from "./record.ts";

/** What the fleet shows the outside: a scaler's view, the state samples, the minute datapoints. */

export function scalerView(p: Pool, queues: JobQueues, now: number, history: MetricHistory): ScalerView {
  const active = p.tasks.filter((t) => t.state === "booting" || t.state === "ready");
  return {
    now,
    pool: {
      id: p.spec.id,
      target: p.target,
      active: active.length,
      ready: active.filter((t) => t.state === "ready").length,
      booting: active.filter((t) => t.state === "booting").length,
      idle: active.filter((t) => t.state === "ready" && !t.jobs.length).length,
    },
    queues: queues.view(now),
    history,
  };
}

/** Appends the state at `now` to the log's samples, and each whole minute a datapoint of every metric. */
export function recordState(log: RunLog, history: History, pools: readonly Pool[], queues: JobQueues, now: number, cfg: SimConfig): void {
  const s = log.samples;
  s.t.push(now);
  for (const tier of TIERS) {
    s.visible[tier].push(queues.visible(tier));
    s.oldestAgeS[tier].push(queues.oldestAgeS(tier, now));
  }
  let spot = 0;
  for (const p of pools) {
    s.tasks[p.spec.id]!.push(p.tasks.length);
    spot += p.tasks.filter((t) => t.spot).length;
  }
  s.spotTasks.push(spot);
  if (now % 60 !== 0) return;
  const values: Record<string, number> = {};
  for (const tier of TIERS) {
    values[`visible:${tier}`] = queues.visible(tier);
    values[`inflight:${tier}`] = queues.inFlight(tier);
    values[`age:${tier}`] = queues.oldestAgeS(tier, now);
  }
  for (const p of pools) {
    const ready = p.tasks.filter((t) => t.state === "ready");
    const busy = ready.filter((t) => t.jobs.length).length;
    values[`running:${p.spec.id}`] = ready.length;
    values[`cpu:${p.spec.id}`] = ready.length
      ? (100 * (busy * cfg.cpuBusyShare + (ready.length - busy) * cfg.cpuIdleShare)) / ready.length
      : 0;
  }
  history.record(now, values);
}
