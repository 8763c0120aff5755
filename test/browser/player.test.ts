import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.ts";
import { ROOT, startStack, type Stack } from "../../infra/local/stack.ts";

/**
 * A phone-like player (hls.js in headless Chromium, muted autoplay) starts playing a job's
 * signed HLS URL while the job is still generating: the product's "watch while it renders".
 *
 * The page is served from an origin of its own, so the player reaches the edge cross-origin,
 * as a web app would: the playlist, init and segments need the edge's CORS headers.
 */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
const JOB_TIMEOUT_MS = 200_000;
const FIRST_PLAY_TIMEOUT_MS = 120_000;
/** The longest, slowest job the reference model accepts (shared/models.ts). */
const JOB = { prompt: "a red ball bouncing", duration_s: 20, steps: 50 };

interface JobView {
  id: string;
  status: string;
  chunks_ready: number;
  total_chunks: number;
  seconds_ready: number;
  playback: { hls_url: string; signed_hls_url: string };
}

interface PlayerState {
  h264: Record<string, boolean>;
  hlsSupported: boolean;
  currentTime: number;
  maxTime: number;
  duration: number;
  ended: boolean;
  errors: string[];
  events: string[];
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body>
<video id="v" muted autoplay playsinline width="144" height="256"></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById("v");
  video.muted = true;
  const state = (window.player = {
    h264: Object.fromEntries(['avc1.64000c', 'avc1.4d400c', 'avc1.42e00c'].map((c) => [c, MediaSource.isTypeSupported('video/mp4; codecs="' + c + '"')])),
    hlsSupported: Hls.isSupported(),
    currentTime: 0, maxTime: 0, duration: NaN, ended: false, errors: [], events: [],
  });
  const t0 = performance.now();
  const note = (e) => state.events.push(((performance.now() - t0) / 1000).toFixed(2) + "s " + e);
  for (const e of ["playing", "waiting", "stalled", "ended", "error"]) video.addEventListener(e, () => note(e + " @" + video.currentTime.toFixed(2)));
  video.addEventListener("timeupdate", () => {
    state.currentTime = video.currentTime;
    state.maxTime = Math.max(state.maxTime, video.currentTime);
    state.duration = video.duration;
  });
  video.addEventListener("ended", () => { state.ended = true; });
  const src = new URLSearchParams(location.search).get("src");
  if (src && Hls.isSupported()) {
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_e, d) => {
      state.errors.push((d.fatal ? "FATAL " : "") + d.type + "/" + d.details);
      if (d.fatal && d.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => hls.startLoad(), 1000);
      else if (d.fatal && d.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => { note("manifest"); video.play().catch((err) => state.errors.push("play(): " + err)); });
    hls.loadSource(src);
    hls.attachMedia(video);
  }
</script>
</body></html>`;

/** The page and hls.js, on an origin of their own: the player reaches the edge cross-origin (CORS). */
function pageServer(hlsJs: Buffer): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    if (url === "/" || url.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else if (url === "/hls.min.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(hlsJs);
    } else {
      res.writeHead(404).end();
    }
  });
}

let stack: Stack;
let stateDir: string;
let server: Server | undefined;
let pageOrigin: string;
let browser: Browser | undefined;
let page: Page;
const lines: string[] = [];

describe.skipIf(!HAVE_CHROMIUM && !process.env.CI)("a phone-like HLS player (headless Chromium + hls.js)", () => {
  beforeAll(async () => {
    if (!HAVE_CHROMIUM) {
      throw new Error(
        `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH.`,
      );
    }
    stateDir = await mkdtemp(join(tmpdir(), "reelmesh-browser-"));
    stack = await startStack({
      stateDir,
      edgePort: await freePort(),
      emulatorPort: await freePort(),
      log: (line) => lines.push(line),
    });
    const hlsJs = await readFile(join(ROOT, "node_modules/hls.js/dist/hls.min.js"));
    const port = await freePort();
    server = pageServer(hlsJs);
    await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    pageOrigin = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    });
    page = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await stack?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  async function api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${stack.edgeUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json", ...init.headers },
    });
  }

  const getJob = async (id: string) => (await (await api(`/v1/videos/${id}`)).json()) as JobView;
  const player = () => page.evaluate(() => (globalThis as unknown as { player: PlayerState }).player);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const context = async () => `player: ${JSON.stringify(await player().catch(() => null))}\n${lines.slice(-30).join("\n")}`;

  it("starts playing the signed HLS URL before the job has finished", async () => {
    // Can this Chromium decode H.264 at all? (Debian's build ships its ffmpeg with proprietary codecs.)
    await page.goto(`${pageOrigin}/`);
    const probe = await player();
    console.log(
      `[player] chromium ${browser?.version()}, hls.js supported: ${probe.hlsSupported}, H.264 MSE support: ${JSON.stringify(probe.h264)}`,
    );
    expect(probe.hlsSupported, "MediaSource unavailable in this Chromium").toBe(true);
    expect(probe.h264["avc1.64000c"], `this Chromium cannot decode H.264 (MSE): ${JSON.stringify(probe.h264)}`).toBe(true);

    const t0 = Date.now();
    const created = await api("/v1/videos", { method: "POST", body: JSON.stringify(JOB) });
    expect(created.status, `${await created.clone().text()}\n${lines.slice(-30).join("\n")}`).toBe(202);
    let job = (await created.json()) as JobView;
    const id = job.id;

    // A phone opens the player once the first second is ready (the API's seconds_ready).
    while (job.chunks_ready < 1) {
      if (["failed", "canceled", "succeeded"].includes(job.status) || Date.now() - t0 > FIRST_PLAY_TIMEOUT_MS) {
        throw new Error(`job ${id} produced no first chunk: ${JSON.stringify(job)}\n${lines.slice(-30).join("\n")}`);
      }
      await sleep(200);
      job = await getJob(id);
    }
    const firstChunkMs = Date.now() - t0;
    // The signed URL as the API gives it: on the edge's origin, not the page's.
    const src = job.playback.signed_hls_url;
    await page.goto(`${pageOrigin}/?src=${encodeURIComponent(src)}`);
    const openedMs = Date.now() - t0;

    // Playback has begun: currentTime advances past 0.5 s. What is the job doing right then?
    let state = await player();
    while (state.currentTime <= 0.5) {
      if (Date.now() - t0 > FIRST_PLAY_TIMEOUT_MS) throw new Error(`no playback within ${FIRST_PLAY_TIMEOUT_MS} ms\n${await context()}`);
      await sleep(100);
      state = await player();
    }
    const firstPlayMs = Date.now() - t0;
    const atFirstPlay = await getJob(id);
    console.log(
      `[player] first chunk after ${firstChunkMs} ms, page opened at ${openedMs} ms, currentTime ${state.currentTime.toFixed(2)} s at ${firstPlayMs} ms; ` +
        `job then: ${atFirstPlay.status}, ${atFirstPlay.chunks_ready}/${atFirstPlay.total_chunks} chunks`,
    );
    expect(atFirstPlay.status, "the job finished before the player got going: the test proves nothing").not.toBe("succeeded");
    expect(atFirstPlay.chunks_ready).toBeLessThan(atFirstPlay.total_chunks);

    // The job runs to the end and the player keeps going, through the growing playlist to its end.
    const deadline = t0 + JOB_TIMEOUT_MS;
    while (!["succeeded", "failed", "canceled"].includes(job.status)) {
      if (Date.now() > deadline) throw new Error(`job ${id} did not finish within ${JOB_TIMEOUT_MS} ms\n${await context()}`);
      await sleep(250);
      job = await getJob(id);
    }
    const jobDoneMs = Date.now() - t0;
    expect(job.status, await context()).toBe("succeeded");
    const atJobEnd = await player();
    console.log(`[player] job succeeded after ${jobDoneMs} ms; player at ${atJobEnd.currentTime.toFixed(2)} s then`);
    expect(atJobEnd.maxTime).toBeGreaterThan(state.currentTime);

    // Let the player drain what is left (it plays in real time from first play).
    const endBy = Date.now() + JOB.duration_s * 1000 + 15_000;
    state = await player();
    while (!state.ended && state.currentTime < JOB.duration_s - 0.5 && Date.now() < endBy) {
      await sleep(250);
      state = await player();
    }
    console.log(
      `[player] end: currentTime ${state.currentTime.toFixed(2)} s of ${state.duration} s, ended=${state.ended} at ${Date.now() - t0} ms; ` +
        `errors: ${JSON.stringify(state.errors)}; events: ${state.events.join(", ")}`,
    );
    expect(state.maxTime, await context()).toBeGreaterThan(JOB.duration_s - 0.5);
    expect(
      state.errors.filter((e) => e.startsWith("FATAL")),
      await context(),
    ).toEqual([]);
  });
});
