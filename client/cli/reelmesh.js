#!/usr/bin/env node
// The `reelmesh` command. A published package runs the compiled dist/; a clone of the
// repository, which has the TypeScript sources and no build, runs them directly (Node ≥ 22.18
// strips the types; the repository's npm scripts and npx put its Node 22 first on PATH).
import { existsSync } from "node:fs";
import process from "node:process";

const source = new URL("./main.ts", import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- ESLint sees the computed import's `any`, not the JSDoc cast that types it.
const cli = /** @type {typeof import("./main.ts")} */ (
  await import(existsSync(source) ? source.href : new URL("../dist/cli/main.js", import.meta.url).href)
);
process.exitCode = await cli.main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: process.stderr,
  env: process.env,
});
