import { availableParallelism } from "node:os";
import { DenoiseBatcher } from "../engine/batcher.ts";
import { loadModel, type LoadedModel } from "../engine/model.ts";
import { generate, type GeneratedChunk } from "../engine/pipeline.ts";
import { ensureReferenceModel } from "../reference-model/ensure.ts";
import { REFERENCE_SIZES, type ReferenceSizeName } from "../reference-model/sizes.ts";

/**
 * `npm run bench:engine [-- --json] [--sizes tiny,heavy] [--chunks N] [--steps N]`
 *
 * Per model size, on the CPU execution provider (or REELMESH_EXECUTION_PROVIDERS' first):
 * per-stage milliseconds (text encoder, each denoise step, VAE decode), the engine's overhead
 * = 1 − (time inside ONNX runs / wall time), the time to the first decoded chunk over the
 * total, and throughput with 1, 2 and 4 jobs at once, both with dynamic batching (jobs share
 * denoiser runs) and without (they take turns), measured side by side in one run.
 */
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const json = args.includes("--json");
const sizes = opt("sizes", "tiny,heavy").split(",") as ReferenceSizeName[];
const chunks = Number(opt("chunks", "4"));
const steps = Number(opt("steps", "12"));
const PROMPT = "a red ball bouncing";

interface RunResult {
  wallMs: number;
  firstChunkMs: number;
  textEncoderMs: number;
  chunks: GeneratedChunk[];
}

async function run(model: LoadedModel, seed: number, batcher?: DenoiseBatcher): Promise<RunResult> {
  const t0 = performance.now();
  const stats = { textEncoderMs: 0 };
  const out: GeneratedChunk[] = [];
  let firstChunkMs = 0;
  const req = { prompt: PROMPT, negativePrompt: "", seed, steps, guidance: 3, numChunks: chunks };
  for await (const c of generate(model, req, stats, batcher ? { batcher } : {})) {
    if (out.length === 0) firstChunkMs = performance.now() - t0;
    out.push(c);
  }
  return { wallMs: performance.now() - t0, firstChunkMs, textEncoderMs: stats.textEncoderMs, chunks: out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (n: number) => Math.round(n * 10) / 10;

const report: Record<string, unknown> = {
  machine: { cores: availableParallelism(), node: process.version },
  prompt: PROMPT,
  chunks,
  steps,
  sizes: {},
};
for (const size of sizes) {
  if (!(size in REFERENCE_SIZES)) throw new Error(`unknown size "${size}"; valid: ${Object.keys(REFERENCE_SIZES).join(", ")}`);
  const model = await loadModel(await ensureReferenceModel(size), {
    providers: [(process.env.REELMESH_EXECUTION_PROVIDERS?.split(",")[0] ?? "cpu") as "cpu"],
    allowCpuFallback: true,
  });
  await run(model, 0); // warm-up: first runs allocate and plan memory
  const single = await run(model, 1);
  const onnxMs = single.textEncoderMs + single.chunks.reduce((s, c) => s + c.onnxMs, 0);
  const throughput: Record<string, Record<string, number>> = { batched: {}, unbatched: {} };
  const sharedRuns: Record<string, Record<number, number>> = {};
  for (const jobs of [1, 2, 4]) {
    for (const mode of ["batched", "unbatched"] as const) {
      if (jobs === 1 && mode === "unbatched") continue; // the same thing as batched with one job
      const batcher = new DenoiseBatcher(model, { maxJobs: mode === "batched" ? 4 : 1 });
      const t0 = performance.now();
      await Promise.all(Array.from({ length: jobs }, (_, i) => run(model, 100 + i, batcher)));
      const seconds = (performance.now() - t0) / 1000;
      throughput[mode]![`jobs_${jobs}`] = r1((jobs * chunks * single.chunks[0]!.frameCount) / seconds);
      if (mode === "batched") sharedRuns[`jobs_${jobs}`] = batcher.stats.jobsPerRun;
    }
  }
  throughput.unbatched!.jobs_1 = throughput.batched!.jobs_1!;
  const c0 = single.chunks[0]!;
  (report.sizes as Record<string, unknown>)[size] = {
    model: model.manifest.id,
    provider: model.provider,
    frame: `${c0.width}x${c0.height}`,
    text_encoder_ms: r1(single.textEncoderMs),
    denoise_step_ms_median: r1(median(single.chunks.flatMap((c) => c.stepMs))),
    denoise_steps_ms: single.chunks.map((c) => c.stepMs.map(r1)),
    decode_ms_per_chunk: single.chunks.map((c) => r1(c.decodeMs)),
    handoff_ms_per_chunk: single.chunks.map((c) => r1(c.handoffMs)),
    main_thread_step_ms_per_chunk: single.chunks.map((c) => r1(c.updateMs)),
    wall_ms: r1(single.wallMs),
    onnx_ms: r1(onnxMs),
    engine_overhead: Math.round((1 - onnxMs / single.wallMs) * 1000) / 1000,
    first_chunk_ms: r1(single.firstChunkMs),
    first_chunk_over_total: Math.round((single.firstChunkMs / single.wallMs) * 1000) / 1000,
    frames_per_s: throughput,
    denoiser_runs_by_jobs_sharing: sharedRuns,
  };
  await model.release();
}

if (json) {
  console.log(JSON.stringify(report));
} else {
  console.log(
    `engine bench: "${PROMPT}", ${chunks} chunks x ${steps} steps, CFG batch 2; ${availableParallelism()} cores, Node ${process.version}`,
  );
  for (const [size, raw] of Object.entries(report.sizes as Record<string, Record<string, unknown>>)) {
    const fps = raw.frames_per_s as Record<string, Record<string, number>>;
    console.log(`\n${size} (${String(raw.model)}, ${String(raw.frame)}, ${String(raw.provider)} EP)`);
    console.log(`  text encoder          ${String(raw.text_encoder_ms)} ms`);
    console.log(`  denoise step (median) ${String(raw.denoise_step_ms_median)} ms`);
    console.log(`  VAE decode per chunk  ${(raw.decode_ms_per_chunk as number[]).join(" / ")} ms`);
    console.log(
      `  ORT-thread hand-off (incl. sampler update) ${(raw.handoff_ms_per_chunk as number[]).join(" / ")} ms per chunk (${steps} steps + decode)`,
    );
    console.log(`  main-thread step work ${(raw.main_thread_step_ms_per_chunk as number[]).join(" / ")} ms per chunk`);
    console.log(
      `  wall / inside ONNX    ${String(raw.wall_ms)} / ${String(raw.onnx_ms)} ms  → engine overhead ${(Number(raw.engine_overhead) * 100).toFixed(1)} %`,
    );
    console.log(
      `  first chunk           ${String(raw.first_chunk_ms)} ms = ${(Number(raw.first_chunk_over_total) * 100).toFixed(1)} % of total (ideal ≈ ${(100 / chunks).toFixed(1)} %)`,
    );
    for (const mode of ["batched", "unbatched"]) {
      const f = fps[mode]!;
      console.log(`  frames/s, 1 / 2 / 4 jobs, ${mode.padEnd(9)}: ${f.jobs_1} / ${f.jobs_2} / ${f.jobs_4}`);
    }
    const shared = raw.denoiser_runs_by_jobs_sharing as Record<string, Record<string, number>>;
    console.log(`  denoiser runs by jobs sharing them (4 jobs, batched): ${JSON.stringify(shared.jobs_4)}`);
  }
}
