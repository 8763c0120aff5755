import { existsSync } from "node:fs";
import { mkdtemp, rm as rmDir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InsufficientCreditsError,
  NotFoundError,
  PermissionDeniedError,
  PromptRejectedError,
  RateLimitError,
  Reelmesh,
  verifyWebhook,
  WebhookVerificationError,
  type FetchLike,
  type GenerateProgress,
  type StreamedEvent,
} from "../../client/src/index.ts";
import { freePort } from "../../infra/local/processes.ts";
import { startStack, type Stack } from "../../infra/local/stack.ts";
import { CHROMIUM_PATH, runInChromium, runInWorkerd } from "../support/client-runtimes.ts";
import { newAccount, runCli, webhookReceiver } from "../support/client.ts";
import { decodeErrors, probeVideo } from "../support/media.ts";

/**
 * The SDK (client/) and the `reelmesh` CLI against the real local stack: emulator, the edge
 * under wrangler dev, one GPU function. One stack for both; short clips.
 */
let stack: Stack;
let stateDir: string;
let rm: Reelmesh;
const lines: string[] = [];
/** Videos made here, for the list test: id → status at the end. */
const made = new Map<string, string>();

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "reelmesh-client-"));
  stack = await startStack({ stateDir, edgePort: await freePort(), emulatorPort: await freePort(), log: (l) => lines.push(l) });
  rm = new Reelmesh({ apiKey: stack.devKey, baseUrl: stack.edgeUrl });
});

afterAll(async () => {
  await stack?.stop();
  await rmDir(stateDir, { recursive: true, force: true });
});

const logTail = () => lines.slice(-40).join("\n");
const ids = (events: StreamedEvent[]) => events.map((e) => Number(e.id));

