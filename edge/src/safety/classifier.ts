import { fnv1a, fnv1aFrom } from "./hash.ts";
import { C_CJK, C_DIGIT, C_LETTER, charClass, normalize } from "./normalize.ts";

/**
 * The second stage of prompt safety: a linear classifier (multinomial logistic regression)
 * over hashed features of the normalized prompt, for what no lexicon word names (paraphrases,
 * euphemisms). It runs on every prompt after the lexicons; its weights are data
 * (model/weights.data.ts), trained reproducibly by infra/safety/train-classifier.ts on the
 * labelled prompts in edge/safety-train/ (and the dev halves of the evaluation sets), never on
 * the held-out halves it is measured on.
 *
 * Features, from the canonical normal form (normalize.ts: case, look-alikes, leetspeak,
 * separators, Traditional → Simplified already folded):
 * - Latin-script words: each word, its crude stem (inflection cut), and each pair of
 *   neighbouring words;
 * - CJK: each character and each pair of neighbouring characters (no word breaks there).
 * Each feature is hashed (FNV-1a) into `buckets` slots; a class's score is the sum of its
 * weights at the prompt's slots (each slot counted once), plus its bias.
 */
export const CLASSES = ["safe", "sexual", "violence_gore", "self_harm", "hate", "illegal_dangerous", "real_person_likeness"] as const;
type ClassName = (typeof CLASSES)[number];

