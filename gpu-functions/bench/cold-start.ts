import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { availableParallelism, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";
import { freePort } from "../../infra/local/processes.ts";
import { provision } from "../../infra/local/resources.ts";
import { DEFAULT_MODEL, frameSize, MODELS } from "../../shared/models.ts";
import { outputPrefix } from "../../shared/layout.ts";
import type { JobMessage } from "../../shared/schemas/job-message.ts";

/**
 * `npm run bench:cold-start [-- --json] [--runs N] [--chunks N] [--steps N] [--trace]`
 *
 * A GPU function's cold start, measured: a job waits in the queue (a scale-out is triggered by
 * waiting work), then a fresh worker process is spawned and timed from its start to `/healthz`
 * 200 (alive), `/readyz` 200 (model loaded on its execution provider), the job received, its
 * first segment committed to S3 (the `chunk` event for chunk 0) and the job completed. Each run
 * is a new process against a private SQS/S3 emulator and a local receiver of the worker's
 * events; no edge. Instance boot and image pull are not in it (docs/worker.md). `--trace`
 * prints each worker's log lines with the milliseconds since its start.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const json = args.includes("--json");
const trace = args.includes("--trace");
const runs = Number(opt("runs", "10"));
const spec = MODELS[DEFAULT_MODEL];
const chunks = Number(opt("chunks", "4"));
const steps = Number(opt("steps", String(spec.defaultSteps)));
/** The goal for process start → first segment on this machine (the issue's, against RunPod FlashBoot's p95 of 2.3 s). */
const GOAL_MS = 2_000;
const RUN_TIMEOUT_MS = 120_000;
/** Probe polling: fine enough to time, sparse enough not to take the CPU the worker is starting on. */
const POLL_MS = 20;
const PHASES = ["alive", "ready", "received", "first_segment", "completed"] as const;
type Phase = (typeof PHASES)[number];
const LABELS: Record<Phase, string> = {
  alive: "process start → /healthz 200 (alive)",
  ready: "process start → /readyz 200 (model loaded)",
  received: "process start → job received",
  first_segment: "process start → first segment committed",
  completed: "process start → job completed",
};

const emulator = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
const aws = { endpoint: `http://127.0.0.1:${emulator.port}`, region: "us-east-1", accessKeyId: "bench", secretAccessKey: "bench" };
const queues = await provision(aws);
const sqs = new SQSClient({ endpoint: aws.endpoint, region: aws.region, credentials: { accessKeyId: "bench", secretAccessKey: "bench" } });

/** The worker's events, by job, with when they arrived. */
const arrivals = new Map<string, { type: string; chunk?: number; at: number }[]>();
const receiver: Server = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString("utf8")));
  req.on("end", () => {
    const at = performance.now();
    const e = JSON.parse(body) as { job_id: string; type: string; chunk?: { index: number } };
    arrivals.set(e.job_id, [...(arrivals.get(e.job_id) ?? []), { type: e.type, ...(e.chunk ? { chunk: e.chunk.index } : {}), at }]);
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
const receiverPort = await freePort();
await new Promise<void>((r) => receiver.listen(receiverPort, "127.0.0.1", r));

function jobMessage(id: string): JobMessage {
  const { width, height } = frameSize(spec.resolutions["144p"], "9:16");
  return {
    v: 1,
    job_id: id,
    account_id: "acct_bench",
    model: DEFAULT_MODEL,
    prompt: "a red ball bouncing",
    negative_prompt: "",
    seed: 1,
    steps,
    guidance: spec.defaultGuidance,
    width,
    height,
    fps: spec.fps,
    chunk_frames: spec.chunkFrames,
    num_chunks: chunks,
    tier: "standard",
    output: { bucket: queues.bucket, prefix: outputPrefix(id) },
    events_url: `http://127.0.0.1:${receiverPort}/events`,
    enqueued_at: new Date().toISOString(),
  };
}

const ok = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
};

interface Run {
  ms: Record<Phase, number>;
  /** The worker's own view: performance.now() at "worker ready", and its model load. */
  workerReadyMs: number;
  loadMs: number;
}

async function coldStart(i: number): Promise<Run> {
  const id = `vid_coldstart_${Date.now()}_${i}`;
  await sqs.send(new SendMessageCommand({ QueueUrl: queues.standardQueueUrl, MessageBody: JSON.stringify(jobMessage(id)) }));
  const port = await freePort();
  const env = {
    ...process.env,
    AWS_REGION: aws.region,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
    SQS_QUEUE_URL_STANDARD: queues.standardQueueUrl,
    SQS_QUEUE_URL_ECONOMY: queues.economyQueueUrl,
    REELMESH_EVENTS_SECRET: "cold-start-bench-secret",
    REELMESH_METRICS_PORT: String(port),
    REELMESH_WORKER_ID: `coldstart-${i}`,
    // One job, then it exits: each run is a cold process.
    REELMESH_MAX_JOBS: "1",
  };
  const t0 = performance.now();
  const proc = spawn(process.execPath, ["gpu-functions/main.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (d: Buffer) => {
    output += d.toString("utf8");
    if (!trace) return;
    for (const line of d.toString("utf8").trim().split("\n")) console.error(`${Math.round(performance.now() - t0)}\t${line.slice(0, 200)}`);
  };
  proc.stdout.on("data", collect);
  proc.stderr.on("data", collect);
  const exited = new Promise<number | string>((r) => proc.on("exit", (code, signal) => r(code ?? signal ?? "unknown")));
  const ms: Partial<Record<Phase, number>> = {};
  const deadline = t0 + RUN_TIMEOUT_MS;
  try {
    while (ms.completed === undefined) {
      if (performance.now() > deadline || proc.exitCode !== null) throw new Error(`run ${i} did not complete:\n${output.slice(-2000)}`);
      const now = performance.now() - t0;
      if (ms.alive === undefined && (await ok(`http://127.0.0.1:${port}/healthz`))) ms.alive = now;
      if (ms.alive !== undefined && ms.ready === undefined && (await ok(`http://127.0.0.1:${port}/readyz`))) ms.ready = now;
      const events = arrivals.get(id) ?? [];
      const at = (pred: (e: (typeof events)[number]) => boolean) => events.find(pred)?.at;
      ms.received ??= at((e) => e.type === "started") !== undefined ? at((e) => e.type === "started")! - t0 : undefined;
      const first = at((e) => e.type === "chunk" && e.chunk === 0);
      if (first !== undefined) ms.first_segment = first - t0;
      const done = at((e) => e.type === "completed");
      if (done !== undefined) ms.completed = done - t0;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const code = await exited;
    if (code !== 0) throw new Error(`run ${i}: the worker exited ${code}:\n${output.slice(-2000)}`);
  } finally {
    proc.kill("SIGKILL");
  }
  const ready = output
    .split("\n")
    .filter((l) => l.includes('"msg":"worker ready"'))
    .map((l) => JSON.parse(l) as { since_start_ms: number; load_ms: number })[0]!;
  return { ms: ms as Record<Phase, number>, workerReadyMs: ready.since_start_ms, loadMs: ready.load_ms };
}

/** The machine may be shared: its load, before and after, goes with the figures. */
const loadBefore = loadavg()[0]!;
const results: Run[] = [];
try {
  for (let i = 0; i < runs; i++) results.push(await coldStart(i));
} finally {
  receiver.close();
  sqs.destroy();
  await emulator.stop();
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
/** Nearest rank: with 10 runs the p95 is the slowest. */
const p95 = (xs: number[]) => sorted(xs)[Math.ceil(0.95 * xs.length) - 1]!;
const r0 = (n: number) => Math.round(n);
const r2 = (n: number) => Math.round(n * 100) / 100;
const summary = (xs: number[]) => ({ median: r0(median(xs)), p95: r0(p95(xs)), max: r0(Math.max(...xs)) });
const phases = Object.fromEntries(
  PHASES.map((p) => [p, { ...summary(results.map((r) => r.ms[p])), runs: results.map((r) => r0(r.ms[p])) }]),
);
const report = {
  machine: { cores: availableParallelism(), node: process.version, load_avg_1m: { before: r2(loadBefore), after: r2(loadavg()[0]!) } },
  model: DEFAULT_MODEL,
  job: { chunks, steps },
  runs,
  phases_ms: phases,
  worker: {
    ready_since_process_start_ms: summary(results.map((r) => r.workerReadyMs)),
    model_load_ms: summary(results.map((r) => r.loadMs)),
  },
  goal: { first_segment_p95_under_ms: GOAL_MS, met: phases.first_segment!.p95 < GOAL_MS },
};

if (json) {
  console.log(JSON.stringify(report));
} else {
  console.log(
    `cold start: ${DEFAULT_MODEL}, first job ${chunks} chunks × ${steps} steps, ${runs} fresh processes; ${availableParallelism()} cores, Node ${process.version}; ` +
      `load average (1 min) ${report.machine.load_avg_1m.before} before, ${report.machine.load_avg_1m.after} after\n`,
  );
  console.log(`${"".padEnd(44)}${"median".padStart(8)}${"p95".padStart(8)}${"max".padStart(8)}`);
  for (const p of PHASES) {
    const s = phases[p]!;
    console.log(`${LABELS[p].padEnd(44)}${`${s.median}`.padStart(8)}${`${s.p95}`.padStart(8)}${`${s.max}`.padStart(8)}  ms`);
  }
  const w = report.worker;
  console.log(
    `\nworker's own clock at "worker ready": median ${w.ready_since_process_start_ms.median} ms, of which model load ${w.model_load_ms.median} ms`,
  );
  console.log(`goal: first segment p95 under ${GOAL_MS} ms: ${report.goal.met ? "met" : "NOT met"}`);
}
