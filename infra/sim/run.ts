import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { POLICY } from "../scaling/policy.ts";
import { dayChart } from "./chart.ts";
import { DEFAULT_CONFIG, type SimConfig } from "./config.ts";
import { deploymentTable, duration, goalLines, placementTable, policyTable, sweepTable } from "./report.ts";
import { CLASSES, classSpeed, meanClipS, peakThroughput, workPerVideoS, WORKLOADS, type ClassId, type WorkloadId } from "./service.ts";
import { withTiers } from "./scenarios.ts";
import { runStudy } from "./study.ts";
import { loadTrace, DEFAULT_TRACE } from "./trace.ts";
import { tune } from "./tune.ts";

const HELP = `npm run sim [-- options]

Replays a day of arrivals (infra/sim/data/tidal-trace.csv) through each scaling policy and prints
the policies side by side, reelmesh's goals, a cold-start sweep and where economy work runs;
writes a chart of the day (SVG). docs/scaling.md explains the model and every figure.

  --json                one JSON object on stdout instead of the tables
  --out DIR             where the chart goes (default .reelmesh/sim)
  --seed N              random seed (default ${DEFAULT_CONFIG.seed}): arrivals, spot, scale-in choices
  --trace FILE          another trace with the same columns
  --workload ID         ${Object.keys(WORKLOADS).join(" | ")} (default ${DEFAULT_CONFIG.workload.id})
  --steps N             denoising steps per chunk (default ${DEFAULT_CONFIG.workload.run.steps})
  --cfg true|false      classifier-free guidance (default ${DEFAULT_CONFIG.workload.run.cfg})
  --batch-cost X        cost of each further job in a shared denoiser run (default ${DEFAULT_CONFIG.workload.batchMarginalCost})
  --cold-start S        seconds from launch to serving (default ${DEFAULT_CONFIG.coldStartS})
  --spot-rate X         spot interruptions per instance-hour (default ${DEFAULT_CONFIG.spotInterruptionsPerHour})
  --spot-share X        spot price as a share of on-demand (default ${DEFAULT_CONFIG.spotPriceShare})
  --price CLASS=USD     on-demand $/hour of a class (${Object.keys(CLASSES).join(", ")}); repeatable
  --cpu-busy X          CPU share a busy GPU task uses, for cdk-default's CPU scaling (default ${DEFAULT_CONFIG.cpuBusyShare})
  --target N            what if: the standard tier's targetBacklogPerTask instead of policy.ts's (${POLICY.tiers.standard.targetBacklogPerTask})
  --quick               skip the cold-start sweep and the placement comparison
  --tune                search reelmesh's values instead (prints a grid and a pick)
`;

