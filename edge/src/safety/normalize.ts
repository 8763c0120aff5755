import { TRAD_SIMP } from "./lexicons/trad-simp.ts";

/**
 * Evasion-proof normalization for the prompt-safety matcher. Pure TypeScript, no Node APIs.
 *
 * Stage 1, per code point (memoized): drop invisible/format characters (zero-width space and
 * joiners, soft hyphen, BOM, bidi controls, variation selectors, tag characters, fillers);
 * NFKD compatibility decomposition (full-width forms, mathematical alphanumerics, ligatures,
 * circled/squared letters, CJK compatibility ideographs); case folding; removal of combining
 * marks ("k̶i̶l̶l̶", accents); look-alike folding (Cyrillic, Greek, small capitals, IPA,
 * enclosed/regional-indicator letters, currency and other symbol look-alikes → Latin);
 * Traditional → Simplified Chinese for the lexicon characters; every whitespace → one space.
 *
 * Stage 2, per token: separators inserted between letters are removed ("k.i.l.l", "k i l l",
 * "k-i-l-l", "k_i_l_l", "ki.ll"), separators between CJK characters are removed ("杀 人",
 * "杀*人"), other punctuation becomes a single space (a word boundary), and leetspeak inside
 * tokens that contain at least one letter is folded (0→o, 1→i|l, 3→e, 4→a, 5→s, 7→t, 8→b,
 * 9→g, @→a, $→s, !→i, |→i|l, +→t). Pure numbers ("13 year old", "4 scenes") are left alone.
 * The ambiguous characters ("1", "|") give more forms with the other reading (all
 * combinations when there are at most four of them).
 *
 * Every output character keeps the index of the input code unit it came from, so matches can
 * be reported against the original text.
 */
export interface NormalForm {
  text: string;
  /** src[i] = index in the input of text[i]; src[text.length] = input length. */
  src: readonly number[];
  /**
   * soft[i] = 1: a word boundary may lie before text[i] although it is inside a word (letters
   * that were spaced out and joined). Absent when there is none.
   */
  soft?: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Character classes (of folded code units).

const C_OTHER = 0;
export const C_LETTER = 1; // a word letter of an alphabetic script (Latin, Greek, Cyrillic...)
export const C_DIGIT = 2;
export const C_CJK = 3; // Han, kana, Hangul: matched as substrings, no word boundaries
const C_SPACE = 4;

const classCache = new Int8Array(65536).fill(-1);
const RE_CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3005\u3007]/u;
const RE_LETTER = /[\p{L}]/u;
const RE_DIGIT = /[\p{Nd}]/u;

export function charClass(c: number): number {
  if (c < 128) {
    if (c >= 97 && c <= 122) return C_LETTER;
    if (c >= 48 && c <= 57) return C_DIGIT;
    if (c >= 65 && c <= 90) return C_LETTER;
    if (c === 32) return C_SPACE;
    return C_OTHER;
  }
  let k = classCache[c]!;
  if (k < 0) {
    const ch = String.fromCharCode(c);
    if (c >= 0xd800 && c <= 0xdfff) k = C_OTHER;
    else if (RE_CJK.test(ch)) k = C_CJK;
    else if (RE_LETTER.test(ch)) k = C_LETTER;
    else if (RE_DIGIT.test(ch)) k = C_DIGIT;
    else if (/\s/u.test(ch)) k = C_SPACE;
    else k = C_OTHER;
    classCache[c] = k;
  }
  return k;
}

/** A word character for Latin-script boundaries: letter or digit of a non-CJK script. */
export function isWordChar(c: number): boolean {
  const k = charClass(c);
  return k === C_LETTER || k === C_DIGIT;
}

// ---------------------------------------------------------------------------------------------
// Stage 1: per-code-point folding.

