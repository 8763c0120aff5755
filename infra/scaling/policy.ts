/**
 * The GPU fleet's scaling policy and queue settings: the one source of truth that the day-long
 * simulator (infra/sim/), the AWS stack (infra/aws/) and the Kubernetes manifests (infra/k8s/)
 * all read, so what is measured is what is deployed. infra/aws/policy-drift.test.ts and
 * infra/k8s/policy-drift.test.ts fail if a deployed artefact drifts from it. The values are
 * chosen by the simulator's figures (docs/scaling.md; `npm run sim -- --tune` shows the search);
 * change them here and re-run `npm run sim`.
 */

export const TIERS = ["standard", "economy"] as const;
export type Tier = (typeof TIERS)[number];

/** Queue settings shared by every deployment and by the local stack. */
export const QUEUES = {
  /** Receives of one job message before SQS parks it in the dead-letter queue. */
  maxReceiveCount: 3,
  /**
   * Visibility of a received job; the worker's heartbeat extends it while the job runs. Short, so
   * a job whose worker died is received again within seconds (resumed within 15 s; the
   * chaos suite measures it); a second receiver while the owner lives is turned away by the job's
   * lease (edge/src/jobs/lease.ts), so a late heartbeat costs no GPU work.
   */
  visibilityTimeoutS: 10,
  /** The heartbeat runs at three tenths of the visibility timeout (gpu-functions/consumer). */
  heartbeatS: 3,
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
  /**
   * Ceiling on the reactive part in each hour (UTC): economy work is held back in the standard
   * peaks and runs in the troughs. Scheduled actions set the floor and the ceiling together.
   */
  maxByHour: readonly number[];
  /**
   * When the tier's oldest message (SQS ApproximateAgeOfOldestMessage) is older than
   * `oldestAgeS`, run at least `tasks` whatever the hour's ceiling, so no job outlives the edge's
   * job timeout (REELMESH_JOB_TIMEOUT_S, 6 h). Null: no guard.
   */
  deadlineGuard: { oldestAgeS: number; tasks: number } | null;
  /** EC2 instance type of the tier's tasks (one GPU each; infra/sim/service.ts lists the classes simulated). */
  instanceType: string;
}

export const POLICY = {
  name: "reelmesh",
  /** Standard jobs should start within this many seconds of their create (p95). */
  waitGoalS: 20,
  /** Jobs one task runs at once (REELMESH_CONCURRENT_JOBS in the GPU image). */
  concurrentJobsPerTask: 4,
  /** The cold start the floor is shifted by: instance boot, image pull, process to ready. */
  coldStartS: 60,
  /**
   * Extra work a draining worker may do after SIGTERM before it hands its job back: under 10 s,
   * so an interrupted or scaled-in task is gone quickly. One chunk in a full batch on an L40S
   * takes about 26 s, so a chunk in progress is usually abandoned and redone elsewhere (at most
   * one chunk per job; the simulator counts it as rework).
   */
  drainBoundS: 8,
  /** Scale-in takes only idle workers (task protection on ECS, pod-deletion-cost on Kubernetes). */
  scaleInIdleOnly: true,
  tiers: {
    standard: {
      // A task's 4 slots: every slot busy, no standing queue. Whole: KEDA reads queueLength as an integer.
      targetBacklogPerTask: 4,
      minTasks: 1,
      // The viral spike needs about 80 tasks at full batches; room to drain its backlog.
      maxTasks: 128,
      activationBacklog: 1,
      pollingIntervalS: 10,
      scaleOutCooldownS: 0,
      scaleInCooldownS: 120,
      cooldownToZeroS: 600,
      // The night floor on on-demand; the rest on spot (2 min notice, a 30 s drain, ≤ 1 chunk redone).
      onDemandBase: 3,
      spot: true,
      // Erlang C for each hour's quietest profile rate, led by the cold start (infra/sim/sizing.ts):
      // the load itself; the reactive part above it holds the wait goal.
      floorByHour: [5, 3, 3, 3, 3, 3, 4, 9, 12, 10, 8, 12, 18, 11, 8, 8, 12, 16, 20, 25, 31, 31, 22, 12],
      maxByHour: [128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128],
      deadlineGuard: null,
      instanceType: "g6e.xlarge",
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
      floorByHour: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      // Zero in the standard peaks (hours above the day's mean hour of standard jobs) and the hour
      // before the midday one: running economy tasks stay protected while their queue has work.
      maxByHour: [16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0],
      deadlineGuard: { oldestAgeS: 18_000, tasks: 3 },
      instanceType: "g6e.xlarge",
    },
  } satisfies Record<Tier, TierScaling>,
} as const;

/** The predictive floor of a tier at a moment (UTC). */
export function floorAt(tier: Tier, at: Date): number {
  return POLICY.tiers[tier].floorByHour[at.getUTCHours()]!;
}
