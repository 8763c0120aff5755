import type { Context, Env as HonoEnv, MiddlewareHandler } from "hono";
import { ApiError } from "../http/problem.ts";
import { idempotencyObjectName, type IdempotencyObject, type StoredResponse } from "./object.ts";

/**
 * `Idempotency-Key` for POST requests, Stripe-style:
 * - the same key with the same request (method, path + query, raw body bytes) returns the
 *   original response — status, headers, body — plus `idempotent-replayed: true`;
 * - the same key with a different request → 422 `idempotency_key_reused`;
 * - a duplicate that arrives while the first is still running waits (polling, up to
 *   `waitMs`, 2 s by default) and then gets the replay, so concurrent retries see one answer;
 *   if the first is still running after that → 409 `idempotency_in_progress`, `Retry-After: 1`;
 * - responses < 500 are stored (4xx too: a retry of a rejected request is rejected the same
 *   way), except 429 (transient by nature); 5xx and exceptions release the key so a retry runs;
 * - keys are per account and live 24 h after the response was stored (IdempotencyObject).
 *
 * Mount it after authentication (and rate limiting): `account(c)` returning null skips it.
 * Requests without the header are not affected.
 */
const IDEMPOTENCY_HEADER = "idempotency-key";
const REPLAYED_HEADER = "idempotent-replayed";
/** Largest response body stored for replay; a larger one is not made idempotent (DO value limit). */
const MAX_STORED_BODY = 1024 * 1024;

const VALID_KEY = /^[\x20-\x7e]{1,255}$/;
/** Per-response or recomputed on replay. */
const NOT_STORED_HEADERS = new Set(["set-cookie", "content-length", REPLAYED_HEADER]);

export interface IdempotencyOptions<E extends HonoEnv> {
  binding: (env: E["Bindings"]) => DurableObjectNamespace<IdempotencyObject>;
  account: (c: Context<E>) => string | null;
  /** How long a duplicate waits for the first request to finish before 409; default 2000 ms. */
  waitMs?: number;
  /** Poll interval while waiting; default 100 ms. */
  pollMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function idempotency<E extends HonoEnv = any>(opts: IdempotencyOptions<E>): MiddlewareHandler<E> {
  const waitMs = opts.waitMs ?? 2000;
  const pollMs = opts.pollMs ?? 100;

  return async (c, next) => {
    if (c.req.method !== "POST") return next();
    const key = c.req.raw.headers.get(IDEMPOTENCY_HEADER);
    if (key === null) return next();
    const account = opts.account(c);
    if (account === null) return next();
    if (!VALID_KEY.test(key)) {
      throw new ApiError(
        400,
        "invalid_idempotency_key",
        "Invalid Idempotency-Key",
        "Idempotency-Key must be 1 to 255 printable ASCII characters.",
      );
    }

    // Read through Hono's body cache, so handlers can still call c.req.json() / text().
    const body = await c.req.arrayBuffer();
    const fingerprint = await fingerprintOf(c.req.method, c.req.url, body);
    const ns = opts.binding(c.env);
    const stub = ns.get(ns.idFromName(idempotencyObjectName(account, key)));

    const deadline = Date.now() + waitMs;
    for (;;) {
      const begun = await stub.begin(fingerprint);
      switch (begun.state) {
        case "replay":
          return replay(begun);
        case "mismatch":
          throw new ApiError(
            422,
            "idempotency_key_reused",
            "Idempotency-Key reused",
            "This Idempotency-Key was already used with a different request; use a new key for a new request.",
          );
        case "in_progress":
          if (Date.now() + pollMs > deadline) {
            throw new ApiError(
              409,
              "idempotency_in_progress",
              "Request in progress",
              "A request with this Idempotency-Key is still being processed; retry shortly.",
              { headers: { "retry-after": "1" } },
            );
          }
          await sleep(pollMs);
          continue;
        case "new":
          break;
      }
      break;
    }

    try {
      await next();
    } catch (err) {
      await stub.abandon(fingerprint).catch((e) => console.error("idempotency: abandon failed", e));
      throw err;
    }

    const res = c.res;
    // c.error is set when a handler threw and onError rendered it: a thrown 4xx ApiError is
    // a real answer and is stored; anything else became a 5xx and is released.
    if (!storable(res)) {
      await stub.abandon(fingerprint).catch((e) => console.error("idempotency: abandon failed", e));
      return;
    }
    const text = await res.clone().text();
    if (text.length > MAX_STORED_BODY) {
      await stub.abandon(fingerprint).catch((e) => console.error("idempotency: abandon failed", e));
      return;
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!NOT_STORED_HEADERS.has(name)) headers[name] = value;
    });
    try {
      await stub.finish(fingerprint, { status: res.status, headers, body: text });
    } catch (e) {
      // The response itself is fine; the key just will not replay it. Release it for a retry.
      console.error("idempotency: finish failed", e);
      await stub.abandon(fingerprint).catch(() => {});
    }
  };
}

function storable(res: Response): boolean {
  if (res.status >= 500 || res.status === 429) return false;
  // A stream (e.g. server-sent events) is not a response one can replay.
  return !(res.headers.get("content-type") ?? "").startsWith("text/event-stream");
}

function replay(stored: StoredResponse): Response {
  const headers = new Headers(stored.headers);
  headers.set(REPLAYED_HEADER, "true");
  const nullBody = stored.status === 204 || stored.status === 205 || stored.status === 304;
  return new Response(nullBody ? null : stored.body, { status: stored.status, headers });
}

const encoder = new TextEncoder();

/** SHA-256 (hex) of method, path with query, and the raw body bytes. */
async function fingerprintOf(method: string, url: string, body: ArrayBuffer): Promise<string> {
  const u = new URL(url);
  const head = encoder.encode(`${method}\n${u.pathname}${u.search}\n`);
  const data = new Uint8Array(head.length + body.byteLength);
  data.set(head, 0);
  data.set(new Uint8Array(body), head.length);
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
