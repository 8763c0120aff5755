import { app } from "./app.ts";
import type { Env } from "./env.ts";

export { JobObject } from "./jobs/job-object.ts";
export { AccountsObject } from "./accounts/object.ts";

export default app satisfies ExportedHandler<Env>;
