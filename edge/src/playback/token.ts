/**
 * Signed playback tokens: the app's server holds the API key, the phone gets a playback URL.
 * A token names one job and an expiry, HMAC-signed by the edge (WebCrypto), so a player
 * (AVPlayer, ExoPlayer, hls.js, ffplay) can fetch the playlist and segments with no header.
 * Format: `<exp unix s>.<account>.<first 32 hex of HMAC-SHA256("play.<job>.<exp>.<account>")>`:
 * the account tells the edge where a job lives that has no object of its own (a hit kept in its
 * account's object, `vid_…_h`, or a job just admitted) without a key. Tokens without the account
 * (`<exp>.<HMAC of "play.<job>.<exp>">`, issued before) are still accepted until they expire.
 */
const PLAYBACK_TOKEN_TTL_S = 6 * 60 * 60;
const MAC_HEX = 32;

const encoder = new TextEncoder();

/** The HMAC key, imported once per secret and isolate (every job view signs a token). */
const keys = new Map<string, CryptoKey>();

async function mac(secret: string, jobId: string, exp: number, account: string | null): Promise<string> {
  let key = keys.get(secret);
  if (!key)
    keys.set(
      secret,
      (key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])),
    );
  const sig = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(account === null ? `play.${jobId}.${exp}` : `play.${jobId}.${exp}.${account}`),
  );
  return Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, MAC_HEX);
}

/** `account`: the account the job belongs to (then in the token), so a job its account still holds can be found. */
export async function issuePlaybackToken(
  secret: string,
  jobId: string,
  nowS = Math.floor(Date.now() / 1000),
  account: string | null = null,
): Promise<string> {
  const exp = nowS + PLAYBACK_TOKEN_TTL_S;
  return account === null ? `${exp}.${await mac(secret, jobId, exp, null)}` : `${exp}.${account}.${await mac(secret, jobId, exp, account)}`;
}

/** The token's account (null when it names none) if it is valid for `jobId` now; false if not. */
export async function verifyPlaybackToken(
  secret: string,
  jobId: string,
  token: string,
  nowS = Math.floor(Date.now() / 1000),
): Promise<{ account: string | null } | false> {
  const match = /^(\d{1,12})\.(?:([A-Za-z0-9_-]{1,64})\.)?([0-9a-f]+)$/.exec(token);
  if (!match) return false;
  const exp = Number(match[1]);
  if (exp < nowS) return false;
  const account = match[2] ?? null;
  const expected = encoder.encode(await mac(secret, jobId, exp, account));
  const given = encoder.encode(match[3]);
  return given.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(given, expected) ? { account } : false;
}
