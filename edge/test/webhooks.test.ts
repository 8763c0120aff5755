import { describe, expect, it } from "vitest";
import { isRetryableStatus, nextAttemptDelayS, WEBHOOK_RETRY_DELAYS_S } from "../src/webhooks/schedule.ts";
import { newWebhookSecret, signWebhook, verifyWebhook } from "../src/webhooks/sign.ts";
import { checkWebhookUrl } from "../src/webhooks/url.ts";

const NOW = 1_700_000_000;
const BODY = JSON.stringify({ type: "video.completed", data: { id: "vid_1" } });

describe("webhook signatures", () => {
  it("matches the Standard Webhooks spec's published test vector", async () => {
    const headers = await signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
    expect(await verifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, '{"test": 2432232314}', { nowS: 1614265330 })).toBe(true);
  });

  it("makes fresh 32-byte whsec_ secrets", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(a.slice(6))).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it("round-trips sign → verify, with Headers or a plain record in any case", async () => {
    const secret = newWebhookSecret();
    const signed = await signWebhook(secret, "msg_1", NOW, BODY);
    expect(await verifyWebhook(secret, signed, BODY, { nowS: NOW })).toBe(true);
    expect(await verifyWebhook(secret, new Headers(signed), BODY, { nowS: NOW + 10 })).toBe(true);
    const shouting = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toUpperCase(), v]));
    expect(await verifyWebhook(secret, shouting, BODY, { nowS: NOW })).toBe(true);
  });

  it("fails for a tampered body, id or timestamp, or the wrong secret", async () => {
    const secret = newWebhookSecret();
    const signed = await signWebhook(secret, "msg_1", NOW, BODY);
    expect(await verifyWebhook(secret, signed, BODY + " ", { nowS: NOW })).toBe(false);
    expect(await verifyWebhook(secret, { ...signed, "webhook-id": "msg_2" }, BODY, { nowS: NOW })).toBe(false);
    expect(await verifyWebhook(secret, { ...signed, "webhook-timestamp": String(NOW + 1) }, BODY, { nowS: NOW })).toBe(false);
    expect(await verifyWebhook(newWebhookSecret(), signed, BODY, { nowS: NOW })).toBe(false);
  });

  it("rejects timestamps outside the tolerance, in either direction", async () => {
    const secret = newWebhookSecret();
    const signed = await signWebhook(secret, "msg_1", NOW, BODY);
    expect(await verifyWebhook(secret, signed, BODY, { nowS: NOW + 300 })).toBe(true);
    expect(await verifyWebhook(secret, signed, BODY, { nowS: NOW + 301 })).toBe(false);
    expect(await verifyWebhook(secret, signed, BODY, { nowS: NOW - 301 })).toBe(false);
    expect(await verifyWebhook(secret, signed, BODY, { nowS: NOW + 3600, toleranceS: 3600 })).toBe(true);
    // Default "now" is the real clock, which is far past NOW.
    expect(await verifyWebhook(secret, signed, BODY)).toBe(false);
  });

  it("passes when one of several signatures matches", async () => {
    const secret = newWebhookSecret();
    const signed = await signWebhook(secret, "msg_1", NOW, BODY);
    const other = (await signWebhook(newWebhookSecret(), "msg_1", NOW, BODY))["webhook-signature"];
    const list = `${other} v1a,c29tZXRoaW5nIGVsc2U= ${signed["webhook-signature"]}`;
    expect(await verifyWebhook(secret, { ...signed, "webhook-signature": list }, BODY, { nowS: NOW })).toBe(true);
    expect(await verifyWebhook(secret, { ...signed, "webhook-signature": `${other} v1,AAAA` }, BODY, { nowS: NOW })).toBe(false);
  });

  it("returns false, never throws, for malformed headers and secrets", async () => {
    const secret = newWebhookSecret();
    const signed = await signWebhook(secret, "msg_1", NOW, BODY);
    const mac = signed["webhook-signature"].slice(3);
    const cases: Record<string, string>[] = [
      {},
      { "webhook-id": "msg_1", "webhook-timestamp": String(NOW) },
      { ...signed, "webhook-id": "" },
      { ...signed, "webhook-timestamp": "" },
      { ...signed, "webhook-timestamp": "1.7e9" },
      { ...signed, "webhook-timestamp": `${NOW}abc` },
      { ...signed, "webhook-signature": "" },
      { ...signed, "webhook-signature": mac },
      { ...signed, "webhook-signature": `v2,${mac}` },
      { ...signed, "webhook-signature": "v1," },
      { ...signed, "webhook-signature": "v1,not base64!!" },
      { ...signed, "webhook-signature": `v1,${mac.slice(0, -4)}` },
    ];
    for (const headers of cases) expect(await verifyWebhook(secret, headers, BODY, { nowS: NOW }), JSON.stringify(headers)).toBe(false);
    for (const bad of ["", "whsec_", "whsec_%%%", "whsec_===="]) expect(await verifyWebhook(bad, signed, BODY, { nowS: NOW })).toBe(false);
  });

  it("refuses to sign with a malformed secret or timestamp", async () => {
    await expect(signWebhook("whsec_%%%", "msg_1", NOW, BODY)).rejects.toThrow(TypeError);
    await expect(signWebhook(newWebhookSecret(), "msg_1", 1.5, BODY)).rejects.toThrow(TypeError);
  });
});

