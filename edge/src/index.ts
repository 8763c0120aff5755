import { app } from "./app.ts";
import { countingEnv, COUNT_HEADER } from "./durable-calls.ts";
import { edgeConfig, type Env } from "./env.ts";

export { JobObject } from "./jobs/job-object.ts";
export { AccountsObject } from "./accounts/object.ts";
export { KeysObject } from "./accounts/keys.ts";
export { IdempotencyObject } from "./idempotency/object.ts";
export { AccountObject } from "./accounts/account-object.ts";
export { CostsObject } from "./billing/costs.ts";

export default {
  async fetch(request, env, ctx) {
    if (!request.headers.has(COUNT_HEADER) || !isDevelopment(env)) return app.fetch(request, env, ctx);
    const counted = countingEnv(env);
    const res = await app.fetch(request, counted.env, ctx);
    const out = new Response(res.body, res);
    out.headers.set(COUNT_HEADER, String(counted.count()));
    out.headers.set(`${COUNT_HEADER}-by`, counted.byBinding());
    return out;
  },
} satisfies ExportedHandler<Env>;

function isDevelopment(env: Env): boolean {
  try {
    return edgeConfig(env).REELMESH_ENV === "development";
  } catch {
    return false; // misconfigured: the app answers 503 itself
  }
}
