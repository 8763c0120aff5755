import { describe, expect, it } from "vitest";
import { SIGNATURE_TOLERANCE_S, signBody, verifyBody } from "./signing.ts";

const SECRET = "unit-test-secret-0123456789";
const NOW = 1_780_000_000;

describe("event signatures", () => {
  it("verifies a body signed with the same secret", async () => {
    const header = await signBody(SECRET, '{"a":1}', NOW);
    expect(header).toMatch(/^t=1780000000,v1=[0-9a-f]{64}$/);
    expect(await verifyBody(SECRET, '{"a":1}', header, NOW)).toEqual({ ok: true });
  });

  it("rejects a changed body, another secret, and a changed timestamp", async () => {
    const header = await signBody(SECRET, '{"a":1}', NOW);
    expect(await verifyBody(SECRET, '{"a":2}', header, NOW)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifyBody("another-secret-0123456789", '{"a":1}', header, NOW)).toEqual({ ok: false, reason: "mismatch" });
    const moved = header.replace(`t=${NOW}`, `t=${NOW + 1}`);
    expect(await verifyBody(SECRET, '{"a":1}', moved, NOW)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("rejects a signature older or newer than the tolerance (replay)", async () => {
    const header = await signBody(SECRET, "{}", NOW);
    expect(await verifyBody(SECRET, "{}", header, NOW + SIGNATURE_TOLERANCE_S)).toEqual({ ok: true });
    expect(await verifyBody(SECRET, "{}", header, NOW + SIGNATURE_TOLERANCE_S + 1)).toEqual({ ok: false, reason: "expired" });
    expect(await verifyBody(SECRET, "{}", header, NOW - SIGNATURE_TOLERANCE_S - 1)).toEqual({ ok: false, reason: "expired" });
  });

  it.each([null, "", "t=abc,v1=00", "v1=" + "0".repeat(64), `t=${NOW},v1=zz`, `t=${NOW},v1=${"0".repeat(62)}`])(
    "calls %j malformed",
    async (header) => {
      expect(await verifyBody(SECRET, "{}", header, NOW)).toEqual({ ok: false, reason: "malformed" });
    },
  );
});
