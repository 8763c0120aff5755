/**
 * Lexicon data format. Terms are matched after normalization (see ../normalize.ts), so write
 * them plainly: lower case, Simplified Chinese, single spaces, no leetspeak.
 *
 * Latin-script terms are whole words: they must start at a word boundary and end at one,
 * optionally after an inflection (s, es, d, ed, ing, er, ers). A trailing `*` makes a term a
 * prefix ("behead*" → "beheading", "beheaded"). CJK terms match as substrings.
 */
export interface Lexicon {
  /** Why the category exists and what it should (not) catch: for reviewers. */
  readonly note: string;
  readonly en: readonly string[];
  readonly zh: readonly string[];
}
