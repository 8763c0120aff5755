import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaultProxy, type FaultProxy } from "../../infra/local/fault-proxy.ts";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";
import { awsClients, StackLog, startReceiver, waitFor } from "./support.ts";

/**
 * The stack the chaos scenarios run on: emulator, `wrangler dev` and GPU functions,
 * with a fault proxy in front of the emulator (the workers reach SQS and S3 through it; it can
 * fail S3 writes) and one in front of the edge (it can reset every connection). Jobs are created
 * through the edge's proxy, so their `events_url` goes through it too; reads go straight to the edge.
 */
export interface JobView {
  id: string;
  status: string;
  chunks_ready: number;
  total_chunks: number;
  price: { credits: number };
  charged: number | null;
  error: { code: string } | null;
}
export interface Usage {
  spent: number;
  reserved: number;
}

const TERMINAL = ["succeeded", "failed", "canceled"];

export class ChaosStack {
  readonly log = new StackLog();
  /** Every job created through this harness, for the charges check. */
  readonly created: string[] = [];
  stack!: Stack;
  edgeProxy!: FaultProxy;
  awsProxy!: FaultProxy;
  receiver!: Awaited<ReturnType<typeof startReceiver>>;
  aws!: ReturnType<typeof awsClients>;
  private stateDir = "";

  /** `workers: 0` lets a scenario queue messages before any worker runs (then `stack.addWorker()`). */
  static async start(opts: { workers: number; edgeEnv?: Record<string, string> }): Promise<ChaosStack> {
    const h = new ChaosStack();
    h.stateDir = await mkdtemp(join(tmpdir(), "reelmesh-chaos-"));
    const emulatorPort = await freePort();
    const edgePort = await freePort();
    h.awsProxy = await startFaultProxy({ target: `http://127.0.0.1:${emulatorPort}` });
    h.edgeProxy = await startFaultProxy({ target: `http://127.0.0.1:${edgePort}` });
    h.receiver = await startReceiver();
    h.stack = await startStack({
      stateDir: h.stateDir,
      edgePort,
      emulatorPort,
      workers: opts.workers,
      workerEnv: { AWS_ENDPOINT_URL: h.awsProxy.url },
      ...(opts.edgeEnv ? { edgeEnv: opts.edgeEnv } : {}),
      log: h.log.add,
    });
    h.aws = awsClients(h.stack.aws);
    return h;
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
    await Promise.all([this.edgeProxy?.close(), this.awsProxy?.close(), this.receiver?.close()]);
    if (this.stateDir) await rm(this.stateDir, { recursive: true, force: true });
  }

  private headers() {
    return { authorization: `Bearer ${this.stack.devKey}`, "content-type": "application/json" };
  }

  async read<T>(path: string): Promise<T> {
    return (await (await fetch(`${this.stack.edgeUrl}${path}`, { headers: this.headers() })).json()) as T;
  }

  async bytes(path: string): Promise<Uint8Array> {
    return new Uint8Array(await (await fetch(`${this.stack.edgeUrl}${path}`, { headers: this.headers() })).arrayBuffer());
  }

  /** Creates a job (cache off: each scenario wants its own run) through the edge's proxy. */
  async create(body: Record<string, unknown>): Promise<JobView> {
    const res = await fetch(`${this.edgeProxy.url}/v1/videos`, {
      method: "POST",
      headers: this.headers(),
      body: JSON.stringify({ cache: "none", ...body }),
    });
    if (res.status !== 202) throw new Error(`create: ${res.status} ${await res.text()}`);
    const job = (await res.json()) as JobView;
    this.created.push(job.id);
    return job;
  }

  async finished(id: string, timeoutMs = 150_000): Promise<JobView> {
    const job = await waitFor(async () => {
      const j = await this.read<JobView>(`/v1/videos/${id}`);
      return TERMINAL.includes(j.status) ? j : undefined;
    }, timeoutMs);
    if (!job) throw new Error(`${id} did not finish:\n${this.log.tail()}`);
    return job;
  }

  async playlistLength(id: string): Promise<number> {
    const text = new TextDecoder().decode(await this.bytes(`/v1/videos/${id}/media.m3u8`));
    return text.split("\n").filter((l) => l && !l.startsWith("#")).length;
  }

  /** Chunk computations of a job, from the workers' logs, and how many distinct chunks they were. */
  chunkWork(id: string): { computed: number; distinct: number } {
    const stored = this.log.find(id, "chunk stored").map((l) => l.chunk as number);
    return { computed: stored.length, distinct: new Set(stored).size };
  }

  /** Once nothing is reserved: what was spent since `before`, and the sum of the jobs' own charges. */
  async charges(before: Usage): Promise<{ spent: number; charged: number; reserved: number; jobs: number } | undefined> {
    const after = await waitFor(
      async () => {
        const u = await this.read<Usage>("/v1/usage");
        return u.reserved === 0 ? u : undefined;
      },
      30_000,
      200,
    );
    if (!after) return undefined;
    const jobs = await Promise.all(this.created.map((id) => this.read<JobView>(`/v1/videos/${id}`)));
    return {
      spent: after.spent - before.spent,
      charged: jobs.reduce((s, j) => s + (j.charged ?? 0), 0),
      reserved: after.reserved,
      jobs: jobs.length,
    };
  }
}
