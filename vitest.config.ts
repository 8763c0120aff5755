import { defineConfig } from "vitest/config";

/**
 * Three projects, run as `npm test` does:
 * - unit: Node, beside the code (shared/, gpu-functions/, infra/), real ONNX Runtime, FFmpeg,
 *   and the SQS/S3 emulator where a unit talks to them;
 * - edge: inside workerd (edge/vitest.config.ts);
 * - integration: the whole stack, emulator + wrangler dev + a GPU function (test/).
 */
export default defineConfig({
  test: {
    projects: ["./vitest.unit.config.ts", "./edge/vitest.config.ts", "./test/vitest.config.ts"],
  },
});
