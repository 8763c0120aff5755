import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";
import { decodeErrors, probeVideo } from "../support/media.ts";

/**
 * A prompt in, a playable HLS clip out, on the real path: emulator (SQS + S3 protocols), the edge under
 * wrangler dev (workerd), and a GPU function running the reference model on ONNX Runtime.
 */
const JOB_TIMEOUT_MS = 180_000;

let stack: Stack;
let stateDir: string;
const lines: string[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "reelmesh-it-"));
  stack = await startStack({
    stateDir,
    edgePort: await freePort(),
    emulatorPort: await freePort(),
    log: (line) => lines.push(line),
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.edgeUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json", ...init.headers },
  });
}

interface JobView {
  id: string;
  status: string;
  chunks_ready: number;
  total_chunks: number;
}

async function waitForTerminal(id: string): Promise<JobView> {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const job = (await (await api(`/v1/videos/${id}`)).json()) as JobView;
    if (["succeeded", "failed", "canceled"].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`job ${id} did not finish within ${JOB_TIMEOUT_MS} ms\n${lines.slice(-40).join("\n")}`);
}

/** Top-level MP4 box types in order. */
function topLevelBoxes(buf: Uint8Array): string[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: string[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = view.getUint32(at);
    out.push(String.fromCharCode(...buf.subarray(at + 4, at + 8)));
    if (size < 8) break;
    at += size;
  }
  return out;
}

describe("a prompt goes in and a playable HLS clip comes out", () => {
  it("rejects an invalid body with problem+json and runs a valid one to a 4 s H.264 stream", async () => {
    const bad = await api("/v1/videos", { method: "POST", body: JSON.stringify({ prompt: "x", duration_s: "4" }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");

    const created = await api("/v1/videos", {
      method: "POST",
      body: JSON.stringify({ prompt: "a red ball bouncing", duration_s: 4 }),
    });
    expect(created.status).toBe(202);
    const job = (await created.json()) as JobView;
    expect(job.status).toBe("queued");

    const done = await waitForTerminal(job.id);
    expect(done.status, lines.slice(-40).join("\n")).toBe("succeeded");
    expect(done.chunks_ready).toBe(4);

    const playlist = await (await api(`/v1/videos/${job.id}/media.m3u8`)).text();
    expect(playlist).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
    const segments = playlist.split("\n").filter((l) => l.length > 0 && !l.startsWith("#"));
    expect(map).toBeDefined();
    expect(segments).toHaveLength(4);

    const parts: Uint8Array[] = [];
    for (const name of [map as string, ...segments]) {
      const res = await api(`/v1/videos/${job.id}/${name}`);
      expect(res.status, name).toBe(200);
      parts.push(new Uint8Array(await res.arrayBuffer()));
    }
    const file = join(stateDir, "concat.mp4");
    await writeFile(file, Buffer.concat(parts));

    expect(decodeErrors(file)).toBe("");
    const video = probeVideo(file);
    expect(video.codec).toBe("h264");
    expect(video.pixFmt).toBe("yuv420p");
    expect([video.width, video.height]).toEqual([144, 256]);
    expect(video.frames).toBe(48);
    expect(video.durationS).toBeCloseTo(4, 1);

    // The final MP4: the same samples as the segments, one progressive faststart file.
    const content = await api(`/v1/videos/${job.id}/content`);
    expect(content.status).toBe(200);
    expect(content.headers.get("content-type")).toBe("video/mp4");
    const mp4 = new Uint8Array(await content.arrayBuffer());
    const mp4File = join(stateDir, "final.mp4");
    await writeFile(mp4File, mp4);
    expect(decodeErrors(mp4File)).toBe("");
    expect(probeVideo(mp4File)).toMatchObject({ codec: "h264", profile: "High", frames: 48, width: 144, height: 256 });
    const topLevel = topLevelBoxes(mp4);
    expect(topLevel.indexOf("moov")).toBeLessThan(topLevel.indexOf("mdat")); // faststart
    expect(topLevel).not.toContain("moof");

    // The poster: a JPEG of the first frame.
    const poster = await api(`/v1/videos/${job.id}/poster.jpg`);
    expect(poster.status).toBe(200);
    const jpeg = new Uint8Array(await poster.arrayBuffer());
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
    const posterFile = join(stateDir, "poster.jpg");
    await writeFile(posterFile, jpeg);
    expect(probeVideo(posterFile)).toMatchObject({ codec: "mjpeg", width: 144, height: 256 });
  });
});
