import { SELF } from "cloudflare:test";
import fc, { type Arbitrary } from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_PROMPT_CHARS, MAX_SEED, CreateVideoRequestSchema } from "../../shared/schemas/request.ts";
import { call, cfg, drain, KEY } from "./support.ts";

/**
 * Property-based tests for `POST /v1/videos`: thousands of malformed bodies, and
 * every answer is a 4xx problem+json with the status, code and title a client can rely on —
 * never a 5xx, never a queued message.
 *
 * Every generated body is checked against the wire before it is sent (UTF-8 round trip as
 * workerd decodes it, JSON.parse, CreateVideoRequestSchema.safeParse): bodies that would
 * happen to be valid are dropped, so each one sent must be refused. The expected answer is
 * derived from the documented order of checks: key (401), content type (415), size (413),
 * JSON (400 invalid_json), schema (400 validation_failed).
 *
 * Other test files may run at the same time against the same emulator queues and enqueue
 * valid jobs, so the final queue check does not expect empty queues: every string prompt (and
 * negative prompt) this file sends carries a marker unique to this run, and no drained message
 * may carry it. The per-request check (no 202, always a 4xx) is the primary guarantee, since
 * the create path only enqueues on its way to a 202.
 */

const STANDARD = cfg.SQS_QUEUE_URL_STANDARD!;
const ECONOMY = cfg.SQS_QUEUE_URL_ECONOMY!;
const MAX_BODY_BYTES = 16 * 1024;
/** Unique per run; letters and digits only, so it survives JSON escaping unchanged. */
const MARK = `pbtmark${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
const FIELDS = [
  "prompt",
  "negative_prompt",
  "model",
  "duration_s",
  "aspect_ratio",
  "resolution",
  "seed",
  "steps",
  "guidance",
  "scheduler",
  "tier",
  "webhook_url",
  "metadata",
] as const;
type Field = (typeof FIELDS)[number];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const byteLength = (text: string) => encoder.encode(text).byteLength;

let sent = 0;
const seenStatus = new Map<number, number>();

// ---------------------------------------------------------------------------------------
// Oracle: what the body becomes on the wire and whether the schema would accept it.

/** The body as the worker reads it: UTF-8 encoded (lone surrogates → U+FFFD), decoded (BOM stripped). */
const onTheWire = (text: string) => decoder.decode(encoder.encode(text));

type Parsed = { json: true; value: unknown } | { json: false };
function parseWire(text: string): Parsed {
  try {
    return { json: true, value: JSON.parse(onTheWire(text)) };
  } catch {
    return { json: false };
  }
}

/** True when this exact body text, sent as JSON, would pass schema validation. */
function schemaAccepts(text: string): boolean {
  const parsed = parseWire(text);
  return parsed.json && CreateVideoRequestSchema.safeParse(parsed.value).success;
}

interface Expected {
  status: number;
  code: string;
}

/** The answer the documented order of checks gives a body sent with a JSON content type and a valid key. */
function expectedForJsonBody(text: string): Expected {
  if (byteLength(onTheWire(text)) > MAX_BODY_BYTES) return { status: 413, code: "body_too_large" };
  if (!parseWire(text).json) return { status: 400, code: "invalid_json" };
  return { status: 400, code: "validation_failed" };
}

// ---------------------------------------------------------------------------------------
// Sending and checking.

interface Send {
  body: string | Uint8Array;
  /** `null`: no Content-Type header at all. */
  contentType: string | null;
  /** `undefined`: the valid test key; `null`: no Authorization header; otherwise the raw header value. */
  authorization?: string | null;
}

async function post({ body, contentType, authorization }: Send): Promise<Response> {
  sent++;
  if (contentType === null) {
    // support.call() would add `content-type: application/json`; a byte body makes fetch add none.
    const headers = new Headers();
    if (authorization !== null) headers.set("authorization", authorization ?? `Bearer ${KEY}`);
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    return SELF.fetch("http://edge.test/v1/videos", { method: "POST", body: bytes, headers });
  }
  const headers: Record<string, string> = { "content-type": contentType };
  if (authorization === null) return call("/v1/videos", { method: "POST", body, headers, key: null });
  if (authorization !== undefined) {
    headers.authorization = authorization;
    return call("/v1/videos", { method: "POST", body, headers, key: null });
  }
  return call("/v1/videos", { method: "POST", body, headers });
}

/** Asserts a 4xx RFC 9457 problem with the expected status and code; returns nothing on success. */
async function expectProblem(res: Response, expected: Expected, input: unknown): Promise<void> {
  seenStatus.set(res.status, (seenStatus.get(res.status) ?? 0) + 1);
  const text = await res.text();
  const where = `for input ${JSON.stringify(input)?.slice(0, 300)}: ${res.status} ${res.headers.get("content-type")} ${text.slice(0, 300)}`;
  expect(res.status, `never a 5xx ${where}`).toBeLessThan(500);
  expect(res.status, `a 4xx ${where}`).toBeGreaterThanOrEqual(400);
  // A rate limit (429 with Retry-After) is an acceptable answer to any request; anything else must match.
  const limited = res.status === 429 && res.headers.has("retry-after");
  if (!limited) expect(res.status, where).toBe(expected.status);
  expect(res.headers.get("content-type") ?? "", where).toMatch(/^application\/problem\+json/);
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`problem body is not JSON ${where}`);
  }
  expect(typeof problem.status, where).toBe("number");
  expect(problem.status, where).toBe(res.status);
  expect(typeof problem.code, where).toBe("string");
  expect(typeof problem.type, where).toBe("string");
  expect(typeof problem.title, where).toBe("string");
  expect(problem.type, where).toBe(`https://reelmesh.dev/problems/${String(problem.code)}`);
  if (!limited) expect(problem.code, where).toBe(expected.code);
}

