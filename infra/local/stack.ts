import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { POLICY } from "../scaling/policy.ts";
import { provision, type AwsEndpoint, type ProvisionedResources } from "./resources.ts";
import { freePort, spawnChild, stopChild, waitForHttp, waitForLine, type Child } from "./processes.ts";

/**
 * The whole product on one machine: the SQS/S3 emulator (fauxqs, in this process,
 * state on disk), the edge under `wrangler dev`, and GPU functions on the CPU execution
 * provider. `npm start` and the integration tests both use this.
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "node_modules/.bin");

export const DEFAULT_EDGE_PORT = 8787;
export const DEFAULT_EMULATOR_PORT = 4566;
const EDGE_BOOT_TIMEOUT_MS = 90_000;
/** The first start may build the reference model before the worker is ready. */
const WORKER_BOOT_TIMEOUT_MS = 180_000;
/** A draining worker hands its jobs back within its drain bound (REELMESH_DRAIN_S); this long after, it is killed. */
const WORKER_DRAIN_GRACE_MS = 5_000;
const EDGE_STOP_MS = 5_000;
/** Pause before replacing a worker that crashed, so a crash loop does not spin. */
const WORKER_RESTART_DELAY_MS = 2_000;

/** Dev-only credentials: the emulator checks no signatures. Never used against AWS. */
const EMULATOR_CREDENTIALS = { accessKeyId: "reelmesh-local", secretAccessKey: "reelmesh-local-secret" };

export interface StackOptions {
  /** Folder for state (emulator data, wrangler state, secrets, stack.json); default `.reelmesh`. */
  stateDir?: string;
  edgePort?: number;
  emulatorPort?: number;
  /** API key to accept; default: one generated once and kept in `<stateDir>/dev-secrets.json`. */
  devKey?: string;
  /** Bearer token of the admin API; default: one generated once and kept beside the dev key. */
  adminToken?: string;
  workers?: number;
  /** Extra environment for the GPU functions (e.g. REELMESH_MAX_JOBS). */
  workerEnv?: Record<string, string>;
  /** Extra settings for the edge (e.g. REELMESH_RECONCILE_S in the chaos suite). */
  edgeEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface Stack {
  edgeUrl: string;
  devKey: string;
  /** Bearer token of the admin API (dev only, generated). */
  adminToken: string;
  aws: AwsEndpoint;
  resources: ProvisionedResources;
  stateDir: string;
  workers: Child[];
  /**
   * SIGTERM to worker `i` as ECS or Kubernetes sends it (to the process, not its group): it
   * drains and exits, and is not replaced. Resolves with its exit code and the time it took.
   */
  drainWorker(i: number): Promise<{ code: number | string; ms: number }>;
  /** Starts one more GPU function (e.g. after a test queued messages with none running); resolves when it is ready. */
  addWorker(): Promise<Child>;
  stop(): Promise<void>;
}

interface DevSecrets {
  devKey: string;
  eventsSecret: string;
  playbackSecret: string;
  webhookSecret: string;
  tokenSecret: string;
  adminToken: string;
}

/** Dev secrets are generated on first start and kept (git-ignored) so the key survives restarts. */
async function devSecrets(stateDir: string, given: { devKey?: string | undefined; adminToken?: string | undefined }): Promise<DevSecrets> {
  const file = join(stateDir, "dev-secrets.json");
  let saved: Partial<DevSecrets> = {};
  try {
    saved = JSON.parse(await readFile(file, "utf8")) as Partial<DevSecrets>;
  } catch {
    // first start
  }
  const secrets = {
    devKey: given.devKey ?? saved.devKey ?? `rm_dev_${randomBytes(18).toString("base64url")}`,
    eventsSecret: saved.eventsSecret ?? randomBytes(32).toString("base64url"),
    playbackSecret: saved.playbackSecret ?? randomBytes(32).toString("base64url"),
    webhookSecret: saved.webhookSecret ?? randomBytes(32).toString("base64url"),
    tokenSecret: saved.tokenSecret ?? randomBytes(32).toString("base64url"),
    adminToken: given.adminToken ?? saved.adminToken ?? `rm_admin_${randomBytes(18).toString("base64url")}`,
  };
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** SIGTERM to the process alone (its FFmpeg encoders are its own to close); the group is killed after `graceMs`. */
async function drainChild(child: Child, graceMs: number): Promise<number | string> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGTERM");
  const timer = setTimeout(() => void stopChild(child, 0), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // ESRCH: nothing of the group is left.
  }
  return code;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const stateDir = resolve(opts.stateDir ?? join(ROOT, ".reelmesh"));
  await mkdir(join(stateDir, "emulator"), { recursive: true });
  const edgePort = opts.edgePort ?? DEFAULT_EDGE_PORT;
  const emulatorPort = opts.emulatorPort ?? DEFAULT_EMULATOR_PORT;
  const secrets = await devSecrets(stateDir, { devKey: opts.devKey, adminToken: opts.adminToken });
  const children: Child[] = [];
  let emulator: FauxqsServer | undefined;
  const startedAt = new Date().toISOString();

  const drainS = Number(opts.workerEnv?.REELMESH_DRAIN_S ?? POLICY.drainBoundS);
  const workerDrainMs = drainS * 1000 + WORKER_DRAIN_GRACE_MS;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // Workers first (they drain), then the edge, then the emulator they both talk to.
    const running = [...children];
    await Promise.all(running.filter((c) => c.name.startsWith("gpu")).map((c) => drainChild(c, workerDrainMs)));
    await Promise.all(running.filter((c) => !c.name.startsWith("gpu")).map((c) => stopChild(c, EDGE_STOP_MS)));
    await emulator?.stop();
    await rm(join(stateDir, "stack.json"), { force: true });
  };

