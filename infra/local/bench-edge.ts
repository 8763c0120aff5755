import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./processes.ts";
import { startStack } from "./stack.ts";
import { createCompute } from "../../edge/bench/compute.ts";
import { DURABLE_CALLS_HEADER as COUNT_HEADER } from "../../shared/dev-headers.ts";

/**
 * `npm run bench:edge [-- --json] [--n N]`: the edge's own cost, in one run under wrangler dev
 * (workerd on this machine): p50/p99 latency of a bare route (GET /healthz), of a create
 * answered from the result cache (a hit) and of a create that queues a new job (a miss), each
 * the whole create path (auth, validation, prompt safety, pricing, then one call to the
 * account's object: rate token, cache decision, slot, charge and job in one transaction),
 * measured alternately, request after request; then the prompt-safety check's throughput on
 * one core (edge/bench/safety.ts).
 *
 * Two more routes, in the same rotation, split the difference: GET /v1/usage is auth and one
 * Durable Object read, and a dry-run create is auth, the body, safety and pricing and the one
 * Durable Object round trip (the rate token). The edge's own compute is also timed in this
 * process, without I/O (edge/bench/compute.ts). Latencies include
 * this machine's loopback HTTP, the same for all. Last, Durable Object calls per create are
 * counted on the real bindings (durable-calls.ts) for a miss, a join, a hit and a quote.
 *
 * The GPU function is drained once it has made the clip the hits are answered from, so the
 * misses wait in the queue and no inference competes with the edge for the CPU.
 */
const args = process.argv.slice(2);
const json = args.includes("--json");
const nIdx = args.indexOf("--n");
const N = nIdx >= 0 ? Number(args[nIdx + 1]) : 1000;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const r2 = (n: number) => Math.round(n * 100) / 100;

