import type { Tier } from "../scaling/policy.ts";
import type { SimConfig } from "./config.ts";
import { EventQueue } from "./events.ts";
import type { Job, Pool, Scenario, Task } from "./model.ts";
import { createRandom, shuffle } from "./random.ts";
import { recordState, scalerView } from "./observe.ts";
import { JobQueues } from "./queues.ts";
import { History, newLog, type RunLog } from "./record.ts";
import { classSpeed, type Workload } from "./service.ts";
import { backToLastChunk, jobRate, newJob, newTask, runningGroup } from "./tasks.ts";
import { DAY_S, type Arrival } from "./trace.ts";

type Ev =
  | { kind: "ready" | "notice"; task: Task }
  | { kind: "done"; task: Task; version: number }
  | { kind: "kill"; task: Task; reason: "scale-in" | "preempted" }
  | { kind: "control"; pool: Pool }
  | { kind: "sample" }
  | { kind: "visible"; job: Job };

export interface Replay {
  scenario: Scenario;
  config: SimConfig;
  workload: Workload;
  /** Jobs in time order, from `fromS` to `endS`. */
  arrivals: readonly Arrival[];
  /** Anchor-device seconds a clip of that many seconds needs. */
  workOf: (clipS: number) => number;
  fromS: number;
  window: { fromS: number; toS: number };
  endS: number;
  /** Standard peak hours of the day (for where economy work runs). */
  peakHours: readonly boolean[];
}

/**
 * Replays arrivals through a fleet of pools, each driven by its scaler, as discrete events:
 * arrivals, cold starts ending, jobs finishing (processor sharing within a task's batch),
 * control-loop ticks, spot notices, kills after a drain, state samples.
 */
