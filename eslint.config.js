// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Type-aware lint for the whole tree. Each file is checked against the tsconfig nearest to it
 * (edge/ with the Workers types, edge/test/ with the vitest plugin's, the rest with Node's), so
 * a rule sees the same types `npm run typecheck` does.
 */
export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      ".reelmesh/",
      ".wrangler/",
      "**/dist/",
      "coverage/",
      "gpu-functions/reference-model/build/",
      "edge/worker-configuration.d.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "vitest.unit.config.ts", "edge/vitest.config.ts", "edge/test/emulator.setup.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      // Durable Object RPC methods are async by contract while their bodies are synchronous
      // SQLite on purpose: no await inside is what keeps a read-modify-write atomic.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Tests walk untyped JSON (OpenAPI documents, SSE frames) on purpose; the code they test
    // keeps the any-flow rules.
    files: ["**/*.test.ts", "edge/test/**", "test/**"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
);