// ---------------------------------------------------------------------------------------
// Arbitraries.

/** Characters that break naive handling: NUL, controls, BOM, bidi override, zero-width, lone surrogates, astral. */
const nastyChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "\u0000",
      "\u0001",
      "\u001f",
      "\u007f",
      "\ufeff",
      "\u202e",
      "\u200b",
      "\u2028",
      "\u2029",
      "\ud800",
      "\udbff",
      "\udc00",
      "\udfff",
      "\ufffd",
      "\uffff",
      "😀",
      '"',
      "\\",
      "/",
      "\n",
      "{",
      "}",
    ),
  },
);
const nastyString = fc.string({ unit: nastyChar, maxLength: 40 });
/** Over the prompt limit even after trimming, and marked. */
const longString = fc
  .tuple(fc.integer({ min: MAX_PROMPT_CHARS + 1, max: MAX_PROMPT_CHARS + 300 }), fc.constantFrom("a", "é", "字", "😀", "\u0000", " x"))
  .map(([n, unit]) => `${MARK} ${unit.repeat(Math.ceil(n / unit.length))}`);

/** Numbers JSON can carry that break range or integer rules somewhere (NaN and Infinity are not JSON). */
const badNumber = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    0.5,
    1.5,
    2.5,
    -0.000001,
    4.000001,
    61,
    201,
    31,
    2 ** 31,
    2 ** 32,
    MAX_SEED + 1,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER + 2,
    1e21,
    1e308,
    -1e308,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    -(2 ** 63),
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -(2 ** 31), max: -1 }),
  fc.integer({ min: 61, max: 2 ** 31 }),
);

/** A deeply nested array or object, as a JSON value (depth up to a few thousand, still under 16 KiB). */
const deepValue = fc.tuple(fc.integer({ min: 50, max: 2500 }), fc.boolean()).map(([depth, arrays]) => {
  let v: unknown = arrays ? [] : { x: 1 };
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
});

/** Any value likely to be wrong for any field: wrong types, out-of-range numbers, nasty strings, nesting. */
const anyBad = fc.oneof(
  fc.constantFrom(null, true, false, "", " ", "\u0000", [], {}, [null], { "": "" }, "4", "NaN", "Infinity", "-0", "null", "undefined"),
  fc.jsonValue({ maxDepth: 3 }),
  badNumber,
  nastyString,
  longString,
  deepValue,
);

