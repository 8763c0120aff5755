import { startStack, DEFAULT_EDGE_PORT, DEFAULT_EMULATOR_PORT } from "./stack.ts";

/**
 * `npm start`: boots reelmesh on this machine with embedded defaults and no cloud account.
 * PORT moves the edge, REELMESH_EMULATOR_PORT the SQS/S3 emulator, REELMESH_DEV_KEY fixes the API key
 * and REELMESH_ADMIN_TOKEN the admin API's bearer token (both generated once and kept otherwise).
 */
function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name} must be a TCP port (1-65535), got "${raw}"`);
    process.exit(2);
  }
  return port;
}

const stack = await startStack({
  edgePort: portFromEnv("PORT", DEFAULT_EDGE_PORT),
  emulatorPort: portFromEnv("REELMESH_EMULATOR_PORT", DEFAULT_EMULATOR_PORT),
  devKey: process.env.REELMESH_DEV_KEY || undefined,
  adminToken: process.env.REELMESH_ADMIN_TOKEN || undefined,
}).catch((err: unknown) => {
  console.error(`reelmesh did not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

console.log(`
reelmesh is running (dev only; stop with Ctrl-C)
  API        ${stack.edgeUrl}
  API key    ${stack.devKey}
  Admin      ${stack.adminToken}   (dev only: POST /admin/accounts, keys, credits)
  S3 / SQS   ${stack.aws.endpoint} (emulator, data in ${stack.stateDir}/emulator)
  processes  ${stack.stateDir}/stack.json

  curl -s ${stack.edgeUrl}/v1/videos -H "Authorization: Bearer ${stack.devKey}" \\
       -H "Content-Type: application/json" -d '{"prompt":"a red ball bouncing","duration_s":4}'
`);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping workers, edge and emulator...`);
  void stack.stop().then(() => process.exit(0));
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
