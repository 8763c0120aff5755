import { Hono } from "hono";
import hlsSource from "hls.js/dist/hls.light.min.js";
import { MAX_TOKEN_TTL_S, mintToken, TOKEN_SCOPES } from "../accounts/tokens.ts";
import { edgeConfig, type Env } from "../env.ts";
import { DEV_ACCOUNT } from "../http/auth.ts";
import { ApiError } from "../http/problem.ts";
import page from "./index.html";

/**
 * The playground at `/`: one page (HTML with its script and style inline, allowed by hash in a
 * strict CSP) and the hls.js build it plays with, both embedded in the Worker so that it works
 * offline and needs no third-party origin. It holds an app token, never an API key: on the
 * local stack `POST /dev/session` mints one for the dev account; elsewhere the user pastes one
 * that their own backend minted (POST /v1/tokens).
 */
export const playground = new Hono<{ Bindings: Env }>();

/** hls.js is immutable per version: the URL names it (package.json pins the version). */
const HLS_PATH = "/playground/hls.light.min.js";
/** A dev session lasts as long as an app token may. */
const DEV_SESSION_TTL_S = MAX_TOKEN_TTL_S;

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** The page's Content-Security-Policy, with the hashes of its one inline script and style (computed once). */
let csp: Promise<string> | undefined;
function pagePolicy(): Promise<string> {
  csp ??= (async () => {
    const inline = (tag: string) => {
      const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page);
      if (!m) throw new Error(`playground page has no inline <${tag}>`);
      return sha256Base64(m[1]!);
    };
    const [script, style] = await Promise.all([inline("script"), inline("style")]);
    return [
      "default-src 'none'",
      `script-src 'self' 'sha256-${script}'`,
      `style-src 'sha256-${style}'`,
      // hls.js fetches playlists and segments and feeds MediaSource from blob: URLs.
      "connect-src 'self'",
      "media-src 'self' blob:",
      "img-src 'self' data:",
      "worker-src blob:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; ");
  })();
  return csp;
}

playground.get("/", async (c) =>
  c.body(page, 200, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": await pagePolicy(),
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  }),
);

playground.get(HLS_PATH, (c) =>
  c.body(hlsSource, 200, {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "public, max-age=86400",
    "x-content-type-options": "nosniff",
  }),
);

/**
 * `POST /dev/session?subject=…` (development only): an app token for the dev account, as a
 * customer's backend would mint for one of its users. Absent (404) unless the edge runs as
 * `development` with a dev key, which a production edge refuses to start with (config-schema.ts).
 */
playground.post("/dev/session", async (c) => {
  const cfg = edgeConfig(c.env);
  if (cfg.REELMESH_ENV !== "development" || !cfg.REELMESH_DEV_KEY) {
    throw new ApiError(404, "not_found", "Not found", "No route for POST /dev/session.");
  }
  const subject = c.req.query("subject") ?? `playground-${crypto.randomUUID()}`;
  if (!/^[\x21-\x7e]{1,128}$/.test(subject)) {
    throw new ApiError(400, "validation_failed", "Invalid subject", "subject: printable ASCII without spaces, at most 128 characters.");
  }
  const now = Math.floor(Date.now() / 1000);
  const token = await mintToken(cfg.REELMESH_TOKEN_SECRET, {
    v: 1,
    acct: DEV_ACCOUNT,
    sub: subject,
    scopes: [...TOKEN_SCOPES],
    cap: null,
    lim: null,
    kid: null,
    iat: now,
    exp: now + DEV_SESSION_TTL_S,
    jti: crypto.randomUUID(),
  });
  c.header("cache-control", "no-store");
  return c.json({ token, subject, expires_at: new Date((now + DEV_SESSION_TTL_S) * 1000).toISOString() }, 201);
});
