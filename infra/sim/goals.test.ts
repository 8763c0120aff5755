import { describe, expect, it } from "vitest";
import { floorAt, POLICY, TIERS } from "../scaling/policy.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { checkGoals } from "./goals.ts";
import { hourBounds } from "./reelmesh.ts";
import { prepareDay } from "./scenarios.ts";
import { runPolicy, standardFloor } from "./study.ts";
import { detectSpike, loadTrace, standardPeakHours } from "./trace.ts";

/** reelmesh's policy, as infra/scaling/policy.ts holds it, on the real trace with 60 s cold starts (docs/scaling.md#goals). */
describe("reelmesh's scaling policy on the day's trace", () => {
  const trace = loadTrace();
  const day = prepareDay({ ...DEFAULT_CONFIG, coldStartS: 60 }, trace);

  it("is the trace the issue describes: about 33k standard and 9.7k economy jobs, a spike at 19:30", () => {
    const total = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
    expect(total(trace.standard)).toBe(33_451);
    expect(total(trace.economy)).toBe(9_651);
    expect(detectSpike(trace).startS).toBe(19.5 * 3600);
  });

  it("keeps the floor the simulator derives from the hour-of-day profile, and no economy work in a standard peak", () => {
    expect(POLICY.tiers.standard.floorByHour).toEqual(standardFloor(day));
    const peaks = standardPeakHours(trace);
    POLICY.tiers.economy.maxByHour.forEach((max, hour) => {
      if (peaks[hour]) expect(max).toBe(0);
    });
    for (const tier of TIERS) {
      const t = POLICY.tiers[tier];
      expect(t.floorByHour).toHaveLength(24);
      expect(t.maxByHour).toHaveLength(24);
      t.floorByHour.forEach((floor, hour) => expect(floor).toBeLessThanOrEqual(Math.max(t.maxByHour[hour]!, t.minTasks)));
    }
  });

  it("runs the floor the deployments read through floorAt, each hour of the day (UTC)", () => {
    for (const tier of TIERS) {
      for (let hour = 0; hour < 24; hour++) {
        const at = (hour * 3600 + 1800) * 1000;
        const floor = Math.max(floorAt(tier, new Date(at)), POLICY.tiers[tier].minTasks);
        expect(hourBounds(POLICY.tiers[tier], at / 1000, false).min).toBe(floor);
      }
    }
  });

  it("meets every goal", () => {
    const metrics = Object.fromEntries(
      (["reelmesh", "static-peak", "keda-default", "cdk-default"] as const).map((n) => [n, runPolicy(day, n).metrics]),
    );
    const checks = checkGoals(metrics as Parameters<typeof checkGoals>[0]);
    expect(checks.filter((c) => !c.met)).toEqual([]);
  });
});
