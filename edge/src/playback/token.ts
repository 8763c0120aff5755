/**
 * Signed playback tokens: the app's server holds the API key, the phone gets a playback URL.
 * A token names one job and an expiry, HMAC-signed by the edge (WebCrypto), so a player
 * (AVPlayer, ExoPlayer, hls.js, ffplay) can fetch the playlist and segments with no header.
 * Format: `<exp unix s>.<first 32 hex of HMAC-SHA256("play.<job>.<exp>")>`.
 */
export const PLAYBACK_TOKEN_TTL_S = 6 * 60 * 60;
const MAC_HEX = 32;

const encoder = new TextEncoder();

async function mac(secret: string, jobId: string, exp: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = await crypto.subtle.sign("HMAC", key, encoder.encode(`play.${jobId}.${exp}`));
  return Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, "0")).join("").slice(0, MAC_HEX);
}

export async function issuePlaybackToken(secret: string, jobId: string, nowS = Math.floor(Date.now() / 1000)): Promise<string> {
  const exp = nowS + PLAYBACK_TOKEN_TTL_S;
  return `${exp}.${await mac(secret, jobId, exp)}`;
}

export async function verifyPlaybackToken(secret: string, jobId: string, token: string, nowS = Math.floor(Date.now() / 1000)): Promise<boolean> {
  const match = /^(\d{1,12})\.([0-9a-f]+)$/.exec(token);
  if (!match) return false;
  const exp = Number(match[1]);
  if (exp < nowS) return false;
  const expected = encoder.encode(await mac(secret, jobId, exp));
  const given = encoder.encode(match[2]!);
  return given.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(given, expected);
}
