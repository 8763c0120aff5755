import type { Lexicon } from "./types.ts";

/**
 * Suicide and self-harm depiction or encouragement. Not: prevention, hotlines, awareness
 * campaigns, the film "Suicide Squad" (allowlist.ts).
 */
export default {
  note: "suicide, self-injury, eating-disorder promotion",
  en: [
    "suicide", "suicidal", "kill myself", "killing myself", "kill yourself", "killing yourself",
    "kys", "end my life", "ending my life", "end your life", "take my own life", "took her own life",
    "took his own life", "commit suicide", "self harm", "selfharm", "self injury", "self injure",
    "cut myself", "cutting myself", "cut my wrists", "cutting my wrists", "slit my wrists",
    "cut her wrists", "cutting her wrists", "cut his wrists", "cutting his wrists",
    "cut their wrists", "slit her wrists", "slit his wrists", "slit their wrists",
    "hanging herself", "hanging himself", "hanged herself", "hanged himself", "hang themselves",
    "jumping off the roof", "jump off a building", "jumping off a building",
    "slit wrists", "slitting wrists", "wrist cutting", "hang myself", "hanging myself",
    "hang herself", "hang himself", "noose around", "jump off a bridge", "jumping off a bridge",
    "jump off the roof", "overdose on", "overdosing on", "pills to die", "want to die",
    "wants to die", "pro ana", "proana", "thinspo", "starve myself",
  ],
  zh: [
    "自杀", "自残", "自尽", "轻生", "割腕", "上吊", "跳楼", "寻死", "不想活了", "结束生命",
    "结束自己的生命", "吞药", "服毒", "烧炭", "去死吧", "想死",
  ],
} satisfies Lexicon;
