import { createServer, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { EventSender, type StopReason } from "./client.ts";

/** A real HTTP edge stand-in on loopback whose answers each test scripts (the edge itself is tested in workerd). */
type Script = (req: IncomingMessage, body: { type: string }) => { status: number; json?: unknown } | "reset";
let close: (() => Promise<void>) | undefined;

async function edge(script: Script): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      const body = JSON.parse(raw) as { type: string };
      seen.push(body.type);
      const answer = script(req, body);
      if (answer === "reset") return req.socket.destroy();
      res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.json ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  close = () => new Promise<void>((r) => server.close(() => r()));
  return { url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/internal/events`, seen };
}

afterEach(async () => {
  await close?.();
  close = undefined;
});

const sender = (url: string, extra: Partial<ConstructorParameters<typeof EventSender>[0]> = {}) =>
  new EventSender({
    url,
    secret: "test-secret-0123456789",
    jobId: "vid_x",
    workerId: "w",
    run: "r1",
    log: () => {},
    maxBackoffMs: 50,
    ...extra,
  });

describe("worker events", () => {
  it("keeps an event through 5xx answers and reset connections until the edge takes it, in order", async () => {
    let n = 0;
    const { url, seen } = await edge(() => {
      n++;
      if (n <= 4) return n % 2 ? { status: 503 } : "reset";
      return { status: 200, json: { applied: true, stop: false } };
    });
    const events = sender(url);
    const a = events.send({ type: "started" });
    const b = events.send({ type: "canceled", chunks: 0 });
    expect(await a).toMatchObject({ outcome: "taken" });
    expect(await b).toMatchObject({ outcome: "taken" });
    // The reset requests never reached the handler's answer, but were seen.
    expect(seen).toEqual(["started", "started", "started", "started", "started", "canceled"]);
  });

  it("gives up only when its retry window has passed", async () => {
    const { url, seen } = await edge(() => ({ status: 502 }));
    const d = await sender(url, { retryWindowMs: 300 }).send({ type: "started" });
    expect(d).toEqual({ outcome: "undelivered" });
    expect(seen.length).toBeGreaterThan(2);
  });

  it("stops when the edge does not know the job (404), and sends nothing more", async () => {
    const stops: StopReason[] = [];
    const { url, seen } = await edge(() => ({ status: 404 }));
    const events = sender(url, { onStop: (r) => stops.push(r) });
    expect(await events.send({ type: "started" })).toEqual({ outcome: "unknown" });
    expect(await events.send({ type: "canceled", chunks: 0 })).toEqual({ outcome: "unknown" });
    await events.notify({ type: "heartbeat" });
    expect(stops).toEqual(["unknown"]);
    expect(seen).toEqual(["started"]);
  });

  it("passes the edge's reason to stop on, with how long another run owns the job", async () => {
    const stops: [StopReason, number | undefined][] = [];
    const { url } = await edge(() => ({ status: 200, json: { applied: false, stop: true, reason: "not_owner", retry_after_s: 4 } }));
    await sender(url, { onStop: (r, a) => stops.push([r, a.retry_after_s]) }).send({ type: "started" });
    expect(stops).toEqual([["not_owner", 4]]);
  });

  it("skips a notification while reliable events wait for an unreachable edge", async () => {
    let open = false;
    const { url, seen } = await edge(() => (open ? { status: 200, json: {} } : { status: 503 }));
    const events = sender(url);
    const pending = events.send({ type: "started" });
    await new Promise((r) => setTimeout(r, 30));
    await events.notify({ type: "heartbeat" });
    open = true;
    await pending;
    expect(seen).not.toContain("heartbeat");
  });
});
