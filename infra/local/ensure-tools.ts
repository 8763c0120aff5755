import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

/**
 * Runs before `npm start` and `npm test` (with `--test`): checks the system tools reelmesh needs
 * besides node_modules and, on a Debian machine where we are root, installs what is missing
 * from Debian's packages. Elsewhere it says what to install.
 * - FFmpeg (encoding, and the decode checks in tests): required.
 * - Chromium (the browser playback test, `npm test` only): wanted; without it that test is
 *   skipped locally (and fails under CI).
 */
interface Tool {
  name: string;
  present(): boolean;
  debianPackage: string;
  required: boolean;
}

const runs = (command: string) => spawnSync(command, ["-version"], { stdio: "ignore" }).status === 0;
const forTests = process.argv.includes("--test");
const TOOLS: Tool[] = [
  { name: "ffmpeg", present: () => runs(process.env.FFMPEG_PATH ?? "ffmpeg"), debianPackage: "ffmpeg", required: true },
  { name: "ffprobe", present: () => runs("ffprobe"), debianPackage: "ffmpeg", required: true },
  ...(forTests
    ? [
        {
          name: "chromium",
          present: () => existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"),
          debianPackage: "chromium",
          required: false,
        },
      ]
    : []),
];

const missing = TOOLS.filter((t) => !t.present());
if (missing.length > 0) {
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!isRoot || !hasApt) {
    const advice = `install ${packages.join(" ")} (e.g. sudo apt-get install ${packages.join(" ")})`;
    if (missing.some((t) => t.required)) {
      console.error(`reelmesh needs ${missing.map((t) => t.name).join(", ")}: ${advice}.`);
      process.exit(1);
    }
    console.warn(`${missing.map((t) => t.name).join(", ")} not found: the browser playback test will be skipped; ${advice}.`);
  } else {
    console.log(`Installing ${packages.join(" ")} from Debian's packages (missing: ${missing.map((t) => t.name).join(", ")})...`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [
      ["update", "-qq"],
      ["install", "-y", "-qq", "--no-install-recommends", ...packages],
    ]) {
      const r = spawnSync("apt-get", args, { stdio: "inherit", env });
      if (r.status !== 0) {
        console.error(`apt-get ${args.join(" ")} failed (exit ${r.status}).`);
        process.exit(1);
      }
    }
  }
}
