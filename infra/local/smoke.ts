import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./processes.ts";
import { startStack } from "./stack.ts";

/**
 * `npm run smoke`: boots a private stack (temp dir, free ports), submits a prompt ("a red ball
 * bouncing" unless REELMESH_SMOKE_PROMPT is set) and prints what a user feels (time to the
 * first playable segment, to the whole clip) and what each stage of the GPU function took,
 * from its own log. `--json` prints one JSON object.
 */
const prompt = process.env.REELMESH_SMOKE_PROMPT ?? "a red ball bouncing";
const durationS = Number(process.env.REELMESH_SMOKE_DURATION_S ?? 4);
const json = process.argv.includes("--json");

const stateDir = await mkdtemp(join(tmpdir(), "reelmesh-smoke-"));
const lines: string[] = [];
const bootStarted = performance.now();
const stack = await startStack({ stateDir, edgePort: await freePort(), emulatorPort: await freePort(), log: (l) => lines.push(l) });
const bootMs = performance.now() - bootStarted;

try {
  const headers = { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" };
  const t0 = performance.now();
  const created = await fetch(`${stack.edgeUrl}/v1/videos`, {
    method: "POST",
    headers,
    body: JSON.stringify({ prompt, duration_s: durationS }),
  });
  if (created.status !== 202) throw new Error(`create: ${created.status} ${await created.text()}`);
  const acceptedMs = performance.now() - t0;
  const { id } = (await created.json()) as { id: string };
  let firstSegmentMs = 0;
  let job: { status: string; chunks_ready: number; total_chunks: number } = { status: "queued", chunks_ready: 0, total_chunks: 0 };
  while (!["succeeded", "failed", "canceled"].includes(job.status)) {
    if (performance.now() - t0 > 300_000) throw new Error("job did not finish in 5 minutes");
    await new Promise((r) => setTimeout(r, 25));
    job = (await (await fetch(`${stack.edgeUrl}/v1/videos/${id}`, { headers })).json()) as typeof job;
    if (job.chunks_ready > 0 && firstSegmentMs === 0) firstSegmentMs = performance.now() - t0;
  }
  const totalMs = performance.now() - t0;
  const done = lines.map((l) => /\{.*"msg":"job succeeded".*\}/.exec(l)?.[0]).find((l) => l?.includes(id));
  const stages = done ? (JSON.parse(done) as Record<string, unknown>) : {};
  const result = {
    prompt,
    duration_s: durationS,
    status: job.status,
    chunks: job.total_chunks,
    boot_ms: Math.round(bootMs),
    accepted_ms: Math.round(acceptedMs),
    first_segment_playable_ms: Math.round(firstSegmentMs),
    succeeded_ms: Math.round(totalMs),
    worker: Object.fromEntries(Object.entries(stages).filter(([k]) => k.endsWith("_ms"))),
  };
  if (json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`prompt "${prompt}", ${durationS} s, ${result.chunks} chunks: ${job.status}`);
    console.log(`  stack boot                     ${result.boot_ms} ms`);
    console.log(`  POST /v1/videos → 202          ${result.accepted_ms} ms`);
    console.log(`  POST → first segment playable ${result.first_segment_playable_ms} ms (client polling every 25 ms)`);
    console.log(`  POST → succeeded               ${result.succeeded_ms} ms`);
    console.log("  GPU function stages (its log; encode and upload overlap the next chunk's compute):");
    for (const [k, v] of Object.entries(result.worker)) console.log(`    ${k.padEnd(20)} ${String(v)} ms`);
  }
} finally {
  await stack.stop();
  await rm(stateDir, { recursive: true, force: true });
}
