import { POLICY, QUEUES } from "../scaling/policy.ts";
import { CLASSES, WORKLOADS, type ClassId, type Workload } from "./service.ts";

/**
 * The world the policies run in: everything the simulator assumes that is not a policy choice.
 * Each default is documented in docs/scaling.md; `npm run sim -- --help` lists the flags that
 * change them.
 */
export interface SimConfig {
  seed: number;
  /** What a job costs to run: the service-time model and its anchors (service.ts). */
  workload: Workload;
  /** From a task's launch to its first receive: instance boot, image pull, model load. */
  coldStartS: number;
  /** On-demand price per hour of each class (defaults: CLASSES' list prices). */
  onDemandUsdPerHour: Record<ClassId, number>;
  /** Spot price as a share of on-demand (AWS spot runs 60–70 % below on-demand). */
  spotPriceShare: number;
  /** Spot interruptions per instance-hour. */
  spotInterruptionsPerHour: number;
  /** Warning before a spot instance is reclaimed (EC2's interruption notice). */
  spotNoticeS: number;
  /** Seconds a stopped task gets between SIGTERM and SIGKILL (ECS stopTimeout, Kubernetes grace) by default. */
  platformGraceS: number;
  /** Jobs one task runs at once. */
  concurrency: number;
  /** A worker process exits after receiving this many jobs and is replaced (REELMESH_MAX_JOBS; 0: never). */
  maxJobsPerProcess: number;
  /** A replacement process on the same instance: container start and model load, no instance boot. */
  processRestartS: number;
  /** A draining worker hands its job back (visible at once); if not, SQS returns it after the visibility timeout. */
  handBack: boolean;
  visibilityTimeoutS: number;
  /** Age of a CloudWatch datapoint when an alarm first sees it. */
  cloudWatchDelayS: number;
  /** CPU use of a GPU worker's task, busy and idle (for the CDK pattern's CPU scaling). */
  cpuBusyShare: number;
  cpuIdleShare: number;
  /** Hours replayed before the measured day (the day repeats), and after it so its jobs can finish. */
  warmupH: number;
  tailH: number;
  /** Standard jobs should start within this (s); economy jobs must end within the job timeout (s). */
  waitGoalS: number;
  jobTimeoutS: number;
  /** Spacing of the state samples behind the chart and the drain time (s); divides an hour. */
  sampleS: number;
}

export const DEFAULT_CONFIG: SimConfig = {
  seed: 1,
  workload: WORKLOADS.wan,
  coldStartS: POLICY.coldStartS,
  onDemandUsdPerHour: Object.fromEntries(Object.values(CLASSES).map((c) => [c.id, c.onDemandUsdPerHour])) as Record<ClassId, number>,
  spotPriceShare: 0.35,
  spotInterruptionsPerHour: 0.02,
  spotNoticeS: 120,
  platformGraceS: 30,
  concurrency: POLICY.concurrentJobsPerTask,
  maxJobsPerProcess: 100,
  processRestartS: 20,
  handBack: true,
  visibilityTimeoutS: QUEUES.visibilityTimeoutS,
  cloudWatchDelayS: 60,
  // Node, the ONNX Runtime thread waiting on CUDA and FFmpeg: about 1.2 of a g6e.xlarge's 4 vCPUs.
  cpuBusyShare: 0.3,
  cpuIdleShare: 0.03,
  warmupH: 12,
  tailH: 8,
  waitGoalS: POLICY.waitGoalS,
  // REELMESH_JOB_TIMEOUT_S (docs/configuration.md): a job not finished 6 h after its create expires.
  jobTimeoutS: 21_600,
  sampleS: 10,
};
