import { fnv1a } from "./hash.ts";
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
export type ClassName = (typeof CLASSES)[number];

export interface ClassifierModel {
  /** Power of two. */
  buckets: number;
  /** [class][bucket] weights, row-major: CLASSES.length × buckets. */
  weights: Float32Array;
  bias: Float32Array;
  /** Flag when 1 − P(safe) reaches this (chosen on cross-validated training predictions). */
  threshold: number;
}

export interface Classification {
  /** 1 − P(safe). */
  unsafe: number;
  /** The most likely unsafe class. */
  category: Exclude<ClassName, "safe">;
  flagged: boolean;
}

const SUFFIXES = ["ings", "ing", "edly", "ed", "ies", "es", "s", "ly", "er", "ers"];

function stem(w: string): string {
  for (const s of SUFFIXES) if (w.length - s.length >= 3 && w.endsWith(s)) return w.slice(0, -s.length);
  return w;
}

/**
 * The distinct feature slots of `text`; its canonical normal form is computed here unless
 * the caller passes one (`normalized`: moderate() already has it).
 */
export function featureSlots(text: string, buckets: number, normalized = false): number[] {
  const canonical = normalized ? text : normalize(text)[0]!.text;
  const mask = buckets - 1;
  const slots = new Set<number>();
  const add = (f: string) => slots.add(fnv1a(f) & mask);
  let prevWord = "";
  let prevCjk = "";
  let word = "";
  const endWord = () => {
    if (!word) return;
    add(`w:${word}`);
    const padded = `<${word}>`;
    for (let i = 0; i + 4 <= padded.length; i++) add(`g:${padded.slice(i, i + 4)}`);
    const s = stem(word);
    if (s !== word) add(`s:${s}`);
    if (prevWord) add(`b:${prevWord} ${word}`);
    prevWord = word;
    word = "";
  };
  for (const ch of canonical) {
    const cls = charClass(ch.codePointAt(0)!);
    if (cls === C_CJK) {
      endWord();
      prevWord = "";
      add(`c:${ch}`);
      if (prevCjk) add(`d:${prevCjk}${ch}`);
      prevCjk = ch;
    } else if (cls === C_LETTER || cls === C_DIGIT) {
      prevCjk = "";
      word += ch;
    } else {
      endWord();
      prevCjk = "";
    }
  }
  endWord();
  return [...slots];
}

/** Class probabilities (softmax of the scores) for the given slots. */
export function probabilities(model: ClassifierModel, slots: readonly number[]): Float64Array {
  const k = CLASSES.length;
  const scores = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let z = model.bias[c]!;
    const row = c * model.buckets;
    for (const s of slots) z += model.weights[row + s]!;
    scores[c] = z;
  }
  let max = -Infinity;
  for (const z of scores) max = Math.max(max, z);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += scores[c] = Math.exp(scores[c]! - max);
  for (let c = 0; c < k; c++) scores[c] = scores[c]! / sum;
  return scores;
}

export function classify(model: ClassifierModel, text: string, normalized = false): Classification {
  const p = probabilities(model, featureSlots(text, model.buckets, normalized));
  let best = 1;
  for (let c = 2; c < CLASSES.length; c++) if (p[c]! > p[best]!) best = c;
  const unsafe = 1 - p[0]!;
  return { unsafe, category: CLASSES[best] as Classification["category"], flagged: unsafe >= model.threshold };
}

/** The shipped model from its data module: weights stored as int8 with one scale per class. */
export function decodeModel(data: { buckets: number; scale: readonly number[]; bias: readonly number[]; threshold: number; weights: string }): ClassifierModel {
  const bytes = Uint8Array.from(atob(data.weights), (c) => c.charCodeAt(0));
  const weights = new Float32Array(CLASSES.length * data.buckets);
  for (let c = 0; c < CLASSES.length; c++) {
    const scale = data.scale[c]!;
    for (let i = 0; i < data.buckets; i++) {
      const q = bytes[c * data.buckets + i]!;
      weights[c * data.buckets + i] = (q > 127 ? q - 256 : q) * scale;
    }
  }
  return { buckets: data.buckets, weights, bias: Float32Array.from(data.bias), threshold: data.threshold };
}
