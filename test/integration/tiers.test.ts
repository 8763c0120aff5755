import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";

/**
 * Tiers on the real queues: standard and economy jobs go to separate SQS queues, and
 * a GPU function takes economy work only when no standard work is waiting. One worker, busy
 * with a first job while three economy and three standard jobs queue up: every standard job
 * must start before any of the waiting economy jobs.
 */
let stack: Stack;
let stateDir: string;
const lines: string[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "reelmesh-tiers-"));
  stack = await startStack({ stateDir, edgePort: await freePort(), emulatorPort: await freePort(), log: (line) => lines.push(line) });
});

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

const create = async (prompt: string, tier: string, duration_s = 2): Promise<string> => {
  const res = await fetch(`${stack.edgeUrl}/v1/videos`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt, tier, duration_s }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
};
const started = () =>
  lines
    .map((l) => /\{.*"msg":"job started".*\}/.exec(l)?.[0])
    .filter(Boolean)
    .map((l) => JSON.parse(l!) as { job_id: string; tier: string });

describe("standard before economy", () => {
  it("starts every waiting standard job before any waiting economy job", async () => {
    const first = await create("a red ball bouncing", "economy", 6);
    for (let i = 0; i < 200 && !started().some((s) => s.job_id === first); i++) await new Promise((r) => setTimeout(r, 25));
    // The worker is busy with `first`; now both queues fill, economy first.
    const economy = [
      await create("a blue square", "economy"),
      await create("a green star", "economy"),
      await create("a pink ball", "economy"),
    ];
    const standard = [
      await create("a red square", "standard"),
      await create("a cyan star", "standard"),
      await create("a white ball", "standard"),
    ];
    const all = [...economy, ...standard];
    for (let i = 0; i < 1200 && !all.every((id) => started().some((s) => s.job_id === id)); i++)
      await new Promise((r) => setTimeout(r, 50));
    const order = started()
      .map((s) => s.job_id)
      .filter((id) => all.includes(id));
    expect(order, lines.slice(-30).join("\n")).toHaveLength(6);
    const lastStandard = Math.max(...standard.map((id) => order.indexOf(id)));
    const firstEconomy = Math.min(...economy.map((id) => order.indexOf(id)));
    expect(lastStandard).toBeLessThan(firstEconomy);
  });
});

describe("cancel on the real path", () => {
  it("stops a generating job between steps and charges only what was delivered", async () => {
    const headers = { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" };
    const res = await fetch(`${stack.edgeUrl}/v1/videos`, {
      method: "POST",
      headers,
      body: JSON.stringify({ prompt: "a blue ball orbiting", duration_s: 20, steps: 50 }),
    });
    const { id, price } = (await res.json()) as { id: string; price: { credits: number } };
    const view = async () =>
      (await (await fetch(`${stack.edgeUrl}/v1/videos/${id}`, { headers })).json()) as {
        status: string;
        chunks_ready: number;
        charged: number | null;
      };
    for (let i = 0; i < 600 && (await view()).chunks_ready < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await fetch(`${stack.edgeUrl}/v1/videos/${id}/cancel`, { method: "POST", headers })).status).toBe(200);
    let job = await view();
    for (let i = 0; i < 200 && job.status !== "canceled"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = await view();
    }
    expect(job.status, lines.slice(-20).join("\n")).toBe("canceled");
    expect(job.chunks_ready).toBeLessThan(20);
    expect(job.charged).toBe(Math.ceil((price.credits * job.chunks_ready) / 20));
    expect(lines.some((l) => l.includes('"msg":"job canceled"') && l.includes(id))).toBe(true);
  });
});
