import type { Lexicon } from "./types.ts";

/**
 * Sexual content involving minors. Flagged on its own terms below, and also whenever a
 * `sexual` match co-occurs with a minor indicator (minor-context.ts, or an age under 18).
 */
export default {
  note: "any sexualisation of minors; zero tolerance",
  en: [
    "child porn*", "kiddie porn", "kiddy porn", "cp video", "csam", "loli porn", "lolicon",
    "shotacon", "jailbait", "underage sex", "underage nude", "underage porn", "preteen nude",
    "preteen sex", "pedo porn", "pedophil*", "paedophil*", "child sex", "sexy child", "sexy kid",
    "naked child", "naked children", "naked kid", "naked kids", "nude child", "nude children",
    "nude kids", "child nudity", "child erotica", "sexualized child", "sexualised child",
    "minor sex", "molest a child", "molesting children", "child molest*", "toddler nude",
  ],
  zh: [
    "儿童色情", "幼女", "萝莉色情", "萝莉裸", "恋童", "未成年色情", "未成年裸", "未成年性",
    "儿童裸体", "儿童裸照", "小学生裸", "初中生裸", "猥亵儿童", "性侵儿童", "奸淫幼女", "童妓",
  ],
} satisfies Lexicon;