const { values: a } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    out: { type: "string", default: ".reelmesh/sim" },
    seed: { type: "string" },
    trace: { type: "string" },
    workload: { type: "string" },
    steps: { type: "string" },
    cfg: { type: "string" },
    "batch-cost": { type: "string" },
    "cold-start": { type: "string" },
    "spot-rate": { type: "string" },
    "spot-share": { type: "string" },
    "cpu-busy": { type: "string" },
    target: { type: "string" },
    price: { type: "string", multiple: true },
    quick: { type: "boolean", default: false },
    tune: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (a.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function num(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number ≥ 0, got "${v}"`);
  return n;
}

function configFromArgs(): SimConfig {
  const id = (a.workload ?? DEFAULT_CONFIG.workload.id) as WorkloadId;
  if (!(id in WORKLOADS)) throw new Error(`--workload "${id}" is not one of: ${Object.keys(WORKLOADS).join(", ")}`);
  const base = WORKLOADS[id];
  const prices = { ...DEFAULT_CONFIG.onDemandUsdPerHour };
  for (const p of a.price ?? []) {
    const [cls, usd] = p.split("=");
    if (!cls || !(cls in CLASSES)) throw new Error(`--price ${p}: the class must be one of ${Object.keys(CLASSES).join(", ")}`);
    prices[cls as ClassId] = num("price", usd, NaN);
  }
  return {
    ...DEFAULT_CONFIG,
    seed: num("seed", a.seed, DEFAULT_CONFIG.seed),
    workload: {
      ...base,
      run: { ...base.run, steps: num("steps", a.steps, base.run.steps), cfg: a.cfg === undefined ? base.run.cfg : a.cfg === "true" },
      batchMarginalCost: num("batch-cost", a["batch-cost"], base.batchMarginalCost),
    },
    coldStartS: num("cold-start", a["cold-start"], DEFAULT_CONFIG.coldStartS),
    spotInterruptionsPerHour: num("spot-rate", a["spot-rate"], DEFAULT_CONFIG.spotInterruptionsPerHour),
    spotPriceShare: num("spot-share", a["spot-share"], DEFAULT_CONFIG.spotPriceShare),
    cpuBusyShare: num("cpu-busy", a["cpu-busy"], DEFAULT_CONFIG.cpuBusyShare),
    onDemandUsdPerHour: prices,
  };
}

/** What one job costs on each class the workload runs on. */
function serviceLines(cfg: SimConfig): string[] {
  const w = cfg.workload;
  const perS = workPerVideoS(w);
  const full = peakThroughput(cfg.concurrency, w.batchMarginalCost);
  const lines = [
    `Workload: ${w.description} (${w.run.steps} steps, guidance ${w.run.cfg ? "on" : "off"}).`,
    `  anchor: ${w.anchor.source}; ${perS.toFixed(2)} s of ${w.anchor.device} per second of video as reelmesh runs it; mean clip ${meanClipS().toFixed(2)} s.`,
  ];
  for (const [cls, speed] of Object.entries(w.speeds)) {
    const c = CLASSES[cls as ClassId];
    const alone = (4 * perS) / classSpeed(w, cls as ClassId);
    const usdPerVideoMin = ((cfg.onDemandUsdPerHour[cls as ClassId] / 3600) * 60 * perS) / (speed * full);
    lines.push(
      `  ${c.device} (${c.instanceType}, $${cfg.onDemandUsdPerHour[cls as ClassId]}/h): a 4 s clip ${alone.toFixed(1)} s alone, ${(alone * (1 + (cfg.concurrency - 1) * w.batchMarginalCost)).toFixed(1)} s in a full batch of ${cfg.concurrency}; $${usdPerVideoMin.toFixed(3)} per video-minute at full batches, on-demand`,
    );
  }
  return lines;
}

const started = performance.now();
const config = configFromArgs();
const trace = loadTrace(a.trace ?? DEFAULT_TRACE);
if (a.tune) {
  process.stdout.write(`${tune(config, trace)}\n`);
  process.exit(0);
}
const policy = a.target === undefined ? undefined : withTiers(POLICY, { standard: { targetBacklogPerTask: num("target", a.target, 0) } });
const study = runStudy(config, trace, { sweep: !a.quick, placement: !a.quick, ...(policy ? { policy } : {}) });
const outDir = resolve(a.out);
mkdirSync(outDir, { recursive: true });
const chartPath = resolve(outDir, "day.svg");
const panels = study.results.map((r) => ({
  name: r.name,
  subtitle: `${r.metrics.gpuHours.total.toFixed(0)} GPU-h (${r.metrics.gpuHoursOverOracle.toFixed(2)} × oracle), $${Math.round(r.metrics.costUsd)}, standard p95 ${duration(r.metrics.waitS.standard.p95)}, ${(100 * r.metrics.standardWithinGoal).toFixed(1)} % within ${config.waitGoalS} s`,
  log: r.log,
}));
writeFileSync(
  chartPath,
  dayChart(`reelmesh fleet through one day, cold start ${config.coldStartS} s, seed ${config.seed}`, demandOf(), panels),
);
const elapsedS = (performance.now() - started) / 1000;

function demandOf() {
  const { day } = study;
  const cls = study.results.find((r) => r.name === "reelmesh")!.log.tasks[0]?.pool.spec.classId ?? "l40s";
  const perTask = classSpeed(day.workload, cls) * peakThroughput(config.concurrency, day.workload.batchMarginalCost) * 60;
  const d = { standard: new Array<number>(1440).fill(0), economy: new Array<number>(1440).fill(0) };
  for (const j of study.results[0]!.log.jobs) {
    if (j.at >= day.window.fromS && j.at < day.window.toS) d[j.tier][Math.floor((j.at - day.window.fromS) / 60)]! += j.work / perTask;
  }
  return d;
}

if (a.json) {
  const { day } = study;
  process.stdout.write(
    `${JSON.stringify({
      config: {
        ...config,
        trace: a.trace ?? "infra/sim/data/tidal-trace.csv",
        measuredDay: day.window,
        spikeStartS: day.spikeStartS - day.window.fromS,
      },
      policies: study.results.map((r) => r.metrics),
      goals: study.goals,
      deployments: study.deployments,
      coldStartSweep: study.sweep.map((s) => ({ policy: s.policy, coldStartS: s.coldStartS, metrics: s.metrics })),
      economyPlacement: study.placement.map((p) => ({ economyOn: p.label, metrics: p.metrics })),
      chart: chartPath,
      elapsedS,
    })}\n`,
  );
} else {
  const { day } = study;
  const m0 = study.results[0]!.metrics;
  const spike = new Date((day.spikeStartS - day.window.fromS) * 1000).toISOString().slice(11, 16);
  const out = [
    `One day of ${a.trace ?? "infra/sim/data/tidal-trace.csv"}: ${m0.jobs.standard.toLocaleString("en-US")} standard and ${m0.jobs.economy.toLocaleString("en-US")} economy jobs, spike at ${spike} UTC (${day.spikeRatio.toFixed(1)}× the rate of the half hour before); seed ${config.seed}${a.target === undefined ? "" : `; standard target ${a.target} instead of policy.ts's`}.`,
    ...serviceLines(config),
    `Cold start ${config.coldStartS} s; ${config.concurrency} jobs per task; spot: ${config.spotInterruptionsPerHour} interruptions per instance-hour, ${config.spotNoticeS} s notice, priced at ${config.spotPriceShare * 100} % of on-demand.`,
    "",
    policyTable(study.results.map((r) => r.metrics)),
    "",
    `Goals for reelmesh (cold start ${config.coldStartS} s):`,
    goalLines(study.goals),
    "",
    "reelmesh's policy under each deployment's control loop:",
    deploymentTable([{ name: "reelmesh", metrics: study.results.at(-1)!.metrics, goals: study.goals }, ...study.deployments]),
    ...study.deployments.flatMap((d) => d.goals.filter((g) => !g.met).map((g) => `  ${d.name} misses: ${g.goal}: ${g.value}`)),
  ];
  if (study.sweep.length) out.push("", "Cold-start sweep:", sweepTable(study.sweep));
  if (study.placement.length) out.push("", "Where reelmesh's economy tier runs:", placementTable(study.placement));
  out.push("", `Chart: ${chartPath}`, `Ran in ${elapsedS.toFixed(1)} s.`);
  process.stdout.write(`${out.join("\n")}\n`);
}
