import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.ts";

/**
 * The worker's probes, beside its metrics on REELMESH_METRICS_PORT:
 * - `GET /healthz` (liveness): 200 while the process answers at all; the images' HEALTHCHECK.
 * - `GET /readyz` (readiness): 200 only once the model is loaded and its execution provider is
 *   up; 503 before, if the ONNX Runtime thread dies, and while draining (a worker on its way out
 *   must not count as capacity).
 * The server starts before the model loads, so a slow load reads as "alive, not ready" rather
 * than as a dead container.
 */
export interface ModelProbe {
  /** The execution provider the sessions run on. */
  provider: string;
  /** False once the ONNX Runtime thread has failed. */
  healthy(): boolean;
}

export type Readiness = { ready: true; provider: string } | { ready: false; reason: "loading" | "provider_down" | "draining" };

export class Health {
  private model: ModelProbe | null = null;
  private draining = false;

  modelLoaded(model: ModelProbe): void {
    this.model = model;
  }

  drain(): void {
    this.draining = true;
  }

  readiness(): Readiness {
    if (this.draining) return { ready: false, reason: "draining" };
    if (!this.model) return { ready: false, reason: "loading" };
    if (!this.model.healthy()) return { ready: false, reason: "provider_down" };
    return { ready: true, provider: this.model.provider };
  }
}

/** `/metrics`, `/healthz` and `/readyz` on one port. */
export function serveProbes(port: number, host: string, probes: { health: Health; metrics: Metrics }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(probes.metrics.render());
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"alive"}');
    } else if (path === "/readyz") {
      const r = probes.health.readiness();
      res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(r));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
