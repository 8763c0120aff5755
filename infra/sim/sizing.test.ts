import { describe, expect, it } from "vitest";
import { batchRate, peakThroughput, workPerVideoS, WORKLOADS } from "./service.ts";
import { erlangC, tasksFor } from "./sizing.ts";

describe("queueing sizes", () => {
  it("computes Erlang C as textbook cases give it", () => {
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 12); // M/M/1: P(wait) = ρ
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    expect(erlangC(10, 10)).toBe(1);
  });

  it("asks for more tasks for more arrivals, a tighter goal or a smaller tail", () => {
    const m = { workload: WORKLOADS.wan, classId: "l40s" as const, concurrency: 4 };
    expect(tasksFor(m, 0, 20, 0.05)).toBe(0);
    expect(tasksFor(m, 1, 20, 0.05)).toBeGreaterThan(tasksFor(m, 0.5, 20, 0.05));
    expect(tasksFor(m, 1, 5, 0.05)).toBeGreaterThanOrEqual(tasksFor(m, 1, 20, 0.05));
    expect(tasksFor(m, 1, 20, 0.01)).toBeGreaterThanOrEqual(tasksFor(m, 1, 20, 0.2));
  });
});

describe("the service-time model", () => {
  it("reproduces its anchor when run as the anchor was", () => {
    const w = WORKLOADS.wan;
    const asAnchor = {
      ...w,
      windowOverhead: 1,
      run: { steps: w.anchor.steps, cfg: w.anchor.cfg, fps: w.anchor.fps, width: w.anchor.width, height: w.anchor.height },
    };
    expect(workPerVideoS(asAnchor) * (w.anchor.frames / w.anchor.fps)).toBeCloseTo(w.anchor.seconds, 9);
  });

  it("scales the denoiser's share with steps and guidance, and leaves the rest", () => {
    const w = WORKLOADS.wan;
    const at = (steps: number, cfg: boolean) => workPerVideoS({ ...w, run: { ...w.run, steps, cfg } });
    expect(at(16, false) - at(8, false)).toBeCloseTo(at(8, false) - at(0, false), 9);
    expect(at(8, true) - at(0, true)).toBeCloseTo(2 * (at(8, false) - at(0, false)), 9);
  });

  it("gives a task no more than its best batch's throughput", () => {
    expect(batchRate(1, 0.9)).toBe(1);
    expect(peakThroughput(4, 0.9)).toBeCloseTo(4 / 3.7, 12);
    expect(peakThroughput(4, 1.2)).toBe(1); // batching that costs more than turns: one job at a time is best
  });
});