/** Look-alikes that survive NFKD + lower-casing. Values are Latin (or digits, folded later). */
const LOOKALIKE: Record<string, string> = {
  // Cyrillic
  а: "a",
  в: "b",
  г: "r",
  е: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  п: "n",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ъ: "b",
  ь: "b",
  ѕ: "s",
  і: "i",
  ј: "j",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ӏ: "l",
  һ: "h",
  ү: "y",
  є: "e",
  ѡ: "w",
  ɡ: "g",
  // Greek
  α: "a",
  β: "b",
  γ: "y",
  ε: "e",
  ζ: "z",
  η: "n",
  ι: "i",
  κ: "k",
  μ: "u",
  ν: "v",
  ο: "o",
  ρ: "p",
  ς: "s",
  τ: "t",
  υ: "u",
  χ: "x",
  ω: "w",
  ϲ: "c",
  ϳ: "j",
  ϵ: "e",
  // Latin extensions, small capitals, IPA
  ı: "i",
  ȷ: "j",
  ł: "l",
  ø: "o",
  đ: "d",
  ð: "d",
  ħ: "h",
  ŧ: "t",
  ƀ: "b",
  ɑ: "a",
  ɩ: "i",
  ɪ: "i",
  ʀ: "r",
  ᴀ: "a",
  ʙ: "b",
  ᴄ: "c",
  ᴅ: "d",
  ᴇ: "e",
  ꜰ: "f",
  ɢ: "g",
  ʜ: "h",
  ᴊ: "j",
  ᴋ: "k",
  ʟ: "l",
  ᴍ: "m",
  ɴ: "n",
  ᴏ: "o",
  ᴘ: "p",
  ꜱ: "s",
  ᴛ: "t",
  ᴜ: "u",
  ᴠ: "v",
  ᴡ: "w",
  ʏ: "y",
  ᴢ: "z",
  ƒ: "f",
  æ: "ae",
  œ: "oe",
  ß: "ss",
  ſ: "s",
  ɛ: "e",
  ɔ: "c",
  ʋ: "u",
  ɯ: "w",
  ɾ: "r",
  ʃ: "s",
  ǀ: "l",
  // Symbol look-alikes
  "€": "e",
  "£": "l",
  "¥": "y",
  "¢": "c",
  "©": "c",
  "®": "r",
  "∂": "d",
  "¡": "i",
  "×": "x",
  ℓ: "l",
  "∩": "n",
  "∪": "u",
  "√": "v",
  "∅": "o",
  "○": "o",
  "●": "o",
  "◯": "o",
  "♡": "o",
  "⓪": "0",
};

const TRAD: Map<number, number> = (() => {
  const m = new Map<number, number>();
  for (const pair of TRAD_SIMP) {
    const t = pair.codePointAt(0)!;
    const s = pair.codePointAt(t > 0xffff ? 2 : 1)!;
    if (t !== s) m.set(t, s);
  }
  return m;
})();

// The class lists single code points that render as nothing, some of them combining (U+034F,
// the variation selectors); each is matched alone, never as part of a cluster.
const RE_INVISIBLE =
  // eslint-disable-next-line no-misleading-character-class
  /^[\p{Cf}\p{Cc}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0\u{E0000}-\u{E0FFF}]$/u;
const RE_MARK = /\p{M}/gu;
const RE_SPACE = /^[\s\p{Z}]$/u;

/** Folded replacement of one code point: "" (drop), " " (space) or folded text. */
function foldCodePoint(cp: number): string {
  // Enclosed/negative-squared/regional-indicator capital letters (no NFKD decomposition).
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return String.fromCharCode(97 + cp - 0x1f1e6);
  if (cp >= 0x1f170 && cp <= 0x1f189) return String.fromCharCode(97 + cp - 0x1f170);
  if (cp >= 0x1f150 && cp <= 0x1f169) return String.fromCharCode(97 + cp - 0x1f150);
  if (cp >= 0x1f130 && cp <= 0x1f149) return String.fromCharCode(97 + cp - 0x1f130);
  const ch = String.fromCodePoint(cp);
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return " ";
  if (RE_INVISIBLE.test(ch)) return "";
  if (RE_SPACE.test(ch)) return " ";
  // Hangul syllables would decompose into jamo; keep them whole.
  if (cp >= 0xac00 && cp <= 0xd7a3) return ch;
  let s = ch.normalize("NFKD").toLowerCase().normalize("NFKD").replace(RE_MARK, "");
  let out = "";
  for (const c of s) {
    const t = TRAD.get(c.codePointAt(0)!);
    if (t !== undefined) out += String.fromCodePoint(t);
    else if (RE_SPACE.test(c)) out += " ";
    else if (RE_INVISIBLE.test(c)) continue;
    else out += LOOKALIKE[c] ?? c;
  }
  s = out;
  return s;
}