  try {
    emulator = await startFauxqs({ port: emulatorPort, host: "127.0.0.1", logger: false, dataDir: join(stateDir, "emulator") });
    const aws: AwsEndpoint = { endpoint: `http://127.0.0.1:${emulator.port}`, region: "us-east-1", ...EMULATOR_CREDENTIALS };
    const resources = await provision(aws);
    const awsEnv = {
      AWS_REGION: aws.region,
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      SQS_QUEUE_URL_STANDARD: resources.standardQueueUrl,
      SQS_QUEUE_URL_ECONOMY: resources.economyQueueUrl,
      REELMESH_EVENTS_SECRET: secrets.eventsSecret,
    };

    // Secrets go to wrangler in an env file (mode 600), not on its command line.
    const edgeEnvFile = join(stateDir, "edge.env");
    const edgeVars = {
      ...awsEnv,
      S3_BUCKET: resources.bucket,
      REELMESH_DEV_KEY: secrets.devKey,
      REELMESH_PLAYBACK_SECRET: secrets.playbackSecret,
      REELMESH_WEBHOOK_SECRET: secrets.webhookSecret,
      REELMESH_TOKEN_SECRET: secrets.tokenSecret,
      REELMESH_ADMIN_TOKEN: secrets.adminToken,
      // Local only: webhooks may go to http:// and private addresses (a receiver on this machine).
      REELMESH_ENV: "development",
      REELMESH_RETENTION_S: process.env.REELMESH_RETENTION_S ?? String(7 * 24 * 3600),
      ...opts.edgeEnv,
    };
    await writeFile(
      edgeEnvFile,
      Object.entries(edgeVars)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n") + "\n",
      { mode: 0o600 },
    );
    const edgeUrl = `http://127.0.0.1:${edgePort}`;
    const startEdge = async (tail: string[]) =>
      spawnChild({
        name: "edge",
        command: join(BIN, "wrangler"),
        args: [
          "dev",
          "--config",
          "edge/wrangler.jsonc",
          "--ip",
          "127.0.0.1",
          "--port",
          String(edgePort),
          "--inspector-port",
          String(await freePort()),
          "--persist-to",
          join(stateDir, "wrangler"),
          "--env-file",
          edgeEnvFile,
          "--show-interactive-dev-session=false",
          "--log-level",
          "warn",
        ],
        // Offline: do not try to download the `Request.cf` sample (it only logs a failure).
        env: {
          ...process.env,
          PATH: `${BIN}:${process.env.PATH ?? ""}`,
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          CI: "true",
        },
        cwd: ROOT,
        onLine: (line) => {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          log(line);
        },
      });
    // A port picked free can be taken again before wrangler binds it (another stack stopping
    // beside this one): an edge that fails to boot is started once more (a new inspector port),
    // and a second failure reports its last lines.
    let edge: Child | undefined;
    for (let attempt = 1; !edge; attempt++) {
      const tail: string[] = [];
      const started = await startEdge(tail);
      children.push(started);
      try {
        await waitForHttp(`${edgeUrl}/healthz`, started, EDGE_BOOT_TIMEOUT_MS);
        edge = started;
      } catch (err) {
        await stopChild(started, EDGE_STOP_MS);
        if (attempt >= 2) throw new Error(`${(err as Error).message}; its last lines:\n${tail.join("\n")}`, { cause: err });
        log(`[stack] the edge exited while booting; starting it again: ${tail.slice(-3).join(" | ")}`);
      }
    }

    // A worker exits on purpose after REELMESH_MAX_JOBS (ONNX Runtime's memory growth) or on
    // a crash; like a container orchestrator, the launcher starts a new one in its place.
    const spawnWorker = (i: number): Child => {
      const worker = spawnChild({
        name: `gpu-${i}`,
        command: join(BIN, "node"),
        args: ["gpu-functions/main.ts"],
        env: {
          ...process.env,
          ...awsEnv,
          REELMESH_WORKER_ID: `local-gpu-${i}`,
          // fauxqs loses a message whose visibility is set to 0 (docs/worker.md): a drained job
          // or a malformed message is handed back with 1 s here; 0 is right on SQS.
          REELMESH_DRAIN_VISIBILITY_S: "1",
          ...opts.workerEnv,
        },
        cwd: ROOT,
        onLine: log,
      });
      children.push(worker);
      workers[i] = worker;
      void worker.exited.then((code) => {
        children.splice(children.indexOf(worker), 1);
        if (stopping || retired.has(i)) return;
        log(`[${worker.name}] exited (${code}); starting a new one`);
        setTimeout(
          () => {
            if (stopping) return;
            spawnWorker(i);
            void writeStackJson();
          },
          code === 0 ? 0 : WORKER_RESTART_DELAY_MS,
        );
      });
      return worker;
    };
    const workers: Child[] = [];
    const retired = new Set<number>();
    const drainWorker = async (i: number) => {
      const worker = workers[i];
      if (!worker) throw new Error(`no worker ${i}`);
      retired.add(i);
      const t0 = performance.now();
      const code = await drainChild(worker, workerDrainMs);
      return { code, ms: performance.now() - t0 };
    };
    // What this launcher started, for tools and people: ports, pids, queue URLs.
    const writeStackJson = () =>
      writeFile(
        join(stateDir, "stack.json"),
        JSON.stringify(
          {
            started_at: startedAt,
            launcher: { pid: process.pid },
            emulator: { url: aws.endpoint, port: emulator?.port, pid: process.pid, data_dir: join(stateDir, "emulator") },
            edge: { url: edgeUrl, port: edgePort, pid: edge.pid },
            workers: workers.map((w) => ({ name: w.name, pid: w.pid })),
            queues: resources,
          },
          null,
          2,
        ),
      );
    for (let i = 0; i < (opts.workers ?? 1); i++) spawnWorker(i);
    await Promise.all(workers.map((w) => waitForLine(w, /"worker ready"/, WORKER_BOOT_TIMEOUT_MS)));
    const addWorker = async () => {
      const worker = spawnWorker(workers.length);
      await waitForLine(worker, /"worker ready"/, WORKER_BOOT_TIMEOUT_MS);
      await writeStackJson();
      return worker;
    };

    await writeStackJson();
    return {
      edgeUrl,
      devKey: secrets.devKey,
      adminToken: secrets.adminToken,
      aws,
      resources,
      stateDir,
      workers,
      drainWorker,
      addWorker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
