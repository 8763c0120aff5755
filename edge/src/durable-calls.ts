import type { Env } from "./env.ts";

/**
 * Counts the Durable Object calls one request makes (`npm run bench:edge`, edge/test): a request
 * that sends COUNT_HEADER to a development edge gets the count back in the same header. The
 * create path's budget is one (docs/benchmarks.md); this is how it is checked, on the real
 * bindings; COUNT_HEADER-by says which bindings were called. Production never counts (the
 * header is ignored there).
 */
export { DURABLE_CALLS_HEADER as COUNT_HEADER } from "../../shared/dev-headers.ts";

const RAW = Symbol("raw env");

/** The env a counted request runs with: every namespace's stubs count their calls. */
export function countingEnv(env: Env): { env: Env; count: () => number; byBinding: () => string } {
  let calls = 0;
  const by = new Map<string, number>();
  const countStub = (stub: object, binding: string) =>
    new Proxy(stub, {
      get(target, prop) {
        // An RPC stub answers any property with a callable; `Reflect.apply` calls it without
        // asking it for `.apply` (which it would take for a remote method of that name).
        const value: unknown = Reflect.get(target, prop);
        if (typeof value !== "function" || prop === "then") return value;
        return (...args: unknown[]) => {
          calls++;
          by.set(binding, (by.get(binding) ?? 0) + 1);
          return Reflect.apply(value, target, args) as unknown;
        };
      },
    });
  const countNamespace = (ns: DurableObjectNamespace, binding: string) =>
    new Proxy(ns, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop);
        if (prop === "get") return (...args: Parameters<DurableObjectNamespace["get"]>) => countStub(target.get(...args), binding);
        return typeof value === "function" ? (...args: unknown[]) => Reflect.apply(value, target, args) as unknown : value;
      },
    });
  const counted = new Proxy(env, {
    get(target, prop, receiver) {
      if (prop === RAW) return target;
      const value: unknown = Reflect.get(target, prop, receiver);
      const isNamespace = typeof value === "object" && value !== null && "idFromName" in value && "get" in value;
      return isNamespace ? countNamespace(value as DurableObjectNamespace, String(prop)) : value;
    },
  });
  return { env: counted, count: () => calls, byBinding: () => [...by].map(([b, n]) => `${b}=${n}`).join(", ") };
}

/** The env behind a counting one (the parsed configuration is cached per real env). */
export function rawEnv(env: Env): Env {
  return (env as unknown as Record<symbol, Env | undefined>)[RAW] ?? env;
}
