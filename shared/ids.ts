/**
 * Job ids: `vid_` + 26 Crockford base32 characters, ULID-shaped (48-bit millisecond time,
 * 80 random bits), so ids sort by creation time in listings and S3 prefixes. A cache hit
 * answered from the account's ledger (edge/src/billing/ledger.ts) ends in `_h`: the edge
 * finds its record there, not in a job object of its own.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
export const JOB_ID_PATTERN = /^vid_[0-9a-hjkmnp-tv-z]{26}(_h)?$/;

export function isHitId(id: string): boolean {
  return id.endsWith("_h");
}

export function hitIdFor(id: string): string {
  return `${id}_h`;
}

export function newJobId(nowMs = Date.now(), random: (n: number) => Uint8Array = randomBytes): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = random(16);
  let rand = "";
  for (let i = 0; i < 16; i++) rand += ALPHABET[(bytes[i] ?? 0) % 32];
  return `vid_${time}${rand}`;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
