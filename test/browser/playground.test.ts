import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.ts";
import { ROOT, startStack, type Stack } from "../../infra/local/stack.ts";

/**
 * The playground (`GET /` on the edge) in headless Chromium (Debian's package, driven by
 * playwright-core) on the real local stack, at a phone viewport and a desktop one: dev sign-in,
 * the price, a prompt whose video starts playing (hls.js, the multivariant URL) before the job
 * has finished, a canceled job, a rejected prompt's error. Screenshots go to
 * `test-results/playground/` (or REELMESH_TEST_OUTPUT_DIR) and their paths are printed.
 *
 * The same stack then checks the multivariant playlist with FFmpeg: ffprobe opens the signed
 * URL, and what it decodes must agree with CODECS, RESOLUTION and FRAME-RATE; BANDWIDTH and
 * AVERAGE-BANDWIDTH must match the segments' own sizes; and gzip's ratio on a real playlist.
 */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
const OUT_DIR = process.env.REELMESH_TEST_OUTPUT_DIR ?? join(ROOT, "test-results", "playground");
const STEP_TIMEOUT_MS = 60_000;
/** Slow enough on the reference model (50 steps a chunk) that playback starts before the end. */
const JOB = { prompt: "a red ball bouncing", duration_s: 12, steps: 50 };
const VIEWPORTS: Record<string, BrowserContextOptions> = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1280, height: 860 } },
};

interface JobView {
  id: string;
  status: string;
  chunks_ready: number;
  total_chunks: number;
  playback: { signed_hls_url: string };
}

let stack: Stack;
let stateDir: string;
let browser: Browser | undefined;
const lines: string[] = [];
const finished: JobView[] = [];

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.edgeUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json", ...init.headers },
  });
}
const getJob = async (id: string) => (await (await api(`/v1/videos/${id}`)).json()) as JobView;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, page?: Page): Promise<T> {
  const end = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) {
      const shown = page ? await page.evaluate<string>("document.body.innerText").catch(() => "") : "";
      throw new Error(`timed out waiting for ${what}\npage: ${shown}\n${lines.slice(-30).join("\n")}`);
    }
    await sleep(100);
  }
}

const videoTime = (page: Page) => page.evaluate<number>(`document.getElementById("video").currentTime`);
const statusOf = (page: Page) => page.evaluate<string>(`document.getElementById("status").dataset.status ?? ""`);

async function fill(page: Page, job: Partial<typeof JOB>) {
  if (job.prompt !== undefined) await page.fill("#prompt", job.prompt);
  if (job.duration_s !== undefined) await page.fill("#duration", String(job.duration_s));
  if (job.steps !== undefined) await page.fill("#steps", String(job.steps));
}

async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`[playground] screenshot: ${path}`);
}

