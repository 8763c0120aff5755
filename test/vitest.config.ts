import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Tests that cross folders: the whole stack (emulator + wrangler dev + GPU functions). */
export default defineConfig({
  test: {
    name: "integration",
    root: fileURLToPath(new URL(".", import.meta.url)),
    environment: "node",
    include: ["**/*.test.ts"],
    // One stack at a time: each boots workerd and a GPU function on a 2-core machine.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
