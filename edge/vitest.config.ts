import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { freePort } from "../infra/local/processes.ts";
import { RESOURCE_NAMES } from "../infra/local/resources.ts";

/**
 * Edge tests run inside workerd (the Workers runtime) via @cloudflare/vitest-plugin, against
 * the real SQS/S3 protocols of the local emulator, which globalSetup starts in Node.
 * The secrets below are test-only values, never used anywhere else.
 */
const emulatorPort = Number(process.env.REELMESH_TEST_EMULATOR_PORT ?? (await freePort()));
process.env.REELMESH_TEST_EMULATOR_PORT = String(emulatorPort);
const endpoint = `http://127.0.0.1:${emulatorPort}`;
const receiverPort = Number(process.env.REELMESH_TEST_RECEIVER_PORT ?? (await freePort()));
process.env.REELMESH_TEST_RECEIVER_PORT = String(receiverPort);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // The emulator's package ships source maps without sources; vite would warn per file.
  logLevel: "error",
  plugins: [
    // The playground's page and hls.js are Text modules in the Worker (wrangler's rules); vite
    // would parse them as HTML and JS, so they are loaded here as the same strings.
    {
      name: "reelmesh-text-modules",
      enforce: "pre",
      load: (id: string) =>
        /\.html$|hls\.light\.min\.js$/.test(id) ? `export default ${JSON.stringify(readFileSync(id.split("?")[0]!, "utf8"))};` : null,
    },
    cloudflareTest({
      wrangler: { configPath: here("./wrangler.jsonc") },
      miniflare: {
        bindings: {
          REELMESH_DEV_KEY: "rm_test_key_for_workerd_tests_only",
          REELMESH_EVENTS_SECRET: "test-events-secret-not-for-production",
          REELMESH_PLAYBACK_SECRET: "test-playback-secret-not-for-production",
          REELMESH_WEBHOOK_SECRET: "test-webhook-master-secret-not-for-production",
          REELMESH_TOKEN_SECRET: "test-token-secret-not-for-production",
          REELMESH_ADMIN_TOKEN: "test-admin-token-not-for-production",
          REELMESH_KEY_CACHE_S: "1",
          // Defaults generous enough for the many jobs tests create on the dev account (which
          // never finish); the limits themselves are tested on accounts with their own.
          REELMESH_RATE_BURST: "100000",
          REELMESH_RATE_PER_S: "1000",
          REELMESH_MAX_RUNNING_JOBS: "100000",
          REELMESH_ENV: "development",
          REELMESH_RETENTION_S: "2",
          REELMESH_JOB_TIMEOUT_S: "600",
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "reelmesh-local",
          AWS_SECRET_ACCESS_KEY: "reelmesh-local-secret",
          AWS_ENDPOINT_URL: endpoint,
          SQS_QUEUE_URL_STANDARD: `${endpoint}/000000000000/${RESOURCE_NAMES.standardQueue}`,
          SQS_QUEUE_URL_ECONOMY: `${endpoint}/000000000000/${RESOURCE_NAMES.economyQueue}`,
          S3_BUCKET: RESOURCE_NAMES.bucket,
          /** Test-only: the webhook receiver emulator.setup.ts runs. */
          TEST_WEBHOOK_RECEIVER: `http://127.0.0.1:${receiverPort}`,
        },
      },
    }),
  ],
  test: {
    name: "edge",
    root: here("."),
    include: ["test/**/*.test.ts"],
    globalSetup: [here("./test/emulator.setup.ts")],
    testTimeout: 30_000,
  },
});