export function replay(r: Replay): RunLog {
  const { config: cfg, workload: wl } = r;
  const rand = createRandom(cfg.seed);
  const pick = rand.fork("dispatch");
  const spotRand = rand.fork("spot");
  const victims = rand.fork("scale-in");
  const log = newLog(
    r.window.fromS,
    r.window.toS,
    r.endS,
    r.scenario.pools.map((p) => p.id),
  );
  const history = new History();
  const q = new EventQueue<Ev>();
  const pools: Pool[] = r.scenario.pools.map((spec) => ({ spec, target: spec.initial, tasks: [] }));
  const queues = new JobQueues();
  let now = r.fromS;
  let taskIds = 0;
  const inWindow = (from: number, to: number) => from >= r.window.fromS && to <= r.window.toS;

  // A pool's `tasks` holds the tasks not yet gone; the log keeps them all.
  const live = (p: Pool) => p.tasks;
  const active = (p: Pool) => p.tasks.filter((t) => t.state === "booting" || t.state === "ready");
  const receiving = (t: Task) => t.state === "ready" && (cfg.maxJobsPerProcess === 0 || t.received < cfg.maxJobsPerProcess);

  function advance(t: Task) {
    const dt = now - t.last;
    if (dt > 0 && t.jobs.length) {
      const group = runningGroup(t);
      const rate = jobRate(t, group, wl.batchMarginalCost);
      for (const j of group) j.progress += rate * dt;
      if (inWindow(t.last, now)) {
        const cls = t.pool.spec.classId;
        log.usefulWork[cls] = (log.usefulWork[cls] ?? 0) + rate * dt * group.length;
        log.busyS += dt;
        if (group[0]!.tier === "economy") log.economyGpuS[r.peakHours[Math.floor((t.last % DAY_S) / 3600)] ? "peak" : "offPeak"] += dt;
      }
    }
    t.last = now;
  }

  function reschedule(t: Task) {
    t.version++;
    if (!t.jobs.length || (t.state !== "ready" && t.state !== "draining")) return;
    const group = runningGroup(t);
    const rate = jobRate(t, group, wl.batchMarginalCost);
    const left = Math.min(...group.map((j) => j.work - j.progress));
    q.push(now + Math.max(0, left) / rate, { kind: "done", task: t, version: t.version });
  }

  function start(t: Task, j: Job) {
    j.task = t;
    if (j.start < 0) j.start = now;
    t.jobs.push(j);
    t.received++;
    queues.received(j.tier);
  }

  /** A ready task with free slots receives from its queues, in its pool's order. */
  function pull(t: Task) {
    if (t.state !== "ready") return;
    advance(t);
    for (const tier of t.pool.spec.tiers) {
      while (t.jobs.length < cfg.concurrency && receiving(t) && queues.visible(tier) > 0) start(t, queues.take(tier)!);
    }
    reschedule(t);
  }

  /** Idle slots anywhere take waiting work (after a job is handed back). */
  function offer(tier: Tier) {
    for (const p of pools) if (p.spec.tiers.includes(tier)) for (const t of active(p)) if (queues.visible(tier) > 0) pull(t);
  }

  function retire(t: Task) {
    advance(t);
    t.state = "gone";
    t.endAt = now;
    t.version++;
    t.pool.tasks.splice(t.pool.tasks.indexOf(t), 1);
  }

  function launch(p: Pool, warm = false) {
    const onDemand = live(p).filter((t) => !t.spot).length;
    const t = newTask(taskIds++, p, {
      spot: p.spec.spot && onDemand >= p.spec.onDemandBase,
      speed: classSpeed(wl, p.spec.classId),
      now,
      readyAt: warm ? now : now + cfg.coldStartS,
    });
    p.tasks.push(t);
    log.tasks.push(t);
    if (t.state === "booting") q.push(t.readyAt, { kind: "ready", task: t });
    else if (!warm) pull(t);
    if (t.spot && cfg.spotInterruptionsPerHour > 0) {
      const at = now + spotRand.exp(cfg.spotInterruptionsPerHour / 3600);
      if (at < r.endS) q.push(at, { kind: "notice", task: t });
    }
  }

  /** Work since the last committed chunk is lost; the message goes back to the queue. */
  function handBack(t: Task, j: Job, reason: "scale-in" | "preempted") {
    const lost = backToLastChunk(j);
    j.task = null;
    j.restarts++;
    if (inWindow(now, now)) {
      const cls = t.pool.spec.classId;
      log.reworkGpuS += lost / t.speed;
      log.usefulWork[cls] = (log.usefulWork[cls] ?? 0) - lost;
      if (reason === "scale-in") log.killedByScaleIn++;
      else log.preemptedJobs++;
    }
    if (cfg.handBack) queues.visibleAgain(j);
    else q.push(now + cfg.visibilityTimeoutS, { kind: "visible", job: j });
  }

  /** SIGTERM: the worker stops receiving, finishes what it can within `drainS`, then hands the rest back. */
  function stop(t: Task, drainS: number, reason: "scale-in" | "preempted") {
    if (t.state === "booting" || !t.jobs.length) return retire(t);
    advance(t);
    t.state = "draining";
    q.push(now + drainS, { kind: "kill", task: t, reason });
  }

  /** Brings a pool to its target: launches, or stops booting tasks, then ready ones as the pool's scale-in allows. */
  function reconcile(p: Pool) {
    const act = active(p);
    if (act.length < p.target) {
      for (let i = act.length; i < p.target; i++) launch(p);
      return;
    }
    let excess = act.length - p.target;
    for (const t of act.filter((x) => x.state === "booting").reverse()) if (excess-- > 0) retire(t);
    if (excess <= 0) return;
    const ready = act.filter((x) => x.state === "ready");
    const idle = shuffle(
      victims,
      ready.filter((x) => !x.jobs.length),
    );
    const busy = shuffle(
      victims,
      ready.filter((x) => x.jobs.length > 0),
    );
    const order = p.spec.scaleIn === "idle-only" ? idle : p.spec.scaleIn === "idle-first" ? [...idle, ...busy] : shuffle(victims, ready);
    for (const t of order.slice(0, excess)) stop(t, Math.min(p.spec.drainS, cfg.platformGraceS), "scale-in");
  }

  function finish(t: Task) {
    advance(t);
    const group = runningGroup(t);
    const first = group.reduce((a, b) => (b.work - b.progress < a.work - a.progress ? b : a));
    for (const j of group) {
      if (j !== first && j.work - j.progress > 1e-9 * j.work) continue;
      j.end = now;
      j.progress = j.work;
      j.task = null;
      queues.deleted(j.tier);
    }
    t.jobs = t.jobs.filter((j) => j.end < 0);
    if (t.state === "draining") {
      if (t.jobs.length) reschedule(t);
      else retire(t);
      return;
    }
    if (!t.jobs.length && !receiving(t)) return exitProcess(t);
    // An idle task above the pool's target goes (ECS stops a task once it drops its protection).
    if (!t.jobs.length && active(t.pool).length > t.pool.target) {
      const waiting = t.pool.spec.tiers.some((tier) => queues.visible(tier) > 0);
      if (!waiting) return retire(t);
    }
    pull(t);
  }

  /** A process at its job limit exits once its jobs end; the service starts another if it is short of its target. */
  function exitProcess(t: Task) {
    if (active(t.pool).length - 1 >= t.pool.target) return retire(t);
    advance(t);
    t.state = "booting";
    t.received = 0;
    t.restarts++;
    if (inWindow(now, now)) {
      log.processRestarts++;
      log.restartGpuS += cfg.processRestartS;
    }
    q.push(now + cfg.processRestartS, { kind: "ready", task: t });
  }

  function sample() {
    for (const p of pools) for (const t of live(p)) advance(t);
    recordState(log, history, pools, queues, now, cfg);
  }

  function control(p: Pool) {
    const desired = p.spec.scaler.decide(scalerView(p, queues, now, history));
    if (desired !== null && desired !== p.target) {
      if (inWindow(now, now)) log[desired > p.target ? "scaleOuts" : "scaleIns"]++;
      p.target = desired;
    }
    reconcile(p);
  }

  for (const p of pools) {
    for (let i = 0; i < p.spec.initial; i++) launch(p, true);
    q.push(now, { kind: "control", pool: p });
  }
  q.push(Math.ceil(now / cfg.sampleS) * cfg.sampleS, { kind: "sample" });

  let next = 0;
  for (;;) {
    const arrival = r.arrivals[next];
    const tEv = q.peekTime();
    if (arrival && arrival.at < tEv) {
      if (arrival.at >= r.endS) break;
      now = arrival.at;
      next++;
      const j = newJob(log.jobs.length, arrival, r.workOf(arrival.clipS));
      log.jobs.push(j);
      const free = pools
        .filter((p) => p.spec.tiers.includes(j.tier))
        .flatMap((p) => p.tasks.filter((t) => receiving(t) && t.jobs.length < cfg.concurrency));
      if (!free.length) {
        queues.add(j);
        continue;
      }
      const t = free[pick.int(free.length)]!;
      advance(t);
      start(t, j);
      reschedule(t);
      continue;
    }
    if (tEv >= r.endS) break;
    const { ev } = q.pop()!;
    now = tEv;
    switch (ev.kind) {
      case "ready":
        if (ev.task.state !== "booting") break;
        ev.task.state = "ready";
        ev.task.last = now;
        pull(ev.task);
        break;
      case "done":
        if (ev.version === ev.task.version) finish(ev.task);
        break;
      case "kill":
        if (ev.task.state !== "draining") break;
        advance(ev.task);
        for (const j of ev.task.jobs) handBack(ev.task, j, ev.reason);
        ev.task.jobs = [];
        retire(ev.task);
        offer("standard");
        offer("economy");
        break;
      case "notice": {
        const t = ev.task;
        if (t.state === "gone" || t.state === "draining") break;
        if (inWindow(now, now)) log.preemptions++;
        stop(t, Math.min(t.pool.spec.drainS, cfg.spotNoticeS), "preempted");
        reconcile(t.pool);
        break;
      }
      case "control":
        control(ev.pool);
        q.push(now + ev.pool.spec.scaler.periodS, ev);
        break;
      case "sample":
        sample();
        q.push(now + cfg.sampleS, ev);
        break;
      case "visible":
        queues.visibleAgain(ev.job);
        offer(ev.job.tier);
        break;
    }
  }
  now = r.endS;
  for (const p of pools) for (const t of live(p)) advance(t);
  return log;
}
