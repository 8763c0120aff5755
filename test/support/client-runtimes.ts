import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { freePort } from "../../infra/local/processes.ts";
import { ROOT } from "../../infra/local/stack.ts";

/**
 * The SDK run where apps run it, for test/integration/client.test.ts: in Chromium as the
 * published package ships it, and inside workerd as a Worker bundles it. Each generates one
 * 1 s clip against the stack at `baseUrl` and reports what it saw.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface RuntimeRun {
  id: string;
  status: string;
  events: { type: string; id: string | null }[];
  /** Browser: the URL onPlayable got, and what tokens.create threw. */
  playable?: string | null;
  refused?: string | null;
  /** Worker: the MP4's first box type. */
  mp4?: string;
}

/** A web app's page: imports the SDK as an ES module, with no bundler, and generates a clip. */
const APP_PAGE = `<!doctype html><title>app</title>
<script type="module">
  import { Reelmesh } from "/src/index.js";
  window.runSdk = async (baseUrl, apiKey) => {
    const rm = new Reelmesh({ apiKey, baseUrl });
    const events = [];
    let playable = null;
    const video = await rm.videos.generate(
      { prompt: "a red ball bouncing", duration_s: 1 },
      { onPlayable: (url) => (playable = url), onProgress: (p) => events.push({ type: p.event.type, id: p.event.id }) },
    );
    const refused = await rm.tokens.create({ subject: "u" }).then(() => null, (e) => e.message);
    return { id: video.id, status: video.status, events, playable, refused };
  };
</script>`;

export async function runInChromium(workDir: string, baseUrl: string, apiKey: string): Promise<RuntimeRun> {
  // The package's own build (client/tsconfig.build.json): what `npm pack` ships.
  const dist = join(workDir, "sdk-dist");
  execFileSync(process.execPath, [
    join(ROOT, "node_modules/typescript-7/bin/tsc"),
    "-p",
    join(ROOT, "client/tsconfig.build.json"),
    "--outDir",
    dist,
  ]);
  // The app's own origin (a port of its own), so the API is cross-origin (CORS, preflights). A real server, not a routed
  // page: Chromium lets a page reach a loopback API only when the page itself was loaded from one.
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = join(dist, path);
    if (path === "/") res.writeHead(200, { "content-type": "text/html" }).end(APP_PAGE);
    else if (path.endsWith(".js") && existsSync(file))
      void readFile(file).then((b) => res.writeHead(200, { "content-type": "text/javascript" }).end(b));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => "runSdk" in globalThis);
    return await page.evaluate(
      (a) => (globalThis as unknown as { runSdk: (b: string, k: string) => Promise<RuntimeRun> }).runSdk(a.baseUrl, a.apiKey),
      { baseUrl, apiKey },
    );
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A Worker that imports the SDK's sources (wrangler bundles them), run by wrangler's `unstable_dev` inside workerd. */
export async function runInWorkerd(workDir: string, baseUrl: string, apiKey: string): Promise<RuntimeRun> {
  const script = join(workDir, "sdk-worker.ts");
  await writeFile(
    script,
    `import { Reelmesh } from ${JSON.stringify(join(ROOT, "client/src/index.ts"))};
export default {
  async fetch(request: Request): Promise<Response> {
    const { baseUrl, apiKey } = (await request.json()) as { baseUrl: string; apiKey: string };
    const rm = new Reelmesh({ apiKey, baseUrl });
    const events: { type: string; id: string | null }[] = [];
    const video = await rm.videos.generate({ prompt: "a green triangle spinning", duration_s: 1 }, { onProgress: (p) => events.push({ type: p.event.type, id: p.event.id }) });
    const mp4 = new Uint8Array(await (await rm.videos.download(video.id, { kind: "mp4" })).arrayBuffer());
    return Response.json({ id: video.id, status: video.status, events, mp4: [...mp4.subarray(4, 8)].map((b) => String.fromCharCode(b)).join("") });
  },
};
`,
  );
  const config = join(workDir, "sdk-worker.jsonc");
  await writeFile(config, JSON.stringify({ name: "sdk-worker", main: script, compatibility_date: "2026-10-01" }));
  // Offline: no download of the `Request.cf` sample, no metrics.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_SEND_METRICS = "false";
  const { unstable_dev } = await import("wrangler");
  const worker = await unstable_dev(script, {
    config,
    ip: "127.0.0.1",
    port: await freePort(),
    inspectorPort: await freePort(),
    persistTo: join(workDir, "sdk-worker-state"),
    logLevel: "warn",
    experimental: { disableExperimentalWarning: true },
  });
  try {
    const res = await worker.fetch("/", { method: "POST", body: JSON.stringify({ baseUrl, apiKey }) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`the Worker answered ${res.status}: ${text}`);
    return JSON.parse(text) as RuntimeRun;
  } finally {
    await worker.stop();
  }
}
