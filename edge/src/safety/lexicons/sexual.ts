import type { Lexicon } from "./types.ts";

/** Explicit sexual content and nudity. Not: romance, kissing, swimwear, anatomy in medical use. */
export default {
  note: "explicit sexual acts, pornography, nudity of people; sexual violence",
  en: [
    "porn*", "pornographic", "xxx", "nsfw", "hentai", "erotica", "erotic video", "erotic scene",
    "sex scene", "sex tape", "sex video", "sex act", "having sex", "have sex", "has sex", "had sex",
    "oral sex", "anal sex", "group sex", "explicit sex", "sexual intercourse", "sexually explicit",
    "intercourse", "sex with",
    "nude", "nudity", "naked woman", "naked women", "naked girl", "naked man", "naked men",
    "naked body", "naked bodies", "naked people", "fully naked", "completely naked", "get naked",
    "gets naked", "getting naked", "naked in bed", "stark naked", "topless", "bottomless",
    "bare breasts", "exposed breasts", "exposed genitals", "genital", "genitalia", "nipple",
    "penis", "vagina", "clitoris", "erect penis",
    "blowjob", "blow job", "handjob", "hand job", "cumshot", "cum shot", "creampie", "deepthroat",
    "orgasm", "masturbat*", "fingering herself", "striptease", "strip tease", "stripper",
    "strip club", "undress her", "undressing her", "take off her clothes", "takes off her clothes",
    "remove her clothes", "without clothes", "no clothes on", "lingerie strip",
    "fuck her", "fucking her", "fucked her", "fuck him", "fucking him", "getting fucked", "fuck me",
    "cocksuck*", "suck cock", "sucking cock", "suck his dick", "cunt", "pussy licking", "dildo",
    "sex toy", "bdsm", "bondage sex", "fetish porn", "camgirl", "onlyfans leak",
    "rape", "raping", "rapist", "raped", "gang rape", "sexual assault", "molest*",
  ],
  zh: [
    "色情", "黄片", "黄色视频", "毛片", "a片", "成人视频", "成人电影", "av女优", "三级片",
    "性交", "做爱", "性爱", "啪啪啪", "口交", "肛交", "群交", "乱伦", "淫秽", "淫荡", "裸体",
    "全裸", "裸照", "裸露", "露点", "脱光", "脱衣舞", "阴茎", "阴道", "阴部", "乳头", "自慰",
    "手淫", "高潮喷", "强奸", "轮奸", "迷奸", "性侵", "猥亵", "嫖娼", "卖淫", "一夜情视频",
  ],
} satisfies Lexicon;