describe("webhook URL checks", () => {
  const prod = (raw: string) => checkWebhookUrl(raw, { allowPrivate: false });
  const dev = (raw: string) => checkWebhookUrl(raw, { allowPrivate: true });
  const PRIVATE = "webhook_url must not point to a private, loopback or link-local address";

  it("allows public https URLs", () => {
    for (const raw of [
      "https://example.com/hook",
      "https://93.184.216.34/x",
      "https://hooks.example.com:8443/a?b=c",
      "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
      "https://8.8.8.8/",
    ]) {
      const check = prod(raw);
      expect(check, raw).toMatchObject({ ok: true });
      if (check.ok) expect(check.url.href).toBe(new URL(raw).href);
    }
  });

  it("rejects unparseable URLs and non-http schemes in both modes", () => {
    for (const check of [prod, dev]) {
      expect(check("not a url")).toEqual({ ok: false, reason: "webhook_url must be a valid absolute URL" });
      expect(check("/relative/hook")).toMatchObject({ ok: false });
      for (const raw of ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,x"]) {
        expect(check(raw), raw).toEqual({ ok: false, reason: "webhook_url must use http or https" });
      }
    }
  });

  it("rejects credentials in both modes", () => {
    for (const raw of ["https://user:pass@example.com/x", "https://user@example.com/x", "http://:pw@127.0.0.1/x"]) {
      expect(prod(raw)).toEqual({ ok: false, reason: "webhook_url must not contain a username or password" });
      expect(dev(raw)).toMatchObject({ ok: false });
    }
  });

  it("requires https in production", () => {
    expect(prod("http://example.com/hook")).toEqual({ ok: false, reason: "webhook_url must use https" });
  });

  it("rejects local and internal hostnames", () => {
    for (const raw of [
      "https://localhost/x",
      "https://LOCALHOST./x",
      "https://api.localhost/x",
      "https://printer.local/x",
      "https://metadata.google.internal/x",
      "https://nas.lan/x",
      "https://router.home.arpa/x",
      "https://metadata/x",
    ]) {
      expect(prod(raw), raw).toEqual({ ok: false, reason: "webhook_url must not point to a local or internal hostname" });
    }
  });

  it("rejects each private, loopback, link-local and special IPv4 range", () => {
    const blocked = [
      "127.0.0.1",
      "127.255.255.254", // loopback
      "10.0.0.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1", // private
      "169.254.169.254",
      "169.254.0.1", // link-local, cloud metadata
      "100.64.0.1",
      "100.127.255.255", // CGNAT
      "0.0.0.0",
      "0.1.2.3", // unspecified
      "224.0.0.1",
      "239.255.255.250",
      "255.255.255.255", // multicast, broadcast
    ];
    for (const ip of blocked) expect(prod(`https://${ip}/x`), ip).toEqual({ ok: false, reason: PRIVATE });
    // Neighbours just outside the ranges are public.
    for (const ip of ["172.32.0.1", "100.128.0.1", "11.0.0.1", "169.253.255.255", "192.169.0.1", "126.255.255.255"]) {
      expect(prod(`https://${ip}/x`), ip).toMatchObject({ ok: true });
    }
  });

  it("rejects decimal, octal and hex IPv4 spellings via the normalized hostname", () => {
    for (const raw of [
      "https://2130706433/",
      "https://0x7f.1/",
      "https://0177.0.0.1/",
      "https://0x7f000001/",
      "https://127.1/",
      "https://0xa9.0xfe.0xa9.0xfe/",
      "https://3232235777/",
      "https://127.0.0.1./",
    ]) {
      expect(prod(raw), raw).toEqual({ ok: false, reason: PRIVATE });
    }
  });

  it("rejects private IPv6 literals, including IPv4-mapped forms", () => {
    const blocked = [
      "::1",
      "::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "febf::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:169.254.169.254",
      "::ffff:a9fe:a9fe",
      "::ffff:10.0.0.1",
      "0:0:0:0:0:ffff:c0a8:101",
      "64:ff9b::7f00:1",
      "2002:7f00:1::",
      "::ffff:0:127.0.0.1",
      "::ffff:0:a00:1",
      "64:ff9b:1::a00:1",
      "64:ff9b:1:abcd::808:808",
      "2001::1",
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ];
    for (const ip of blocked) expect(prod(`https://[${ip}]/x`), ip).toEqual({ ok: false, reason: PRIVATE });
    for (const ip of ["2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"])
      expect(prod(`https://[${ip}]/x`), ip).toMatchObject({ ok: true });
  });

  it("allows http and private addresses in dev", () => {
    for (const raw of [
      "http://127.0.0.1:9999/hook",
      "http://localhost:8787/hook",
      "https://[::1]/x",
      "http://10.0.0.5/x",
      "http://host.docker.internal:3000/x",
    ]) {
      expect(dev(raw), raw).toMatchObject({ ok: true });
    }
    const check = dev("http://127.0.0.1:9999/hook");
    expect(check.ok && check.url.port).toBe("9999");
  });
});

