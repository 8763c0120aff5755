import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * A fault-injecting HTTP proxy for the chaos suite (test/chaos/): it stands in front of a real
 * service on this machine (the edge, or the SQS/S3 emulator) and forwards every request as is,
 * except the faults it is told to cause, the way production causes them:
 * - `down`: the service is unreachable (a deploy, a network blip): every connection is reset;
 * - `writeFaults`: one S3 write (PUT) in N fails, in turn with 503 SlowDown (throttling),
 *   500 InternalError, and a connection reset before any answer.
 * The emulator itself cannot be made to fail; this proxy is the stand-in for those faults.
 */
export interface FaultProxy {
  url: string;
  port: number;
  /** Reset every connection while true. */
  setDown(down: boolean): void;
  /** Fail one S3 write in `oneIn` (0: none). */
  setWriteFaults(oneIn: number): void;
  /** `refused`: connections and requests cut while down. */
  readonly stats: { requests: number; writes: number; failedWrites: number; refused: number };
  close(): Promise<void>;
}

const S3_ERROR = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

export async function startFaultProxy(opts: { target: string; port?: number }): Promise<FaultProxy> {
  const target = new URL(opts.target);
  let down = false;
  let oneIn = 0;
  const stats = { requests: 0, writes: 0, failedWrites: 0, refused: 0 };
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    stats.requests++;
    if (down) {
      stats.refused++;
      req.socket.destroy();
      return;
    }
    // S3 writes are PUTs (objects); SQS calls are POSTs and pass untouched.
    if (req.method === "PUT" && oneIn > 0 && ++stats.writes % oneIn === 0) {
      const kind = stats.failedWrites++ % 3;
      req.resume();
      if (kind === 2) {
        req.socket.destroy();
        return;
      }
      const [status, body] =
        kind === 0
          ? [503, S3_ERROR("SlowDown", "Please reduce your request rate.")]
          : [500, S3_ERROR("InternalError", "We encountered an internal error.")];
      res.writeHead(status, { "content-type": "application/xml" }).end(body);
      return;
    }
    forward(req, res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    if (down) {
      stats.refused++;
      s.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setDown(d) {
      down = d;
      // Connections kept alive from before are cut too: nothing reaches the service while down.
      if (d) for (const s of sockets) s.destroy();
    },
    setWriteFaults(n) {
      oneIn = n;
    },
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
