import { describe, expect, it } from "vitest";
import { Health, serveProbes } from "./health.ts";
import { Metrics } from "./metrics.ts";

describe("cost-to-serve metrics", () => {
  it("serves counters in the Prometheus text format over HTTP", async () => {
    const m = new Metrics();
    m.add("reelmesh_gpu_seconds_total", 1.5, { tier: "standard" });
    m.add("reelmesh_gpu_seconds_total", 2, { tier: "standard" });
    m.add("reelmesh_jobs_total", 1, { tier: "economy", outcome: "succeeded" });
    const server = await serveProbes(0, "127.0.0.1", { metrics: m, health: new Health() });
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    server.close();
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(text).toContain("# TYPE reelmesh_gpu_seconds_total counter");
    expect(text).toContain('reelmesh_gpu_seconds_total{tier="standard"} 3.5');
    expect(text).toContain('reelmesh_jobs_total{outcome="succeeded",tier="economy"} 1');
    // Every sample line is `name{labels} number`.
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? \d+(\.\d+)?$/);
  });
});
