import { ALLOWLIST, type AllowEntry } from "./lexicons/allowlist.ts";
import hate from "./lexicons/hate.ts";
import illegalDangerous from "./lexicons/illegal-dangerous.ts";
import minorContext from "./lexicons/minor-context.ts";
import { adult as adultPartner, clothing, romance, undress } from "./lexicons/minor-romance.ts";
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
import { statedAges, type Ages } from "./ages.ts";

/**
 * Prompt safety: `moderate(input)` → `{ flagged, categories, matches }`, the shape of
 * `POST /v1/moderations` (OpenAI-moderations-like). Runs on every create; pure, no I/O.
 *
 * Pipeline: normalize (normalize.ts: NFKC-class folding, invisible characters, look-alikes,
 * leetspeak with both readings of "1", separators, Traditional → Simplified) → one
 * Aho–Corasick pass per normal form over all lexicons, allowlist and minor indicators at
 * once → word-boundary check for Latin-script terms (CJK terms are substrings) → drop
 * matches inside an allowlisted phrase → a combination rule (lexicons/combinations.ts) flags its
 * category when each of its groups has a term in the prompt → the minors rule (below) → a
 * prompt nothing flagged goes to the classifier (classifier.ts), whose match names it and its
 * score.
 *
 * Minors fail closed: a minor (lexicons/minor-context.ts, or an age or school grade under 18,
 * ages.ts) together with anything sexual (lexicons/sexual.ts, lexicons/suggestive.ts, a
 * sexual combination rule) or with romance and an adult partner (lexicons/minor-romance.ts)
 * is `sexual_minors` by rule, before the classifier and whatever it says; a minor with a
 * classifier score for `sexual` at the model's own, lower, minors threshold is too.
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
  /** How the prompt places a minor in the scene (an indicator, an age, a grade), if it does. */
  minorIn(input: string): string | undefined;
}

/** Inflections accepted after a whole-word Latin term: "rape" → "rapes", "raped". */
const SUFFIXES = ["s", "es", "d", "ed", "ing", "er", "ers"];

const KIND_FLAG = 0;
const KIND_ALLOW = 1;
const KIND_MINOR = 2;
const KIND_SUGGESTIVE = 3;
const KIND_COMBO = 4;
const KIND_ROMANCE = 5;
const KIND_ADULT = 6;
const KIND_UNDRESS = 7;
const KIND_CLOTHING = 8;

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

/** What the minors rule needs: the first term of each kind seen, outside allowlisted phrases. */
interface ScanState {
  minor: string | undefined;
  suggestive: string | undefined;
  romance: string | undefined;
  adult: string | undefined;
  undress: string | undefined;
  clothing: string | undefined;
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
const NEGATORS_ZH = ["不展示", "不含", "不要", "没有", "避免", "无", "不", "别"];

function negated(text: string, start: number): boolean {
  let i = start;
  while (i > 0 && text.charCodeAt(i - 1) === 32) i--;
  for (const n of NEGATORS_ZH) if (text.endsWith(n, i)) return true;
  let j = i;
  while (j > 0 && isWordChar(text.charCodeAt(j - 1))) j--;
  return NEGATORS_EN.has(text.slice(j, i));
}

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
  // The minors rule's terms, multi-word ones also written together: an evader who spaces out
  // every letter ("a l i t t l e g i r l") leaves the words joined in the normal form.
  const addMinors = (kind: number, category: string, lex: Lexicon) => {
    for (const t of [...lex.en, ...lex.zh]) {
      add(kind, category, t);
      if (t.includes(" ")) add(kind, category, t.replaceAll(" ", ""));
    }
  };
  addMinors(KIND_MINOR, "minor_context", minorContext);
  addMinors(KIND_SUGGESTIVE, "suggestive", suggestive);
  addMinors(KIND_ROMANCE, "romance", romance);
  addMinors(KIND_ADULT, "adult", adultPartner);
  addMinors(KIND_UNDRESS, "undress", undress);
  addMinors(KIND_CLOTHING, "clothing", clothing);
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

  function scanForm(form: NormalForm, hits: Hit[], allows: Hit[]): void {
    const text = form.text;
    ac.scan(text, (id, end) => {
      const info = infos[id]!;
      const start = end - patterns[id]!.length;
      if (!boundaryOk(form, info, start, end)) return;
      if (info.kind === KIND_ALLOW) allows.push({ info, start, end });
      else hits.push({ info, start, end });
    });
  }

