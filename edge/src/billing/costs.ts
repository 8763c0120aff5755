import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * Cost to serve: one row per finished job (what it used and what it was charged), and bytes
 * served per day, spread over COST_SHARDS Durable Objects by job id (no single object on the
 * path of every finished job or media batch of the whole service). `costReport` sums the
 * shards' totals over a period into cost per delivered video-second and margin per tier, with
 * the GPU-hour and credit prices the operator configures.
 */
const COST_SHARDS = 16;

/** The name of the shard that keeps `key`'s records (a job id; any string): FNV-1a, mod COST_SHARDS. */
export function costShardName(key: string): string {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return `costs-${(h >>> 0) % COST_SHARDS}`;
}

export function costShard(env: Env, key: string) {
  return env.COSTS.get(env.COSTS.idFromName(costShardName(key)));
}

interface TierTotals {
  tier: string;
  jobs: number;
  video_s: number;
  gpu_s: number;
  encode_s: number;
  bytes_stored: number;
  charged: number;
}
export interface JobCost {
  job_id: string;
  account_id: string;
  tier: string;
  day: string;
  charged: number;
  gpu_s: number;
  encode_s: number;
  bytes_stored: number;
  video_s: number;
  ran_on_gpu: boolean;
}

interface CostReport {
  from: string;
  to: string;
  prices: { gpu_hour_usd: number; credit_usd: number };
  bytes_served: number;
  tiers: (Omit<TierTotals, "charged"> & {
    revenue_usd: number;
    gpu_cost_usd: number;
    cost_per_video_second_usd: number | null;
    margin: number | null;
  })[];
}

export class CostsObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      job_id TEXT PRIMARY KEY, account_id TEXT, tier TEXT, day TEXT, charged INTEGER,
      gpu_s REAL, encode_s REAL, bytes_stored INTEGER, video_s REAL, ran_on_gpu INTEGER)`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS served (day TEXT PRIMARY KEY, bytes INTEGER)");
  }

  /** Once per job (a repeated report replaces nothing). */
  async record(c: JobCost): Promise<void> {
    this.insertJob(c);
  }

  async served(day: string, bytes: number): Promise<void> {
    this.addServed(day, bytes);
  }

  /** A batch from an isolate (cost-batch.ts), in one synchronous transaction. */
  async recordMany(jobs: readonly JobCost[], served: readonly { day: string; bytes: number }[]): Promise<void> {
    for (const c of jobs) this.insertJob(c);
    for (const s of served) this.addServed(s.day, s.bytes);
  }

  private insertJob(c: JobCost): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      c.job_id,
      c.account_id,
      c.tier,
      c.day,
      c.charged,
      c.gpu_s,
      c.encode_s,
      c.bytes_stored,
      c.video_s,
      c.ran_on_gpu ? 1 : 0,
    );
  }

  private addServed(day: string, bytes: number): void {
    this.sql.exec("INSERT INTO served VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET bytes = bytes + excluded.bytes", day, bytes);
  }

  /** This shard's sums over `from`..`to` (days, inclusive). */
  async totals(from: string, to: string): Promise<{ tiers: TierTotals[]; bytes_served: number }> {
    const tiers = this.sql
      .exec<{ tier: string; jobs: number; video_s: number; gpu_s: number; encode_s: number; bytes_stored: number; charged: number }>(
        `SELECT tier, COUNT(*) AS jobs, SUM(video_s) AS video_s, SUM(gpu_s) AS gpu_s, SUM(encode_s) AS encode_s,
              SUM(bytes_stored) AS bytes_stored, SUM(charged) AS charged
         FROM jobs WHERE day >= ? AND day <= ? GROUP BY tier ORDER BY tier`,
        from,
        to,
      )
      .toArray()
      .map((r) => ({
        tier: String(r.tier),
        jobs: Number(r.jobs),
        video_s: Number(r.video_s),
        gpu_s: Number(r.gpu_s),
        encode_s: Number(r.encode_s),
        bytes_stored: Number(r.bytes_stored),
        charged: Number(r.charged),
      }));
    const served = Number(this.sql.exec("SELECT COALESCE(SUM(bytes), 0) AS b FROM served WHERE day >= ? AND day <= ?", from, to).one().b);
    return { tiers, bytes_served: served };
  }
}

/** The whole service's report over a period: every shard's totals, summed. */
export async function costReport(
  env: Env,
  from: string,
  to: string,
  prices: { gpu_hour_usd: number; credit_usd: number },
): Promise<CostReport> {
  const shards = await Promise.all(
    Array.from({ length: COST_SHARDS }, (_, i) => env.COSTS.get(env.COSTS.idFromName(`costs-${i}`)).totals(from, to)),
  );
  const byTier = new Map<string, TierTotals>();
  for (const t of shards.flatMap((s) => s.tiers)) {
    const sum = byTier.get(t.tier) ?? { tier: t.tier, jobs: 0, video_s: 0, gpu_s: 0, encode_s: 0, bytes_stored: 0, charged: 0 };
    for (const k of ["jobs", "video_s", "gpu_s", "encode_s", "bytes_stored", "charged"] as const) sum[k] += t[k];
    byTier.set(t.tier, sum);
  }
  const r6 = (n: number) => Math.round(n * 1e6) / 1e6;
  return {
    from,
    to,
    prices,
    bytes_served: shards.reduce((s, x) => s + x.bytes_served, 0),
    tiers: [...byTier.values()]
      .sort((a, b) => a.tier.localeCompare(b.tier))
      .map((r) => {
        const gpuCost = (r.gpu_s / 3600) * prices.gpu_hour_usd;
        const revenue = r.charged * prices.credit_usd;
        return {
          tier: r.tier,
          jobs: r.jobs,
          video_s: r.video_s,
          gpu_s: r6(r.gpu_s),
          encode_s: r6(r.encode_s),
          bytes_stored: r.bytes_stored,
          revenue_usd: r6(revenue),
          gpu_cost_usd: r6(gpuCost),
          cost_per_video_second_usd: r.video_s > 0 ? r6(gpuCost / r.video_s) : null,
          margin: revenue > 0 ? Math.round(((revenue - gpuCost) / revenue) * 10_000) / 10_000 : null,
        };
      }),
  };
}
