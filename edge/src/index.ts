import { app } from "./app.ts";
import type { Env } from "./env.ts";

export { JobObject } from "./jobs/job-object.ts";
export { AccountsObject } from "./accounts/object.ts";
export { ContentObject } from "./cache/content-object.ts";
export { IdempotencyObject } from "./idempotency/object.ts";
export { LimiterObject } from "./limits/object.ts";
export { LedgerObject } from "./billing/ledger.ts";
export { CostsObject } from "./billing/costs.ts";

export default app satisfies ExportedHandler<Env>;
