/**
 * Ages and school grades in a prompt, for the minors rule (moderate.ts): "14yo", "14 y/o",
 * "1 4 years old", "fourteen-year-old", "aged 14", "she is 14", "8th grader", "grade 7",
 * 十四岁, 14岁, 初二学生, 五年级小学生; and an adult's age ("a 35-year-old man") for the
 * romance-with-an-adult rule. It reads the caller's normal forms (separators, look-alikes and
 * spaced-out letters already folded) with their digits put back where leetspeak read them as
 * letters ("14yo" is "iayo" there), and the NFKC-folded input itself.
 */
import type { NormalForm } from "./normalize.ts";

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
};
const ORDINALS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
};
const WORD_NUMBER = Object.keys(NUMBER_WORDS).join("|");
const ORDINAL_WORD = Object.keys(ORDINALS).join("|");

/** "14", "fourteen", "twenty five" → 14, 14, 25. */
function value(token: string): number {
  const t = token.trim();
  if (/^\d+$/.test(t)) return Number(t);
  let n = 0;
  for (const w of t.split(/[\s-]+/)) n += NUMBER_WORDS[w] ?? ORDINALS[w] ?? Number.NaN;
  return n;
}

const NUM = `(\\d{1,2}|(?:twenty|thirty|forty|fifty|sixty)[\\s-]?(?:one|two|three|four|five|six|seven|eight|nine)|${WORD_NUMBER})`;
const UNIT = `(?:yo|y\\s?o|y\\s?\\/\\s?o|y\\.o\\.?|yrs?[\\s-]*old|years?[\\s-]*old|year[\\s-]*olds|years?[\\s-]*of[\\s-]*age|yrs?|years?[\\s-]*young)`;
/**
 * A number, then an age unit: "14yo", "14 y/o", "fourteen-year-old", "14 years of age". No
 * word boundary is needed before it: letters spaced out by an evader come back joined to the
 * word before them ("a t w e l v e y e a r old" is "atwelveyear old").
 */
const AGE_AFTER = new RegExp(`(?<![0-9])${NUM}[\\s-]*${UNIT}(?![a-z])`, "g");
/** An age stated before the number: "aged 14", "age: 14", "she is 14", "just turned 14". */
const AGE_BEFORE = new RegExp(
  `(?:(?:^|[^a-z])(?:age\\s*[:=]?|is|was|turns|turned|turning|just turned|only|barely)|aged)\\s+${NUM}(?![0-9a-z])(?![\\s-]*(?:of|to|more|other|another|out)\\b)(?!\\s*(?:%|percent|degrees|°|feet|foot|ft|meters?|metres?|m\\b|cm|mm|km|kg|lbs?|pounds|minutes?|mins?|seconds?|secs?|hours?|hrs?|days?|weeks?|months?|inch|inches|times|points?|dollars?|euros?|yuan|am\\b|pm\\b|o'?clock|:))`,
  "g",
);
/** School grades 1–12: "8th grade(r)", "eighth-grader", "grade 7", "year 9 pupil". */
const GRADE = new RegExp(
  `(?<![0-9])(\\d{1,2})(?:st|nd|rd|th)?[\\s-]*grade|(${ORDINAL_WORD})[\\s-]*grade|(?:^|[^a-z])grade[\\s-]*(\\d{1,2})(?![0-9])|(?:^|[^a-z])year[\\s-]*(\\d{1,2})[\\s-]*(?:pupil|student|girl|boy)`,
  "g",
);

