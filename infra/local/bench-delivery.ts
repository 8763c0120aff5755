import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { encodeChunk } from "../../gpu-functions/encoder/encode.ts";
import { StreamEncoder } from "../../gpu-functions/encoder/stream-encoder.ts";
import { freePort } from "./processes.ts";
import { startStack, type Stack } from "./stack.ts";

/**
 * `npm run bench:delivery [-- --json] [--runs N]`: what streaming delivery costs and gives.
 *
 * 1. End to end on a private stack (emulator, wrangler dev, one GPU function on CPU): for 1-,
 *    2- and 4-chunk clips, time from POST to the first playable segment (the first `chunk`
 *    server-sent event) and to `completed`, and the encoder's share of the GPU function's wall
 *    time (its own log).
 * 2. The encoder alone, side by side: one FFmpeg process per chunk (spawned when the chunk's
 *    frames are ready) vs one long-lived FFmpeg per job (started with the job): time from a
 *    chunk's frames to its segment, at the reference model's 144x256 and at 576x1024.
 * 3. Serving a segment: through the edge from S3 (first read), through the edge from its cache
 *    (later reads), and straight from S3 with a presigned URL.
 */
const args = process.argv.slice(2);
const json = args.includes("--json");
const runsIdx = args.indexOf("--runs");
const RUNS = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (n: number) => Math.round(n * 10) / 10;

interface SseTimes {
  firstChunkMs: number;
  completedMs: number;
}

/** Follows a job's server-sent events; times are from `t0`. */
async function followEvents(stack: Stack, id: string, t0: number): Promise<SseTimes> {
  const res = await fetch(`${stack.edgeUrl}/v1/videos/${id}/events`, { headers: { authorization: `Bearer ${stack.devKey}` } });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const times: SseTimes = { firstChunkMs: 0, completedMs: 0 };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = /^event: (.+)$/m.exec(buffer.slice(0, end))?.[1];
      buffer = buffer.slice(end + 2);
      if (event === "chunk" && times.firstChunkMs === 0) times.firstChunkMs = performance.now() - t0;
      if (event === "failed") throw new Error(`job ${id} failed`);
      if (event === "completed") times.completedMs = performance.now() - t0;
    }
  }
  return times;
}

async function endToEnd(stack: Stack, lines: string[]) {
  const headers = { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" };
  const out: Record<string, unknown> = {};
  for (const chunks of [1, 2, 4]) {
    const first: number[] = [];
    const total: number[] = [];
    const share: number[] = [];
    for (let r = 0; r < RUNS + 1; r++) {
      const t0 = performance.now();
      const created = await fetch(`${stack.edgeUrl}/v1/videos`, {
        method: "POST",
        headers,
        body: JSON.stringify({ prompt: "a red ball bouncing", duration_s: chunks, seed: r }),
      });
      if (created.status !== 202) throw new Error(`create: ${created.status} ${await created.text()}`);
      const { id } = (await created.json()) as { id: string };
      const t = await followEvents(stack, id, t0);
      if (r === 0) continue; // warm-up
      first.push(t.firstChunkMs);
      total.push(t.completedMs);
      // The worker logs the job after its `completed` event; wait for the line.
      let done: string | undefined;
      for (let i = 0; i < 100 && !done; i++) {
        done = lines.map((l) => /\{.*"msg":"job succeeded".*\}/.exec(l)?.[0]).find((l) => l?.includes(id));
        if (!done) await new Promise((res) => setTimeout(res, 20));
      }
      if (!done) throw new Error(`no "job succeeded" log line for ${id}`);
      const stages = JSON.parse(done) as { wall_ms: number; encode_ms: number };
      share.push(stages.encode_ms / stages.wall_ms);
    }
    out[`chunks_${chunks}`] = {
      first_segment_ms: r1(median(first)),
      completed_ms: r1(median(total)),
      first_over_total: Math.round((median(first) / median(total)) * 1000) / 1000,
      encoder_share_of_worker_wall: Math.round(median(share) * 1000) / 1000,
    };
  }
  return out;
}

function frames(width: number, height: number, count: number, seed: number): Uint8Array {
  const out = new Uint8Array(width * height * 3 * count);
  for (let i = 0; i < out.length; i += 3) {
    const p = i / 3;
    out[i] = ((p % width) * 2 + seed * 16) & 255;
    out[i + 1] = (Math.floor(p / width) + seed * 8) & 255;
    out[i + 2] = 120;
  }
  return out;
}

async function encoders() {
  const out: Record<string, unknown> = {};
  for (const [width, height] of [
    [144, 256],
    [576, 1024],
  ] as const) {
    const opts = { width, height, fps: 12, framesPerChunk: 12 };
    const input = Array.from({ length: 4 }, (_, k) => frames(width, height, 12, k));
    const spawnMs: number[] = [];
    const streamMs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      for (let k = 0; k < 4; k++) {
        const t0 = performance.now();
        await encodeChunk(input[k]!, { ...opts, index: k });
        spawnMs.push(performance.now() - t0);
      }
      const enc = new StreamEncoder(opts);
      await new Promise((res) => setTimeout(res, 200)); // the job's first chunk is computing
      for (let k = 0; k < 4; k++) {
        const t0 = performance.now();
        await enc.encode(k, input[k]!);
        streamMs.push(performance.now() - t0);
      }
      await enc.close();
    }
    out[`${width}x${height}`] = {
      spawn_per_chunk_ms: r1(median(spawnMs)),
      long_lived_ms: r1(median(streamMs)),
      ratio: Math.round((median(spawnMs) / median(streamMs)) * 100) / 100,
    };
  }
  return out;
}

