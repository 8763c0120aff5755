import type { Tier } from "./schemas/request.ts";

/**
 * The price table: credits per call, known before the call (quote: `dry_run`). One
 * credit is the unit the ledger counts; how much money a credit is belongs to the account's
 * contract, not to this table.
 *
 *   credits = ceil(duration_s × CREDITS_PER_SECOND × (steps / REFERENCE_STEPS) × resolution × tier)
 *
 * then × HIT or × JOINED when the answer comes from the result cache or joins an identical run.
 */
const PRICES = {
  creditsPerSecond: 10,
  referenceSteps: 12,
  /** By the short side of the frame, in pixels. */
  resolution: { 144: 1, 360: 2, 480: 3, 720: 6, 1080: 12 } as Record<number, number>,
  tier: { standard: 1, economy: 0.5 } satisfies Record<Tier, number>,
  /** A cache hit uses no GPU: a tenth. Joining a run uses none either, but holds a slot of it. */
  hit: 0.1,
  joined: 0.25,
} as const;

export type PriceKind = "generation" | "joined" | "hit";

export interface Quote {
  credits: number;
  kind: PriceKind;
  breakdown: { duration_s: number; steps: number; short_side: number; tier: Tier; base: number; factor: number };
}

export function quote(p: { duration_s: number; steps: number; short_side: number; tier: Tier }, kind: PriceKind = "generation"): Quote {
  const res = PRICES.resolution[p.short_side] ?? Math.max(1, (p.short_side / 144) ** 2);
  const base = p.duration_s * PRICES.creditsPerSecond * (p.steps / PRICES.referenceSteps) * res * PRICES.tier[p.tier];
  const factor = kind === "hit" ? PRICES.hit : kind === "joined" ? PRICES.joined : 1;
  return { credits: Math.max(1, Math.ceil(base * factor)), kind, breakdown: { ...p, base: Math.ceil(base), factor } };
}
