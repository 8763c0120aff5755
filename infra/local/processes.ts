import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

/** A child process the launcher started, in its own process group so it can be stopped whole. */
export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Subscribers to the child's output lines (stdout and stderr). */
  lineListeners: Set<(line: string) => void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Each output line, already prefixed with the child's name. */
  onLine: (line: string) => void;
}

export function spawnChild(opts: SpawnOptions): Child {
  // detached: a new process group, so stopping wrangler also stops the workerd it spawns.
  const proc = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (proc.pid === undefined) throw new Error(`could not start ${opts.name} (${opts.command})`);
  const lineListeners = new Set<(line: string) => void>();
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      opts.onLine(`[${opts.name}] ${line}`);
      for (const listener of lineListeners) listener(line);
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    proc.on("error", () => resolve("spawn-error"));
  });
  return { name: opts.name, proc, pid: proc.pid, exited, lineListeners };
}

/** SIGTERM to the whole group, then SIGKILL if it has not ended within `graceMs`. */
export async function stopChild(child: Child, graceMs: number): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  signalGroup(child.pid, "SIGTERM");
  const timer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
  // The leader may exit before its children; make sure none outlives it.
  signalGroup(child.pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Polls `url` until it answers 2xx, the child exits, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void child.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    if (ended) throw new Error(`${child.name} exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Resolves when a line matching `pattern` appears on the child's output. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const listener = (line: string) => {
      if (pattern.test(line)) done();
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.lineListeners.delete(listener);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`${child.name} printed no ${pattern} within ${timeoutMs} ms`)), timeoutMs);
    child.lineListeners.add(listener);
    void child.exited.then((code) => done(new Error(`${child.name} exited (${code}) before it was ready`)));
  });
}

/** A free TCP port on 127.0.0.1, for tests that start their own stack. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}
