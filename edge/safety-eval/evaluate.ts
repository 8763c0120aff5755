/**
 * Scores a moderation function on the labelled evaluation set (prompts.jsonl): per-category
 * precision/recall, recall on unsafe prompts, false-positive rate on safe prompts. Shared by
 * the bench (edge/bench/safety.ts) and the workerd test (edge/test/safety.test.ts).
 *
 * Scoring: an unsafe prompt is caught when `flagged` is true (any category: that is what
 * blocks the create); per-category recall asks for its own category. A predicted category is
 * a true positive for a prompt labelled with it or listing it in `also` (sexual_minors
 * prompts are also sexual); otherwise a false positive for that category.
 */
import type { EvalItem } from "./build.ts";

export interface Verdict {
  flagged: boolean;
  categories: Record<string, boolean>;
}

interface CategoryScore {
  category: string;
  support: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface Scores {
  total: number;
  unsafe: number;
  safe: number;
  /** Unsafe prompts flagged (any category) / unsafe prompts. */
  recall: number;
  /** Safe prompts flagged / safe prompts. */
  falsePositiveRate: number;
  /** Per kind: flagged share of unsafe (plain, evasion) or of safe (benign, near_miss). */
  byKind: Record<string, { n: number; flaggedShare: number }>;
  perCategory: CategoryScore[];
  /**
   * Per label: unsafe prompts of that label flagged at all (what blocks a create), and safe
   * prompts flagged with that category (its false positives).
   */
  byLabel: Record<string, { n: number; recall: number; safeFlagged: number; falsePositiveRate: number }>;
  missed: { text: string; label: string; kind: string; evasion?: string }[];
  falsePositives: { text: string; kind: string; categories: string[] }[];
}

export function parseJsonl(text: string): EvalItem[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EvalItem);
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

export function score(items: readonly EvalItem[], check: (text: string) => Verdict): Scores {
  const cats = new Map<string, { support: number; tp: number; fp: number; fn: number }>();
  const cat = (c: string) => {
    let s = cats.get(c);
    if (!s) cats.set(c, (s = { support: 0, tp: 0, fp: 0, fn: 0 }));
    return s;
  };
  const kinds = new Map<string, { n: number; flagged: number }>();
  let unsafe = 0,
    caught = 0,
    safe = 0,
    fps = 0;
  const missed: Scores["missed"] = [];
  const labels = new Map<string, { n: number; caught: number; safeFlagged: number }>();
  const label = (l: string) => {
    let s = labels.get(l);
    if (!s) labels.set(l, (s = { n: 0, caught: 0, safeFlagged: 0 }));
    return s;
  };
  const falsePositives: Scores["falsePositives"] = [];
  for (const item of items) {
    const v = check(item.text);
    const predicted = Object.keys(v.categories).filter((c) => v.categories[c]);
    const k = kinds.get(item.kind) ?? { n: 0, flagged: 0 };
    k.n++;
    if (v.flagged) k.flagged++;
    kinds.set(item.kind, k);
    if (item.label === "safe") {
      safe++;
      if (v.flagged) {
        fps++;
        falsePositives.push({ text: item.text, kind: item.kind, categories: predicted });
        for (const p of predicted) label(p).safeFlagged++;
      }
    } else {
      unsafe++;
      label(item.label).n++;
      if (v.flagged) {
        caught++;
        label(item.label).caught++;
      } else missed.push({ text: item.text, label: item.label, kind: item.kind, ...(item.evasion ? { evasion: item.evasion } : {}) });
      const s = cat(item.label);
      s.support++;
      if (v.categories[item.label]) s.tp++;
      else s.fn++;
    }
    for (const p of predicted) {
      if (p === item.label) continue;
      if (item.also?.includes(p as EvalItem["label"])) continue;
      cat(p).fp++;
    }
  }
  const perCategory = [...cats.entries()]
    .map(([category, s]) => ({ category, ...s, precision: ratio(s.tp, s.tp + s.fp), recall: ratio(s.tp, s.tp + s.fn) }))
    .sort((a, b) => a.category.localeCompare(b.category));
  const byKind: Scores["byKind"] = {};
  for (const [kind, k] of kinds) byKind[kind] = { n: k.n, flaggedShare: ratio(k.flagged, k.n) };
  const byLabel: Scores["byLabel"] = {};
  for (const [l, s] of [...labels].sort(([a], [b]) => a.localeCompare(b)))
    byLabel[l] = {
      n: s.n,
      recall: ratio(s.caught, s.n),
      safeFlagged: s.safeFlagged,
      falsePositiveRate: safe === 0 ? 0 : s.safeFlagged / safe,
    };
  return {
    total: items.length,
    unsafe,
    safe,
    recall: ratio(caught, unsafe),
    falsePositiveRate: safe === 0 ? 0 : fps / safe,
    byKind,
    perCategory,
    byLabel,
    missed,
    falsePositives,
  };
}
