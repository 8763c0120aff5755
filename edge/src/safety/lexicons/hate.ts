import type { Lexicon } from "./types.ts";

/**
 * Slurs and calls for violence or exclusion against protected groups. Kept to slurs and
 * unambiguous hate phrases; group names alone are never terms.
 */
export default {
  note: "slurs, dehumanisation, extremist slogans",
  en: [
    "nigger*", "nigga", "niggas", "faggot*", "kike", "kikes", "chink", "chinks",
    "spic", "spics", "wetback*", "raghead*", "towelhead*", "gook", "gooks", "coon", "coons",
    "tranny", "trannies", "retard", "retards", "sand nigger*", "beaner*",
    "gas the jews", "kill the jews", "kill all jews", "kill all muslims", "kill all blacks",
    "kill all gays", "death to jews", "white power", "white supremacy", "white supremacist",
    "heil hitler", "sieg heil", "14 88", "1488", "race war", "racial holy war", "ethnic cleansing",
    "subhuman", "untermensch", "master race", "jews control", "go back to africa",
    "hang the gays", "lynch them", "inferior race", "nazi salute", "happy merchant",
  ],
  zh: [
    "支那", "黑鬼", "尼哥", "死基佬", "死gay", "小日本", "劣等民族", "劣等种族", "种族清洗", "灭绝犹太", "杀光穆斯林", "白人至上", "希特勒万岁",
  ],
} satisfies Lexicon;
