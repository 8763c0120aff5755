import type { GoalCheck } from "./goals.ts";
import type { PolicyMetrics } from "./metrics.ts";

/** The plain-text tables `npm run sim` prints. */

export function duration(s: number): string {
  if (!Number.isFinite(s)) return "never";
  if (s < 100) return `${s.toFixed(1)} s`;
  if (s < 5_400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`;
const n1 = (x: number) => x.toFixed(1);
const int = (x: number) => Math.round(x).toLocaleString("en-US");

type Row = [label: string, value: (m: PolicyMetrics) => string];

const ROWS: Row[] = [
  ["GPU-hours, on-demand", (m) => n1(m.gpuHours.onDemand)],
  ["GPU-hours, spot", (m) => n1(m.gpuHours.spot)],
  ["oracle GPU-hours (busy time at full batches)", (m) => n1(m.oracleGpuHours)],
  ["GPU-hours / oracle", (m) => `${m.gpuHoursOverOracle.toFixed(3)} ×`],
  ["cost $ (spot at its price)", (m) => int(m.costUsd)],
  ["cost $, all hours on-demand", (m) => int(m.costAtOnDemandUsd)],
  ["utilisation (billed time with a job)", (m) => pct(m.utilisation)],
  ["standard wait p50", (m) => duration(m.waitS.standard.p50)],
  ["standard wait p95", (m) => duration(m.waitS.standard.p95)],
  ["standard wait p99", (m) => duration(m.waitS.standard.p99)],
  ["standard jobs within the wait goal", (m) => pct(m.standardWithinGoal, 2)],
  ["standard wait p95 in the spike's 20 min", (m) => duration(m.standardP95InSpikeS)],
  ["economy wait p50", (m) => duration(m.waitS.economy.p50)],
  ["economy wait p95", (m) => duration(m.waitS.economy.p95)],
  ["economy wait p99", (m) => duration(m.waitS.economy.p99)],
  ["economy done within 6 h (job timeout)", (m) => pct(m.economy.doneWithinTimeout, 2)],
  ["economy done within 24 h", (m) => pct(m.economy.doneWithinDay, 2)],
  ["economy GPU time outside standard peaks", (m) => pct(m.economy.gpuSharesOutsidePeaks)],
  ["cold starts", (m) => int(m.coldStarts)],
  ["GPU-hours burnt in cold starts", (m) => n1(m.coldStartGpuS / 3600)],
  ["process restarts (REELMESH_MAX_JOBS)", (m) => int(m.processRestarts)],
  ["scale events, out / in", (m) => `${int(m.scaleOuts)} / ${int(m.scaleIns)}`],
  ["jobs killed by scale-in", (m) => int(m.killedByScaleIn)],
  ["spot preemptions / jobs moved", (m) => `${int(m.preemptions)} / ${int(m.preemptedJobs)}`],
  ["reworked GPU-seconds", (m) => int(m.reworkGpuS)],
  ["peak backlog, standard / economy", (m) => `${int(m.peakBacklog.standard)} / ${int(m.peakBacklog.economy)}`],
  ["drain after the spike", (m) => duration(m.drainAfterSpikeS)],
];

/** Metrics as rows, policies as columns. */
export function policyTable(ms: readonly PolicyMetrics[]): string {
  const header = ["", ...ms.map((m) => m.name)];
  return grid([header, ...ROWS.map(([label, f]) => [label, ...ms.map(f)])]);
}

export interface SweepRow {
  policy: string;
  coldStartS: number;
  metrics: PolicyMetrics;
}

export function sweepTable(rows: readonly SweepRow[]): string {
  const header = [
    "policy",
    "cold start",
    "GPU-h",
    "/ oracle",
    "cost $",
    "std p95",
    "std ≤ goal",
    "spike p95",
    "cold starts",
    "cold GPU-h",
    "killed",
    "drain",
  ];
  return grid([
    header,
    ...rows.map(({ policy, coldStartS, metrics: m }) => [
      policy,
      `${coldStartS} s`,
      n1(m.gpuHours.total),
      m.gpuHoursOverOracle.toFixed(3),
      int(m.costUsd),
      duration(m.waitS.standard.p95),
      pct(m.standardWithinGoal),
      duration(m.standardP95InSpikeS),
      int(m.coldStarts),
      n1(m.coldStartGpuS / 3600),
      int(m.killedByScaleIn),
      duration(m.drainAfterSpikeS),
    ]),
  ]);
}

export interface PlacementRow {
  label: string;
  metrics: PolicyMetrics;
}

export function placementTable(rows: readonly PlacementRow[]): string {
  const header = [
    "economy runs on",
    "GPU-h",
    "/ oracle",
    "cost $",
    "eco p95 wait",
    "eco ≤ 6 h",
    "eco off-peak",
    "preemptions",
    "rework GPU-s",
  ];
  return grid([
    header,
    ...rows.map(({ label, metrics: m }) => [
      label,
      n1(m.gpuHours.total),
      m.gpuHoursOverOracle.toFixed(3),
      int(m.costUsd),
      duration(m.waitS.economy.p95),
      pct(m.economy.doneWithinTimeout, 2),
      pct(m.economy.gpuSharesOutsidePeaks),
      int(m.preemptions),
      int(m.reworkGpuS),
    ]),
  ]);
}

export function deploymentTable(rows: readonly { name: string; metrics: PolicyMetrics; goals: readonly GoalCheck[] }[]): string {
  const header = [
    "",
    "GPU-h",
    "/ oracle",
    "cost $",
    "std p95",
    "std ≤ goal",
    "spike p95",
    "killed",
    "eco off-peak",
    "eco ≤ 6 h",
    "cold starts",
    "goals met",
  ];
  return grid([
    header,
    ...rows.map(({ name, metrics: m, goals }) => [
      name,
      n1(m.gpuHours.total),
      m.gpuHoursOverOracle.toFixed(3),
      int(m.costUsd),
      duration(m.waitS.standard.p95),
      pct(m.standardWithinGoal),
      duration(m.standardP95InSpikeS),
      int(m.killedByScaleIn),
      pct(m.economy.gpuSharesOutsidePeaks),
      pct(m.economy.doneWithinTimeout, 2),
      int(m.coldStarts),
      `${goals.filter((g) => g.met).length} / ${goals.length}`,
    ]),
  ]);
}

export function goalLines(checks: readonly GoalCheck[]): string {
  return checks.map((c) => `${c.met ? "met    " : "NOT MET"}  ${c.goal}: ${c.value}`).join("\n");
}

/** Left-aligned first column, right-aligned others. */
export function grid(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")).join("\n");
}
