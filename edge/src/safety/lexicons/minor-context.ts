import type { Lexicon } from "./types.ts";

/**
 * Minor indicators. Not a category on their own (a child playing is fine); a prompt with a
 * `sexual` match and one of these is `sexual_minors`. Ages 1–17 written as numbers are
 * detected separately ("14 year old", "14yo", "14岁").
 */
export default {
  note: "words that place a minor in the scene",
  en: [
    "child", "children", "kid", "kids", "minor", "minors", "underage", "under age", "preteen",
    "pre teen", "teen", "teens", "teenage", "teenager", "young girl", "young boy", "little girl",
    "little boy", "schoolgirl", "schoolboy", "school girl", "school boy", "toddler", "infant",
    "baby", "loli", "shota", "middle schooler", "elementary school", "grade schooler", "juvenile",
  ],
  zh: [
    "儿童", "孩子", "小孩", "幼儿", "萝莉", "正太", "未成年", "小学生", "初中生", "中学生",
    "少女", "少年", "女童", "男童", "幼童", "小女孩", "小男孩", "女儿", "婴儿",
  ],
} satisfies Lexicon;
