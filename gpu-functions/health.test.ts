import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, serveProbes } from "./health.ts";
import { Metrics } from "./metrics.ts";

describe("the worker's probes", () => {
  let server: Server;
  let base: string;
  const health = new Health();
  let providerUp = true;

  beforeAll(async () => {
    server = await serveProbes(0, "127.0.0.1", { health, metrics: new Metrics() });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server?.close());

  const status = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("answer alive at once, and not ready while the model loads", async () => {
    expect(await status("/healthz")).toEqual({ status: 200, body: { status: "alive" } });
    expect(await status("/readyz")).toEqual({ status: 503, body: { ready: false, reason: "loading" } });
  });

  it("are ready once the model is loaded on a working execution provider", async () => {
    health.modelLoaded({ provider: "cpu", healthy: () => providerUp });
    expect(await status("/readyz")).toEqual({ status: 200, body: { ready: true, provider: "cpu" } });
  });

  it("are not ready when the ONNX Runtime thread has died, though still alive", async () => {
    providerUp = false;
    expect((await status("/readyz")).status).toBe(503);
    expect((await status("/healthz")).status).toBe(200);
    providerUp = true;
  });

  it("are not ready while draining, so no new traffic or probe counts the worker as capacity", async () => {
    health.drain();
    expect(await status("/readyz")).toEqual({ status: 503, body: { ready: false, reason: "draining" } });
    expect((await status("/healthz")).status).toBe(200);
  });

  it("serve the metrics on the same port and refuse other methods", async () => {
    expect((await fetch(`${base}/metrics`)).headers.get("content-type")).toContain("text/plain");
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