/** The model as training holds it: float weights. */
export interface ClassifierModel {
  /** Power of two. */
  buckets: number;
  /** [bucket][class] weights: a slot's weights for every class side by side. */
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * The model as it ships and runs: int8 weights, [bucket][class] (a slot's 7 weights in 7
 * bytes: 230 KB, which stays in cache beside the lexicons'), one scale per class.
 */
export interface ShippedModel {
  buckets: number;
  weights: Int8Array;
  scale: Float64Array;
  bias: Float64Array;
  /**
   * Per class (index 0, safe, unused): flag when P(class) reaches it. Each is chosen on
   * cross-validated training predictions for its own share of false positives, more for the
   * severe classes (infra/safety/train-classifier.ts).
   */
  thresholds: Float64Array;
  /** With a minor in the prompt, P(sexual) from here on is `sexual_minors` (moderate.ts). */
  minorSexualThreshold: number;
}

export interface Classification {
  /** The flagged class with the highest probability; unflagged: the most likely unsafe class. */
  category: Exclude<ClassName, "safe">;
  /** P(category). */
  score: number;
  /** P(sexual), for the minors rule. */
  sexual: number;
  flagged: boolean;
}

const SUFFIXES = ["ings", "ing", "edly", "ed", "ies", "es", "s", "ly", "er", "ers"];

/** How many characters the crude stem cuts from `text[start, end)` (an inflection), or 0. */
function stemCut(text: string, start: number, end: number): number {
  outer: for (const s of SUFFIXES) {
    if (end - start - s.length < 3) continue;
    for (let i = 0; i < s.length; i++) if (text.charCodeAt(end - s.length + i) !== s.charCodeAt(i)) continue outer;
    return s.length;
  }
  return 0;
}

// A feature is a kind prefix and a text ("w:" + word); its hash is FNV-1a continued from the
// prefix's over the normal form itself, so no feature string is built (this runs on every
// prompt the lexicons pass).
const W = fnv1a("w:");
const S = fnv1a("s:");
const B = fnv1a("b:");
const G = fnv1a("g:");
const C = fnv1a("c:");
const D = fnv1a("d:");
const LT = 0x3c; // "<"
const GT = 0x3e; // ">"
const SPACE = 0x20;

const step = (h: number, code: number) => Math.imul(h ^ code, 0x01000193) >>> 0;

/** Distinct slots in first-seen order, deduplicated by a stamp per slot (no Set). */
class SlotList {
  readonly slots: number[] = [];
  private stamps = new Uint32Array(0);
  private stamp = 0;

  reset(buckets: number): void {
    if (this.stamps.length !== buckets) this.stamps = new Uint32Array(buckets);
    if (++this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    this.slots.length = 0;
  }

  add(slot: number): void {
    if (this.stamps[slot] === this.stamp) return;
    this.stamps[slot] = this.stamp;
    this.slots.push(slot);
  }
}

const scratch = new SlotList();

/**
 * The distinct feature slots of `text`, in first-seen order; its canonical normal form is
 * computed here unless the caller passes one (`normalized`: moderate() already has it). The
 * array is reused by the next call: copy it to keep it.
 */
export function featureSlots(text: string, buckets: number, normalized = false): readonly number[] {
  const t = normalized ? text : normalize(text)[0]!.text;
  const mask = buckets - 1;
  const out = scratch;
  out.reset(buckets);
  // The current and previous Latin-script words as ranges of `t`; the previous CJK character.
  let ws = -1;
  let pws = -1;
  let pwe = -1;
  let pcs = -1;
  let pce = -1;
  const endWord = (we: number) => {
    if (ws < 0) return;
    out.add(fnv1aFrom(W, t, ws, we) & mask);
    // Character 4-grams of "<word>" (position p of "<word>" is t[ws + p - 1] inside).
    const n = we - ws + 2;
    for (let i = 0; i + 4 <= n; i++) {
      let h = G;
      for (let p = i; p < i + 4; p++) h = step(h, p === 0 ? LT : p === n - 1 ? GT : t.charCodeAt(ws + p - 1));
      out.add(h & mask);
    }
    const cut = stemCut(t, ws, we);
    if (cut > 0) out.add(fnv1aFrom(S, t, ws, we - cut) & mask);
    if (pws >= 0) out.add(fnv1aFrom(step(fnv1aFrom(B, t, pws, pwe), SPACE), t, ws, we) & mask);
    pws = ws;
    pwe = we;
    ws = -1;
  };
  for (let i = 0; i < t.length;) {
    const cp = t.codePointAt(i)!;
    const next = i + (cp > 0xffff ? 2 : 1);
    const cls = charClass(cp);
    if (cls === C_CJK) {
      endWord(i);
      pws = -1;
      out.add(fnv1aFrom(C, t, i, next) & mask);
      if (pcs >= 0) out.add(fnv1aFrom(fnv1aFrom(D, t, pcs, pce), t, i, next) & mask);
      pcs = i;
      pce = next;
    } else if (cls === C_LETTER || cls === C_DIGIT) {
      pcs = -1;
      if (ws < 0) ws = i;
    } else {
      endWord(i);
      pcs = -1;
    }
    i = next;
  }
  endWord(t.length);
  return out.slots;
}

const K = CLASSES.length;

/** Class probabilities (softmax of the scores) for the given slots, with training's float weights. */
export function probabilities(model: ClassifierModel, slots: readonly number[]): Float64Array {
  const scores = Float64Array.from(model.bias);
  const w = model.weights;
  for (const s of slots) {
    const at = s * K;
    for (let c = 0; c < K; c++) scores[c]! += w[at + c]!;
  }
  return softmax(scores);
}

const sums = new Int32Array(K);

/** The same with the shipped int8 weights: integer sums per class, scaled once. */
export function shippedProbabilities(model: ShippedModel, slots: readonly number[]): Float64Array {
  sums.fill(0);
  const w = model.weights;
  for (const s of slots) {
    const at = s * K;
    for (let c = 0; c < K; c++) sums[c]! += w[at + c]!;
  }
  const scores = new Float64Array(K);
  for (let c = 0; c < K; c++) scores[c] = model.bias[c]! + model.scale[c]! * sums[c]!;
  return softmax(scores);
}

/** Softmax, in place. */
function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const z of scores) max = Math.max(max, z);
  let sum = 0;
  for (let c = 0; c < K; c++) sum += scores[c] = Math.exp(scores[c]! - max);
  for (let c = 0; c < K; c++) scores[c] = scores[c]! / sum;
  return scores;
}

export function classify(model: ShippedModel, text: string, normalized = false): Classification {
  const p = shippedProbabilities(model, featureSlots(text, model.buckets, normalized));
  let best = 1;
  let flagged = false;
  for (let c = 1; c < K; c++) {
    const over = p[c]! >= model.thresholds[c]!;
    // A class over its threshold outranks any that is not; among equals, the likelier wins.
    if ((over && !flagged) || (over === flagged && p[c]! > p[best]!)) best = c;
    flagged ||= over;
  }
  return { category: CLASSES[best] as Classification["category"], score: p[best]!, sexual: p[1]!, flagged };
}

/** The shipped model from its data module (int8 weights stored class by class). */
export function decodeModel(data: {
  buckets: number;
  scale: readonly number[];
  bias: readonly number[];
  thresholds: readonly number[];
  minor_sexual_threshold: number;
  weights: string;
}): ShippedModel {
  const bytes = Uint8Array.from(atob(data.weights), (c) => c.charCodeAt(0));
  const weights = new Int8Array(K * data.buckets);
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < data.buckets; i++) weights[i * K + c] = bytes[c * data.buckets + i]!;
  }
  return {
    buckets: data.buckets,
    weights,
    scale: Float64Array.from(data.scale),
    bias: Float64Array.from(data.bias),
    thresholds: Float64Array.from(data.thresholds),
    minorSexualThreshold: data.minor_sexual_threshold,
  };
}
