import type { Lexicon } from "./types.ts";

/**
 * Suggestive words that are fine about adults (lingerie ads, a sensual dance) but not about
 * children: never a category on their own; with a minor indicator they make the prompt
 * `sexual_minors` (see moderate.ts).
 */
export default {
  note: "suggestive framing; only flagged together with a minor indicator",
  en: [
    "lingerie",
    "seductive*",
    "seductively",
    "sexy",
    "sensual*",
    "provocative*",
    "lap dance",
    "twerk*",
    "in underwear posing",
    "posing in underwear",
    "bedroom eyes",
    "spread legs",
  ],
  zh: ["性感", "诱惑", "情趣内衣", "挑逗", "撩人", "走光"],
} satisfies Lexicon;
