import { describe, expect, it } from "vitest";
import { COUNT_HEADER } from "../src/durable-calls.ts";
import { call, cfg } from "./support.ts";

/**
 * API keys on the request path, inside workerd: looked up in their shard, never in the one
 * account directory; unknown keys remembered apart from valid ones; a client guessing keys is
 * braked.
 */
const ADMIN = cfg.REELMESH_ADMIN_TOKEN!;
const randomKey = () => `rm_live_${crypto.randomUUID().replace(/-/g, "")}${crypto.randomUUID().replace(/-/g, "").slice(0, 11)}`;

async function usage(key: string, headers: Record<string, string> = {}) {
  const res = await call("/v1/usage", { key, headers: { [COUNT_HEADER]: "1", ...headers } });
  return {
    status: res.status,
    by: res.headers.get(`${COUNT_HEADER}-by`) ?? "",
    code: res.status === 200 ? null : (await res.json<{ code: string }>()).code,
    res,
  };
}

describe("API keys on the request path", () => {
  it("are looked up in their shard, not the directory, and an unknown key is asked about once", async () => {
    const acct = await (
      await call("/admin/accounts", { method: "POST", key: ADMIN, body: JSON.stringify({ name: "keys", credits: 1 }) })
    ).json<{ api_key: string }>();
    const first = await usage(acct.api_key);
    expect(first.status).toBe(200);
    expect(first.by).toContain("KEYS=1");
    expect(first.by).not.toContain("ACCOUNTS");
    expect((await usage(acct.api_key)).by).not.toContain("KEYS"); // cached

    const unknown = randomKey();
    const miss = await usage(unknown);
    expect(miss.status).toBe(401);
    expect(miss.by).toBe("KEYS=1");
    expect((await usage(unknown)).by).toBe(""); // remembered as unknown, apart from valid keys
    // A flood of unknown keys does not push a valid key out of the cache.
    for (let i = 0; i < 50; i++) await usage(randomKey());
    expect((await usage(acct.api_key)).by).not.toContain("KEYS");
  });

  it("brakes a client that keeps sending invalid credentials: 429 with Retry-After, and other clients go on", async () => {
    const acct = await (
      await call("/admin/accounts", { method: "POST", key: ADMIN, body: JSON.stringify({ name: "brake", credits: 1 }) })
    ).json<{ api_key: string }>();
    const guesser = { "cf-connecting-ip": "203.0.113.7" };
    const answers: number[] = [];
    for (let i = 0; i < 22; i++) answers.push((await usage(randomKey(), guesser)).status);
    expect(answers.slice(0, 20)).toEqual(Array(20).fill(401));
    const braked = await usage(randomKey(), guesser);
    expect([braked.status, braked.code]).toEqual([429, "too_many_auth_failures"]);
    expect(Number(braked.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(braked.by).toBe(""); // no lookup while braked
    expect((await usage(acct.api_key, { "cf-connecting-ip": "198.51.100.9" })).status).toBe(200);
  });
});

describe("moderation calls", () => {
  it("are bounded per account, and an end user gets a tenth of the account's budget", async () => {
    const acct = await (
      await call("/admin/accounts", { method: "POST", key: ADMIN, body: JSON.stringify({ name: "moderation", credits: 1 }) })
    ).json<{ api_key: string }>();
    const minted = await call("/v1/tokens", { method: "POST", key: acct.api_key, body: JSON.stringify({ subject: "prober" }) });
    const { token } = await minted.json<{ token: string }>();
    const moderate = (key: string) => call("/v1/moderations", { method: "POST", key, body: JSON.stringify({ input: "a red ball" }) });
    const phone: number[] = [];
    for (let i = 0; i < 13; i++) phone.push((await moderate(token)).status);
    expect(phone.filter((s) => s === 200)).toHaveLength(12); // 120 × 0.1
    const refused = await moderate(token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    // The account's own budget is untouched by its end user's.
    const server = await moderate(acct.api_key);
    expect(server.status).toBe(200);
    expect(Number(server.headers.get("ratelimit-remaining"))).toBe(119);
  });
});
