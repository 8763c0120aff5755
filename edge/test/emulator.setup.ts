import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import { startFauxqs } from "fauxqs";
import { provision } from "../../infra/local/resources.ts";

/**
 * A real HTTP webhook receiver for the delivery tests (a Durable Object posts to it):
 * `POST /hook/<name>` records the request and answers 204, or 500 while `POST /fail/<name>?n=N`
 * has failures left; `GET /log/<name>` returns what arrived.
 */
function startReceiver(port: number) {
  const log = new Map<string, { headers: Record<string, string>; body: string }[]>();
  const failures = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const [, verb, name = ""] = url.pathname.split("/");
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (verb === "fail") {
        failures.set(name, Number(url.searchParams.get("n") ?? 1));
        res.writeHead(204).end();
      } else if (verb === "log") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(log.get(name) ?? []));
      } else if (verb === "hook") {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        log.set(name, [...(log.get(name) ?? []), { headers, body }]);
        const left = failures.get(name) ?? 0;
        if (left > 0) failures.set(name, left - 1);
        res.writeHead(left > 0 ? 500 : 204).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  return new Promise<typeof server>((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** Starts the SQS/S3 emulator and the webhook receiver (in Node) for the workerd tests, on the ports the config chose. */
export default async function setup(): Promise<() => Promise<void>> {
  const receiver = await startReceiver(Number(process.env.REELMESH_TEST_RECEIVER_PORT));
  const port = Number(process.env.REELMESH_TEST_EMULATOR_PORT);
  const dataDir = await mkdtemp(join(tmpdir(), "reelmesh-edge-test-"));
  const server = await startFauxqs({ port, host: "127.0.0.1", logger: false, dataDir });
  await provision({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    accessKeyId: "reelmesh-local",
    secretAccessKey: "reelmesh-local-secret",
  });
  return async () => {
    receiver.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
