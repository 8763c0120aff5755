import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cronSchedule, floorWindows, type FloorWindow } from "./floor.ts";

/** The floor the windows hold in an hour: the largest window covering it, or the minimum. */
const heldAt = (windows: FloorWindow[], hour: number, min: number) =>
  Math.max(min, ...windows.filter((w) => w.startHour <= hour && hour < w.endHour).map((w) => w.replicas));

const day = fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 24, maxLength: 24 });

describe("the predictive floor as cron windows", () => {
  it("holds every hour's floor, or the minimum where that is higher", () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 4 }), (floors, min) => {
        const windows = floorWindows(floors, min);
        for (let hour = 0; hour < 24; hour++) expect(heldAt(windows, hour, min)).toBe(Math.max(min, floors[hour]!));
      }),
    );
  });

  it("gives each run of equal hours one window, and none to hours at or under the minimum", () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 4 }), (floors, min) => {
        fc.pre(new Set(floors).size > 1); // a constant day is split at noon (below)
        const windows = floorWindows(floors, min);
        for (const w of windows) expect(w.replicas).toBeGreaterThan(min);
        for (const [a, b] of windows.slice(1).map((w, i) => [windows[i]!, w] as const)) {
          expect(a.endHour).toBeLessThanOrEqual(b.startHour);
          if (a.endHour === b.startHour) expect(a.replicas).not.toBe(b.replicas);
        }
      }),
    );
  });

  it("never starts and ends a window at the same time, which KEDA's cron scaler rejects", () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 4 }), (floors, min) => {
        for (const w of floorWindows(floors, min)) {
          const { start, end } = cronSchedule(w);
          expect(start).not.toBe(end);
        }
      }),
    );
    expect(floorWindows(Array<number>(24).fill(3), 1)).toEqual([
      { startHour: 0, endHour: 12, replicas: 3 },
      { startHour: 12, endHour: 24, replicas: 3 },
    ]);
  });

  it("writes hours as daily cron expressions, the end of the day as midnight", () => {
    expect(cronSchedule({ startHour: 7, endHour: 9, replicas: 2 })).toEqual({ start: "0 7 * * *", end: "0 9 * * *" });
    expect(cronSchedule({ startHour: 23, endHour: 24, replicas: 4 })).toEqual({ start: "0 23 * * *", end: "0 0 * * *" });
  });

  it("refuses a day that is not 24 hours long", () => {
    expect(() => floorWindows([1, 2, 3], 0)).toThrow(/3 hours, not 24/);
  });
});
