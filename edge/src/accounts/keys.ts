import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import type { AccountLimits } from "./object.ts";

/**
 * What the request path asks about API keys, spread over KEY_SHARDS Durable Objects: a key's
 * account, by the SHA-256 of the key (`keys-<first two hex digits>`), and whether a key id is
 * still active (for the app tokens it minted; `keys-<FNV-1a of the id>`). The account directory
 * (object.ts) is written by the admin API only and writes through to these; no request path
 * reaches it, so a flood of unknown keys spreads over 256 objects instead of queueing on one.
 */
interface KeyEntry {
  account_id: string;
  key_id: string;
  limits: AccountLimits | null;
  revoked_at: string | null;
}

const KEY_SHARDS = 256;

export function keyShardForHash(env: Env, hash: string) {
  return env.KEYS.get(env.KEYS.idFromName(`keys-${hash.slice(0, 2)}`));
}

export function keyShardForId(env: Env, keyId: string) {
  let h = 2166136261;
  for (let i = 0; i < keyId.length; i++) h = Math.imul(h ^ keyId.charCodeAt(i), 16777619);
  return env.KEYS.get(env.KEYS.idFromName(`keys-${((h >>> 0) % KEY_SHARDS).toString(16).padStart(2, "0")}`));
}

export class KeysObject extends DurableObject<Env> {
  /** A key, by its hash (written by the directory when the key is made, revoked or resynced). */
  async putHash(hash: string, entry: KeyEntry): Promise<void> {
    await this.ctx.storage.put(`hash:${hash}`, entry);
  }

  /** A key id's state, for the tokens it minted. */
  async putId(keyId: string, revokedAt: string | null): Promise<void> {
    await this.ctx.storage.put(`id:${keyId}`, { revoked_at: revokedAt });
  }

  /** The account a key hash belongs to, if the key exists and is not revoked. */
  async verify(hash: string): Promise<KeyEntry | null> {
    const entry = await this.ctx.storage.get<KeyEntry>(`hash:${hash}`);
    return entry && entry.revoked_at === null ? entry : null;
  }

  async keyActive(keyId: string): Promise<boolean> {
    const entry = await this.ctx.storage.get<{ revoked_at: string | null }>(`id:${keyId}`);
    return entry !== undefined && entry.revoked_at === null;
  }
}