/** Values targeted at one field's rules (type, enum, bounds, integer-ness, length). */
const targeted: Record<Field, Arbitrary<unknown>> = {
  prompt: fc.oneof(fc.constantFrom("", "   ", "\n\t ", 0, null, ["a ball"], { text: "a ball" }), longString),
  negative_prompt: fc.oneof(fc.constantFrom(null, 1, [], {}), longString),
  model: fc.oneof(fc.constantFrom("REELMESH-REF-TINY", "reelmesh-ref-tiny ", "reelmesh-ref-huge", "", "sora", null, 1), nastyString),
  duration_s: fc.oneof(badNumber, fc.constantFrom(0, -4, 4.5, 61, "4", "4s", null, [4])),
  aspect_ratio: fc.oneof(fc.constantFrom("9x16", "9/16", "916", "", "0:0", "9:16 ", null, 0.5625), nastyString),
  resolution: fc.oneof(fc.string({ minLength: 17, maxLength: 60 }), fc.constantFrom(144, null, ["144p"], { p: 144 })),
  seed: fc.oneof(badNumber, fc.constantFrom(-1, MAX_SEED + 1, 1.25, "42", null)),
  steps: fc.oneof(badNumber, fc.constantFrom(0, -1, 201, 12.5, "12", null)),
  guidance: fc.oneof(
    fc.double({ min: 30.000001, max: 1e308, noNaN: true }),
    fc.double({ max: -1e-9, min: -1e308, noNaN: true }),
    fc.constantFrom("3", null, true, [3]),
  ),
  scheduler: fc.oneof(fc.constantFrom("DDIM", "ddim ", "dpm++", "", null, 0), nastyString),
  tier: fc.oneof(fc.constantFrom("gold", "Standard", "STANDARD", "", "economy ", null, 1), nastyString),
  webhook_url: fc.oneof(
    fc.constantFrom("not a url", "://x", "http//x", "", "javascript", null, 1, ["https://example.com"]),
    fc.nat({ max: 300 }).map((n) => `https://example.com/${"a".repeat(2048 + n)}`),
    nastyString,
  ),
  metadata: fc.oneof(
    fc.constantFrom(null, "k=v", 1, [], ["a"], [["k", "v"]], { k: 1 }, { k: null }, { k: { nested: "x" } }, { k: ["v"] }),
    fc.nat({ max: 100 }).map((n) => ({ ["k".repeat(65 + n)]: "v" })),
    fc.nat({ max: 100 }).map((n) => ({ k: "v".repeat(513 + n) })),
    fc.dictionary(nastyString, anyBad, { minKeys: 1, maxKeys: 3 }),
  ),
};

/** A valid base request carrying the run's marker, with a random selection of valid optional fields. */
const validBase = fc.record(
  {
    prompt: fc.constantFrom("a red ball bouncing", "a cat on a skateboard", "水面上的小船", "  waves  ").map((p) => `${MARK} ${p}`),
    negative_prompt: fc.constant(MARK),
    model: fc.constant("reelmesh-ref-tiny"),
    duration_s: fc.integer({ min: 1, max: 20 }),
    aspect_ratio: fc.constant("9:16"),
    resolution: fc.constant("144p"),
    seed: fc.integer({ min: 0, max: MAX_SEED }),
    steps: fc.integer({ min: 1, max: 50 }),
    guidance: fc.double({ min: 0, max: 30, noNaN: true }),
    scheduler: fc.constantFrom("ddim", "euler"),
    tier: fc.constantFrom("standard", "economy"),
    webhook_url: fc.constant("https://example.com/hook"),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
  },
  { requiredKeys: ["prompt", "negative_prompt"] },
);

/** Keys the schema does not know (strict): typos, case, prototype names, odd characters. */
const unknownKey = fc
  .oneof(
    fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "hasOwnProperty",
      "duration",
      "Prompt",
      "prompt ",
      " prompt",
      "PROMPT",
      "",
      "\u0000",
      "\ud800",
      "cache",
      "idempotency_key",
      "account_id",
      "job_id",
    ),
    nastyString,
  )
  .filter((k) => !(FIELDS as readonly string[]).includes(k));

const fieldOverride = fc.constantFrom(...FIELDS).chain((f) => fc.oneof(targeted[f], anyBad).map((v) => [f, v] as [string, unknown]));

/** An object with 1–3 wrong fields and/or unknown keys, built with own properties (even `__proto__`). */
const malformedObject = fc
  .tuple(
    validBase,
    fc.array(fieldOverride, { minLength: 0, maxLength: 3 }),
    fc.array(fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })), { minLength: 0, maxLength: 2 }),
  )
  .filter(([, overrides, extras]) => overrides.length + extras.length > 0)
  .map(([base, overrides, extras]) => Object.fromEntries([...Object.entries(base), ...overrides, ...extras]))
  .map((obj) => JSON.stringify(obj))
  .filter((text) => !schemaAccepts(text));

