import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * Result cache and request coalescing. One Durable Object per content address: a
 * hash of everything that determines the clip (account, model, normalized prompts, every
 * generation parameter and the seed). It serializes the identical requests that arrive
 * together, so exactly one becomes the leader (queued, run on a GPU) and the others join it;
 * once the leader has succeeded, later identical requests are answered from its outputs.
 * A failed or expired leader is forgotten, so the next request runs afresh.
 */
/** What a cache hit needs of the leader's finished job (kept here: one call fewer per hit). */
interface CachedResult {
  codecs: string | null;
  init: { key: string; bytes: number } | null;
  chunks: { index: number; key: string; frames: number; duration_s: number; bytes: number }[];
  content: { key: string; bytes: number } | null;
  usage: unknown;
}

export type Claim =
  | { role: "leader" }
  | { role: "joined"; leader: string }
  | {
      role: "hit";
      leader: string;
      result: CachedResult | null;
      expires_at: string;
      /** epoch ms: answer hits from it until then */ usable_until: number;
    };

interface State {
  leader: string;
  /** Join key: a standard request does not join a job waiting in the economy queue. */
  tier: string;
  status: "running" | "succeeded";
  /** Succeeded outputs are usable until then (the leader's retention). */
  expires_at: string | null;
  settled_at: string | null;
  result?: CachedResult | null;
}

const KEY = "state";

export class ContentObject extends DurableObject<Env> {
  async claim(jobId: string, tier: string): Promise<Claim> {
    const state = await this.ctx.storage.get<State>(KEY);
    const now = Date.now();
    // A hit must leave the caller time to fetch: at least a minute, or half the retention.
    const margin =
      state?.expires_at && state.settled_at ? Math.min(60_000, (Date.parse(state.expires_at) - Date.parse(state.settled_at)) / 2) : 60_000;
    if (state?.status === "succeeded" && state.expires_at && Date.parse(state.expires_at) > now + margin) {
      return {
        role: "hit",
        leader: state.leader,
        result: state.result ?? null,
        expires_at: state.expires_at,
        usable_until: Date.parse(state.expires_at) - margin,
      };
    }
    if (state?.status === "running" && (state.tier === tier || state.tier === "standard")) {
      return { role: "joined", leader: state.leader };
    }
    await this.ctx.storage.put(KEY, { leader: jobId, tier, status: "running", expires_at: null, settled_at: null } satisfies State);
    return { role: "leader" };
  }

  /** The leader ended: keep a success for hits, forget anything else. */
  async settle(jobId: string, succeeded: boolean, expiresAt: string | null, result: CachedResult | null = null): Promise<void> {
    const state = await this.ctx.storage.get<State>(KEY);
    if (!state || state.leader !== jobId) return;
    if (succeeded && expiresAt)
      await this.ctx.storage.put(KEY, {
        ...state,
        status: "succeeded",
        expires_at: expiresAt,
        settled_at: new Date().toISOString(),
        result,
      });
    else await this.ctx.storage.delete(KEY);
  }
}

/**
 * Finished results this isolate has seen, by content address: a succeeded leader's outputs
 * never change before they expire, so a repeated hit is answered without asking the content
 * object again (one round trip fewer on the hot path). Bounded; entries end at `usable_until`.
 */
const seenHits = new Map<string, Extract<Claim, { role: "hit" }>>();
const SEEN_HITS_MAX = 10_000;

export function recallHit(address: string, nowMs = Date.now()): Extract<Claim, { role: "hit" }> | null {
  const hit = seenHits.get(address);
  if (!hit) return null;
  if (hit.usable_until > nowMs) return hit;
  seenHits.delete(address);
  return null;
}

export function rememberHit(address: string, claim: Claim): void {
  if (claim.role !== "hit" || claim.result === null) return;
  if (seenHits.size >= SEEN_HITS_MAX) seenHits.delete(seenHits.keys().next().value!);
  seenHits.set(address, claim);
}

/** Lowercase hex SHA-256 of the canonical (sorted-key) JSON of `value`. */
export async function contentAddress(value: Record<string, unknown>): Promise<string> {
  const canonical = JSON.stringify(value, Object.keys(value).sort());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Prompt text as the cache compares it: NFKC, trimmed, runs of whitespace collapsed. */
export function normalizePromptForCache(text: string): string {
  return text.normalize("NFKC").trim().replace(/\s+/g, " ");
}
