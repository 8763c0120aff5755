import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run chaos`: the scenarios of test/chaos/ on the real local stack, faults
 * injected, each bounded by the timeouts below and printing its figures. Only queue.test.ts is
 * also in `npm test` (the integration project takes every *.test.ts under test/): scenarios.chaos.ts adds
 * a minute of this 2-core machine.
 */
export default defineConfig({
  test: {
    name: "chaos",
    root: fileURLToPath(new URL(".", import.meta.url)),
    environment: "node",
    include: ["**/*.chaos.ts", "**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
