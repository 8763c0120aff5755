import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICY } from "../../infra/scaling/policy.ts";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";
import { decodeErrors, probeVideo } from "../support/media.ts";

/**
 * A worker told to stop mid-job (SIGTERM: ECS draining, a spot interruption notice, a pod
 * eviction) while a second one runs: it exits 0 within its drain bound, handing the job back at
 * once; the other worker resumes after the chunks committed, within seconds rather than after
 * the visibility timeout; at most one chunk is computed twice; the clip plays as one; the
 * account is charged once.
 */
const CHUNKS = 16;
const STEPS = 50;
const FPS = 12;
/** From the drained worker's hand-back to the other worker's start of the job. */
const RESUME_WITHIN_MS = 5_000;

let stack: Stack;
let stateDir: string;
/** Every output line of the stack, with when it arrived. */
const lines: { at: number; line: string }[] = [];
const tail = () =>
  lines
    .slice(-40)
    .map((l) => l.line)
    .join("\n");

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.edgeUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json", ...init.headers },
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = async (path: string) => new Uint8Array(await (await api(path)).arrayBuffer());

type LogLine = { at: number; worker: string; msg: string; job_id?: string } & Record<string, unknown>;
/** The GPU functions' JSON log lines about job `id`. */
function workerLog(id: string): LogLine[] {
  const out: LogLine[] = [];
  for (const { at, line } of lines) {
    const m = /^\[(gpu-\d+)\] (\{.*\})$/.exec(line);
    if (!m || !line.includes(id)) continue;
    const entry = JSON.parse(m[2]!) as { msg: string; job_id?: string };
    if (entry.job_id === id) out.push({ ...entry, at, worker: m[1]! });
  }
  return out;
}
const find = (id: string, worker: string, msg: string) => workerLog(id).filter((l) => l.worker === worker && l.msg === msg);

interface Usage {
  spent: number;
  reserved: number;
  jobs: number;
}
interface JobView {
  status: string;
  chunks_ready: number;
  price: { credits: number };
  charged: number | null;
}

/** Presentation times of every decoded frame, in seconds. */
function framePts(file: string): number[] {
  // JSON, not CSV: a chunk's first frame carries x264's SEI as side data, which CSV prints as extra lines.
  const r = spawnSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "json", file], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ffprobe failed on ${file}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { frames: { pts_time: string }[] }).frames.map((f) => Number(f.pts_time));
}

/**
 * With the default bound the chunk in progress is committed before the hand-back; with a bound
 * that leaves no time for it (REELMESH_DRAIN_S=1, less than DRAIN_RESERVE_MS) it is dropped.
 */
const CASES = [
  { name: "with time to finish its chunk", env: {}, choice: "finish", twiceAtMost: 0 },
  { name: "with no time to finish its chunk", env: { REELMESH_DRAIN_S: "1" }, choice: "abandon", twiceAtMost: 1 },
] as const;

