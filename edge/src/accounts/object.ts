import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * The account directory: accounts and their API keys, in one Durable
 * Object (`idFromName("directory")`). Keys are random (256 bits), shown once at creation, and
 * stored only as SHA-256 hashes (a key is high-entropy, so a fast hash is enough); a short
 * prefix identifies a key in lists and logs. Verification at the edge is cached per isolate
 * for REELMESH_KEY_CACHE_S, which bounds how long a revoked key keeps working.
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
    return key;
  }

  /** Whether the account's key exists and is not revoked (app tokens minted with it check this). */
  async keyActive(accountId: string, keyId: string): Promise<boolean> {
    const hash = await this.ctx.storage.get<string>(`acctkey:${accountId}:${keyId}`);
    if (!hash) return false;
    const key = await this.ctx.storage.get<KeyRecord>(`key:${hash}`);
    return key !== undefined && key.revoked_at === null;
  }

  /** The account a key hash belongs to, if the key exists and is not revoked. */
  async verify(hash: string): Promise<{ account_id: string; key_id: string; limits: AccountLimits | null } | null> {
    const key = await this.ctx.storage.get<KeyRecord>(`key:${hash}`);
    if (!key || key.revoked_at) return null;
    const account = await this.getAccount(key.account_id);
    return { account_id: key.account_id, key_id: key.key_id, limits: account?.limits ?? null };
  }
}
