import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { ecsTaskProtection } from "./ecs.ts";
import { DELETION_COST_ANNOTATION, podDeletionCost } from "./kubernetes.ts";
import { createProtection, protectionMode, ScaleInProtection } from "./protection.ts";

/**
 * Scale-in protection against local stand-ins: an HTTP server in place of the ECS container
 * agent's task-protection endpoint (the agent itself cannot run here), and an HTTPS server with
 * its own CA in place of the Kubernetes API server.
 */
interface Call {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

function standIn(answer: (call: Call, res: ServerResponse) => void) {
  const calls: Call[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString("utf8")));
    req.on("end", () => {
      const call = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: JSON.parse(text || "null") as unknown };
      calls.push(call);
      answer(call, res);
    });
  };
  return { calls, handler };
}

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(String((server.address() as { port: number }).port))));
const quiet = () => {};

describe("scale-in protection", () => {
  it("is chosen from the environment when REELMESH_SCALE_IN_PROTECTION is unset", () => {
    expect(protectionMode({ ECS_AGENT_URI: "http://169.254.170.2/api/x" })).toBe("ecs");
    expect(protectionMode({ KUBERNETES_SERVICE_HOST: "10.0.0.1", POD_NAME: "gpu-abc" })).toBe("kubernetes");
    // A pod whose manifest does not pass its name cannot annotate itself.
    expect(protectionMode({ KUBERNETES_SERVICE_HOST: "10.0.0.1" })).toBe("none");
    expect(protectionMode({})).toBe("none");
    expect(protectionMode({ REELMESH_SCALE_IN_PROTECTION: "none", ECS_AGENT_URI: "http://169.254.170.2/api/x" })).toBe("none");
  });

  describe("on ECS (a stand-in for the agent's endpoint)", () => {
    let server: Server;
    let agentUri: string;
    let failing = false;
    const agent = standIn((call, res) => {
      if (failing) return res.writeHead(200).end(JSON.stringify({ failure: { Arn: "arn:task", Reason: "TASK_NOT_VALID" } }));
      const body = call.body as { ProtectionEnabled: boolean };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ protection: { ...body, TaskArn: "arn:task" } }));
    });
    beforeAll(async () => {
      server = createHttpServer(agent.handler);
      agentUri = `http://127.0.0.1:${await listen(server)}/api/task-1`;
    });
    afterAll(() => server?.close());

    it("turns on when busy and off when idle, only on those transitions, renewed at half its expiry", async () => {
      let now = 0;
      const guard = new ScaleInProtection(ecsTaskProtection(agentUri), { expiresInMinutes: 30, log: quiet, now: () => now });
      guard.busy();
      guard.busy();
      guard.heartbeat();
      await guard.settled();
      expect(agent.calls.map((c) => [c.method, c.url, c.body])).toEqual([
        ["PUT", "/api/task-1/task-protection/v1/state", { ProtectionEnabled: true, ExpiresInMinutes: 30 }],
      ]);
      now = 15 * 60_000;
      guard.heartbeat();
      await guard.settled();
      guard.idle();
      guard.idle();
      await guard.settled();
      expect(agent.calls.slice(1).map((c) => c.body)).toEqual([
        { ProtectionEnabled: true, ExpiresInMinutes: 30 },
        { ProtectionEnabled: false },
      ]);
      expect(agent.calls[0]!.headers["content-type"]).toBe("application/json");
    });

    it("treats the agent's failure answer as a failure, and retries no sooner than 10 s later", async () => {
      agent.calls.length = 0;
      failing = true;
      let now = 0;
      const logged: string[] = [];
      const guard = new ScaleInProtection(ecsTaskProtection(agentUri), {
        expiresInMinutes: 30,
        log: (m) => logged.push(m),
        now: () => now,
      });
      guard.busy();
      await guard.settled();
      now = 5_000;
      guard.heartbeat();
      await guard.settled();
      expect(agent.calls).toHaveLength(1);
      expect(logged).toEqual(["scale-in protection call failed"]);
      failing = false;
      now = 10_000;
      guard.heartbeat();
      await guard.settled();
      expect(agent.calls).toHaveLength(2);
      expect(logged.at(-1)).toBe("scale-in protection on");
    });
  });

  describe("on Kubernetes (a stand-in for the API server, over TLS with its own CA)", () => {
    let dir: string;
    let server: Server;
    let port: string;
    const api = standIn((_call, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "reelmesh-k8s-"));
      const made = spawnSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
        ].concat(["-keyout", join(dir, "key.pem"), "-out", join(dir, "ca.crt")]),
        { encoding: "utf8" },
      );
      if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
      await writeFile(join(dir, "token"), "service-account-token\n");
      await writeFile(join(dir, "namespace"), "video\n");
      server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "ca.crt")) }, api.handler);
      port = await listen(server);
    });
    afterAll(async () => {
      server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("keeps its pod's deletion cost high while busy and low while idle", async () => {
      const env = { SQS_QUEUE_URL_STANDARD: "http://127.0.0.1:1/q", REELMESH_EVENTS_SECRET: "0123456789abcdef" };
      const config = loadConfig({ ...env, KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port, POD_NAME: "gpu-7f9c" });
      const paths = { tokenPath: join(dir, "token"), caPath: join(dir, "ca.crt"), namespacePath: join(dir, "namespace") };
      const guard = (await createProtection(config, quiet, paths))!;
      guard.busy();
      await guard.settled();
      guard.idle();
      await guard.settled();
      expect(api.calls.map((c) => [c.method, c.url])).toEqual([
        ["PATCH", "/api/v1/namespaces/video/pods/gpu-7f9c"],
        ["PATCH", "/api/v1/namespaces/video/pods/gpu-7f9c"],
      ]);
      expect(api.calls[0]!.headers).toMatchObject({
        authorization: "Bearer service-account-token",
        "content-type": "application/merge-patch+json",
      });
      expect(api.calls.map((c) => c.body)).toEqual([
        { metadata: { annotations: { [DELETION_COST_ANNOTATION]: "1000" } } },
        { metadata: { annotations: { [DELETION_COST_ANNOTATION]: "0" } } },
      ]);
    });

    it("refuses an API server its CA did not sign", async () => {
      const other = await mkdtemp(join(tmpdir(), "reelmesh-k8s-other-"));
      spawnSync(
        "openssl",
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other"].concat([
          "-keyout",
          join(other, "key.pem"),
          "-out",
          join(other, "ca.crt"),
        ]),
      );
      const backend = podDeletionCost({
        host: "127.0.0.1",
        port: Number(port),
        namespace: "video",
        pod: "gpu-7f9c",
        tokenPath: join(dir, "token"),
        caPath: join(other, "ca.crt"),
      });
      await expect(backend.set(true, 60)).rejects.toThrow();
      await rm(other, { recursive: true, force: true });
    });
  });
});
