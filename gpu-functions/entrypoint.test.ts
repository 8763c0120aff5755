import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provision, type ProvisionedResources } from "../infra/local/resources.ts";
import { POLICY } from "../infra/scaling/policy.ts";

/**
 * The CPU image's entrypoint as a plain process (no Docker engine here): its CMD, with the
 * environment its Dockerfile sets, read from the Dockerfile so the two cannot drift, against
 * the SQS/S3 emulator. /healthz then /readyz answer 200, the image's own HEALTHCHECK command
 * passes, and SIGTERM ends it with 0.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DOCKERFILE = join(ROOT, "infra/images/cpu.Dockerfile");

interface Image {
  env: Record<string, string>;
  copies: string[];
  healthcheck: string;
  cmd: string[];
}

/** The instructions this test needs, continuation lines joined. */
function readImage(file: string): Image {
  const instructions = readFileSync(file, "utf8")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"));
  const image: Image = { env: {}, copies: [], healthcheck: "", cmd: [] };
  for (const line of instructions) {
    const [op, ...rest] = line.trim().split(/\s+/);
    const args = rest.join(" ");
    if (op === "ENV") for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) image.env[m[1]!] = m[2]!;
    if (op === "COPY") image.copies.push(...rest.slice(0, -1));
    if (op === "HEALTHCHECK") image.healthcheck = /\bCMD (.*)$/.exec(args)![1]!;
    if (op === "CMD") image.cmd = JSON.parse(args) as string[];
  }
  return image;
}

/** Every repository file a module imports, transitively (relative imports and the ORT thread's URL). */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from |import\(|new URL\()\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
      const next = resolve(dirname(file), m[1]!);
      if (existsSync(next)) visit(next);
    }
  };
  visit(entry);
  return seen;
}

const image = readImage(DOCKERFILE);
const port = Number(image.env.REELMESH_METRICS_PORT);
let emulator: FauxqsServer;
let queues: ProvisionedResources;

beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
  queues = await provision({ endpoint: `http://127.0.0.1:${emulator.port}`, region: "us-east-1", accessKeyId: "x", secretAccessKey: "x" });
});
afterAll(() => emulator?.stop());

async function status(path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1_000) })).status;
  } catch {
    return 0;
  }
}

describe("the CPU image's entrypoint", () => {
  it("holds every file the entrypoint imports", () => {
    const copied = image.copies.filter((c) => !c.endsWith(".json") && c !== ".npmrc");
    const outside = [...importGraph(join(ROOT, image.cmd[1]!))]
      .map((f) => relative(ROOT, f))
      .filter((f) => !copied.some((c) => f === c || f.startsWith(`${c}/`)));
    expect(outside).toEqual([]);
  });

  it("serves /healthz then /readyz, passes its HEALTHCHECK, and exits 0 on SIGTERM", async () => {
    expect(image.cmd[0]).toBe("node");
    expect(image.healthcheck).toContain(`127.0.0.1:${port}/healthz`);
    // Like a container: the image's environment and what a deployment injects, nothing of this shell's.
    const node22 = dirname(process.execPath);
    const env = {
      PATH: `${node22}:/usr/local/bin:/usr/bin:/bin`,
      ...image.env,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${emulator.port}`,
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
      SQS_QUEUE_URL_STANDARD: queues.standardQueueUrl,
      SQS_QUEUE_URL_ECONOMY: queues.economyQueueUrl,
      REELMESH_EVENTS_SECRET: "entrypoint-test-secret",
    };
    const started = performance.now();
    const proc = spawn(process.execPath, image.cmd.slice(1), { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
    proc.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
    const exited = new Promise<number | string>((r) => proc.on("exit", (code, signal) => r(code ?? signal ?? "unknown")));
    try {
      const seen: Record<string, number> = {};
      for (let i = 0; i < 3000 && !(seen["/healthz"] && seen["/readyz"]); i++) {
        for (const path of ["/healthz", "/readyz"])
          if (!seen[path] && (await status(path)) === 200) seen[path] = performance.now() - started;
        if (proc.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(seen["/healthz"], output).toBeDefined();
      expect(seen["/readyz"], output).toBeDefined();
      expect(seen["/healthz"]!).toBeLessThanOrEqual(seen["/readyz"]!);

      // Docker runs a shell-form HEALTHCHECK with /bin/sh -c.
      const check = spawnSync("/bin/sh", ["-c", image.healthcheck], { env, encoding: "utf8" });
      expect(check.status, check.stderr).toBe(0);

      const sigterm = performance.now();
      proc.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(performance.now() - sigterm).toBeLessThan(POLICY.drainBoundS * 1000);
      expect(output).toContain('"msg":"worker stopped"');
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
