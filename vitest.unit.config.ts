import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "unit",
    environment: "node",
    include: ["shared/**/*.test.ts", "gpu-functions/**/*.test.ts", "infra/**/*.test.ts", "client/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
