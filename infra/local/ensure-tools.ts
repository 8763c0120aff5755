import { spawnSync } from "node:child_process";

/**
 * Runs before `npm start` and `npm test`: checks the system tools reelmesh needs besides
 * node_modules (FFmpeg, for encoding and for the decode checks) and, on a Debian machine where
 * we are root, installs what is missing from Debian's packages. Elsewhere it says what to install.
 */
const TOOLS = [{ command: "ffmpeg", args: ["-version"], debianPackage: "ffmpeg" }, { command: "ffprobe", args: ["-version"], debianPackage: "ffmpeg" }];

const missing = TOOLS.filter((t) => spawnSync(process.env.FFMPEG_PATH && t.command === "ffmpeg" ? process.env.FFMPEG_PATH : t.command, t.args, { stdio: "ignore" }).status !== 0);
if (missing.length > 0) {
  const packages = [...new Set(missing.map((t) => t.debianPackage))];
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(`reelmesh needs ${missing.map((t) => t.command).join(", ")}: install ${packages.join(" ")} (e.g. sudo apt-get install ${packages.join(" ")}).`);
    process.exit(1);
  }
  console.log(`Installing ${packages.join(" ")} from Debian's packages (missing: ${missing.map((t) => t.command).join(", ")})...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...packages]]) {
    const r = spawnSync("apt-get", args, { stdio: "inherit", env });
    if (r.status !== 0) {
      console.error(`apt-get ${args.join(" ")} failed (exit ${r.status}).`);
      process.exit(1);
    }
  }
}
