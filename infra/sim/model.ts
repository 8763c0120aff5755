import type { Tier } from "../scaling/policy.ts";
import type { ClassId } from "./service.ts";

/** The simulator's shared vocabulary: jobs, tasks, pools, and what a scaler sees and returns. */

export interface Job {
  id: number;
  tier: Tier;
  /** Created at (s). */
  at: number;
  clipS: number;
  /** Anchor-device seconds the job needs alone, and how much of it is done. */
  work: number;
  progress: number;
  /** First start and end (s), −1 until they happen. */
  start: number;
  end: number;
  /** Times the job was handed back unfinished (scale-in, spot). */
  restarts: number;
  task: Task | null;
}

type TaskState = "booting" | "ready" | "draining" | "gone";

export interface Task {
  id: number;
  pool: Pool;
  spot: boolean;
  speed: number;
  launchedAt: number;
  readyAt: number;
  /** When it stopped being billed; Infinity while it runs. */
  endAt: number;
  state: TaskState;
  jobs: Job[];
  /** Time up to which its jobs' progress is counted. */
  last: number;
  /** Bumped whenever its next completion changes, to drop stale completion events. */
  version: number;
  /** Jobs its current process has received; at the process's limit it takes no more and exits. */
  received: number;
  /** Processes restarted on this task's instance after reaching the limit. */
  restarts: number;
}

export interface QueueView {
  visible: number;
  /** Received and not deleted: running, or handed to a worker that died and not yet visible again. */
  inFlight: number;
  /** Age of the oldest visible message (s), 0 when none. */
  oldestAgeS: number;
}

/** CloudWatch-like datapoints, one a minute: "visible:<tier>", "inflight:<tier>", "age:<tier>", "running:<pool>", "cpu:<pool>". */
export interface MetricHistory {
  /**
   * The average of a metric's datapoints over the latest whole period that ended at least `delayS`
   * before `now`, as an alarm on that period sees it; undefined before there is one.
   */
  average(key: string, now: number, periodS: number, delayS: number): number | undefined;
}

export interface ScalerView {
  now: number;
  pool: {
    id: string;
    /** The count last asked for. */
    target: number;
    /** Booting or serving (what a service's running count and its pending tasks add up to). */
    active: number;
    ready: number;
    booting: number;
    idle: number;
  };
  queues: Record<Tier, QueueView>;
  history: MetricHistory;
}

/** One pool's autoscaler: called every `periodS`, returns the task count it wants, or null to leave it. */
export interface Scaler {
  periodS: number;
  decide(view: ScalerView): number | null;
}

export interface PoolSpec {
  id: string;
  /** Queues its workers poll, in order (a worker takes standard work before economy). */
  tiers: readonly Tier[];
  classId: ClassId;
  /** Tasks kept on on-demand capacity; the rest run on spot when `spot`. */
  onDemandBase: number;
  spot: boolean;
  /**
   * Which ready tasks scale-in stops: "idle-only" (ECS task protection: a busy task is never
   * stopped), "idle-first" (Kubernetes pod-deletion-cost: idle pods first, then busy ones),
   * "random" (no protection).
   */
  scaleIn: "idle-only" | "idle-first" | "random";
  /** Work a stopped worker may still do before it hands its jobs back (s). */
  drainS: number;
  /** Tasks running, already warm, when the replay starts. */
  initial: number;
  scaler: Scaler;
}

export interface Scenario {
  name: string;
  description: string;
  pools: PoolSpec[];
}

export interface Pool {
  spec: PoolSpec;
  target: number;
  tasks: Task[];
}
