import { describe, expect, it } from "vitest";
import { Reelmesh } from "./client.ts";
import { APIConnectionError, InsufficientCreditsError, PromptRejectedError, RateLimitError, retryAfterSeconds } from "./errors.ts";
import { RETRY_CAP_MS, retryDelayMs, sleep } from "./timing.ts";

/**
 * The retry policy and error mapping on their own. The fetch here is a stand-in that answers
 * from a script: the faults it scripts (a 503 then a 200, a dropped connection) are what the
 * integration tests cannot cause on demand; test/integration/client.test.ts runs the same
 * client against the real stack.
 */
function scripted(answers: (() => Response)[]) {
  const seen: { url: string; init: RequestInit }[] = [];
  const fetch = (url: string, init: RequestInit) => {
    seen.push({ url, init });
    const next = answers.shift();
    if (!next) throw new Error("no more answers");
    return Promise.resolve().then(next);
  };
  return { fetch, seen };
}
const problem =
  (status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify({ type: `https://reelmesh.dev/problems/${code}`, title: code, status, detail: code, code, ...extra }), {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    });
const ok = (body: unknown) => () => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });

describe("retries", () => {
  it("back off exponentially with jitter, capped, and never below Retry-After", () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const exp = Math.min(RETRY_CAP_MS, 500 * 2 ** attempt);
      expect(retryDelayMs(attempt, null, () => 0)).toBe(exp / 2);
      expect(retryDelayMs(attempt, null, () => 0.999999)).toBeCloseTo(exp, 0);
    }
    expect(retryDelayMs(0, 3, () => 0.5)).toBe(3000);
    expect(retryAfterSeconds(new Headers({ "retry-after": "7" }))).toBe(7);
    expect(
      retryAfterSeconds(new Headers({ "retry-after": new Date(Date.UTC(2030, 0, 1, 0, 0, 9)).toUTCString() }), Date.UTC(2030, 0, 1)),
    ).toBe(9);
  });

  it("retry a create after a 503 and a dropped connection with the same Idempotency-Key", async () => {
    const s = scripted([
      problem(503, "queue_unavailable", {}, { "retry-after": "0" }),
      () => {
        throw new TypeError("fetch failed");
      },
      ok({ id: "vid_1" }),
    ]);
    const rm = new Reelmesh({ apiKey: "k", baseUrl: "http://x", fetch: s.fetch, maxRetries: 2 });
    expect((await rm.videos.create({ prompt: "a red ball" })).id).toBe("vid_1");
    const keys = s.seen.map((r) => (r.init.headers as Record<string, string>)["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
  });

  it("do not retry a 4xx other than 408/409-in-progress/429, nor a 429 whose Retry-After is over a minute", async () => {
    const s = scripted([
      problem(402, "insufficient_credits", { price: 40, balance: 3 }),
      problem(429, "rate_limited", {}, { "retry-after": "120" }),
    ]);
    const rm = new Reelmesh({ apiKey: "k", baseUrl: "http://x", fetch: s.fetch });
    const e402 = await rm.videos.create({ prompt: "p" }).catch((e: unknown) => e);
    expect(e402).toBeInstanceOf(InsufficientCreditsError);
    expect([(e402 as InsufficientCreditsError).price, (e402 as InsufficientCreditsError).balance]).toEqual([40, 3]);
    const e429 = await rm.videos.create({ prompt: "p" }).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(RateLimitError);
    expect((e429 as RateLimitError).retryAfter).toBe(120);
    expect(s.seen).toHaveLength(2);
  });

  it("give up with a connection error apart from API errors, and map 422 prompt_rejected to its class", async () => {
    const down = () => {
      throw new TypeError("fetch failed");
    };
    const s = scripted([down, down, problem(422, "prompt_rejected", { categories: ["violence_gore"], field: "prompt" })]);
    const rm = new Reelmesh({ apiKey: "k", baseUrl: "http://x", fetch: s.fetch, maxRetries: 1 });
    await expect(rm.usage.retrieve()).rejects.toBeInstanceOf(APIConnectionError);
    const e = (await rm.videos.create({ prompt: "p" }).catch((x: unknown) => x)) as PromptRejectedError;
    expect(e).toBeInstanceOf(PromptRejectedError);
    expect([e.status, e.code, e.categories, e.field]).toEqual([422, "prompt_rejected", ["violence_gore"], "prompt"]);
  });
});

describe("abort", () => {
  it("rejects a sleep at once with the signal's reason", async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
  });
});

describe("tokens.create", () => {
  it("refuses to run in a browser unless dangerouslyAllowBrowser is set", async () => {
    const g = globalThis as { window?: unknown };
    g.window = { document: {} };
    try {
      const s = scripted([ok({ token: "rmt_x" })]);
      await expect(new Reelmesh({ apiKey: "k", baseUrl: "http://x", fetch: s.fetch }).tokens.create({ subject: "u1" })).rejects.toThrow(
        /server/,
      );
      expect(s.seen).toHaveLength(0);
      const allowed = new Reelmesh({ apiKey: "k", baseUrl: "http://x", fetch: s.fetch, dangerouslyAllowBrowser: true });
      expect((await allowed.tokens.create({ subject: "u1" })).token).toBe("rmt_x");
    } finally {
      delete g.window;
    }
  });
});
