import type { Lexicon } from "./types.ts";

/**
 * Graphic violence and gore. Not: action, sports, "shoot a video", "kill the lights",
 * games and films named with violent words (see allowlist.ts), fictional combat without gore.
 */
export default {
  note: "graphic injury, killing of people, torture, mass-casualty violence",
  en: [
    "gore", "gory", "gruesome", "decapitat*", "behead*", "dismember*", "disembowel*", "mutilat*",
    "eviscerat*", "entrails", "guts spilling", "severed head", "severed heads", "severed limb*",
    "torture", "tortured", "torturing", "torture scene", "bloodbath", "blood bath", "massacre*",
    "mass shooting", "school shooting", "shoot up a school", "shooting people", "shoot people",
    "shooting civilians", "execution video", "public execution", "stab him", "stab her",
    "stabbing him", "stabbing her", "stabbed to death", "stab to death", "slit his throat",
    "slit her throat", "slit throat", "cut his throat", "cut her throat", "throat slit",
    "kill him", "kill her", "kill them", "kill people", "kill everyone", "killing people",
    "killing him", "killing her", "kills people", "killed people", "murder*", "slaughter people",
    "slaughtering people", "blood splatter", "blood spatter", "brains splattered",
    "blown off head", "head explod*", "skull crushed", "crushed skull", "burned alive",
    "burning alive", "skinned alive", "flayed", "impaled", "corpse", "corpses", "dead bodies",
    "mutilated body", "torn apart", "ripped apart", "lynching", "genocide", "beaten to death",
    "beat him to death", "strangled to death", "mauled to death",
  ],
  zh: [
    "杀人", "砍头", "斩首", "分尸", "碎尸", "肢解", "血腥", "虐杀", "屠杀", "开膛", "枪杀",
    "捅死", "砍死", "杀死他", "杀死她", "杀光", "血流成河", "脑浆", "断头", "凌迟",
    "活埋", "烧死", "割喉", "尸体", "残肢", "大屠杀", "爆头", "处决视频", "虐待致死",
  ],
} satisfies Lexicon;
