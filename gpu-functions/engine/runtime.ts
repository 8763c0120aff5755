import ort from "onnxruntime-node";

/**
 * All ONNX Runtime session handling in one place. Execution providers are explicit: ORT
 * does not fall back by itself when CUDA's libraries are missing (session creation throws),
 * so a failure is caught, logged, and CPU is used only when allowed.
 */
const EXECUTION_PROVIDERS = ["cuda", "tensorrt", "cpu"] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface RuntimeOptions {
  /** Providers in order of preference, e.g. ["cuda", "cpu"]. */
  providers: ExecutionProvider[];
  /** When the preferred providers fail, create the session on CPU instead of failing. */
  allowCpuFallback: boolean;
  /** Threads for one operator on CPU; 0 lets ORT decide. */
  intraOpThreads?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
}

export function parseProviders(list: string): ExecutionProvider[] {
  const names = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(EXECUTION_PROVIDERS as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) {
    throw new Error(`unknown execution provider(s) "${bad.join(", ") || list}"; valid: ${EXECUTION_PROVIDERS.join(", ")}`);
  }
  return names as ExecutionProvider[];
}

function sessionOptions(provider: ExecutionProvider, opts: RuntimeOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    intraOpNumThreads: opts.intraOpThreads ?? 0,
    // Output buffers are reused between runs of the same shapes.
    enableMemPattern: true,
  };
}

export async function createSession(path: string, opts: RuntimeOptions): Promise<CreatedSession> {
  const failures: string[] = [];
  for (const provider of opts.providers) {
    try {
      return { session: await ort.InferenceSession.create(path, sessionOptions(provider, opts)), provider };
    } catch (err) {
      failures.push(`${provider}: ${(err as Error).message.split("\n")[0]}`);
      opts.log?.("execution provider unavailable", { provider, model: path, error: failures.at(-1) });
    }
  }
  if (opts.allowCpuFallback && !opts.providers.includes("cpu")) {
    opts.log?.("falling back to the CPU execution provider", { model: path });
    return { session: await ort.InferenceSession.create(path, sessionOptions("cpu", opts)), provider: "cpu" };
  }
  throw new Error(`could not create a session for ${path}: ${failures.join("; ")}`);
}

export { ort };