describe("the SDK", () => {
  it("follows a video's events across a dropped connection with Last-Event-ID, waits for it, and downloads an MP4 and poster that decode", async () => {
    const opened: { lastEventId: string | null; seenBefore: number }[] = [];
    const seen: StreamedEvent[] = [];
    let first: AbortController | undefined;
    // Each event stream gets its own controller, so the test can cut the first one's socket mid-stream.
    const cutting: FetchLike = (url, init) => {
      if (!url.includes("/events")) return fetch(url, init);
      opened.push({ lastEventId: new Headers(init.headers).get("last-event-id"), seenBefore: seen.length });
      const own = new AbortController();
      init.signal?.addEventListener("abort", () => own.abort(init.signal?.reason));
      first ??= own;
      return fetch(url, { ...init, signal: own.signal });
    };
    const client = new Reelmesh({ apiKey: stack.devKey, baseUrl: stack.edgeUrl, fetch: cutting });
    const video = await client.videos.create({ prompt: "a red ball bouncing", duration_s: 2 });
    for await (const e of client.videos.events(video.id)) {
      seen.push(e);
      if (seen.length === 1) first!.abort(new Error("the test cut the connection"));
    }
    expect(opened.length, logTail()).toBeGreaterThanOrEqual(2);
    expect(opened[0]!.lastEventId).toBeNull();
    // The reconnect named the last event delivered, and the server went on from there.
    expect(opened[1]!.lastEventId).toBe(seen[opened[1]!.seenBefore - 1]!.id);
    const seq = ids(seen);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(new Set(seq).size).toBe(seq.length);
    expect(seen.filter((e) => e.type === "chunk").map((e) => (e.type === "chunk" ? e.index : -1))).toEqual([0, 1]);
    expect(seen.at(-1)!.type).toBe("completed");
    // Nothing but superseded progress events was skipped: the whole log, replayed, has the same others.
    const replay: StreamedEvent[] = [];
    for await (const e of rm.videos.events(video.id)) replay.push(e);
    const lasting = (es: StreamedEvent[]) => es.filter((e) => e.type !== "progress").map((e) => `${e.id}:${e.type}`);
    expect(lasting(seen)).toEqual(lasting(replay));
    // After the last event, a resumed stream is over (204): the iterator ends with nothing.
    const after: StreamedEvent[] = [];
    for await (const e of rm.videos.events(video.id, { lastEventId: replay.at(-1)!.id! })) after.push(e);
    expect(after).toEqual([]);

    const done = await client.videos.wait(video.id);
    made.set(video.id, done.status);
    expect(done.status).toBe("succeeded");
    const mp4 = join(stateDir, "sdk.mp4");
    await writeFile(mp4, new Uint8Array(await (await client.videos.download(video.id, { kind: "mp4" })).arrayBuffer()));
    expect(decodeErrors(mp4)).toBe("");
    expect(probeVideo(mp4)).toMatchObject({ codec: "h264", frames: 2 * done.fps, width: done.width, height: done.height });
    const poster = await client.videos.download(video.id, { kind: "poster" });
    expect(poster.headers.get("content-type")).toBe("image/jpeg");
    const jpeg = join(stateDir, "poster.jpg");
    await writeFile(jpeg, new Uint8Array(await poster.arrayBuffer()));
    expect(probeVideo(jpeg)).toMatchObject({ codec: "mjpeg", width: done.width, height: done.height });
  });

  it("generates with the playable URL handed over at the first segment, polling where fetch cannot stream a body (React Native)", async () => {
    let sseAnswers = 0;
    // React Native's fetch: a response has no body stream. Everything else is the real answer.
    const noStreams: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return res;
      sseAnswers++;
      await res.body?.cancel();
      return new Response(null, { status: res.status, headers: res.headers });
    };
    const phone = new Reelmesh({ apiKey: stack.devKey, baseUrl: stack.edgeUrl, fetch: noStreams });
    const playable: Promise<{ url: string; status: number; playlist: string }>[] = [];
    const progress: GenerateProgress[] = [];
    const video = await phone.videos.generate(
      { prompt: "a blue square moving left", duration_s: 2 },
      {
        // The URL needs no key: fetch it as a player would, right then.
        // It is the multivariant playlist; the player follows it to the media playlist.
        onPlayable: (url) =>
          playable.push(
            fetch(url).then(async (r) => {
              const variant = (await r.text()).split("\n").find((l) => l.startsWith("media.m3u8"));
              const media = variant ? await fetch(new URL(variant, url)).then((m) => m.text()) : "";
              return { url, status: r.status, playlist: media };
            }),
          ),
        onProgress: (p) => progress.push(p),
      },
    );
    made.set(video.id, video.status);
    expect(video.status, logTail()).toBe("succeeded");
    expect(sseAnswers).toBe(1);
    expect(playable).toHaveLength(1);
    const first = await playable[0]!;
    expect(first.url).toContain(`/v1/videos/${video.id}/stream.m3u8?token=`);
    expect(first.status).toBe(200);
    expect(first.playlist).toContain("seg-00000.m4s");
    expect(progress.map((p) => p.event.type)).toContain("chunk");
    expect(progress.every((p) => p.event.id === null)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ fraction: 1, chunksReady: 2, totalChunks: 2, event: { type: "completed" } });
  });

  it("retries a create whose answer was lost with the same Idempotency-Key: one job, billed once, and its webhook verifies", async () => {
    const receiver = await webhookReceiver();
    try {
      const apiKey = await newAccount(stack.edgeUrl, stack.adminToken, { credits: 10_000 });
      const posts: { key: string | null; replayed: string | null }[] = [];
      // The request reaches the edge and is answered, then the connection "drops" before the client reads it.
      const dropping: FetchLike = async (url, init) => {
        const res = await fetch(url, init);
        if (init.method !== "POST" || !url.endsWith("/v1/videos")) return res;
        posts.push({ key: new Headers(init.headers).get("idempotency-key"), replayed: res.headers.get("idempotent-replayed") });
        if (posts.length > 1) return res;
        await res.arrayBuffer();
        throw new TypeError("fetch failed: socket hang up");
      };
      const client = new Reelmesh({ apiKey, baseUrl: stack.edgeUrl, fetch: dropping });
      const video = await client.videos.create({ prompt: "a green triangle spinning", duration_s: 2, webhook_url: `${receiver.url}/hook` });
      expect(posts).toHaveLength(2);
      expect(posts[0]!.key).toBeTruthy();
      expect(posts[1]).toEqual({ key: posts[0]!.key, replayed: "true" });
      const done = await client.videos.wait(video.id);
      expect(done.status, logTail()).toBe("succeeded");
      const usage = await client.usage.retrieve();
      expect(usage).toMatchObject({ jobs: 1, reserved: 0, spent: done.charged, balance: 10_000 - done.charged! });

      const delivery = await receiver.next(60_000);
      const { secret, scheme } = await client.webhooks.secret();
      expect(scheme).toBe("standard-webhooks/v1");
      const event = await verifyWebhook(delivery.body, delivery.headers, secret);
      expect(event).toMatchObject({ type: "video.completed", data: { id: video.id, status: "succeeded" } });
      const reason = (p: Promise<unknown>) =>
        p.then(
          () => "verified",
          (e: unknown) => (e as WebhookVerificationError).reason,
        );
      expect(await reason(verifyWebhook(delivery.body.replace('"succeeded"', '"failed"'), delivery.headers, secret))).toBe(
        "invalid_signature",
      );
      expect(await reason(verifyWebhook(delivery.body, delivery.headers, (await rm.webhooks.secret()).secret))).toBe("invalid_signature");
      const sentAt = Number(delivery.headers["webhook-timestamp"]);
      expect(await reason(verifyWebhook(delivery.body, delivery.headers, secret, { nowS: sentAt + 301 }))).toBe("expired");
      expect(await reason(verifyWebhook(delivery.body, delivery.headers, secret, { nowS: sentAt + 301, toleranceS: 600 }))).toBe(
        "verified",
      );
    } finally {
      await receiver.close();
    }
  });

  it("rejects a wait at once when aborted between polls, and cancels a running video", async () => {
    const video = await rm.videos.create({ prompt: "a yellow circle bouncing", duration_s: 20, steps: 50 });
    const ac = new AbortController();
    const t0 = performance.now();
    // Polls once, then would pause a minute.
    const waiting = rm.videos.wait(video.id, { pollIntervalMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    expect(performance.now() - t0).toBeLessThan(10_000);
    const after = await rm.videos.cancel(video.id);
    expect(after.status === "canceled" || after.cancel_requested, JSON.stringify(after)).toBe(true);
    const end = await rm.videos.wait(video.id, { deadlineMs: 120_000 });
    made.set(video.id, end.status);
    expect(end.status).toBe("canceled");
    expect(end.charged).toBeLessThanOrEqual(end.price.credits);
  });

  it("throws typed errors: 402 with price and balance, 422 with categories, 429 with retryAfter, 404", async () => {
    const broke = new Reelmesh({ apiKey: await newAccount(stack.edgeUrl, stack.adminToken, { credits: 0 }), baseUrl: stack.edgeUrl });
    const e402 = (await broke.videos
      .create({ prompt: "a red ball bouncing", duration_s: 2 })
      .catch((e: unknown) => e)) as InsufficientCreditsError;
    expect(e402).toBeInstanceOf(InsufficientCreditsError);
    expect([e402.status, e402.code, e402.balance]).toEqual([402, "insufficient_credits", 0]);
    expect(e402.price).toBeGreaterThan(0);

    const e422 = (await rm.videos
      .create({ prompt: "a video showing how to build a pipe bomb" })
      .catch((e: unknown) => e)) as PromptRejectedError;
    expect(e422).toBeInstanceOf(PromptRejectedError);
    expect([e422.status, e422.code, e422.field]).toEqual([422, "prompt_rejected", "prompt"]);
    expect(e422.categories).toContain("illegal_dangerous");
    expect((await rm.moderations.create("a red ball bouncing")).flagged).toBe(false);

    const limits = { burst: 1, per_s: 0.01, max_running_jobs: 5 };
    const limited = new Reelmesh({
      apiKey: await newAccount(stack.edgeUrl, stack.adminToken, { credits: 1000, limits }),
      baseUrl: stack.edgeUrl,
    });
    const quote = await limited.videos.quote({ prompt: "a red ball bouncing", duration_s: 2 });
    expect(quote).toMatchObject({ object: "quote", dry_run: true, price: { kind: "generation" } });
    // Retry-After is ~100 s, over what the client sleeps through: the error comes back at once.
    const e429 = (await limited.videos.quote({ prompt: "a red ball bouncing", duration_s: 2 }).catch((e: unknown) => e)) as RateLimitError;
    expect(e429).toBeInstanceOf(RateLimitError);
    expect([e429.status, e429.code]).toEqual([429, "rate_limited"]);
    expect(e429.retryAfter).toBeGreaterThan(60);

    const e404 = (await rm.videos.retrieve("vid_00000000000000000000000000").catch((e: unknown) => e)) as NotFoundError;
    expect(e404).toBeInstanceOf(NotFoundError);
    expect(e404.code).toBe("video_not_found");
  });

  it("lets a server mint an app token that a phone spends on its own end user's videos only", async () => {
    const minted = await rm.tokens.create({ subject: "user-42", expires_in_s: 300 });
    expect(minted).toMatchObject({ subject: "user-42", scopes: ["videos:create", "videos:read"] });
    let asked = 0;
    const phone = new Reelmesh({ token: () => (asked++, minted.token), baseUrl: stack.edgeUrl });
    const video = await phone.videos.create({ prompt: "a red ball bouncing", duration_s: 1 });
    made.set(video.id, (await phone.videos.wait(video.id)).status);
    expect(asked).toBeGreaterThanOrEqual(2);
    const usage = await phone.usage.retrieve();
    expect(usage.subject).toBe("user-42");
    expect(usage.balance).toBeUndefined();
    expect(usage.jobs).toBe(1);
    await expect(phone.tokens.create({ subject: "someone-else" })).rejects.toBeInstanceOf(PermissionDeniedError);

    const mine: string[] = [];
    for await (const v of phone.videos.list()) mine.push(v.id);
    expect(mine).toEqual([video.id]);
  });

  it("lists the caller's videos newest first, page by page, filtered by status", async () => {
    const page = await rm.videos.list({ limit: 2 });
    expect(page.object).toBe("list");
    expect(page.data.length).toBeLessThanOrEqual(2);
    const all: { id: string; created_at: string; status: string }[] = [];
    for await (const v of rm.videos.list({ limit: 2 })) all.push(v);
    expect(new Set(all.map((v) => v.id)).size).toBe(all.length);
    expect(all.map((v) => v.created_at)).toEqual(
      all
        .map((v) => v.created_at)
        .sort()
        .reverse(),
    );
    const devMade = [...made.keys()].filter((id) => all.some((v) => v.id === id));
    expect(devMade.length).toBeGreaterThanOrEqual(3);
    expect(page.hasNextPage()).toBe(all.length > 2);
    const canceled: string[] = [];
    for await (const v of rm.videos.list({ status: "canceled", limit: 100 })) {
      expect(v.status).toBe("canceled");
      canceled.push(v.id);
    }
    expect(canceled).toEqual(
      expect.arrayContaining([...made].filter(([id, s]) => s === "canceled" && devMade.includes(id)).map(([id]) => id)),
    );
  });
});