describe("webhook retry schedule", () => {
  it("follows the Standard Webhooks / Svix schedule, about 27 hours in all", () => {
    expect(WEBHOOK_RETRY_DELAYS_S).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    const total = WEBHOOK_RETRY_DELAYS_S.reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeGreaterThan(27);
    expect(total / 3600).toBeLessThan(28);
    expect(Object.isFrozen(WEBHOOK_RETRY_DELAYS_S)).toBe(true);
  });

  it("gives the delay before the next attempt, then null when exhausted", () => {
    expect(nextAttemptDelayS(0)).toBe(0);
    expect(nextAttemptDelayS(1)).toBe(5);
    expect(nextAttemptDelayS(2)).toBe(300);
    expect(nextAttemptDelayS(7)).toBe(36000);
    expect(nextAttemptDelayS(8)).toBeNull();
    expect(nextAttemptDelayS(100)).toBeNull();
    expect(nextAttemptDelayS(-1)).toBeNull();
    expect(nextAttemptDelayS(1.5)).toBeNull();
    expect(nextAttemptDelayS(Number.NaN)).toBeNull();
  });

  it("retries 408, 429 and 5xx only", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(status), String(status)).toBe(true);
    for (const status of [200, 201, 204, 301, 400, 401, 403, 404, 410, 413, 422, 600])
      expect(isRetryableStatus(status), String(status)).toBe(false);
  });
});
