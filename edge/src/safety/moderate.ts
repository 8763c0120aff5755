import { ALLOWLIST, type AllowEntry } from "./lexicons/allowlist.ts";
import hate from "./lexicons/hate.ts";
import illegalDangerous from "./lexicons/illegal-dangerous.ts";
import minorContext from "./lexicons/minor-context.ts";
import suggestive from "./lexicons/suggestive.ts";
import realPersonLikeness from "./lexicons/real-person-likeness.ts";
import selfHarm from "./lexicons/self-harm.ts";
import sexualMinors from "./lexicons/sexual-minors.ts";
import sexual from "./lexicons/sexual.ts";
import type { Lexicon } from "./lexicons/types.ts";
import violenceGore from "./lexicons/violence-gore.ts";
import { COMBINATIONS } from "./lexicons/combinations.ts";
import { AhoCorasick } from "./matcher.ts";
import { CLASSES, classify, decodeModel, featureSlots, shippedProbabilities, type ShippedModel } from "./classifier.ts";
import { MODEL } from "./model/weights.data.ts";
import { isWordChar, normalize, type NormalForm } from "./normalize.ts";

/**
 * Prompt safety: `moderate(input)` → `{ flagged, categories, matches }`, the shape of
 * `POST /v1/moderations` (OpenAI-moderations-like). Runs on every create; pure, no I/O.
 *
 * Pipeline: normalize (normalize.ts: NFKC-class folding, invisible characters, look-alikes,
 * leetspeak with both readings of "1", separators, Traditional → Simplified) → one
 * Aho–Corasick pass per normal form over all lexicons, allowlist and minor indicators at
 * once → word-boundary check for Latin-script terms (CJK terms are substrings) → drop
 * matches inside an allowlisted phrase → sexual + minor indicator (or an age under 18)
 * ⇒ sexual_minors; so does a suggestive word (lexicons/suggestive.ts) with a minor indicator;
 * a combination rule (lexicons/combinations.ts) flags its category when each of its groups has
 * a term in the prompt; a prompt none of that flags goes to the classifier (classifier.ts),
 * whose match names it and its score.
 */
export const CATEGORIES = [
  "sexual",
  "sexual_minors",
  "violence_gore",
  "self_harm",
  "hate",
  "illegal_dangerous",
  "real_person_likeness",
] as const;
export type Category = (typeof CATEGORIES)[number];

const LEXICONS: Readonly<Record<Category, Lexicon>> = {
  sexual,
  sexual_minors: sexualMinors,
  violence_gore: violenceGore,
  self_harm: selfHarm,
  hate,
  illegal_dangerous: illegalDangerous,
  real_person_likeness: realPersonLikeness,
};

interface ModerationMatch {
  /** A built-in category or a deployment's extra category. */
  category: string;
  /** The lexicon term as written in the lexicon ("behead*", "杀人"), or a rule description. */
  term: string;
  /** UTF-16 offsets of the match in the original input (end exclusive). */
  start?: number;
  end?: number;
}

export interface ModerationResult {
  flagged: boolean;
  /** Every built-in category, plus the deployment's extra categories. */
  categories: Record<Category, boolean> & Record<string, boolean>;
  matches: ModerationMatch[];
}

export interface ModerateOptions {
  /**
   * A deployment's extra terms, by category: a built-in category (terms are added to it) or
   * a new one (it appears in `categories`). Same term syntax as the lexicons.
   */
  extra?: Readonly<Record<string, readonly string[]>>;
  /** Extra allowlisted phrases (all categories), or entries limited to some categories. */
  allow?: readonly (string | AllowEntry)[];
  /** The second-stage classifier (classifier.ts) for prompts no lexicon flags; default on. */
  classifier?: boolean;
}

export interface Moderator {
  readonly categories: readonly string[];
  moderate(input: string): ModerationResult;
}

/** Inflections accepted after a whole-word Latin term: "rape" → "rapes", "raped". */
const SUFFIXES = ["s", "es", "d", "ed", "ing", "er", "ers"];

const KIND_FLAG = 0;
const KIND_ALLOW = 1;
const KIND_MINOR = 2;
const KIND_SUGGESTIVE = 3;
const KIND_COMBO = 4;

interface PatternInfo {
  kind: number;
  category: string;
  term: string;
  prefix: boolean;
  /** Word boundary required before / after (the pattern starts / ends with a Latin-script letter or digit). */
  leftBoundary: boolean;
  rightBoundary: boolean;
  only: ReadonlySet<string> | undefined;
  /** KIND_COMBO: the rule's index in COMBINATIONS and the bit of the group this term belongs to. */
  rule?: number;
  groupBit?: number;
}

interface ScanState {
  minor: boolean;
  /** First suggestive term seen (only matters with a minor indicator). */
  suggestive: string | undefined;
}

interface Hit {
  info: PatternInfo;
  start: number;
  end: number;
}

/**
 * A term right after a negation is not asked for: "no gore", "without nudity", "无血腥",
 * "不展示血腥" (the lexicon terms, not the combination rules). Another mention of the same
 * term without one is still a match.
 */
