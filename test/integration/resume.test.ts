import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";
import { decodeErrors, probeVideo } from "../support/media.ts";

/**
 * A GPU function dies mid-job (SIGKILL, a real crash): SQS redelivers the job after its
 * visibility timeout, the replacement worker resumes after the chunks already committed, and
 * the clip arrives whole, its first segments untouched.
 */
let stack: Stack;
let stateDir: string;
const lines: string[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "reelmesh-resume-"));
  stack = await startStack({
    stateDir,
    edgePort: await freePort(),
    emulatorPort: await freePort(),
    log: (line) => lines.push(line),
    workerEnv: { REELMESH_VISIBILITY_TIMEOUT_S: "5" },
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.edgeUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json", ...init.headers },
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = async (path: string) => new Uint8Array(await (await api(path)).arrayBuffer());

describe("a worker that crashes mid-job", () => {
  it("is replaced, and the job resumes after its committed chunks", async () => {
    const created = await api("/v1/videos", {
      method: "POST",
      body: JSON.stringify({ prompt: "a red ball bouncing", duration_s: 20, steps: 50 }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const victim = stack.workers[0]!;
    const stored = (n: number) => lines.some((l) => l.includes('"msg":"chunk stored"') && l.includes(id) && l.includes(`"chunk":${n},`));
    for (let i = 0; i < 600 && !stored(2); i++) await sleep(20);
    expect(stored(2), lines.slice(-20).join("\n")).toBe(true);
    victim.proc.kill("SIGKILL");
    const seg0 = await bytes(`/v1/videos/${id}/seg-00000.m4s`);

    let job = { status: "running", chunks_ready: 0 };
    for (let i = 0; i < 1200 && !["succeeded", "failed"].includes(job.status); i++) {
      await sleep(100);
      job = (await (await api(`/v1/videos/${id}`)).json()) as typeof job;
    }
    expect(job, lines.slice(-30).join("\n")).toMatchObject({ status: "succeeded", chunks_ready: 20 });
    const resumed = lines.map((l) => /\{.*"msg":"resuming".*\}/.exec(l)?.[0]).find((l) => l?.includes(id));
    expect(resumed, lines.slice(-30).join("\n")).toBeDefined();
    expect((JSON.parse(resumed!) as { from_chunk: number }).from_chunk).toBeGreaterThanOrEqual(3);
    expect(Buffer.from(await bytes(`/v1/videos/${id}/seg-00000.m4s`)).equals(Buffer.from(seg0))).toBe(true);

    const parts = [await bytes(`/v1/videos/${id}/init.mp4`)];
    for (let k = 0; k < 20; k++) parts.push(await bytes(`/v1/videos/${id}/seg-${String(k).padStart(5, "0")}.m4s`));
    const file = join(stateDir, "resumed.mp4");
    await writeFile(file, Buffer.concat(parts));
    expect(decodeErrors(file)).toBe("");
    expect(probeVideo(file)).toMatchObject({ codec: "h264", frames: 240 });
    const mp4 = join(stateDir, "final.mp4");
    await writeFile(mp4, await bytes(`/v1/videos/${id}/content`));
    expect(decodeErrors(mp4)).toBe("");
    expect(probeVideo(mp4).frames).toBe(240);
  });
});