const ZH_DIGITS: Record<string, number> = { 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
/** 十四 → 14, 七 → 7, 二十五 → 25, 14 → 14. */
function zhValue(token: string): number {
  if (/^\d+$/.test(token)) return Number(token);
  const ten = token.indexOf("十");
  if (ten < 0) return ZH_DIGITS[token] ?? Number.NaN;
  const tens = ten === 0 ? 1 : (ZH_DIGITS[token.slice(0, ten)] ?? Number.NaN);
  const ones = ten === token.length - 1 ? 0 : (ZH_DIGITS[token.slice(ten + 1)] ?? Number.NaN);
  return tens * 10 + ones;
}
const ZH_NUM = "(\\d{1,2}|[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])";
const AGE_ZH = new RegExp(`(?<![\\d一二两三四五六七八九十]\\s*)${ZH_NUM}\\s*(?:岁|周岁|歳)`, "g");
/** 初一–初三 and 高一–高三 (middle and high school years) as pupils; 一年级–六年级 (primary). */
const GRADE_ZH = /(?:初|高)[一二三](?:学生|女生|男生|生|的学生|的女生|的男生|少女|女孩|男孩)|[一二三四五六]年级/;

/**
 * What every age or grade above contains: most prompts have none of it, and skip the rest
 * (this runs on every prompt with a sexual or romantic word and no minor indicator).
 */
const AGE_HINT =
  /[0-9岁歳级]|[初高][一二三]|year|yr|grade|(?:^|[^a-z])age|aged|y\W?o(?![a-z])|(?:is|was|turn\w*|only|barely)\s+\w*(?:teen|eleven|twelve|ten|nine|eight|seven|six|five|four|three|two|one)(?![a-z])/;
/** Single characters written apart by an evader ("y e a r"). */
const SPACED_OUT = /(?<![\p{L}\p{N}])([\p{L}\p{N}])[ ._*-](?=[\p{L}\p{N}](?![\p{L}\p{N}]))/gu;
/** Single digits written apart ("1 4", "1.4", "1-4 yo") joined again, as an evader splits them. */
const SPLIT_DIGITS = /(?<![0-9])(\d)[\s._*-]+(?=\d(?![0-9]))/g;
const HAS_SPLIT_DIGITS = /(?<![0-9])\d[\s._*-]+\d(?![0-9])/;

/** Cyrillic and Greek letters that pass for the Latin ones of age units ("14уо"). */
const LOOKALIKES: Record<string, string> = {
  а: "a",
  е: "e",
  о: "o",
  р: "p",
  с: "c",
  у: "y",
  х: "x",
  і: "i",
  ѕ: "s",
  ј: "j",
  ο: "o",
  α: "a",
  ε: "e",
  ρ: "p",
  τ: "t",
  υ: "u",
  ν: "v",
};
const LOOKALIKE = new RegExp(`[${Object.keys(LOOKALIKES).join("")}]`, "g");

/**
 * A normal form with the input's digits back where leetspeak read a word's leading digits as
 * letters ("14yo" is "iayo" there, "8th" is "bth"); digits inside a word stay letters ("ye4r").
 */
function withDigits(input: string, form: NormalForm): string {
  let out = "";
  let leading = true;
  for (let i = 0; i < form.text.length; i++) {
    const ch = form.text[i]!;
    const original = input[form.src[i]!];
    const digit = original === undefined ? "" : original.normalize("NFKC");
    const isLetter = ch >= "a" && ch <= "z";
    if (isLetter && leading && digit.length === 1 && digit >= "0" && digit <= "9") {
      out += digit;
      continue;
    }
    leading = !isLetter && !(ch >= "0" && ch <= "9");
    out += ch;
  }
  return out;
}

/** The texts to read: the NFKC-folded input and the normal forms with their digits, each also with digits rejoined. */
function readings(input: string, forms: readonly NormalForm[]): string[] {
  const folded = input
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\p{Cf}/gu, "")
    .replace(LOOKALIKE, (ch) => LOOKALIKES[ch]!);
  // Letters spaced out one by one ("a 9 y e a r old") joined again, as the normal forms do.
  const joined = folded.replace(SPACED_OUT, "$1");
  const texts = [folded, joined, ...forms.map((f) => f.text)];
  if (/[0-9]/.test(folded)) for (const f of forms) texts.push(withDigits(input, f));
  // Digits written apart are read both ways: "1 4 yo" is 14, but "4 9 year old" may be "a 9 year old".
  const all = new Set(texts);
  for (const t of texts) if (HAS_SPLIT_DIGITS.test(t)) all.add(t.replace(SPLIT_DIGITS, "$1"));
  return [...all].filter((t) => AGE_HINT.test(t));
}

export interface Ages {
  /** How the prompt says someone is under 18 ("14yo", "8th grader", "十四岁"), if it does. */
  minor: string | null;
  /** How it says someone is an adult ("a 35-year-old"), if it does. */
  adult: string | null;
}

/** Ages and grades stated in `input` (with its normal forms, `forms`). */
export function statedAges(input: string, forms: readonly NormalForm[]): Ages {
  let minor: string | null = null;
  let adult: string | null = null;
  const see = (n: number, said: string) => {
    if (!Number.isFinite(n) || n <= 0) return;
    if (n < 18) minor ??= said.trim();
    else if (n < 100) adult ??= said.trim();
  };
  for (const t of readings(input, forms)) {
    for (const m of t.matchAll(AGE_AFTER)) see(value(m[1]!), m[0]);
    // "is 14" is an age when nothing after it makes the number a count or a measure.
    for (const m of t.matchAll(AGE_BEFORE)) see(value(m[1]!), m[0]);
    for (const m of t.matchAll(GRADE)) {
      const g = m[1] ? Number(m[1]) : m[2] ? ORDINALS[m[2]]! : Number(m[3] ?? m[4]);
      if (g >= 1 && g <= 12) minor ??= m[0].trim();
    }
    for (const m of t.matchAll(AGE_ZH)) see(zhValue(m[1]!), m[0]);
    const grade = GRADE_ZH.exec(t);
    if (grade) minor ??= grade[0];
    if (minor && adult) break;
  }
  return { minor, adult };
}
