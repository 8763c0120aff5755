/** What the account's ledger answers (billing/ledger.ts), shared with the edge's callers. */
export interface Reservation {
  ok: boolean;
  balance: number;
  /** Credits the call needed when refused. */
  needed?: number;
  /** `balance` or `token_cap` when refused. */
  reason?: "balance" | "token_cap";
}

export interface ReserveMeta {
  tier: string;
  subject: string | null;
  token: string | null;
  tokenCap: number | null;
}

export interface UsageSummary {
  balance: number;
  reserved: number;
  spent: number;
  jobs: number;
  by_day: { day: string; tier: string; spent: number; jobs: number }[];
}
