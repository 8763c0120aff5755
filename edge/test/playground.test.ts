import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app.ts";
import { call } from "./support.ts";

/** The playground page, its hls.js, and the dev-only sign-in, inside workerd. */
const sha256 = async (text: string) =>
  btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))));

describe("the playground", () => {
  it("is served at / under a strict CSP that allows its one inline script and style by hash", async () => {
    const res = await call("/", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`script-src 'self' 'sha256-${await sha256(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${await sha256(style)}'`);
    // Nothing else inline: no handler attributes, no style attributes, no other inline script.
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain('<script src="/playground/hls.light.min.js"></script>');
  });

  it("serves hls.js from the Worker itself, so the page needs no other origin", async () => {
    const res = await call("/playground/hls.light.min.js", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const js = await res.text();
    expect(js.length).toBeGreaterThan(100_000);
    expect(js).toContain("Hls");
  });

  it("signs in on a development edge with an app token for the dev account, which sees its spending but no balance", async () => {
    const res = await call("/dev/session?subject=pg-test-user", { method: "POST", key: null });
    expect(res.status).toBe(201);
    const session = await res.json<{ token: string; subject: string; expires_at: string }>();
    expect(session.token).toMatch(/^rmt_/);
    expect(session.subject).toBe("pg-test-user");
    const usage = await (await call("/v1/usage", { key: session.token })).json<Record<string, unknown>>();
    expect(usage).toMatchObject({ object: "usage", subject: "pg-test-user" });
    expect(usage).not.toHaveProperty("balance");
    // An app token cannot mint tokens: it is not an API key.
    expect((await call("/v1/tokens", { method: "POST", key: session.token, body: JSON.stringify({ subject: "x" }) })).status).toBe(403);
    expect((await call("/dev/session?subject=has space", { method: "POST", key: null })).status).toBe(400);
  });

  it("has no dev sign-in without a dev key, and a production edge with a dev key does not serve at all", async () => {
    const post = (e: Record<string, unknown>) =>
      app.fetch(new Request("http://edge.test/dev/session", { method: "POST" }), { ...env, ...e }, createExecutionContext());
    const noKey = await post({ REELMESH_DEV_KEY: undefined });
    expect(noKey.status).toBe(404);
    const production = await post({ REELMESH_ENV: "production" });
    expect(production.status).toBe(503);
    expect((await production.json<{ code: string }>()).code).toBe("service_misconfigured");
  });
});