const stateDir = await mkdtemp(join(tmpdir(), "reelmesh-bench-edge-"));
const stack = await startStack({ stateDir, edgePort: await freePort(), emulatorPort: await freePort(), log: () => {} });
try {
  const admin = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
  const acct = (await (
    await fetch(`${stack.edgeUrl}/admin/accounts`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        name: "bench",
        credits: 1_000_000_000,
        limits: { burst: 1_000_000, per_s: 100_000, max_running_jobs: 1_000_000 },
      }),
    })
  ).json()) as { api_key: string };
  const headers = { authorization: `Bearer ${acct.api_key}`, "content-type": "application/json" };
  const body = JSON.stringify({ prompt: "a red ball bouncing on the grass", duration_s: 1, seed: 7 });
  // The first request runs on the GPU function; once it has succeeded, the same request hits.
  const seeded = await fetch(`${stack.edgeUrl}/v1/videos`, { method: "POST", headers, body });
  if (seeded.status !== 202) throw new Error(`seeding create: ${seeded.status} ${await seeded.text()}`);
  const first = (await seeded.json()) as { id: string };
  for (let status = ""; status !== "succeeded";) {
    await new Promise((r) => setTimeout(r, 100));
    status = ((await (await fetch(`${stack.edgeUrl}/v1/videos/${first.id}`, { headers })).json()) as { status: string }).status;
    if (status !== "queued" && status !== "running" && status !== "succeeded") throw new Error(`the seeding job ended ${status}`);
  }
  await stack.drainWorker(0);
  const time = async (run: () => Promise<Response>, expect: number) => {
    const t0 = performance.now();
    const res = await run();
    await res.arrayBuffer();
    if (res.status !== expect) throw new Error(`expected ${expect}, got ${res.status}`);
    return performance.now() - t0;
  };
  const dryRun = JSON.stringify({ prompt: "a red ball bouncing on the grass", duration_s: 1, seed: 7, dry_run: true });
  // No seed: not cacheable, so every one is a new job.
  const missBody = JSON.stringify({ prompt: "a red ball bouncing on the grass", duration_s: 1 });
  const bare: number[] = [];
  const hit: number[] = [];
  const miss: number[] = [];
  const compute: number[] = [];
  const oneWrite: number[] = [];
  for (let i = 0; i < N + 100; i++) {
    const b = await time(() => fetch(`${stack.edgeUrl}/healthz`), 200);
    const h = await time(() => fetch(`${stack.edgeUrl}/v1/videos`, { method: "POST", headers, body }), 200);
    const x = await time(() => fetch(`${stack.edgeUrl}/v1/videos`, { method: "POST", headers, body: missBody }), 202);
    const m = await time(() => fetch(`${stack.edgeUrl}/v1/usage`, { headers }), 200);
    const d = await time(() => fetch(`${stack.edgeUrl}/v1/videos`, { method: "POST", headers, body: dryRun }), 200);
    if (i >= 100) {
      bare.push(b);
      hit.push(h);
      miss.push(x);
      compute.push(m);
      oneWrite.push(d);
    }
  }
  const calls = async (b: Record<string, unknown>, expect: number) => {
    const res = await fetch(`${stack.edgeUrl}/v1/videos`, {
      method: "POST",
      headers: { ...headers, [COUNT_HEADER]: "1" },
      body: JSON.stringify(b),
    });
    await res.arrayBuffer();
    if (res.status !== expect) throw new Error(`expected ${expect}, got ${res.status}`);
    return Number(res.headers.get(COUNT_HEADER));
  };
  const joinPrompt = { prompt: `a blue square sliding ${Date.now()}`, duration_s: 1, seed: 3 };
  const durableCalls = {
    miss: await calls(joinPrompt, 202),
    join: await calls(joinPrompt, 202),
    hit: await calls({ prompt: "a red ball bouncing on the grass", duration_s: 1, seed: 7 }, 200),
    quote: await calls({ ...joinPrompt, dry_run: true }, 200),
  };
  const safety = spawnSync(process.execPath, ["edge/bench/safety.ts", "--json"], { encoding: "utf8" });
  const safetyReport = JSON.parse(safety.stdout) as { throughput: { promptsPerSecond: number; microsecondsPerPrompt: number } };
  const report = {
    n: N,
    bare_route_ms: { p50: r2(pct(bare, 50)), p99: r2(pct(bare, 99)) },
    create_cache_hit_ms: { p50: r2(pct(hit, 50)), p99: r2(pct(hit, 99)) },
    create_miss_ms: { p50: r2(pct(miss, 50)), p99: r2(pct(miss, 99)) },
    hit_over_bare_ms: { p50: r2(pct(hit, 50) - pct(bare, 50)), p99: r2(pct(hit, 99) - pct(bare, 99)) },
    miss_over_bare_ms: { p50: r2(pct(miss, 50) - pct(bare, 50)), p99: r2(pct(miss, 99) - pct(bare, 99)) },
    /** Auth and one Durable Object read (GET /v1/usage), over bare. */
    one_read_over_bare_ms: { p50: r2(pct(compute, 50) - pct(bare, 50)) },
    /** Auth, body, safety, pricing and the one round trip with a write (a dry-run create), over bare. */
    dry_run_over_bare_ms: { p50: r2(pct(oneWrite, 50) - pct(bare, 50)) },
    /** The create path's own compute, no I/O, timed in this process (edge/bench/compute.ts). */
    edge_compute_ms: await createCompute(N * 5),
    durable_calls_per_create: durableCalls,
    safety_prompts_per_s_one_core: safetyReport.throughput.promptsPerSecond,
  };
  if (json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`edge bench under wrangler dev, ${N} requests each, alternating`);
    console.log(`  GET /healthz                    p50 ${report.bare_route_ms.p50} ms, p99 ${report.bare_route_ms.p99} ms`);
    console.log(`  POST /v1/videos (cache hit)     p50 ${report.create_cache_hit_ms.p50} ms, p99 ${report.create_cache_hit_ms.p99} ms`);
    console.log(`  POST /v1/videos (miss, queued)  p50 ${report.create_miss_ms.p50} ms, p99 ${report.create_miss_ms.p99} ms`);
    console.log(`  hit over bare                   p50 +${report.hit_over_bare_ms.p50} ms, p99 +${report.hit_over_bare_ms.p99} ms`);
    console.log(`  miss over bare                  p50 +${report.miss_over_bare_ms.p50} ms, p99 +${report.miss_over_bare_ms.p99} ms`);
    console.log(`  of which, measured alongside:`);
    console.log(`    auth + one durable read       p50 +${report.one_read_over_bare_ms.p50} ms (GET /v1/usage over bare)`);
    console.log(
      `    dry-run create                p50 +${report.dry_run_over_bare_ms.p50} ms (auth, body, safety, pricing, one durable write)`,
    );
    console.log(
      `  edge compute per create, no I/O p50 ${report.edge_compute_ms.p50_ms} ms, p99 ${report.edge_compute_ms.p99_ms} ms (goal ≤ 0.5 ms p50; ${report.edge_compute_ms.n} creates, in process)`,
    );
    const dc = report.durable_calls_per_create;
    console.log(`  Durable Object calls per create: miss ${dc.miss}, join ${dc.join}, hit ${dc.hit}, quote ${dc.quote} (goal: exactly 1)`);
    console.log(
      `  prompt safety, one core         ${report.safety_prompts_per_s_one_core.toLocaleString("en-US")} prompts/s (goal ≥ 100,000)`,
    );
  }
} finally {
  await stack.stop();
  await rm(stateDir, { recursive: true, force: true });
}
