import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rateLimitHeaders } from "../src/limits/headers.ts";
import type { AccountObject } from "../src/accounts/account-object.ts";
import { policyError, takeTokens, type LimitPolicy } from "../src/limits/bucket.ts";
import { Slots } from "../src/limits/slots.ts";

/** Per-account limits where they live, in the account's object, inside workerd. */
const LEDGER = (env as unknown as { ACCOUNT: DurableObjectNamespace<AccountObject> }).ACCOUNT;
let n = 0;
/**
 * A fresh account (one object) per test, so tests never share buckets or slots; its slots run
 * inside the object (the create path takes them in `admit`, with the charge).
 */
const limiter = () => {
  const stub = LEDGER.get(LEDGER.idFromName(`acct-limits-${Date.now()}-${n++}`));
  const inside = <T>(f: (slots: Slots) => T) => runInDurableObject(stub, (_obj, state) => f(new Slots(state.storage.sql)));
  return {
    acquireSlot: (id: string, max: number, o: { nowMs?: number; leaseMs?: number } = {}) =>
      inside((s) => s.acquire(id, max, o.nowMs ?? Date.now(), o.leaseMs)),
    releaseSlot: (id: string) => inside((s) => s.release(id)),
    running: (nowMs?: number) => inside((s) => s.running(nowMs)),
  };
};
/**
 * The token bucket where it lives, in an account's ledger: `take` runs it inside the object
 * with an explicit cost and clock (the create path always takes 1 at the real time, `admit`).
 */
const bucket = () => {
  const stub = LEDGER.get(LEDGER.idFromName(`acct-bucket-${Date.now()}-${n++}`));
  return {
    stub,
    take: (policy: LimitPolicy, cost = 1, nowMs = Date.now()) =>
      runInDurableObject(stub, (_obj, state) => takeTokens(state.storage.sql, policy, cost, nowMs)),
  };
};

const T0 = 1_800_000_000_000;