/** Top-level JSON values of every kind (arrays, strings, numbers, null, random objects). */
const randomJson = fc
  .oneof(
    fc.jsonValue(),
    fc
      .anything({ maxDepth: 3 })
      .map((v) => safeStringify(v))
      .filter((t): t is string => t !== undefined)
      .map((t) => JSON.parse(t) as unknown),
    deepValue,
  )
  .map((v) => JSON.stringify(v))
  .filter((text) => !schemaAccepts(text));

function safeStringify(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined; // BigInt, cycles
  }
}

/** Raw JSON text: non-JSON numbers (1e999 → Infinity), lone-surrogate escapes, duplicate keys. */
const rawJsonText = fc
  .oneof(
    fc
      .tuple(
        fc.constantFrom("duration_s", "seed", "steps", "guidance"),
        fc.constantFrom("1e999", "-1e999", "1E400", "-0", "1e-999", "4.0000000000000001", "0.1e1", "1e1", "123456789012345678901234567890"),
      )
      .map(([field, num]) => `{"prompt":"${MARK} a ball","${field}":${num}}`),
    fc
      .tuple(
        fc.constantFrom("model", "tier", "aspect_ratio", "scheduler", "resolution", "webhook_url"),
        fc.constantFrom("\\ud800", "\\udfff", "\\u0000", "\\ud83d", "\\udc00\\ud800", "\\ufeff"),
        fc.nat({ max: 20 }),
      )
      .map(([field, esc, pad]) => `{"prompt":"${MARK} \\ud800 \\u0000","${field}":"${"x".repeat(pad)}${esc}${"y".repeat(17)}"}`),
    fc.constantFrom(
      `{"prompt":"${MARK} a","prompt":1}`,
      `{"prompt":"${MARK} a","duration_s":4,"duration_s":"4"}`,
      `{"prompt":"${MARK} a","metadata":{"k":"v","k":2}}`,
      `{"prompt":"${MARK} a","__proto__":{"duration_s":4}}`,
      `{"prompt":"${MARK} a","constructor":{"prototype":{"x":1}}}`,
    ),
  )
  .filter((text) => !schemaAccepts(text));

/** Bodies that are not JSON at all: random text, truncated or mangled JSON, JSON with a stray prefix. */
const notJson = fc
  .oneof(
    nastyString,
    fc.string({ unit: "grapheme-ascii", maxLength: 200 }),
    fc.tuple(validBase, fc.nat()).map(([base, cut]) => {
      const text = JSON.stringify(base);
      return text.slice(0, cut % text.length);
    }),
    validBase.map((b) => JSON.stringify(b).replace(/"/g, "'")),
    validBase.map((b) => `${JSON.stringify(b).slice(0, -1)},}`),
    validBase.map((b) => `// comment\n${JSON.stringify(b)}`),
    validBase.map((b) => `${JSON.stringify(b)}${JSON.stringify(b)}`),
    validBase.map((b) => `${JSON.stringify(b)} x`),
    validBase.map((b) => `prompt=${encodeURIComponent(String(b.prompt))}&duration_s=4`),
    fc.integer({ min: 1, max: 5000 }).map((d) => "[".repeat(d)),
    fc.integer({ min: 1, max: 3000 }).map((d) => '{"a":'.repeat(d)),
    fc.constantFrom(
      "",
      " ",
      "\n",
      "\u0000",
      "\ufeff",
      "undefined",
      "NaN",
      "Infinity",
      "{",
      "}",
      "[",
      '"',
      '{"prompt":}',
      '{prompt:"a"}',
      "\u0000{}",
    ),
  )
  .filter((text) => !parseWire(text).json);

/**
 * Content types that are not JSON (or no header at all). Header values are trimmed by fetch, so
 * leading whitespace is not "wrong"; JSON-suffixed types (`application/ld+json`) are left out,
 * as accepting them would be a legitimate choice.
 */
const wrongContentType = fc.oneof(
  fc.constantFrom<string | null>(
    null,
    "",
    "text/plain",
    "text/plain;charset=UTF-8",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/octet-stream",
    "json",
    "application",
    "application/",
    "application/jsonp",
    "application/json5",
    "application/jsonx",
    "xapplication/json",
    "*/*",
    "application/*",
    "application/vnd.api",
    "image/png",
  ),
  fc.string({ unit: "grapheme-ascii", maxLength: 40 }).filter((t) => !/^\s*application\/json/i.test(t)),
);

/** Bodies over 16 KiB that are otherwise acceptable: padded, huge metadata, or multi-byte characters. */
const tooLarge = fc.oneof(
  fc.nat({ max: 4000 }).map((n) => `{"prompt":"${MARK} a ball"}${" ".repeat(MAX_BODY_BYTES + n)}`),
  fc.nat({ max: 20 }).map((n) =>
    JSON.stringify({
      prompt: `${MARK} a ball`,
      metadata: Object.fromEntries(Array.from({ length: 40 + n }, (_, i) => [`k${i}`, "v".repeat(500)])),
    }),
  ),
  // 11 values of 512 three-byte characters: ~5.7k characters but ~17k bytes (the limit is in bytes).
  fc.constant(
    JSON.stringify({
      prompt: `${MARK} a ball`,
      metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "€".repeat(512)])),
    }),
  ),
  fc.nat({ max: 3000 }).map((n) => "[".repeat(MAX_BODY_BYTES + 1 + n)),
  fc.string({ unit: "binary", minLength: MAX_BODY_BYTES + 1, maxLength: MAX_BODY_BYTES + 200 }),
);

