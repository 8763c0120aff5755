/**
 * Validation of customer-supplied webhook URLs, so the edge cannot be pointed at itself, at the
 * cloud metadata service or at anything else on a private network (SSRF). Only the URL is
 * checked here: a public hostname that resolves to a private address (DNS rebinding) has to be
 * stopped at delivery time by the network the fetch runs on.
 * In production (`allowPrivate: false`) only https to public names and addresses is allowed;
 * in dev, http and local addresses are fine so a receiver on localhost can be tested.
 */
export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

const PRIVATE_REASON = "webhook_url must not point to a private, loopback or link-local address";
const LOCAL_NAME_REASON = "webhook_url must not point to a local or internal hostname";
/** Suffixes that only resolve inside a machine or a private network (RFC 6761, 6762, 8375, ICANN's .internal). */
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".lan", ".home.arpa"];

/** IPv4 ranges that are not the public internet, as [first address, prefix length]. */
const BLOCKED_V4: readonly (readonly [number, number])[] = [
  [v4(0, 0, 0, 0), 8], // "this network", incl. 0.0.0.0
  [v4(10, 0, 0, 0), 8], // private
  [v4(100, 64, 0, 0), 10], // CGNAT
  [v4(127, 0, 0, 0), 8], // loopback
  [v4(169, 254, 0, 0), 16], // link-local, incl. cloud metadata 169.254.169.254
  [v4(172, 16, 0, 0), 12], // private
  [v4(192, 0, 0, 0), 24], // IETF protocol assignments
  [v4(192, 168, 0, 0), 16], // private
  [v4(198, 18, 0, 0), 15], // benchmarking
  [v4(224, 0, 0, 0), 4], // multicast
  [v4(240, 0, 0, 0), 4], // reserved, incl. broadcast 255.255.255.255
];

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function isBlockedV4(address: number): boolean {
  return BLOCKED_V4.some(([base, prefix]) => {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return (address & mask) >>> 0 === base;
  });
}

/**
 * The WHATWG URL host parser's IPv4 rules (decimal, 0-prefixed octal, 0x hex, 1–4 parts).
 * The URL parser has already normalized such hosts to dotted decimal; parsing again here costs
 * nothing and keeps the check right if a runtime's URL implementation did not.
 * Returns undefined when the host is not an IPv4 address, null when it looks like one but is invalid.
 */
function parseIPv4(host: string): number | null | undefined {
  const parts = host.split(".");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  const last = parts[parts.length - 1] ?? "";
  if (!/^(\d+|0x[0-9a-f]*)$/i.test(last)) return undefined;
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(part)) n = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) n = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9]\d*)$/.test(part)) n = Number(part);
    else return null;
    numbers.push(n);
  }
  const tail = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255) || tail >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((sum, n, i) => sum + n * 256 ** (3 - i), 0) + tail;
}

/** Eight 16-bit groups of an IPv6 literal (brackets stripped), or null if malformed. */
function parseIPv6(text: string): number[] | null {
  let rest = text;
  const tailGroups: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  if (dotted) {
    const address = parseIPv4(dotted[2]!);
    if (typeof address !== "number") return null;
    tailGroups.push(address >>> 16, address & 0xffff);
    rest = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string | undefined) => (half ? half.split(":") : []);
  const parse = (g: string) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN);
  const head = groups(halves[0]).map(parse);
  const tail = [...groups(halves[1]).map(parse), ...tailGroups];
  if ([...head, ...tail].some(Number.isNaN)) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function isBlockedV6(g: number[]): boolean {
  const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  const [g0 = 0, g1 = 0, g2 = 0, , , g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroPrefix(5) && g5 === 0xffff) return isBlockedV4(embeddedV4(g6, g7)); // IPv4-mapped ::ffff:a.b.c.d
  if (zeroPrefix(6)) return true; // ::, ::1 and deprecated IPv4-compatible ::a.b.c.d
  if (zeroPrefix(4) && g[4] === 0xffff && g5 === 0) return isBlockedV4(embeddedV4(g6, g7)); // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
  if (g0 === 0x64 && g1 === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return isBlockedV4(embeddedV4(g6, g7)); // NAT64
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return true; // local-use NAT64 64:ff9b:1::/48 (RFC 8215): translates private space
  if (g0 === 0x2001 && g1 === 0) return true; // Teredo 2001::/32: tunnels to an address the check cannot see
  if (g0 === 0x2002) return isBlockedV4(embeddedV4(g1, g2)); // 6to4
  if ((g0 & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0) return true; // link-local, old site-local
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  return false;
}

/** Checks a webhook URL before it is stored; never throws. */
export function checkWebhookUrl(raw: string, opts: { allowPrivate: boolean }): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "webhook_url must be a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "webhook_url must use http or https" };
  if (url.username || url.password) return { ok: false, reason: "webhook_url must not contain a username or password" };
  if (opts.allowPrivate) return { ok: true, url };
  if (url.protocol !== "https:") return { ok: false, reason: "webhook_url must use https" };

  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (host.startsWith("[")) {
    const groups = host.endsWith("]") ? parseIPv6(host.slice(1, -1)) : null;
    if (!groups) return { ok: false, reason: "webhook_url must be a valid absolute URL" };
    return isBlockedV6(groups) ? { ok: false, reason: PRIVATE_REASON } : { ok: true, url };
  }
  const address = parseIPv4(host);
  if (address === null) return { ok: false, reason: "webhook_url must be a valid absolute URL" };
  if (address !== undefined) return isBlockedV4(address) ? { ok: false, reason: PRIVATE_REASON } : { ok: true, url };
  if (!host || host === "localhost" || LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix)))
    return { ok: false, reason: LOCAL_NAME_REASON };
  // A single-label name ("https://metadata/") resolves only through local search domains.
  if (!host.includes(".")) return { ok: false, reason: LOCAL_NAME_REASON };
  return { ok: true, url };
}
