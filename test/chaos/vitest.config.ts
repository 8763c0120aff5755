import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run chaos` (issue 15): the scenarios of test/chaos/ on the real local stack, faults
 * injected. Not part of `npm test` (a run takes a few minutes of this 2-core machine); each
 * scenario is bounded by the timeouts below and prints its figures.
 */
export default defineConfig({
  test: {
    name: "chaos",
    root: fileURLToPath(new URL(".", import.meta.url)),
    environment: "node",
    include: ["**/*.chaos.ts"],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