// ---------------------------------------------------------------------------------------
// Properties.

const started = Date.now();

describe("POST /v1/videos refuses malformed bodies (property-based)", () => {
  afterAll(async () => {
    // Other files may enqueue (valid, unmarked) jobs concurrently; only this run's marker matters.
    const drained = [...(await drain(STANDARD)), ...(await drain(ECONOMY))];
    const ours = drained.filter((m) => JSON.stringify(m).includes(MARK));
    console.log(
      `create.property: ${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(seenStatus))}; drained ${drained.length} message(s), ${ours.length} of this run`,
    );
    expect(ours, "no message of this run was queued").toEqual([]);
  });

  it("objects with wrong, out-of-range or unknown fields: 400 validation_failed", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(malformedObject, async (text) => {
        await expectProblem(await post({ body: text, contentType: "application/json" }), expectedForJsonBody(text), text);
      }),
      { numRuns: 1500 },
    );
  });

  it("arbitrary JSON values and raw JSON edge cases: 400 validation_failed", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(randomJson, rawJsonText),
        fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON"),
        async (text, contentType) => {
          await expectProblem(await post({ body: text, contentType }), expectedForJsonBody(text), text);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("bodies that are not JSON: 400 invalid_json", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(notJson, async (text) => {
        await expectProblem(await post({ body: text, contentType: "application/json" }), expectedForJsonBody(text), text);
      }),
      { numRuns: 800 },
    );
  });

  // Within the size limit: an oversized body is refused first (413), before it is read.
  const withinLimit = (arb: fc.Arbitrary<string>) => arb.filter((t) => byteLength(onTheWire(t)) <= MAX_BODY_BYTES);

  it("a wrong or missing content type: 415, even for an otherwise valid body", { timeout: 120_000 }, async () => {
    const body = withinLimit(
      fc.oneof(
        validBase.map((b) => JSON.stringify(b)),
        malformedObject,
        notJson,
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, wrongContentType, async (text, contentType) => {
        await expectProblem(
          await post({ body: text, contentType }),
          { status: 415, code: "unsupported_media_type" },
          { text, contentType },
        );
      }),
      { numRuns: 400 },
    );
  });

  it("bodies over 16 KiB: 413, even when the JSON would be valid", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(tooLarge, async (text) => {
        expect(byteLength(onTheWire(text))).toBeGreaterThan(MAX_BODY_BYTES);
        await expectProblem(
          await post({ body: text, contentType: "application/json" }),
          { status: 413, code: "body_too_large" },
          text.slice(0, 200),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("malformed bodies within the size limit without a valid key: 401 before anything else", { timeout: 120_000 }, async () => {
    const authorization = fc.constantFrom<string | null>(
      null,
      "",
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "bearer rm_wrong_key_0000000000000",
      `Bearer ${KEY}x`,
      `Token ${KEY}`,
      `Bearer ${KEY} extra`,
      `Bearer rm_live_${"0".repeat(32)}`,
      "Bearer rm_live_",
      "Bearer rmt_",
      "Bearer rmt_not.a.token",
      `Bearer rmt_${"A".repeat(300)}.${"B".repeat(43)}`,
    );
    const body = withinLimit(
      fc.oneof(
        validBase.map((b) => JSON.stringify(b)),
        malformedObject,
        notJson,
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, authorization, async (text, auth) => {
        await expectProblem(
          await post({ body: text, contentType: "application/json", authorization: auth }),
          { status: 401, code: "unauthorized" },
          { text, auth },
        );
      }),
      { numRuns: 200 },
    );
  });
});