const NEGATORS_EN = new Set(["no", "not", "without", "zero", "non"]);
const NEGATORS_ZH = ["不展示", "不含", "没有", "无", "不"];

function negated(text: string, start: number): boolean {
  let i = start;
  while (i > 0 && text.charCodeAt(i - 1) === 32) i--;
  for (const n of NEGATORS_ZH) if (text.endsWith(n, i)) return true;
  let j = i;
  while (j > 0 && isWordChar(text.charCodeAt(j - 1))) j--;
  return NEGATORS_EN.has(text.slice(j, i));
}

const AGE_EN = /(?:^|[^0-9])(1[0-7]|[1-9])\s*-?\s*(?:yo|y\/o|yrs?[\s-]*old|years?[\s-]*old|year[\s-]*olds)(?![a-z])/;
const AGE_ZH =
  /(?:^|[^0-9])(1[0-7]|[1-9])\s*(?:岁|周岁)|(?:^|[^十二三四五六七八九])(?:十[一二三四五六七]|[一二三四五六七八九两])\s*(?:岁|周岁)/;

let shippedModel: ShippedModel | undefined;
/** Scratch for `moderate` (synchronous, one call at a time): a typed array per call costs more than its use. */
const groupsScratch = new Uint32Array(COMBINATIONS.length);

