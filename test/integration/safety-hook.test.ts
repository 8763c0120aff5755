import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";

/**
 * The GPU function's second-stage safety hook (REELMESH_SAFETY_HOOK) on the real path: a
 * frame classifier (test/support/red-frames-hook.ts) sees each chunk before it is encoded;
 * a flagged chunk fails the job for good with `content_rejected` and nothing of it is stored.
 */
let stack: Stack;
let stateDir: string;
const lines: string[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "reelmesh-safety-"));
  stack = await startStack({
    stateDir,
    edgePort: await freePort(),
    emulatorPort: await freePort(),
    log: (line) => lines.push(line),
    workerEnv: { REELMESH_SAFETY_HOOK: fileURLToPath(new URL("../support/red-frames-hook.ts", import.meta.url)) },
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

async function run(prompt: string): Promise<{ status: string; chunks_ready: number; error: { code: string } | null }> {
  const { id } = (await (await api("/v1/videos", { method: "POST", body: JSON.stringify({ prompt, duration_s: 2 }) })).json()) as {
    id: string;
  };
  for (let i = 0; i < 600; i++) {
    const job = (await (await api(`/v1/videos/${id}`)).json()) as { status: string; chunks_ready: number; error: { code: string } | null };
    if (["succeeded", "failed"].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job for "${prompt}" did not finish\n${lines.slice(-20).join("\n")}`);
}

describe("the GPU function's safety hook", () => {
  it("fails a job whose frames it flags, before any of them is stored, and lets others through", async () => {
    expect(lines.some((l) => l.includes('"msg":"safety hook loaded"'))).toBe(true);
    const flagged = await run("a red ball bouncing");
    expect(flagged, lines.slice(-20).join("\n")).toMatchObject({ status: "failed", chunks_ready: 0, error: { code: "content_rejected" } });
    const fine = await run("a blue square moving left");
    expect(fine, lines.slice(-20).join("\n")).toMatchObject({ status: "succeeded", chunks_ready: 2 });
  });
});