async function serving(stack: Stack) {
  const headers = { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" };
  const created = await fetch(`${stack.edgeUrl}/v1/videos`, {
    method: "POST",
    headers,
    body: JSON.stringify({ prompt: "a blue square moving left", duration_s: 4 }),
  });
  const { id } = (await created.json()) as { id: string };
  await followEvents(stack, id, performance.now());
  const time = async (url: string, init: RequestInit = {}) => {
    const t0 = performance.now();
    const res = await fetch(url, init);
    await res.arrayBuffer();
    return { ms: performance.now() - t0, cache: res.headers.get("x-cache") };
  };
  const edgeMiss: number[] = [];
  const edgeHit: number[] = [];
  for (let k = 0; k < 4; k++) {
    const url = `${stack.edgeUrl}/v1/videos/${id}/seg-${String(k).padStart(5, "0")}.m4s`;
    const first = await time(url, { headers });
    if (first.cache === "MISS") edgeMiss.push(first.ms);
    for (let i = 0; i < 10; i++) {
      const t = await time(url, { headers });
      if (t.cache === "HIT") edgeHit.push(t.ms);
    }
  }
  const s3 = new AwsClient({
    accessKeyId: stack.aws.accessKeyId,
    secretAccessKey: stack.aws.secretAccessKey,
    region: stack.aws.region,
    service: "s3",
  });
  const presigned: number[] = [];
  for (let k = 0; k < 4; k++) {
    const signed = await s3.sign(
      `${stack.aws.endpoint}/${stack.resources.bucket}/videos/${id}/seg-${String(k).padStart(5, "0")}.m4s?X-Amz-Expires=300`,
      { aws: { signQuery: true } },
    );
    for (let i = 0; i < 10; i++) presigned.push((await time(signed.url)).ms);
  }
  return {
    edge_from_s3_ms: r1(median(edgeMiss)),
    edge_cache_hit_ms: r1(median(edgeHit)),
    s3_presigned_ms: r1(median(presigned)),
    samples: { edge_from_s3: edgeMiss.length, edge_cache_hit: edgeHit.length, s3_presigned: presigned.length },
  };
}

const stateDir = await mkdtemp(join(tmpdir(), "reelmesh-bench-delivery-"));
const lines: string[] = [];
const stack = await startStack({ stateDir, edgePort: await freePort(), emulatorPort: await freePort(), log: (l) => lines.push(l) });
try {
  const report = {
    runs: RUNS,
    end_to_end: await endToEnd(stack, lines),
    encoder: await encoders(),
    segment_serving: await serving(stack),
  };
  if (json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`delivery bench (median of ${RUNS} runs; CPU EP, reference model, local stack)`);
    console.log("\nPOST → first playable segment / → completed (SSE), encoder share of the GPU function's wall time");
    for (const [k, v] of Object.entries(report.end_to_end) as [string, Record<string, number>][]) {
      console.log(
        `  ${k.replace("chunks_", "").padStart(2)} chunk(s): ${v.first_segment_ms} / ${v.completed_ms} ms (first = ${(v.first_over_total! * 100).toFixed(1)} % of total), encoder ${(v.encoder_share_of_worker_wall! * 100).toFixed(1)} %`,
      );
    }
    console.log("\nframes → segment, per chunk: FFmpeg spawned per chunk vs one long-lived FFmpeg per job");
    for (const [k, v] of Object.entries(report.encoder) as [string, Record<string, number>][]) {
      console.log(`  ${k.padEnd(9)} ${v.spawn_per_chunk_ms} ms vs ${v.long_lived_ms} ms (${v.ratio}x)`);
    }
    const s = report.segment_serving;
    console.log(
      `\nsegment read: edge from S3 ${s.edge_from_s3_ms} ms, edge cache hit ${s.edge_cache_hit_ms} ms, presigned S3 ${s.s3_presigned_ms} ms`,
    );
  }
} finally {
  await stack.stop();
  await rm(stateDir, { recursive: true, force: true });
}
