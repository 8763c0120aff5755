import { describe, expect, it } from "vitest";
import { call, cfg, drain, handedOn, postEvent, putObject } from "./support.ts";

/**
 * Result cache and coalescing inside workerd, against the real SQS protocol: 100 identical
 * concurrent requests become one queued job and 100 jobs that all succeed; a later identical
 * request is answered at once from the result; `cache: "none"`, another seed or no seed run anew.
 */
const STANDARD = cfg.SQS_QUEUE_URL_STANDARD!;

interface View {
  id: string;
  status: string;
  cache: string;
  chunks_ready: number;
  total_chunks: number;
}

async function mine(marker: string): Promise<{ job_id: string }[]> {
  return ((await drain(STANDARD)) as { job_id: string; prompt: string }[]).filter((m) => m.prompt.includes(marker));
}

describe("result cache and coalescing", () => {
  it("turns 100 identical concurrent requests into one GPU job and 100 jobs that succeed", async () => {
    const marker = crypto.randomUUID().slice(0, 8);
    const body = JSON.stringify({ prompt: `a red ball bouncing ${marker}`, duration_s: 1, seed: 42 });
    const responses = await Promise.all(Array.from({ length: 100 }, () => call("/v1/videos", { method: "POST", body })));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(202));
    const views = (await Promise.all(responses.map((r) => r.json()))) as View[];
    expect(new Set(views.map((v) => v.id)).size).toBe(100);
    expect(views.filter((v) => v.cache === "miss")).toHaveLength(1);
    expect(views.filter((v) => v.cache === "joined")).toHaveLength(99);
    for (const v of views) await handedOn(v.id);
    const queued = await mine(marker);
    expect(queued).toHaveLength(1);
    const leader = queued[0]!.job_id;
    expect(views.find((v) => v.cache === "miss")!.id).toBe(leader);

    await postEvent({
      type: "chunk",
      job_id: leader,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader}/init.mp4`, bytes: 4 },
      chunk: {
        index: 0,
        key: `videos/${leader}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader,
      usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 },
      total_chunks: 1,
      content: { key: `videos/${leader}/video.mp4`, bytes: 9 },
    });
    // Then: answered at once from the result, nothing queued (asked first: outputs live 2 s in tests).
    const hit = await call("/v1/videos", { method: "POST", body });
    expect(hit.status).toBe(200);
    expect(await hit.json()).toMatchObject({ status: "succeeded", cache: "hit", chunks_ready: 1 });
    const after = await Promise.all(views.map(async (v) => (await call(`/v1/videos/${v.id}`)).json<View>()));
    expect(after.filter((v) => v.status === "succeeded" && v.chunks_ready === 1)).toHaveLength(100);
    const playlist = new TextDecoder().decode(await (await call(`/v1/videos/${views[7]!.id}/media.m3u8`)).arrayBuffer());
    expect(playlist).toContain("seg-00000.m4s");
    expect(playlist).toContain("#EXT-X-ENDLIST");
  });

  it("runs anew with cache: none, with another seed, and without a seed", async () => {
    const marker = crypto.randomUUID().slice(0, 8);
    const base = { prompt: `a blue square ${marker}`, duration_s: 1 };
    const first = await (await call("/v1/videos", { method: "POST", body: JSON.stringify({ ...base, seed: 7 }) })).json<View>();
    expect(first.cache).toBe("miss");
    const cases = [{ ...base, seed: 7, cache: "none" }, { ...base, seed: 8 }, base];
    const views = await Promise.all(
      cases.map(async (b) => (await call("/v1/videos", { method: "POST", body: JSON.stringify(b) })).json<View>()),
    );
    expect(views.map((v) => v.cache)).toEqual(["none", "miss", "none"]);
    for (const v of [first, ...views]) await handedOn(v.id);
    expect(await mine(marker)).toHaveLength(4);
  });

  it("keeps a hit in its account's ledger: its id, view, playback by key and by signed URL, events, bytes, cancel, 410", async () => {
    const admin = { key: cfg.REELMESH_ADMIN_TOKEN! };
    const acct = await (
      await call("/admin/accounts", { ...admin, method: "POST", body: JSON.stringify({ name: "hits", credits: 1000 }) })
    ).json<{ api_key: string }>();
    const other = await (
      await call("/admin/accounts", { ...admin, method: "POST", body: JSON.stringify({ name: "other", credits: 1000 }) })
    ).json<{ api_key: string }>();
    const marker = crypto.randomUUID().slice(0, 8);
    const body = JSON.stringify({ prompt: `a teal cone ${marker}`, duration_s: 1, seed: 5 });
    const leader = await (await call("/v1/videos", { method: "POST", key: acct.api_key, body })).json<View>();
    await putObject(`videos/${leader.id}/init.mp4`, new Uint8Array(11));
    await putObject(`videos/${leader.id}/poster.jpg`, new Uint8Array(5));
    await postEvent({
      type: "chunk",
      job_id: leader.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader.id}/init.mp4`, bytes: 11 },
      chunk: {
        index: 0,
        key: `videos/${leader.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader.id,
      usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 },
      total_chunks: 1,
      content: { key: `videos/${leader.id}/video.mp4`, bytes: 9 },
    });

    const res = await call("/v1/videos", { method: "POST", key: acct.api_key, body });
    expect(res.status).toBe(200);
    const hit = await res.json<
      View & { expires_at: string; playback: { signed_hls_url: string; events_url: string; poster_url: string } }
    >();
    expect(hit.id).toMatch(/^vid_[0-9a-z]{26}_h$/);
    expect(res.headers.get("location")).toBe(`/v1/videos/${hit.id}`);
    expect(await mine(marker)).toHaveLength(1); // the leader only

    // Read back by key; invisible to another account.
    expect(await (await call(`/v1/videos/${hit.id}`, { key: acct.api_key })).json()).toMatchObject({
      id: hit.id,
      status: "succeeded",
      cache: "hit",
      chunks_ready: 1,
    });
    expect((await call(`/v1/videos/${hit.id}`, { key: other.api_key })).status).toBe(404);
    expect((await call(`/v1/videos/${hit.id}/stream.m3u8`, { key: other.api_key })).status).toBe(404);

    // A phone with the signed URL only: playlist, init (from the leader's outputs), poster.
    const signed = new URL(hit.playback.signed_hls_url);
    const playlist = await call(`${signed.pathname.replace(/stream\.m3u8$/, "media.m3u8")}${signed.search}`, { key: null });
    expect(playlist.status).toBe(200);
    expect(await playlist.text()).toContain(`seg-00000.m4s${signed.search}`);
    const init = await call(`/v1/videos/${hit.id}/init.mp4${signed.search}`, { key: null });
    expect(init.status).toBe(200);
    expect((await init.arrayBuffer()).byteLength).toBe(11);
    expect((await call(new URL(hit.playback.poster_url).pathname + signed.search, { key: null })).status).toBe(200);
    // The token is bound to the account it names: another account's name breaks it.
    const forged = signed.search.replace(/\.acct_[^.]+\./, ".acct_someoneelse.");
    expect((await call(`${signed.pathname}${forged}`, { key: null })).status).toBe(401);

    // Events: the completion, then the end; a reconnect after it is told 204 (EventSource stops).
    const events = await (await call(`/v1/videos/${hit.id}/events`, { key: acct.api_key })).text();
    expect(events).toMatch(/id: 1\nevent: completed\ndata: .*"content_url"/);
    expect((await call(`/v1/videos/${hit.id}/events`, { key: acct.api_key, headers: { "last-event-id": "1" } })).status).toBe(204);

    // Cancel: already finished. Bytes served: counted in the next batch.
    expect(await (await call(`/v1/videos/${hit.id}/cancel`, { method: "POST", key: acct.api_key })).json()).toMatchObject({
      status: "succeeded",
      cancel_requested: false,
    });
    let served = 0;
    for (let i = 0; i < 40 && served < 16; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const view = await (await call(`/v1/videos/${hit.id}`, { key: acct.api_key })).json<{ bytes_served: number }>();
      served = view.bytes_served;
      if (served === undefined) throw new Error(JSON.stringify(view));
    }
    expect(served).toBe(16); // init 11 + poster 5

    // Retention (2 s in tests): the leader's outputs expire, and so does the hit.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(hit.expires_at) - Date.now()) + 50));
    const gone = await call(`/v1/videos/${hit.id}`, { key: acct.api_key });
    expect(gone.status).toBe(410);
  });

  it("gives a hit with a webhook a job object of its own (its webhook needs the outbox)", async () => {
    const marker = crypto.randomUUID().slice(0, 8);
    const body = { prompt: `a lime torus ${marker}`, duration_s: 1, seed: 6 };
    const leader = await (await call("/v1/videos", { method: "POST", body: JSON.stringify(body) })).json<View>();
    await postEvent({
      type: "chunk",
      job_id: leader.id,
      total_chunks: 1,
      codecs: "avc1.64000b",
      init: { key: `videos/${leader.id}/init.mp4`, bytes: 4 },
      chunk: {
        index: 0,
        key: `videos/${leader.id}/seg-00000.m4s`,
        frames: 12,
        duration_s: 1,
        bytes: 8,
        committed_at: new Date().toISOString(),
      },
    });
    await postEvent({
      type: "completed",
      job_id: leader.id,
      usage: { gpu_s: 1, encode_s: 0.1, bytes_stored: 12 },
      total_chunks: 1,
      content: { key: `videos/${leader.id}/video.mp4`, bytes: 9 },
    });
    const name = `hit-${marker}`;
    const hook = `${cfg.TEST_WEBHOOK_RECEIVER}/hook/${name}`;
    const hit = await (await call("/v1/videos", { method: "POST", body: JSON.stringify({ ...body, webhook_url: hook }) })).json<View>();
    expect(hit).toMatchObject({ cache: "hit", status: "succeeded" });
    expect(hit.id).toMatch(/^vid_[0-9a-z]{26}$/);
    expect(await (await call(`/v1/videos/${hit.id}`)).json()).toMatchObject({ id: hit.id, cache: "hit" });
    let log: { body: string }[] = [];
    for (let i = 0; i < 40 && log.length < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      log = await (await fetch(`${cfg.TEST_WEBHOOK_RECEIVER}/log/${name}`)).json<typeof log>();
    }
    expect(JSON.parse(log[0]!.body)).toMatchObject({ type: "video.completed", data: { id: hit.id, status: "succeeded" } });
    await mine(marker);
  });
});
