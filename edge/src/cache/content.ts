import type { JobRecord } from "../jobs/record.ts";

/**
 * Result cache and request coalescing, kept in the account's Durable Object
 * (accounts/account-object.ts): the content address is a hash of everything that determines
 * the clip, the account included, so every identical request of an account meets the same
 * object that admits and charges it, and the claim, the charge and the stored job are one
 * transaction. Exactly one request becomes the leader (queued, run on a GPU) and identical
 * ones arriving meanwhile join it; once the leader has succeeded, later identical requests are
 * answered from its outputs. A failed or expired leader is forgotten, so the next request runs
 * afresh. A claim can never outlive its leader's admission: both are written together or not
 * at all.
 */
/** What a cache hit needs of the leader's finished job. */
export type CachedResult = Pick<JobRecord, "codecs" | "init" | "chunks" | "content" | "usage">;

export type Claim =
  | { role: "leader" }
  | { role: "joined"; leader: string; followers: number }
  | {
      role: "hit";
      leader: string;
      result: CachedResult;
      expires_at: string;
      /** epoch ms: answer hits from it until then */ usable_until: number;
    };

type Row = {
  leader: string;
  /** Join key: a standard request does not join a job waiting in the economy queue. */
  tier: string;
  status: "running" | "succeeded";
  expires_at: string | null;
  settled_at: string | null;
  result: string | null;
  followers: number;
};

export class ContentClaims {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS content (address TEXT PRIMARY KEY, leader TEXT NOT NULL, tier TEXT NOT NULL,
      status TEXT NOT NULL, expires_at TEXT, settled_at TEXT, result TEXT, followers INTEGER NOT NULL DEFAULT 0)`);
  }

  /** What an identical request would be now: a hit, a join, or the leader of a new run (nothing written). */
  look(address: string, tier: string, nowMs = Date.now()): Claim {
    const row = this.sql.exec<Row>("SELECT * FROM content WHERE address = ?", address).toArray()[0];
    if (row?.status === "succeeded" && row.expires_at && row.settled_at && row.result) {
      // A hit must leave the caller time to fetch: at least a minute, or half the retention.
      const margin = Math.min(60_000, (Date.parse(row.expires_at) - Date.parse(row.settled_at)) / 2);
      if (Date.parse(row.expires_at) > nowMs + margin) {
        return {
          role: "hit",
          leader: row.leader,
          result: JSON.parse(row.result) as CachedResult,
          expires_at: row.expires_at,
          usable_until: Date.parse(row.expires_at) - margin,
        };
      }
    }
    if (row?.status === "running" && (row.tier === tier || row.tier === "standard")) {
      return { role: "joined", leader: row.leader, followers: Number(row.followers) };
    }
    return { role: "leader" };
  }

  lead(address: string, jobId: string, tier: string): void {
    this.sql.exec(
      `INSERT INTO content (address, leader, tier, status, followers) VALUES (?, ?, ?, 'running', 0)
       ON CONFLICT(address) DO UPDATE SET leader = excluded.leader, tier = excluded.tier, status = 'running', expires_at = NULL,
       settled_at = NULL, result = NULL, followers = 0`,
      address,
      jobId,
      tier,
    );
  }

  join(address: string): void {
    this.sql.exec("UPDATE content SET followers = followers + 1 WHERE address = ?", address);
  }

  /** The leader ended: keep a success for hits, forget anything else. */
  settle(address: string, jobId: string, succeeded: boolean, expiresAt: string | null, result: CachedResult | null): void {
    const row = this.sql.exec<{ leader: string }>("SELECT leader FROM content WHERE address = ?", address).toArray()[0];
    if (!row || row.leader !== jobId) return;
    if (succeeded && expiresAt && result) {
      this.sql.exec(
        "UPDATE content SET status = 'succeeded', expires_at = ?, settled_at = ?, result = ? WHERE address = ?",
        expiresAt,
        new Date().toISOString(),
        JSON.stringify(result),
        address,
      );
    } else this.sql.exec("DELETE FROM content WHERE address = ?", address);
  }
}