describe("token bucket", () => {
  it("is exact under concurrency: 50 concurrent admissions on capacity 10 → exactly 10 allowed", async () => {
    const { stub } = bucket();
    const policy = { capacity: 10, refillPerS: 0.0001, name: "create" };
    const results = (await Promise.all(Array.from({ length: 50 }, () => stub.admit({ rate: policy })))).map((a) => a.rate!);
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    for (const r of results) {
      expect(r.remaining).toBeGreaterThanOrEqual(0);
      expect(r.limit).toBe(10);
      if (!r.allowed) expect(r.retryAfterS).toBeGreaterThanOrEqual(1);
    }
    // Each allowed take saw a distinct remaining count: 9, 8, …, 0.
    expect(
      results
        .filter((r) => r.allowed)
        .map((r) => r.remaining)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("refills continuously with explicit time, capped at capacity", async () => {
    const stub = bucket();
    const policy = { capacity: 10, refillPerS: 2 };
    const first = await stub.take(policy, 10, T0);
    expect(first).toMatchObject({ allowed: true, remaining: 0, resetS: 5, retryAfterS: 0, windowS: 5 });
    // 2.5 s at 2/s → 5 tokens; take 1 → 4 left.
    const later = await stub.take(policy, 1, T0 + 2500);
    expect(later).toMatchObject({ allowed: true, remaining: 4 });
    expect(later.resetS).toBe(3); // 6 missing at 2/s
    // An hour later the bucket is full, not overfull.
    const full = await stub.take(policy, 0, T0 + 3_600_000);
    expect(full).toMatchObject({ allowed: true, remaining: 10, resetS: 0 });
  });

  it("never refills when the clock goes backwards", async () => {
    const stub = bucket();
    const policy = { capacity: 4, refillPerS: 1 };
    await stub.take(policy, 4, T0 + 10_000);
    const earlier = await stub.take(policy, 1, T0);
    expect(earlier.allowed).toBe(false);
    expect(earlier.remaining).toBe(0);
  });

  it("charges cost > 1 atomically and refuses without taking anything", async () => {
    const stub = bucket();
    const policy = { capacity: 10, refillPerS: 1 };
    expect(await stub.take(policy, 7, T0)).toMatchObject({ allowed: true, remaining: 3 });
    // 4 > 3 available: refused, and the 3 stay.
    const refused = await stub.take(policy, 4, T0);
    expect(refused).toMatchObject({ allowed: false, remaining: 3, retryAfterS: 1 });
    expect(await stub.take(policy, 3, T0)).toMatchObject({ allowed: true, remaining: 0 });
    expect(policyError(policy, 11)).toMatch(/exceeds capacity/);
  });

  it("computes retryAfterS as the ceil of the time until cost tokens exist", async () => {
    const stub = bucket();
    const policy = { capacity: 5, refillPerS: 0.5 };
    await stub.take(policy, 5, T0);
    // Empty; 3 tokens at 0.5/s take 6 s.
    const a = await stub.take(policy, 3, T0);
    expect(a).toMatchObject({ allowed: false, retryAfterS: 6, resetS: 10 });
    // 1.5 s later 0.75 tokens exist: 2.25 missing → 4.5 s → 5.
    const b = await stub.take(policy, 3, T0 + 1500);
    expect(b).toMatchObject({ allowed: false, retryAfterS: 5, remaining: 0 });
    // Retrying exactly after retryAfterS succeeds.
    expect((await stub.take(policy, 3, T0 + 1500 + b.retryAfterS * 1000)).allowed).toBe(true);
    // Fast refill: the wait rounds up to at least 1 s.
    const fast = bucket();
    const fp = { capacity: 100, refillPerS: 1000 };
    await fast.take(fp, 100, T0);
    expect(await fast.take(fp, 1, T0)).toMatchObject({ allowed: false, retryAfterS: 1 });
  });

  it("keeps named buckets apart within one account", async () => {
    const stub = bucket();
    await stub.take({ capacity: 1, refillPerS: 0.001, name: "create" }, 1, T0);
    expect((await stub.take({ capacity: 1, refillPerS: 0.001, name: "create" }, 1, T0)).allowed).toBe(false);
    expect((await stub.take({ capacity: 1, refillPerS: 0.001, name: "read" }, 1, T0)).allowed).toBe(true);
  });

  // takeTokens() throws a RangeError on these; checked through the pure validator because a
  // rejecting DO RPC leaks an unhandled rejection in vitest-pool-workers (cloudflare/workers-sdk#14736).
  it("rejects nonsensical policies", () => {
    expect(policyError({ capacity: 10, refillPerS: 1 }, 10)).toBeNull();
    expect(policyError({ capacity: 0, refillPerS: 1 })).toMatch(/capacity/);
    expect(policyError({ capacity: 1, refillPerS: 0 })).toMatch(/refillPerS/);
    expect(policyError({ capacity: 1, refillPerS: Number.NaN })).toMatch(/refillPerS/);
    expect(policyError({ capacity: 1, refillPerS: 1 }, -1)).toMatch(/cost/);
  });
});

describe("running-job slots", () => {
  it("caps concurrent acquires exactly: max 3, 10 concurrent → 3 allowed", async () => {
    const stub = limiter();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => stub.acquireSlot(`job-${i}`, 3)));
    expect(results.filter((r) => r.allowed)).toHaveLength(3);
    for (const r of results) {
      expect(r.max).toBe(3);
      expect(r.running).toBeLessThanOrEqual(3);
    }
    expect(await stub.running()).toBe(3);
  });

  it("is idempotent per job id, for acquire and release", async () => {
    const stub = limiter();
    expect(await stub.acquireSlot("a", 2)).toEqual({ allowed: true, running: 1, max: 2 });
    expect(await stub.acquireSlot("a", 2)).toEqual({ allowed: true, running: 1, max: 2 });
    // Concurrent duplicates of one job count once too.
    await Promise.all([stub.acquireSlot("b", 2), stub.acquireSlot("b", 2), stub.acquireSlot("b", 2)]);
    expect(await stub.running()).toBe(2);
    // Full: a new job is refused, a holder still allowed.
    expect(await stub.acquireSlot("c", 2)).toEqual({ allowed: false, running: 2, max: 2 });
    expect((await stub.acquireSlot("b", 2)).allowed).toBe(true);
    await stub.releaseSlot("a");
    await stub.releaseSlot("a");
    await stub.releaseSlot("never-held");
    expect(await stub.running()).toBe(1);
    expect(await stub.acquireSlot("c", 2)).toEqual({ allowed: true, running: 2, max: 2 });
  });

  it("drops a slot whose lease expired, on the next call", async () => {
    const stub = limiter();
    const leaseMs = 6 * 3600 * 1000;
    expect((await stub.acquireSlot("stuck", 1, { nowMs: T0, leaseMs })).allowed).toBe(true);
    expect((await stub.acquireSlot("next", 1, { nowMs: T0 + leaseMs - 1, leaseMs })).allowed).toBe(false);
    expect(await stub.running(T0 + leaseMs - 1)).toBe(1);
    expect(await stub.running(T0 + leaseMs)).toBe(0);
    expect(await stub.acquireSlot("next", 1, { nowMs: T0 + leaseMs, leaseMs })).toEqual({ allowed: true, running: 1, max: 1 });
  });

  it("uses a 6 h lease by default", async () => {
    const stub = limiter();
    const now = Date.now();
    await stub.acquireSlot("j", 1, { nowMs: now });
    expect(await stub.running(now + 6 * 3600 * 1000 - 1)).toBe(1);
    expect(await stub.running(now + 6 * 3600 * 1000)).toBe(0);
  });
});

describe("rate-limit headers", () => {
  it("emits the draft RateLimit-* fields, and Retry-After only when refused", () => {
    const ok = rateLimitHeaders({ allowed: true, limit: 10, remaining: 4, resetS: 3, retryAfterS: 0, windowS: 5 });
    expect(ok).toEqual({ "RateLimit-Limit": "10", "RateLimit-Remaining": "4", "RateLimit-Reset": "3", "RateLimit-Policy": "10;w=5" });
    const refused = rateLimitHeaders({ allowed: false, limit: 10, remaining: 0, resetS: 5, retryAfterS: 2, windowS: 5 });
    expect(refused["Retry-After"]).toBe("2");
    expect(refused["RateLimit-Remaining"]).toBe("0");
  });

  it("round-trips from a real refusal", async () => {
    const stub = bucket();
    const policy = { capacity: 2, refillPerS: 0.1 };
    await stub.take(policy, 2, T0);
    const h = new Headers(rateLimitHeaders(await stub.take(policy, 1, T0)));
    expect(h.get("ratelimit-policy")).toBe("2;w=20");
    expect(h.get("retry-after")).toBe("10");
    expect(h.get("ratelimit-reset")).toBe("20");
  });
});
