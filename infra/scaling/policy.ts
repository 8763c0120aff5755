/**
 * The GPU fleet's scaling policy and queue settings: the one source of truth that the day-long
 * simulator (infra/sim/), the AWS stack (infra/aws/) and the Kubernetes manifests (infra/k8s/)
 * all read, so what is measured is what is deployed. infra/scaling/policy.test.ts fails if a
 * deployed artefact drifts from it. The values are chosen by the simulator's figures
 * (docs/scaling.md); change them here and re-run `npm run sim`.
 */

export const TIERS = ["standard", "economy"] as const;
export type Tier = (typeof TIERS)[number];

/** Queue settings shared by every deployment and by the local stack. */
export const QUEUES = {
  /** Receives of one job message before SQS parks it in the dead-letter queue. */
  maxReceiveCount: 3,
  /** Visibility of a received job; the worker's heartbeat extends it while the job runs. */
  visibilityTimeoutS: 60,
  /** The heartbeat runs at a third of the visibility timeout (gpu-functions/consumer). */
  heartbeatS: 20,
  /** Alarm when the oldest message of a tier's queue is older than this. */
  oldestMessageAlarmS: { standard: 60, economy: 3_600 } satisfies Record<Tier, number>,
} as const;

export interface TierScaling {
  /** (visible + in-flight messages) / running tasks that the tier's target tracking holds. */
  targetBacklogPerTask: number;
  /** Bounds of the tier's task count. */
  minTasks: number;
  maxTasks: number;
  /** Visible messages that wake a tier that has scaled to zero. */
  activationBacklog: number;
  /** How often the backlog is read (KEDA pollingInterval, CloudWatch metric period). */
  pollingIntervalS: number;
  scaleOutCooldownS: number;
  scaleInCooldownS: number;
  /** How long a tier with no work keeps its last task before going to zero (KEDA cooldownPeriod). */
  cooldownToZeroS: number;
  /** Tasks that run on on-demand capacity; the rest of the tier runs on spot. */
  onDemandBase: number;
  /** Whether the tier may run on spot capacity at all. */
  spot: boolean;
  /**
   * Predictive floor: tasks to keep running in each hour of the day (UTC), already shifted
   * earlier by the cold start, so capacity is up when the hour's demand arrives.
   */
  floorByHour: readonly number[];
}

export const POLICY = {
  name: "reelmesh",
  /** Standard jobs should start within this many seconds of their create (p95). */
  waitGoalS: 20,
  /** Jobs one task runs at once (REELMESH_CONCURRENT_JOBS in the GPU image). */
  concurrentJobsPerTask: 4,
  /** The cold start the floor is shifted by: instance boot, image pull, process to ready. */
  coldStartS: 60,
  /** Extra work a draining worker may do after SIGTERM before it hands its job back. */
  drainBoundS: 10,
  /** Scale-in takes only idle workers (task protection on ECS, pod-deletion-cost on Kubernetes). */
  scaleInIdleOnly: true,
  tiers: {
    standard: {
      targetBacklogPerTask: 6,
      minTasks: 1,
      maxTasks: 64,
      activationBacklog: 1,
      pollingIntervalS: 10,
      scaleOutCooldownS: 0,
      scaleInCooldownS: 300,
      cooldownToZeroS: 600,
      onDemandBase: 1,
      spot: true,
      floorByHour: [2, 1, 1, 1, 1, 1, 1, 2, 2, 3, 2, 3, 4, 5, 2, 1, 3, 4, 3, 5, 8, 7, 6, 4],
    },
    economy: {
      targetBacklogPerTask: 40,
      minTasks: 0,
      maxTasks: 16,
      activationBacklog: 1,
      pollingIntervalS: 30,
      scaleOutCooldownS: 60,
      scaleInCooldownS: 300,
      cooldownToZeroS: 300,
      onDemandBase: 0,
      spot: true,
      floorByHour: [0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    },
  } satisfies Record<Tier, TierScaling>,
} as const;

/** The predictive floor of a tier at a moment (UTC). */
export function floorAt(tier: Tier, at: Date): number {
  return POLICY.tiers[tier].floorByHour[at.getUTCHours()]!;
}