function buildModerator(opts: ModerateOptions = {}): Moderator {
  const model = opts.classifier === false ? null : (shippedModel ??= decodeModel(MODEL));
  const patterns: string[] = [];
  const infos: PatternInfo[] = [];
  const categories: string[] = [...CATEGORIES];

  const add = (kind: number, category: string, rawTerm: string, only?: readonly string[], combo?: { rule: number; groupBit: number }) => {
    const term = rawTerm.trim();
    if (!term) return;
    const prefix = term.endsWith("*");
    const body = prefix ? term.slice(0, -1) : term;
    const seen = new Set<string>();
    for (const form of normalize(body)) {
      const p = form.text.trim();
      if (!p || seen.has(p)) continue;
      seen.add(p);
      patterns.push(p);
      infos.push({
        kind,
        category,
        term,
        prefix,
        leftBoundary: isWordChar(p.charCodeAt(0)),
        rightBoundary: isWordChar(p.charCodeAt(p.length - 1)),
        only: only ? new Set(only) : undefined,
        ...combo,
      });
    }
  };

  for (const category of CATEGORIES) {
    const lex = LEXICONS[category];
    for (const t of lex.en) add(KIND_FLAG, category, t);
    for (const t of lex.zh) add(KIND_FLAG, category, t);
  }
  for (const t of minorContext.en) add(KIND_MINOR, "minor_context", t);
  for (const t of minorContext.zh) add(KIND_MINOR, "minor_context", t);
  for (const t of suggestive.en) add(KIND_SUGGESTIVE, "suggestive", t);
  for (const t of suggestive.zh) add(KIND_SUGGESTIVE, "suggestive", t);
  COMBINATIONS.forEach((c, rule) => {
    c.groups.forEach((g, i) => {
      for (const t of [...g.en, ...g.zh]) add(KIND_COMBO, c.category, t, undefined, { rule, groupBit: 1 << i });
    });
  });
  for (const e of ALLOWLIST) add(KIND_ALLOW, "allow", e.phrase, e.only);
  for (const e of opts.allow ?? []) {
    if (typeof e === "string") add(KIND_ALLOW, "allow", e);
    else add(KIND_ALLOW, "allow", e.phrase, e.only);
  }
  for (const [category, terms] of Object.entries(opts.extra ?? {})) {
    if (!categories.includes(category)) categories.push(category);
    for (const t of terms) add(KIND_FLAG, category, t);
  }
  const ac = new AhoCorasick(patterns);

  function boundaryOk(form: NormalForm, info: PatternInfo, start: number, end: number): boolean {
    const text = form.text;
    const soft = form.soft;
    if (info.leftBoundary && start > 0 && isWordChar(text.charCodeAt(start - 1)) && !soft?.[start]) return false;
    if (!info.rightBoundary || info.prefix || end >= text.length) return true;
    if (!isWordChar(text.charCodeAt(end)) || soft?.[end]) return true;
    for (const suf of SUFFIXES) {
      const after = end + suf.length;
      if (text.startsWith(suf, end) && (after >= text.length || !isWordChar(text.charCodeAt(after)))) return true;
    }
    return false;
  }

  function scanForm(form: NormalForm, hits: Hit[], allows: Hit[], state: ScanState): void {
    const text = form.text;
    ac.scan(text, (id, end) => {
      const info = infos[id]!;
      const start = end - patterns[id]!.length;
      if (!boundaryOk(form, info, start, end)) return;
      if (info.kind === KIND_FLAG || info.kind === KIND_COMBO) hits.push({ info, start, end });
      else if (info.kind === KIND_ALLOW) allows.push({ info, start, end });
      else if (info.kind === KIND_MINOR) state.minor = true;
      else state.suggestive ??= info.term;
    });
  }

  function moderate(input: string): ModerationResult {
    const cats: Record<string, boolean> = {};
    for (const c of categories) cats[c] = false;
    const matches: ModerationMatch[] = [];
    const seen = new Set<string>();
    const state: ScanState = { minor: false, suggestive: undefined };
    let sexualHit: ModerationMatch | undefined;
    let canonical = "";
    let canonicalDone = false;
    /** Per combination rule: the bits of the groups seen so far. */
    const groupsSeen = groupsScratch;
    groupsSeen.fill(0);
    /** The canonical form with its allowlisted spans blanked: what the classifier reads. */
    let forClassifier = "";
    for (const form of normalize(input)) {
      if (!canonical) canonical = form.text;
      const hits: Hit[] = [];
      const allows: Hit[] = [];
      scanForm(form, hits, allows, state);
      if (model && !canonicalDone) {
        forClassifier = form.text;
        for (const a of allows) forClassifier = forClassifier.slice(0, a.start) + " ".repeat(a.end - a.start) + forClassifier.slice(a.end);
      }
      canonicalDone = true;
      for (const h of hits) {
        const category = h.info.category;
        if (allows.some((a) => a.start <= h.start && h.end <= a.end && (!a.info.only || a.info.only.has(category)))) continue;
        if (h.info.kind === KIND_COMBO) {
          groupsSeen[h.info.rule!]! |= h.info.groupBit!;
          continue;
        }
        if (negated(form.text, h.start)) continue;
        const start = form.src[h.start]!;
        const last = form.src[h.end - 1]!;
        const hi = input.charCodeAt(last);
        const end = last + (hi >= 0xd800 && hi <= 0xdbff ? 2 : 1);
        const key = `${category}\u0000${h.info.term}\u0000${start}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const m: ModerationMatch = { category, term: h.info.term, start, end };
        matches.push(m);
        cats[category] = true;
        if (category === "sexual") sexualHit ??= m;
      }
    }
    COMBINATIONS.forEach((c, rule) => {
      if (groupsSeen[rule] !== (1 << c.groups.length) - 1) return;
      matches.push({ category: c.category, term: c.rule });
      cats[c.category] = true;
      if (c.category === "sexual") sexualHit ??= matches[matches.length - 1];
    });
    // Sexual or suggestive content together with a minor indicator or an age under 18.
    const sexualTerm = sexualHit?.term ?? state.suggestive;
    if (sexualTerm !== undefined && !cats.sexual_minors) {
      let why = state.minor ? "minor indicator" : "";
      if (!why && (AGE_EN.test(input.toLowerCase()) || AGE_ZH.test(input) || AGE_EN.test(canonical))) why = "age under 18";
      if (why) {
        cats.sexual_minors = true;
        matches.push({ category: "sexual_minors", term: `${sexualTerm} + ${why}` });
      }
    }
    let flagged = false;
    for (const c of categories) if (cats[c]) flagged = true;
    if (!flagged && model) {
      // An allowlisted phrase ("shoot a video", "killer whale") is benign whole: the
      // classifier does not see it.
      const verdict = classify(model, forClassifier, true);
      if (verdict.flagged) {
        flagged = true;
        cats[verdict.category] = true;
        matches.push({ category: verdict.category, term: `classifier ${verdict.unsafe.toFixed(3)}` });
      }
    }
    return { flagged, categories: cats as ModerationResult["categories"], matches };
  }

  return { categories, moderate };
}

let defaultModerator: Moderator | undefined;
const configured = new WeakMap<ModerateOptions, Moderator>();

/**
 * A moderator for a deployment's options (extra terms, extra allowlist). The automaton is
 * built here, once: keep the result for the isolate's lifetime.
 */
export function createModerator(opts?: ModerateOptions): Moderator {
  if (!opts || (!opts.extra && !opts.allow && opts.classifier !== false)) return (defaultModerator ??= buildModerator());
  let m = configured.get(opts);
  if (!m) {
    m = buildModerator(opts);
    configured.set(opts, m);
  }
  return m;
}

/**
 * Checks one prompt. With `opts`, the moderator for that options object is built on first
 * use and cached by object identity (pass the same object each time, e.g. from config).
 */
export function moderate(input: string, opts?: ModerateOptions): ModerationResult {
  return createModerator(opts).moderate(input);
}

/**
 * The classifier's probability for each category it knows (all but sexual_minors, which the
 * lexicons' minor rules decide), for `POST /v1/moderations`. Scores explain; `moderate`
 * decides (lexicons first, then the classifier's threshold on 1 − P(safe)).
 */
export function categoryScores(input: string): Record<string, number> {
  const p = shippedProbabilities((shippedModel ??= decodeModel(MODEL)), featureSlots(input, MODEL.buckets));
  const scores: Record<string, number> = {};
  CLASSES.forEach((c, i) => {
    if (c !== "safe") scores[c] = Math.round(p[i]! * 1e4) / 1e4;
  });
  return scores;
}

/** For a 422 problem+json: the flagged categories, in a stable order. */
export function flaggedCategories(result: ModerationResult): string[] {
  return Object.keys(result.categories).filter((c) => result.categories[c]);
}