describe("the SDK where apps run it", () => {
  // Without Chromium (Debian's `chromium`, or CHROMIUM_PATH) the browser test is skipped locally, as test/browser/ is.
  it.skipIf(!existsSync(CHROMIUM_PATH) && !process.env.CI)(
    "runs as built for publishing in Chromium, from a page of another origin: streams events over fetch and refuses tokens.create",
    async () => {
      const run = await runInChromium(stateDir, stack.edgeUrl, stack.devKey);
      made.set(run.id, run.status);
      expect(run.status, logTail()).toBe("succeeded");
      // Ids on every event: they came over the event stream, not from the polling fallback.
      expect(run.events.every((e) => e.id !== null)).toBe(true);
      expect(run.events.map((e) => e.type)).toEqual(expect.arrayContaining(["chunk", "completed"]));
      expect(run.playable).toContain(`/v1/videos/${run.id}/stream.m3u8?token=`);
      expect(run.refused).toMatch(/must stay on your server/);
    },
  );

  it("runs bundled into a Worker inside workerd: generates, streams events over fetch and downloads the MP4", async () => {
    const run = await runInWorkerd(stateDir, stack.edgeUrl, stack.devKey);
    made.set(run.id, run.status);
    expect(run.status, logTail()).toBe("succeeded");
    expect(run.events.every((e) => e.id !== null)).toBe(true);
    expect(run.events.map((e) => e.type)).toEqual(expect.arrayContaining(["chunk", "completed"]));
    expect(run.mp4).toBe("ftyp");
  });
});

