import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

/** Helpers of test/integration/client.test.ts: a webhook receiver, the CLI as a child process, accounts from the admin API. */

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server that answers 204 to every POST and keeps what it got, raw. */
export async function webhookReceiver(): Promise<{
  url: string;
  deliveries: Delivery[];
  next: (timeoutMs: number) => Promise<Delivery>;
  close: () => Promise<void>;
}> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const next = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (deliveries.length === 0) {
      if (Date.now() > deadline) throw new Error(`no webhook delivery within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return deliveries[0]!;
  };
  return { url: `http://127.0.0.1:${port}`, deliveries, next, close: () => new Promise((r) => server.close(() => r())) };
}

const BIN = fileURLToPath(new URL("../../client/cli/reelmesh.js", import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `reelmesh <args>` as a user would (a child process, piped output, so not a TTY). */
export function runCli(args: string[], env: Record<string, string>, onStderr?: (text: string) => void) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr);
  });
  const done = new Promise<CliRun>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** A new account through the admin API; returns its API key. */
export async function newAccount(
  edgeUrl: string,
  adminToken: string,
  body: { credits?: number; limits?: { burst: number; per_s: number; max_running_jobs: number } },
): Promise<string> {
  const res = await fetch(`${edgeUrl}/admin/accounts`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "client-tests", ...body }),
  });
  if (res.status !== 201) throw new Error(`admin: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { api_key: string }).api_key;
}
