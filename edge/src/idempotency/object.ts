import { DurableObject } from "cloudflare:workers";

/**
 * Idempotency keys: one Durable Object per (account, key), named by
 * `idempotencyObjectName(account, key)`. It is the single writer of that key's state, so
 * "reserve the key" is atomic: the object's storage calls here are synchronous (SQLite KV),
 * hence no other call can interleave between the read and the write of one `begin`.
 *
 * Life of a key:
 * - `begin(fp)` on an unknown key reserves it for the request with fingerprint `fp` → `new`;
 * - while reserved: another `begin` → `in_progress` (same body) or `mismatch` (other body);
 * - `finish(fp, response)` stores the response; later `begin(fp)` → `replay`, other fp → `mismatch`;
 * - `abandon(fp)` (the request failed with a 5xx or threw) forgets the key, so a retry runs again;
 * - a reservation older than `STALE_RESERVATION_MS` is treated as abandoned (its isolate crashed);
 * - everything is deleted `TTL_MS` after the last write, by the object's alarm.
 */
export const TTL_MS = 24 * 3600 * 1000;
export const STALE_RESERVATION_MS = 60_000;

const ENTRY = "entry";

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type BeginResult = { state: "new" } | ({ state: "replay" } & StoredResponse) | { state: "mismatch" } | { state: "in_progress" };

/** Exported for tests (runInDurableObject), not part of the RPC surface. */
export interface IdempotencyEntry {
  fingerprint: string;
  /** ms since epoch: when the current reservation was taken (pending) or the response stored (done). */
  at: number;
  /** ms since epoch after which the entry no longer counts, even if the alarm is late. */
  expires_at: number;
  response: StoredResponse | null;
}

/** The object name for one key of one account (the account is escaped so ":" cannot collide). */
export function idempotencyObjectName(account: string, key: string): string {
  return `${encodeURIComponent(account)}:${key}`;
}

export class IdempotencyObject extends DurableObject {
  async begin(fingerprint: string): Promise<BeginResult> {
    const now = Date.now();
    const entry = this.read(now);
    if (entry?.response) {
      return entry.fingerprint === fingerprint ? { state: "replay", ...entry.response } : { state: "mismatch" };
    }
    if (entry && now - entry.at < STALE_RESERVATION_MS) {
      return entry.fingerprint === fingerprint ? { state: "in_progress" } : { state: "mismatch" };
    }
    // Unknown, expired, or a stale reservation (its request died without abandoning): reserve.
    await this.write({ fingerprint, at: now, expires_at: now + TTL_MS, response: null });
    return { state: "new" };
  }

  async finish(fingerprint: string, response: StoredResponse): Promise<void> {
    const now = Date.now();
    const entry = this.read(now);
    // Only the holder of the reservation may store; a late finish after a takeover is dropped.
    if (entry && (entry.response || entry.fingerprint !== fingerprint)) return;
    await this.write({
      fingerprint,
      at: now,
      expires_at: now + TTL_MS,
      response: { status: response.status, headers: { ...response.headers }, body: response.body },
    });
  }

  async abandon(fingerprint: string): Promise<void> {
    const entry = this.read(Date.now());
    if (!entry || entry.response || entry.fingerprint !== fingerprint) return;
    await this.clear();
  }

  override async alarm(): Promise<void> {
    const entry = this.ctx.storage.kv.get<IdempotencyEntry>(ENTRY);
    if (entry && entry.expires_at > Date.now()) {
      await this.ctx.storage.setAlarm(entry.expires_at);
      return;
    }
    await this.clear();
  }

  private read(now: number): IdempotencyEntry | undefined {
    const entry = this.ctx.storage.kv.get<IdempotencyEntry>(ENTRY);
    return entry && entry.expires_at > now ? entry : undefined;
  }

  private async write(entry: IdempotencyEntry): Promise<void> {
    this.ctx.storage.kv.put(ENTRY, entry);
    await this.ctx.storage.setAlarm(entry.expires_at);
  }

  private async clear(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