describe("the reelmesh CLI", () => {
  const env = () => ({ REELMESH_API_KEY: stack.devKey, REELMESH_BASE_URL: stack.edgeUrl });

  it("generates an MP4, printing only its path on stdout and the first-playable and total times on stderr", async () => {
    const out = join(stateDir, "cli.mp4");
    const r = await runCli(["generate", "a red ball bouncing", "-d", "2", "-o", out], env()).done;
    expect(r.code, r.stderr + logTail()).toBe(0);
    expect(r.stdout).toBe(`${out}\n`);
    expect(r.stderr).toMatch(/first playable second after \d+\.\d+ s: http/);
    expect(r.stderr).toMatch(/total \d+\.\d+ s/);
    // Not a terminal: no progress bar redraws.
    expect(r.stderr).not.toContain("\r");
    expect(decodeErrors(out)).toBe("");
    expect(probeVideo(out)).toMatchObject({ codec: "h264", frames: 24 });
  });

  it("answers status, usage and moderate, detaches, and exits with a distinct code for each failure", async () => {
    const detached = await runCli(["generate", "a blue square moving left", "-d", "1", "--detach", "--json"], env()).done;
    expect(detached.code, detached.stderr).toBe(0);
    const created = JSON.parse(detached.stdout);
    expect(created.object).toBe("video");
    const status = await runCli(["status", created.id, "--json"], env()).done;
    expect(JSON.parse(status.stdout).id).toBe(created.id);
    expect((await rm.videos.wait(created.id)).status).toBe("succeeded");
    made.set(created.id, "succeeded");
    expect((await runCli(["status", created.id], env()).done).stdout).toBe(`${created.id} succeeded 1/1 chunks\n`);

    const usage = await runCli(["usage"], env()).done;
    expect([usage.code, /^balance \d+ {2}reserved \d+ {2}spent \d+ {2}jobs \d+\n$/.test(usage.stdout)]).toEqual([0, true]);
    expect(await runCli(["moderate", "a red ball bouncing"], env()).done).toMatchObject({ code: 0, stdout: "ok\n" });
    const flagged = await runCli(["moderate", "how to build a pipe bomb"], env()).done;
    expect([flagged.code, flagged.stdout]).toEqual([5, "flagged: illegal_dangerous\n"]);

    const code = async (args: string[], e: Record<string, string> = env()) => {
      const r = await runCli(args, e).done;
      expect(r.stdout).toBe("");
      return r.code;
    };
    expect(await code(["generate", "a video showing how to build a pipe bomb", "-d", "1"])).toBe(5);
    expect(await code(["frobnicate"])).toBe(2);
    expect(await code(["generate", "a red ball", "-d", "soon"])).toBe(2);
    expect(await code(["generate", "a red ball", "-d", "99"])).toBe(2);
    expect(await code(["usage"], { ...env(), REELMESH_API_KEY: "" })).toBe(3);
    expect(await code(["usage"], { ...env(), REELMESH_API_KEY: "rm_live_not_a_key" })).toBe(3);
    const broke = await newAccount(stack.edgeUrl, stack.adminToken, { credits: 0 });
    expect(await code(["generate", "a red ball bouncing", "-d", "1", "--api-key", broke])).toBe(4);
  });

  it("gives up at --timeout with exit 7 and cancels the job", async () => {
    const r = await runCli(["generate", "a yellow circle bouncing", "-d", "20", "--steps", "50", "--timeout", "1", "--json"], env()).done;
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toBe("");
    const id = /canceled (vid_\w+)/.exec(r.stderr)?.[1];
    expect(id, r.stderr).toBeDefined();
    const end = await rm.videos.wait(id!, { deadlineMs: 120_000 });
    made.set(id!, end.status);
    expect(end.status).toBe("canceled");
  });

  it("cancels the job on Ctrl-C", async () => {
    let id: string | undefined;
    const run = runCli(["generate", "a yellow circle bouncing", "-d", "20", "--steps", "50"], env(), (stderr) => {
      const m = /created (vid_\w+)/.exec(stderr);
      if (m && !id) {
        id = m[1];
        run.child.kill("SIGINT");
      }
    });
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`canceled ${id}`);
    const end = await rm.videos.wait(id!, { deadlineMs: 120_000 });
    made.set(id!, end.status);
    expect(end.status).toBe("canceled");
  });
});
