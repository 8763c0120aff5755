/**
 * The predictive floor (POLICY.tiers[tier].floorByHour) as windows of the day, one per run of
 * consecutive hours (UTC) that share a floor above the tier's minimum. Each becomes a KEDA `cron`
 * trigger; KEDA's HPA scales to the largest count any trigger asks for, so a window holds at least
 * its floor and the queue trigger adds to it.
 */
export interface FloorWindow {
  /** First hour of the window. */
  startHour: number;
  /** The hour it ends, exclusive: 24 is midnight at the end of the day. */
  endHour: number;
  replicas: number;
}

const HOURS = 24;

export function floorWindows(floorByHour: readonly number[], minReplicas: number): FloorWindow[] {
  if (floorByHour.length !== HOURS) throw new Error(`floorByHour has ${floorByHour.length} hours, not ${HOURS}`);
  const windows: FloorWindow[] = [];
  for (let hour = 0; hour < HOURS;) {
    const replicas = floorByHour[hour]!;
    let end = hour + 1;
    while (end < HOURS && floorByHour[end] === replicas) end++;
    // A floor at or under the minimum asks for nothing minReplicaCount does not already hold.
    if (replicas > minReplicas) windows.push({ startHour: hour, endHour: end, replicas });
    hour = end;
  }
  // KEDA's cron scaler rejects a start equal to its end, which a whole-day window would have.
  const whole = windows.length === 1 && windows[0]!.startHour === 0 && windows[0]!.endHour === HOURS ? windows[0] : undefined;
  if (whole) return [0, HOURS / 2].map((startHour) => ({ startHour, endHour: startHour + HOURS / 2, replicas: whole.replicas }));
  return windows;
}

/** The window's start and end as KEDA cron expressions (minute hour day month weekday). */
export function cronSchedule(window: FloorWindow): { start: string; end: string } {
  return { start: `0 ${window.startHour} * * *`, end: `0 ${window.endHour % HOURS} * * *` };
}