describe.each(CASES)("a worker drained mid-job, $name,", ({ env, choice, twiceAtMost }) => {
  const boundMs = Number("REELMESH_DRAIN_S" in env ? env.REELMESH_DRAIN_S : POLICY.drainBoundS) * 1000;
  beforeAll(async () => {
    lines.length = 0;
    stateDir = await mkdtemp(join(tmpdir(), "reelmesh-drain-"));
    stack = await startStack({
      stateDir,
      edgePort: await freePort(),
      emulatorPort: await freePort(),
      workers: 2,
      workerEnv: env,
      log: (line) => lines.push({ at: performance.now(), line }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("hands the job back; the other worker resumes it within seconds, and the account is charged once", async () => {
    const before = (await (await api("/v1/usage")).json()) as Usage;
    const created = await api("/v1/videos", {
      method: "POST",
      body: JSON.stringify({ prompt: "a red ball bouncing", duration_s: CHUNKS, steps: STEPS }),
    });
    expect(created.status, await created.clone().text()).toBe(202);
    const { id } = (await created.json()) as { id: string };

    // Whichever worker took it is the one told to stop, once it has committed chunks 0..2.
    let a: string | undefined;
    for (let i = 0; i < 1500 && !(a && find(id, a, "chunk stored").length >= 3); i++) {
      a ??= workerLog(id).find((l) => l.msg === "job started")?.worker;
      await sleep(20);
    }
    expect(a, tail()).toBeDefined();
    expect(find(id, a!, "chunk stored").length, tail()).toBeGreaterThanOrEqual(3);
    const b = a === "gpu-0" ? "gpu-1" : "gpu-0";

    const sigterm = performance.now();
    const drained = await stack.drainWorker(Number(a!.slice("gpu-".length)));
    expect(drained.code, tail()).toBe(0);
    expect(drained.ms).toBeLessThan(boundMs);
    const [handedBack] = find(id, a!, "job handed back") as (LogLine & { committed: number; abandoned_chunk: number | null })[];
    const [released] = find(id, a!, "job released");
    expect(handedBack, tail()).toMatchObject({ choice });
    expect(released, tail()).toMatchObject({ visibility_s: 1 });
    // A drain abandons nothing to the edge: no failed or canceled event, so no refund.
    expect(workerLog(id).filter((l) => l.msg === "job failed" || l.msg === "job canceled")).toEqual([]);

    let job: JobView = { status: "running", chunks_ready: 0, price: { credits: 0 }, charged: null };
    for (let i = 0; i < 600 && !["succeeded", "failed", "canceled"].includes(job.status); i++) {
      await sleep(100);
      job = (await (await api(`/v1/videos/${id}`)).json()) as JobView;
    }
    expect(job, tail()).toMatchObject({ status: "succeeded", chunks_ready: CHUNKS });

    // Resumed on the other worker after what was committed, within seconds of the hand-back.
    const [startedB] = find(id, b, "job started");
    const [resumed] = find(id, b, "resuming") as (LogLine & { from_chunk: number })[];
    expect(startedB, tail()).toBeDefined();
    expect(resumed?.from_chunk).toBe(handedBack!.committed);
    expect(startedB!.at - released!.at).toBeLessThan(RESUME_WITHIN_MS);

    // At most one chunk computed twice: one both stored, or the one the drained worker dropped.
    const storedBy = (w: string) => new Set(find(id, w, "chunk stored").map((l) => l.chunk as number));
    const [byA, byB] = [storedBy(a!), storedBy(b)];
    const twice = new Set([...byA].filter((k) => byB.has(k)));
    if (handedBack!.abandoned_chunk !== null && byB.has(handedBack!.abandoned_chunk)) twice.add(handedBack!.abandoned_chunk);
    expect(twice.size).toBeLessThanOrEqual(twiceAtMost);
    expect(new Set([...byA, ...byB]).size).toBe(CHUNKS);

    // The stream (init + segments from both workers) and the final MP4 decode as one clip.
    const parts = [await bytes(`/v1/videos/${id}/init.mp4`)];
    for (let k = 0; k < CHUNKS; k++) parts.push(await bytes(`/v1/videos/${id}/seg-${String(k).padStart(5, "0")}.m4s`));
    const stream = join(stateDir, "stream.mp4");
    await writeFile(stream, Buffer.concat(parts));
    const mp4 = join(stateDir, "final.mp4");
    await writeFile(mp4, await bytes(`/v1/videos/${id}/content`));
    for (const file of [stream, mp4]) {
      expect(decodeErrors(file)).toBe("");
      expect(probeVideo(file)).toMatchObject({ codec: "h264", frames: CHUNKS * 12 });
      // Continuous: every frame one frame-time after the last, across the hand-back.
      const pts = framePts(file);
      const gaps = pts.slice(1).map((t, i) => Math.round((t - pts[i]!) * FPS * 1000) / 1000);
      expect(new Set(gaps)).toEqual(new Set([1]));
    }

    // Charged once: the job's price, once in the account's spending, nothing left reserved.
    expect(job.charged).toBe(job.price.credits);
    let after = before;
    for (let i = 0; i < 50; i++) {
      after = (await (await api("/v1/usage")).json()) as Usage;
      if (after.reserved === 0) break;
      await sleep(100);
    }
    expect(after.spent - before.spent).toBe(job.charged);
    expect(after.jobs - before.jobs).toBe(1);
    expect(after.reserved).toBe(0);
    console.log(
      `drain: ${a} exited 0 in ${Math.round(drained.ms)} ms (${String(handedBack!.choice)}, committed ${handedBack!.committed}), ` +
        `${b} started the job ${Math.round(startedB!.at - released!.at)} ms after the hand-back ` +
        `(${Math.round(startedB!.at - sigterm)} ms after SIGTERM); chunks computed twice: ${twice.size}`,
    );
  });
});
