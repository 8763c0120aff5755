import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * `npm run check:edge-bundle` (part of `npm test`): bundles the edge for each deployed
 * environment exactly as `wrangler deploy` would (`--dry-run --outdir`, no account needed) and
 * prints the Worker's size, raw and gzip, against Cloudflare's limits on a Worker after
 * compression: 3 MiB on the Free plan, 10 MiB on Paid. Over the Paid limit fails.
 *
 *   npm run check:edge-bundle -- --json
 */
const MiB = 1024 * 1024;
const LIMITS = { free: 3 * MiB, paid: 10 * MiB };
const ENVIRONMENTS = ["staging", "production"];

interface Size {
  env: string;
  raw_bytes: number;
  gzip_bytes: number;
  free_limit_share: number;
  paid_limit_share: number;
}

function bundle(env: string): Size {
  const outdir = mkdtempSync(join(tmpdir(), `reelmesh-edge-${env}-`));
  try {
    const run = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir, "--env", env, "--config", "edge/wrangler.jsonc"], {
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    if (run.status !== 0) throw new Error(`wrangler deploy --dry-run --env ${env} failed:\n${run.stderr || run.stdout}`);
    // The Worker is every module wrangler would upload (source maps are not uploaded).
    const modules = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
    const code = Buffer.concat(modules.map((f) => readFileSync(join(outdir, f))));
    const gzip = gzipSync(code).length;
    return {
      env,
      raw_bytes: code.length,
      gzip_bytes: gzip,
      free_limit_share: gzip / LIMITS.free,
      paid_limit_share: gzip / LIMITS.paid,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const sizes = ENVIRONMENTS.map(bundle);
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ limits: LIMITS, sizes }, null, 2));
} else {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const s of sizes) {
    console.log(
      `edge bundle (${s.env}): ${kib(s.raw_bytes)} raw, ${kib(s.gzip_bytes)} gzip: ` +
        `${(s.free_limit_share * 100).toFixed(1)} % of the Free plan's 3 MiB, ${(s.paid_limit_share * 100).toFixed(1)} % of Paid's 10 MiB`,
    );
  }
}
const over = sizes.filter((s) => s.gzip_bytes > LIMITS.paid);
if (over.length > 0) {
  console.error(`over the Workers size limit: ${over.map((s) => s.env).join(", ")}`);
  process.exitCode = 1;
}