const ASCII_FOLD: string[] = Array.from({ length: 128 }, (_, c) => foldCodePoint(c));
/** ASCII folded to one code unit (−1: dropped, −2: more than one unit), for the fast path. */
const ASCII_CODE = Int32Array.from(ASCII_FOLD, (f) => (f.length === 0 ? -1 : f.length === 1 ? f.charCodeAt(0) : -2));
const foldCache = new Map<number, string>();

function fold(cp: number): string {
  if (cp < 128) return ASCII_FOLD[cp]!;
  let s = foldCache.get(cp);
  if (s === undefined) {
    s = foldCodePoint(cp);
    if (foldCache.size < 200_000) foldCache.set(cp, s);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Stage 2: tokens, separators, leetspeak.

const AT = 64,
  DOLLAR = 36,
  BANG = 33,
  PIPE = 124,
  PLUS = 43;
const SPACE = 32;

/** Separators that join letters without creating a word break: "k.i.l.l", "ki_ll", "don't". */
function isIntraSeparator(c: number): boolean {
  return c === 46 || c === 95 || c === 42 || c === 39 || c === 96 || c === 0xb7 || c === 0x2022 || c === 0x2019;
}

/** Leetspeak digits/symbols → letters; `alt` is the second reading of the ambiguous ones. */
function leet(c: number, alt: boolean): number {
  switch (c) {
    case 48:
      return 111; // 0 o
    case 49:
      return alt ? 108 : 105; // 1 i | l
    case 51:
      return 101; // 3 e
    case 52:
      return 97; // 4 a
    case 53:
      return 115; // 5 s
    case 55:
      return 116; // 7 t
    case 56:
      return 98; // 8 b
    case 57:
      return 103; // 9 g
    case AT:
      return 97;
    case DOLLAR:
      return 115;
    case BANG:
      return 105;
    case PIPE:
      return alt ? 108 : 105;
    case PLUS:
      return 116;
    default:
      return c;
  }
}

function isLeetChar(c: number): boolean {
  return (
    c === 48 ||
    c === 49 ||
    c === 51 ||
    c === 52 ||
    c === 53 ||
    c === 55 ||
    c === 56 ||
    c === 57 ||
    c === AT ||
    c === DOLLAR ||
    c === BANG ||
    c === PIPE ||
    c === PLUS
  );
}

const ZERO: readonly number[] = [0];
// Scratch arrays for one call at a time (normalize is synchronous), grown as needed: a typed
// array allocated per call costs more than the work done in it.
let clsScratch = new Int8Array(256);
let wordishScratch = new Uint8Array(256);
let joinScratch = new Uint8Array(64);
let softTokScratch = new Uint8Array(64);

/**
 * All normal forms of `input` (one, or more when an ambiguous leet character was folded).
 * The first form is canonical.
 */
export function normalize(input: string): NormalForm[] {
  const n = input.length;
  if (n === 0) return [{ text: "", src: ZERO }];
  // ---- Stage 1.
  const a: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    let cp = input.charCodeAt(i);
    const start = i;
    const ascii = cp < 128 ? ASCII_CODE[cp]! : -2;
    if (ascii !== -2) {
      if (ascii >= 0 && !(ascii === SPACE && (a.length === 0 || a[a.length - 1] === SPACE))) {
        a.push(ascii);
        s.push(start);
      }
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
      const lo = input.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    const f = fold(cp);
    for (let j = 0; j < f.length; j++) {
      const c = f.charCodeAt(j);
      if (c === SPACE && (a.length === 0 || a[a.length - 1] === SPACE)) continue;
      a.push(c);
      s.push(start);
    }
  }
  const m = a.length;
  // ---- Stage 2a: which symbols act as letters (leet) and which are punctuation.
  if (clsScratch.length < m) {
    clsScratch = new Int8Array(Math.max(m, 2 * clsScratch.length));
    wordishScratch = new Uint8Array(clsScratch.length);
  }
  const cls = clsScratch;
  for (let i = 0; i < m; i++) cls[i] = charClass(a[i]!);
  const wordish = wordishScratch; // letter, digit, or leet symbol used as a letter
  wordish.fill(0, 0, m);
  for (let i = 0; i < m; i++) {
    const k = cls[i]!;
    if (k === C_LETTER || k === C_DIGIT) wordish[i] = 1;
  }
  for (let i = 0; i < m; i++) {
    const c = a[i]!;
    if (c !== AT && c !== DOLLAR && c !== BANG && c !== PIPE && c !== PLUS) continue;
    // A run of such symbols: "a$$", "@ss", "k!ll", "k||l".
    let j = i;
    while (j < m && (a[j] === AT || a[j] === DOLLAR || a[j] === BANG || a[j] === PIPE || a[j] === PLUS)) j++;
    const before = i > 0 && wordish[i - 1] === 1;
    const after = j < m && (cls[j] === C_LETTER || cls[j] === C_DIGIT);
    for (let k = i; k < j; k++) {
      const ck = a[k]!;
      const ok = ck === AT || ck === DOLLAR ? before || after : before && after;
      if (ok) wordish[k] = 1;
    }
    i = j - 1;
  }
  // ---- Stage 2b: tokens (runs of word-ish chars, or single CJK chars) and the gaps between.
  const tokStart: number[] = [];
  const tokEnd: number[] = [];
  for (let i = 0; i < m;) {
    if (wordish[i]) {
      const b = i;
      while (i < m && wordish[i]) i++;
      tokStart.push(b);
      tokEnd.push(i);
    } else if (cls[i] === C_CJK) {
      tokStart.push(i);
      tokEnd.push(i + 1);
      i++;
    } else i++;
  }
  const T = tokStart.length;
  if (joinScratch.length < T) {
    joinScratch = new Uint8Array(Math.max(T, 2 * joinScratch.length));
    softTokScratch = new Uint8Array(joinScratch.length);
  }
  // join[t] (t ≥ 1): 0 = drop the gap before token t, 1 = a single space.
  const join = joinScratch;
  join.fill(0, 0, T);
  for (let t = 1; t < T; t++) {
    const g0 = tokEnd[t - 1]!;
    const g1 = tokStart[t]!;
    const prevCjk = cls[g0 - 1] === C_CJK;
    const nextCjk = cls[g1] === C_CJK;
    if (g0 === g1)
      join[t] = 0; // "porn色情"
    else if (prevCjk && nextCjk)
      join[t] = 0; // "杀 人", "杀*人"
    else if (!prevCjk && !nextCjk && g1 - g0 === 1 && isIntraSeparator(a[g0]!))
      join[t] = 0; // "ki.ll"
    else join[t] = 1;
  }
  // softTok[t]: the (dropped) gap before token t may have been a word break; the matcher
  // accepts a word boundary there ("a p o r n" → "aporn", where "porn" starts a word).
  const softTok = softTokScratch;
  softTok.fill(0, 0, T);
  let anySoft = false;
  // Runs of ≥ 3 one-character Latin tokens separated by short gaps: "k i l l", "k-i-l-l".
  for (let t = 0; t < T;) {
    if (tokEnd[t]! - tokStart[t]! !== 1 || cls[tokStart[t]!] === C_CJK) {
      t++;
      continue;
    }
    let u = t + 1;
    while (u < T && tokEnd[u]! - tokStart[u]! === 1 && cls[tokStart[u]!] !== C_CJK && tokStart[u]! - tokEnd[u - 1]! <= 3) u++;
    if (u - t >= 3) {
      // The gap used between letters is the most common one; a different gap between two
      // single letters is a word break ("d-o-n-a-l-d t-r-u-m-p", "k i l l  m e").
      const gaps: string[] = [];
      for (let v = t + 1; v < u; v++) gaps.push(fromCodes(a.slice(tokEnd[v - 1], tokStart[v])));
      // Counted in one pass (a run can be thousands of letters long: no quadratic recount).
      const counts = new Map<string, number>();
      for (const g of gaps) counts.set(g, (counts.get(g) ?? 0) + 1);
      let letterGap = gaps[0]!;
      let best = 0;
      for (const [g, count] of counts) {
        if (count > best || (count === best && g.length < letterGap.length)) {
          best = count;
          letterGap = g;
        }
      }
      for (let v = t + 1; v < u; v++) {
        if (gaps[v - t - 1] === letterGap) {
          join[v] = 0;
          softTok[v] = 1;
        }
      }
    }
    t = u;
  }
  // ---- Stage 2c: emit, folding leetspeak in merged words that contain a letter.
  const out: number[] = [];
  const outSrc: number[] = [];
  const softAt: number[] = [];
  const ambiguous: number[] = []; // output positions of folded "1" / "|"
  const ambiguousSrc: number[] = []; // their positions in the stage-1 array
  for (let t = 0; t < T;) {
    // A merged word: tokens t..u-1 joined without gaps.
    let u = t + 1;
    while (u < T && join[u] === 0 && cls[tokStart[u]!] !== C_CJK && cls[tokEnd[u - 1]! - 1] !== C_CJK) u++;
    if (t > 0 && join[t] === 1) {
      out.push(SPACE);
      outSrc.push(s[tokStart[t]!]!);
    }
    let hasLetter = false;
    for (let v = t; v < u; v++) for (let i = tokStart[v]!; i < tokEnd[v]!; i++) if (cls[i] === C_LETTER) hasLetter = true;
    for (let v = t; v < u; v++) {
      if (softTok[v]) {
        anySoft = true;
        softAt.push(out.length);
      }
      for (let i = tokStart[v]!; i < tokEnd[v]!; i++) {
        const c = a[i]!;
        if (hasLetter && isLeetChar(c)) {
          if (c === 49 || c === PIPE) {
            ambiguous.push(out.length);
            ambiguousSrc.push(i);
          }
          out.push(leet(c, false));
        } else out.push(c);
        outSrc.push(s[i]!);
      }
    }
    t = u;
  }
  outSrc.push(n);
  const src = outSrc;
  const text = fromCodes(out);
  let soft: Uint8Array | undefined;
  if (anySoft) {
    soft = new Uint8Array(out.length + 1);
    for (const p of softAt) soft[p] = 1;
  }
  const forms: NormalForm[] = [soft ? { text, src, soft } : { text, src }];
  // Other readings of "1" and "|" (i or l): every combination when there are few of them
  // ("k111" → "kill"), else the all-l reading.
  const k = ambiguous.length;
  if (k > 0) {
    const combos = k <= 4 ? (1 << k) - 1 : 1;
    for (let mask = 1; mask <= combos; mask++) {
      const alt = out.slice();
      for (let j = 0; j < k; j++) {
        if (k <= 4 ? mask & (1 << j) : true) alt[ambiguous[j]!] = leet(a[ambiguousSrc[j]!]!, true);
      }
      forms.push(soft ? { text: fromCodes(alt), src, soft } : { text: fromCodes(alt), src });
    }
  }
  return forms;
}

function fromCodes(codes: number[]): string {
  if (codes.length <= 4096) return String.fromCharCode(...codes);
  let out = "";
  for (let i = 0; i < codes.length; i += 4096) out += String.fromCharCode(...codes.slice(i, i + 4096));
  return out;
}

/** The canonical normal form as a string (lexicon terms, tests). */
export function normalizeText(input: string): string {
  return normalize(input)[0]!.text;
}
