import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * The README's two commands are what a new machine runs and what CI runs (.ci/run reads them
 * from the README): these checks fail when the install drifts from what those commands can do
 * on a machine with only the npm and Debian registries, or when CI starts to lean on an
 * environment a user does not have.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** The first ```sh block under a heading, as .ci/run extracts it. */
function readmeCommand(heading: string): string {
  const lines = read("README.md").split("\n");
  const start = lines.indexOf(heading);
  expect(start, `README.md has a "${heading}" heading`).toBeGreaterThanOrEqual(0);
  const open = lines.indexOf("```sh", start);
  const close = lines.indexOf("```", open + 1);
  expect(open).toBeGreaterThan(start);
  return lines.slice(open + 1, close).join("\n");
}

describe("the README's commands", () => {
  it("are one line each: install, then start or test", () => {
    expect(readmeCommand("## Run it")).toBe("npm install && npm start");
    expect(readmeCommand("## Test it")).toBe("npm install && npm test");
  });

  it("are what CI runs, with no environment of CI's own", () => {
    const ci = read(".ci/run");
    expect(ci).toContain('readme_command "## Run it"');
    expect(ci).toContain('readme_command "## Test it"');
    const code = ci.split("\n").filter((line) => !line.trimStart().startsWith("#"));
    // No exported variables and no `NAME=value command` prefixes: a user types the README's
    // command in a plain shell.
    expect(code.filter((line) => /^\s*export\s/.test(line))).toEqual([]);
    expect(code.filter((line) => /^\s*[A-Z_][A-Z0-9_]*=\S*\s+\S/.test(line))).toEqual([]);
    expect(ci).not.toMatch(/ONNXRUNTIME_NODE_INSTALL|WRANGLER_SEND_METRICS|npm ci/);
  });

  it("run lint as part of npm test", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toContain("npm run lint");
    expect(scripts.lint).toMatch(/eslint/);
    expect(scripts.lint).toMatch(/prettier --check/);
    expect(scripts.lint).toMatch(/knip/);
  });
});

describe("the install on a machine with only the npm and Debian registries", () => {
  const pkg = JSON.parse(read("package.json")) as { allowScripts: Record<string, boolean> };

  it("skips onnxruntime-node's download of CUDA libraries, whatever npm's version", () => {
    // npm ≤ 10 passes project config to install scripts as npm_config_*; npm 11+ honours
    // allowScripts, where the denial keeps working when unknown project config stops.
    expect(read(".npmrc")).toMatch(/^onnxruntime-node-install=skip$/m);
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(false);
  });

  // `npm install-scripts` exists from npm 11 on, the first npm that reads allowScripts.
  const npmMajor = Number(execFileSync("npm", ["--version"], { encoding: "utf8" }).split(".")[0]);
  it.skipIf(npmMajor < 11)("settles every dependency install script npm asks about", () => {
    const pending = execFileSync("npm", ["install-scripts", "ls"], { encoding: "utf8", cwd: new URL("../..", import.meta.url) });
    expect(pending).toContain("No packages with unreviewed install scripts");
    // workerd's and esbuild's scripts place their platform binaries; wrangler needs both.
    expect(pkg.allowScripts).toMatchObject({ workerd: true, esbuild: true });
  });

  it("leaves the GPU image opting in to ONNX Runtime's CUDA 12 libraries explicitly", () => {
    const gpu = read("infra/images/gpu.Dockerfile");
    expect(gpu).toMatch(/COPY package\.json package-lock\.json \.npmrc/);
    expect(gpu).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/);
    expect(gpu).toMatch(/libonnxruntime_providers_cuda\.so/);
    expect(read("infra/images/cpu.Dockerfile")).toMatch(/COPY package\.json package-lock\.json \.npmrc/);
  });
});