/** The raw bytes of a GET (Node's fetch would undo the gzip), with its response headers. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ bytes: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => (bytes += d.length));
      res.on("end", () => resolve({ bytes, headers: res.headers }));
    })
      .on("error", reject)
      .end();
  });
}

describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)("the playground in headless Chromium", () => {
  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package or set CHROMIUM_PATH.`);
    }
    await mkdir(OUT_DIR, { recursive: true });
    stateDir = await mkdtemp(join(tmpdir(), "reelmesh-playground-"));
    stack = await startStack({ stateDir, edgePort: await freePort(), emulatorPort: await freePort(), log: (line) => lines.push(line) });
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  for (const [name, options] of Object.entries(VIEWPORTS)) {
    it(`at a ${name} viewport: signs in, prices, plays the video before the job ends, cancels another, shows a rejected prompt`, async () => {
      const context = await browser!.newContext(options);
      const page = await context.newPage();
      const cspErrors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
      });
      await page.goto(`${stack.edgeUrl}/`);
      await page.click("#signin");
      await until("the sign-in", () => page.isEnabled("#submit"), page);
      await fill(page, JOB);
      await until("a price", async () => /Price: \d+ credits/.test(await page.innerText("#price")), page);

      // Submit, then watch the page's own player.
      const t0 = Date.now();
      await page.click("#submit");
      const id = await until("the job id", async () => /vid_\w+/.exec(await page.innerText("#job-id"))?.[0], page);
      await until("playback (currentTime > 0.3 s)", async () => (await videoTime(page)) > 0.3, page);
      const playMs = Date.now() - t0;
      // From the beginning of the growing stream, not its live edge.
      expect(await page.evaluate<number>(`document.getElementById("video").played.start(0)`)).toBeLessThan(0.5);
      const atPlay = await getJob(id);
      await screenshot(page, `${name}-playing`);
      expect(atPlay.status, "the job finished before the video played: the test proves nothing").not.toBe("succeeded");
      expect(atPlay.chunks_ready).toBeLessThan(atPlay.total_chunks);

      await until("the page to show succeeded", async () => (await statusOf(page)) === "succeeded", page);
      const doneMs = Date.now() - t0;
      await until("the poster", () => page.evaluate<boolean>(`document.getElementById("poster").naturalWidth > 0`), page);
      expect(await page.getAttribute("#mp4", "href")).toMatch(new RegExp(`/v1/videos/${id}/content\\?token=`));
      expect(await videoTime(page)).toBeGreaterThan(0.3);
      console.log(
        `[playground] ${name}: submit → playback ${playMs} ms (job then ${atPlay.status}, ${atPlay.chunks_ready}/${atPlay.total_chunks} chunks), ` +
          `submit → completed on the page ${doneMs} ms`,
      );
      expect(await page.innerText("#code")).toContain(`"duration_s":${JOB.duration_s}`);
      expect(await page.locator("#history li").count()).toBeGreaterThan(0);
      await screenshot(page, `${name}-done`);
      finished.push(await getJob(id));

      // Another job, canceled from the page.
      await fill(page, { prompt: "a blue square spinning", duration_s: 20, steps: 50 });
      await page.click("#submit");
      await until("the second job", async () => (await page.innerText("#job-id")) !== id, page);
      await page.click("#cancel");
      await until("the page to show canceled", async () => (await statusOf(page)) === "canceled", page);

      // A rejected prompt: its category, not a bare status code.
      await fill(page, { prompt: "graphic gore" });
      await page.click("#submit");
      await until("the error", () => page.isVisible("#error"), page);
      expect(await page.getAttribute("#error", "data-code")).toBe("prompt_rejected");
      expect(await page.innerText("#error")).toMatch(/Prompt rejected \(.*violence_gore.*\)/);
      await screenshot(page, `${name}-rejected`);

      // Usable on the viewport: nothing wider than the screen.
      const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
      expect(overflow).toBeLessThanOrEqual(0);
      expect(cspErrors).toEqual([]);
      await context.close();
    });
  }

  it("serves a multivariant playlist whose attributes FFmpeg confirms, and gzips playlists", async () => {
    const job = finished[0];
    if (!job) throw new Error("no finished job from the viewport tests");
    const url = job.playback.signed_hls_url;
    const multivariant = await (await fetch(url)).text();
    console.log(`[playground] multivariant playlist of ${job.id}:\n${multivariant}`);
    const attrs = Object.fromEntries(
      [...(/#EXT-X-STREAM-INF:(.*)/.exec(multivariant)?.[1] ?? "").matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)].map((m) => [m[1]!, m[2]!]),
    );

    // FFmpeg's HLS demuxer opens the URL the API hands out and follows the variant.
    // Asynchronously: the stack's processes log to pipes this process must keep reading.
    const probe = await promisify(execFile)(
      "ffprobe",
      [
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=codec_name,profile,level,width,height,avg_frame_rate",
        "-of",
        "json",
        url,
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    const s = (JSON.parse(probe.stdout) as { streams: Record<string, string | number>[] }).streams[0]!;
    const [profile, , level] = attrs
      .CODECS!.replace(/"/g, "")
      .split(".")[1]!
      .match(/../g)!
      .map((h) => parseInt(h, 16));
    expect(s.codec_name).toBe("h264");
    expect({ profile, level }).toEqual({
      profile: ({ High: 100, Main: 77, Baseline: 66 } as Record<string, number>)[s.profile!],
      level: s.level,
    });
    expect(attrs.RESOLUTION).toBe(`${s.width}x${s.height}`);
    const [num, den] = String(s.avg_frame_rate).split("/").map(Number);
    expect(Number(attrs["FRAME-RATE"])).toBeCloseTo(num! / den!, 3);

    // The rates, from the segments themselves: peak (1 s segments: the largest) and average.
    const mediaUrl = new URL(
      multivariant.split("\n").find((l) => l && !l.startsWith("#"))!,
      url,
    ).toString();
    const media = await (await fetch(mediaUrl)).text();
    const durations = [...media.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
    const uris = media.split("\n").filter((l) => l && !l.startsWith("#"));
    const sizes = await Promise.all(uris.map(async (u) => (await (await fetch(new URL(u, url))).arrayBuffer()).byteLength));
    const bps = sizes.map((b, i) => (b * 8) / durations[i]!);
    expect(Number(attrs.BANDWIDTH)).toBe(Math.ceil(Math.max(...bps)));
    const avg = (sizes.reduce((a, b) => a + b, 0) * 8) / durations.reduce((a, b) => a + b, 0);
    expect(Number(attrs["AVERAGE-BANDWIDTH"])).toBe(Math.ceil(avg));
    expect(media.match(/#EXT-X-PROGRAM-DATE-TIME:/g)).toHaveLength(uris.length);

    const plain = await rawGet(mediaUrl, { "accept-encoding": "identity" });
    const gz = await rawGet(mediaUrl, { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers.vary).toBe("Accept-Encoding");
    console.log(
      `[playground] gzip: media playlist of ${uris.length} segments ${plain.bytes} B → ${gz.bytes} B (${(plain.bytes / gz.bytes).toFixed(2)}×)`,
    );
    expect(gz.bytes).toBeLessThan(plain.bytes);
  });

  it("FFmpeg starts a running video at its beginning only with -live_start_index 0 (docs/players.md)", async () => {
    const created = await api("/v1/videos", { method: "POST", body: JSON.stringify({ ...JOB, duration_s: 20 }) });
    const video = (await created.json()) as JobView;
    await until("five segments", async () => (await getJob(video.id)).chunks_ready >= 5);
    const firstPts = async (...extra: string[]) => {
      const args = ["-v", "error", ...extra, "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-read_intervals", "%+#1"];
      const { stdout } = await promisify(execFile)("ffprobe", [...args, "-of", "csv=p=0", video.playback.signed_hls_url], {
        timeout: 30_000,
      });
      return Number(stdout.trim());
    };
    const byDefault = await firstPts();
    const fromStart = await firstPts("-live_start_index", "0");
    const after = await getJob(video.id);
    console.log(
      `[playground] ffprobe of a running video: first packet at ${byDefault} s by default, ${fromStart} s with -live_start_index 0`,
    );
    expect(after.status, "the video ended before FFmpeg read it: it was not a growing stream").toBe("running");
    // FFmpeg's HLS demuxer ignores EXT-X-START and starts a live playlist 3 segments from its end.
    expect(byDefault).toBeGreaterThan(0);
    expect(fromStart).toBe(0);
    await api(`/v1/videos/${video.id}/cancel`, { method: "POST" });
  });
});
