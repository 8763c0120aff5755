import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { keyShardForHash, keyShardForId } from "./keys.ts";

/**
 * The account directory: accounts and their API keys, in one Durable
 * Object (`idFromName("directory")`), for the admin API only. Keys are random (256 bits), shown
 * once at creation, and stored only as SHA-256 hashes (a key is high-entropy, so a fast hash is
 * enough); a short prefix identifies a key in lists and logs. Every key made or revoked is
 * written through to the key shards (keys.ts), which are what the request path asks;
 * verification there is cached per isolate for REELMESH_KEY_CACHE_S, which bounds how long a
 * revoked key keeps working.
 */
export interface AccountLimits {
  /** Creates an account may make at once (token bucket size) and per second after that. */
  burst: number;
  per_s: number;
  /** Jobs that may run (queued or generating) at the same time. */
  max_running_jobs: number;
}

interface Account {
  id: string;
  name: string;
  created_at: string;
  /** Overrides of the edge's default limits. */
  limits: AccountLimits | null;
}

interface KeyRecord {
  key_id: string;
  account_id: string;
  /** First characters of the key, for humans: `rm_live_AbCd…`. */
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const randomId = (prefix: string, n: number) =>
  prefix + Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => ALPHABET[b % 32]).join("");

function newApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return (
    "rm_live_" +
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "")
  );
}

export async function hashKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const KEY_PREFIX_CHARS = 12;

export class AccountsObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Keys made before the shards existed are written to them once.
    void ctx.blockConcurrencyWhile(async () => {
      if (await ctx.storage.get("shards_synced")) return;
      for (const [name, key] of await ctx.storage.list<KeyRecord>({ prefix: "key:" })) await this.publish(name.slice(4), key);
      await ctx.storage.put("shards_synced", true);
    });
  }

  /** Writes a key's state to the shards the request path reads. */
  private async publish(hash: string, key: KeyRecord): Promise<void> {
    const account = await this.getAccount(key.account_id);
    await Promise.all([
      keyShardForHash(this.env, hash).putHash(hash, {
        account_id: key.account_id,
        key_id: key.key_id,
        limits: account?.limits ?? null,
        revoked_at: key.revoked_at,
      }),
      keyShardForId(this.env, key.key_id).putId(key.key_id, key.revoked_at),
    ]);
  }

  async createAccount(name: string, limits: AccountLimits | null = null): Promise<{ account: Account; apiKey: string; key: KeyRecord }> {
    const account: Account = { id: randomId("acct_", 16), name, created_at: new Date().toISOString(), limits };
    await this.ctx.storage.put(`account:${account.id}`, account);
    const { apiKey, key } = await this.createKey(account.id);
    return { account, apiKey, key };
  }

  async getAccount(id: string): Promise<Account | null> {
    return (await this.ctx.storage.get<Account>(`account:${id}`)) ?? null;
  }

  async listAccounts(): Promise<Account[]> {
    return [...(await this.ctx.storage.list<Account>({ prefix: "account:" })).values()];
  }

  async createKey(accountId: string): Promise<{ apiKey: string; key: KeyRecord }> {
    const apiKey = newApiKey();
    const hash = await hashKey(apiKey);
    const key: KeyRecord = {
      key_id: randomId("key_", 12),
      account_id: accountId,
      prefix: apiKey.slice(0, KEY_PREFIX_CHARS),
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await this.ctx.storage.put({ [`key:${hash}`]: key, [`acctkey:${accountId}:${key.key_id}`]: hash });
    await this.publish(hash, key);
    return { apiKey, key };
  }

  async listKeys(accountId: string): Promise<KeyRecord[]> {
    const hashes = [...(await this.ctx.storage.list<string>({ prefix: `acctkey:${accountId}:` })).values()];
    const keys = await this.ctx.storage.get<KeyRecord>(hashes.map((h) => `key:${h}`));
    return [...keys.values()];
  }

  async revokeKey(accountId: string, keyId: string): Promise<KeyRecord | null> {
    const hash = await this.ctx.storage.get<string>(`acctkey:${accountId}:${keyId}`);
    if (!hash) return null;
    const key = (await this.ctx.storage.get<KeyRecord>(`key:${hash}`))!;
    key.revoked_at ??= new Date().toISOString();
    await this.ctx.storage.put(`key:${hash}`, key);
    await this.publish(hash, key);
    return key;
  }
}