  function moderate(input: string): ModerationResult {
    const cats: Record<string, boolean> = {};
    for (const c of categories) cats[c] = false;
    const matches: ModerationMatch[] = [];
    const seen = new Set<string>();
    const state: ScanState = {
      minor: undefined,
      suggestive: undefined,
      romance: undefined,
      adult: undefined,
      undress: undefined,
      clothing: undefined,
    };
    const forms: NormalForm[] = [];
    let sexualHit: ModerationMatch | undefined;
    let canonicalDone = false;
    /** Per combination rule: the bits of the groups seen so far. */
    const groupsSeen = groupsScratch;
    groupsSeen.fill(0);
    /** The canonical form with its allowlisted spans blanked: what the classifier reads. */
    let forClassifier = "";
    for (const form of normalize(input)) {
      forms.push(form);
      const hits: Hit[] = [];
      const allows: Hit[] = [];
      scanForm(form, hits, allows);
      if (model && !canonicalDone) {
        forClassifier = form.text;
        for (const a of allows) forClassifier = forClassifier.slice(0, a.start) + " ".repeat(a.end - a.start) + forClassifier.slice(a.end);
      }
      canonicalDone = true;
      for (const h of hits) {
        const category = h.info.category;
        if (allows.some((a) => a.start <= h.start && h.end <= a.end && (!a.info.only || a.info.only.has(category)))) continue;
        switch (h.info.kind) {
          case KIND_COMBO:
            groupsSeen[h.info.rule!]! |= h.info.groupBit!;
            continue;
          case KIND_MINOR:
            state.minor ??= h.info.term;
            continue;
          case KIND_SUGGESTIVE:
            state.suggestive ??= h.info.term;
            continue;
          case KIND_ROMANCE:
            state.romance ??= h.info.term;
            continue;
          case KIND_ADULT:
            state.adult ??= h.info.term;
            continue;
          case KIND_UNDRESS:
            state.undress ??= h.info.term;
            continue;
          case KIND_CLOTHING:
            state.clothing ??= h.info.term;
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
    // The minors rule. Ages are read only when a sexual or romantic term needs a minor.
    let ages: Ages | undefined;
    const agesOf = () => (ages ??= statedAges(input, forms));
    const flagMinors = (term: string) => {
      cats.sexual_minors = true;
      matches.push({ category: "sexual_minors", term });
    };
    const undressing = state.undress !== undefined && state.clothing !== undefined ? `${state.undress} + ${state.clothing}` : undefined;
    const sexualTerm = sexualHit?.term ?? state.suggestive ?? undressing;
    let minor = state.minor;
    if (!cats.sexual_minors && (sexualTerm !== undefined || state.romance !== undefined)) {
      minor ??= agesOf().minor ?? undefined;
      const partner = state.romance !== undefined && minor !== undefined ? (state.adult ?? agesOf().adult) : null;
      if (minor !== undefined && sexualTerm !== undefined) flagMinors(`minor (${minor}) + sexual (${sexualTerm})`);
      else if (minor !== undefined && partner) flagMinors(`minor (${minor}) + ${state.romance} + adult (${partner})`);
    }
    let flagged = false;
    for (const c of categories) if (cats[c]) flagged = true;
    if (!flagged && model) {
      // An allowlisted phrase ("shoot a video", "killer whale") is benign whole: the
      // classifier does not see it.
      const verdict = classify(model, forClassifier, true);
      const minorHere = verdict.sexual >= model.minorSexualThreshold ? (minor ?? agesOf().minor ?? undefined) : undefined;
      if (minorHere !== undefined) {
        flagged = true;
        flagMinors(`minor (${minorHere}) + classifier sexual ${verdict.sexual.toFixed(3)}`);
      } else if (verdict.flagged) {
        flagged = true;
        cats[verdict.category] = true;
        matches.push({ category: verdict.category, term: `classifier ${verdict.category} ${verdict.score.toFixed(3)}` });
      }
    }
    return { flagged, categories: cats as ModerationResult["categories"], matches };
  }

  function minorIn(input: string): string | undefined {
    const forms = normalize(input);
    for (const form of forms) {
      const hits: Hit[] = [];
      scanForm(form, hits, []);
      const found = hits.find((h) => h.info.kind === KIND_MINOR);
      if (found) return found.info.term;
    }
    return statedAges(input, forms).minor ?? undefined;
  }

  return { categories, moderate, minorIn };
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
