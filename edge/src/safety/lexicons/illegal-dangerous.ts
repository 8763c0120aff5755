import type { Lexicon } from "./types.ts";

/**
 * Weapons of mass harm, explosives, hard drugs and their production, serious crime how-tos.
 * Not: cocktails, bath bombs, "photobomb", chemistry in general, legal medicine.
 */
export default {
  note: "explosives, weapons manufacture, drugs, terrorism, fraud",
  en: [
    "make a bomb", "making a bomb", "build a bomb", "building a bomb", "how to make bomb*",
    "homemade bomb", "home made bomb", "pipe bomb*", "nail bomb*", "car bomb*", "suicide bomb*",
    "suicide vest", "molotov cocktail*", "molotov", "ied", "improvised explosive*",
    "tnt explosive", "c4 explosive", "make explosives", "making explosives",
    "nerve agent", "sarin", "ricin", "anthrax spores", "weaponized anthrax", "mustard gas", "chemical weapon*",
    "bioweapon*", "dirty bomb", "ghost gun*", "3d printed gun*", "untraceable gun*",
    "full auto conversion", "auto sear", "meth", "crystal meth", "methamphetamine", "cook meth",
    "cooking meth", "meth lab", "heroin", "fentanyl", "cocaine", "crack cocaine", "snorting coke",
    "lsd", "mdma", "ecstasy pills", "drug deal*", "sell drugs", "selling drugs", "buy drugs",
    "smuggle drugs", "drug trafficking", "human trafficking", "money laundering", "launder money",
    "counterfeit money", "counterfeit bills", "credit card fraud", "steal credit card*",
    "identity theft", "ransomware", "terrorist attack*", "terror attack*",
    "join isis", "isis recruitment", "hijack a plane", "hijacking a plane", "bomb threat",
    "shoplifting tutorial", "how to shoplift", "hotwire a car", "pick a lock to break in",
  ],
  zh: [
    "制作炸弹", "制造炸弹", "自制炸弹", "土制炸弹", "炸药配方", "制作炸药", "自制炸药", "雷管",
    "燃烧瓶", "汽油弹", "人体炸弹", "自杀式袭击", "恐怖袭击", "恐袭", "冰毒", "海洛因", "可卡因",
    "芬太尼", "摇头丸", "大麻烟", "制毒", "贩毒", "吸毒", "毒品交易", "买毒品", "自制枪",
    "自制枪支", "3d打印枪", "枪支买卖", "买枪", "神经毒剂", "沙林毒气", "蓖麻毒素", "炭疽",
    "洗钱", "假钞", "电信诈骗", "盗刷信用卡", "黑客入侵", "劫机", "人口贩卖", "拐卖儿童",
  ],
} satisfies Lexicon;
