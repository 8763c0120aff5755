/**
 * Combination rules: a category is flagged when every group of a rule has a term in the
 * prompt (anywhere, any order). They catch intent that no single word carries ("Jews shown as
 * rats", "the Russian president … realistic news footage", "step by step … pool chemicals")
 * without flagging either half alone (a rat, a documentary about a president). Same term
 * syntax and normalization as the lexicons (types.ts).
 *
 * Written on 2026-11-26 from the misses on the dev halves of the evaluation sets and from
 * general vocabulary, never from the held-out halves.
 */
interface TermGroup {
  readonly en: readonly string[];
  readonly zh: readonly string[];
}

export interface Combination {
  readonly category: "sexual" | "violence_gore" | "self_harm" | "hate" | "illegal_dangerous" | "real_person_likeness";
  /** Shown as the match's term: what the rule stands for. */
  readonly rule: string;
  readonly groups: readonly TermGroup[];
}

/** Groups protected by the hate category (names alone are never flagged). */
const PROTECTED: TermGroup = {
  en: [
    "jew", "jews", "jewish", "muslim*", "islam*", "black people", "blacks", "african*", "gay", "gays", "lesbian*", "homosexual*",
    "queer*", "trans", "transgender*", "trans women", "trans men", "immigrant*", "migrant*", "refugee*", "gypsies", "gypsy", "roma",
    "asian*", "chinese", "mexican*", "arab*", "hispanic*", "latino*", "christian*", "hindu*", "sikh*", "catholic*", "disabled",
    "minorit*", "foreigner*", "infidel*", "unbeliever*",
  ],
  zh: [
    "犹太", "穆斯林", "回民", "黑人", "同性恋", "基佬", "跨性别", "移民", "难民", "吉普赛", "少数民族", "外地人", "外国人", "异教徒",
    "残疾人", "亚洲人", "非洲人", "阿拉伯人", "黑皮",
  ],
};

/** Dehumanizing comparisons, inherent-trait claims, and calls to remove or destroy. */
const DEHUMANIZE: TermGroup = {
  en: [
    "rats", "vermin", "cockroach*", "roaches", "parasite*", "pest", "pests", "plague", "infestation", "infest*", "subhuman*",
    "animals", "apes", "monkeys", "savages", "freaks", "mentally ill", "sick in the head", "predators", "groomers", "invaders", "invading",
    "thieves by nature", "by nature", "inferior", "lower race", "driven out", "drive them out", "wiped out", "wipe them out",
    "exterminat*", "eradicat*", "eliminat*", "cleanse", "cleansing", "purge", "get rid of", "kill all", "kill every", "should die",
    "must die", "deserve to die", "burn them", "houses burning", "beating a", "beaten up", "great replacement", "replacing us",
    "pulling the strings", "control the world", "control the media", "happy merchant", "big nose",
  ],
  zh: [
    "害虫", "蟑螂", "老鼠", "寄生虫", "瘟疫", "病毒", "低等", "劣等", "畜生", "猴子", "猩猩", "野蛮", "是病", "有病", "精神病", "变态",
    "清除", "清理掉", "消灭", "灭绝", "杀死所有", "杀光", "赶出去", "滚出", "都是小偷", "天生", "抢东西", "入侵",
  ],
};

/** A real public office or a description that points at one famous person. */
const REAL_ROLE: TermGroup = {
  en: [
    "us president", "american president", "current president", "president of the united states", "russian president", "president of russia",
    "chinese president", "president of china", "french president", "ukrainian president", "british prime minister", "uk prime minister",
    "the pope", "the british king", "british royal family", "prince harry", "tesla", "spacex", "facebook founder", "founder of facebook",
    "amazon founder", "microsoft founder", "the actor who played", "the actress who played", "the singer who sang", "who played iron man",
  ],
  zh: ["美国总统", "俄罗斯总统", "现任总统", "那位总统", "英国首相", "教皇", "特斯拉", "脸书创始人", "那位导演", "那位演员", "那位歌手", "那位顶流", "顶流", "周董", "懂王"],
};

/** A fabricated event made to pass as real. */
const MADE_REAL: TermGroup = {
  en: [
    "realistic", "photoreal*", "news footage", "news style", "state tv", "on the bbc", "on cnn", "on tv", "cctv", "leaked", "live broadcast",
    "make it look like", "his face", "her face", "their face", "'s face", "face swap*", "admits", "announcing", "announces", "caught",
    "begging", "arrested", "surrender*", "endorsing", "confess*",
  ],
  zh: ["逼真", "写实", "真实", "新闻", "直播", "电视", "监控", "的脸", "换脸", "承认", "宣布", "宣判", "投降", "被捕"],
};

/** An extremist movement, and its recruitment or glorification. */
const EXTREMIST: TermGroup = {
  en: ["isis", "caliphate", "jihad*", "al qaeda", "al-qaeda", "taliban", "mujahid*", "holy war", "infidels", "neo-nazi*", "third reich", "final solution"],
  zh: ["圣战", "哈里发", "基地组织", "伊斯兰国", "异教徒", "第三帝国"],
};
const GLORIFY: TermGroup = {
  en: ["recruit*", "propaganda", "glory", "glorious", "martyr*", "answer the call", "answering the call", "join us", "happy ending", "celebrat*", "triumphant", "heroes"],
  zh: ["宣传", "号召", "招募", "荣耀", "殉道", "杀死所有", "加入"],
};

/** A how-to request. */
const HOW_TO: TermGroup = {
  en: ["how to", "how-to", "step by step", "tutorial", "instructional", "instructions", "guide", "recipe", "show how", "method", "diy", "make your own", "at home", "home chemistry", "kitchen chemistry"],
  zh: ["教程", "教你", "如何", "怎么", "步骤", "示范", "演示", "方法", "自己做", "在家"],
};

/** What a how-to must not teach. */
const DANGEROUS_GOODS: TermGroup = {
  en: [
    "cold medicine", "pseudoephedrine", "blue crystals", "white powder", "toxin", "castor bean*", "ricin", "full auto", "fully automatic",
    "auto sear", "drop-in part", "silencer", "suppressor", "ghost gun", "3d printed gun", "gasoline bomb", "rag stuffed", "pool chemicals",
    "fertilizer bomb", "goes boom", "go boom", "explosive*", "detonat*", "money laundering", "launder money", "launder the money",
    "launder drug money", "laundering drug money", "laundering money", "smuggl*", "counterfeit money", "counterfeit bills", "pick a lock",
    "lock picking", "card skimmer", "hotwire", "fake id", "fake passport",
  ],
  zh: ["冰毒", "麻古", "白粉", "毒品", "提炼", "全自动", "改装枪", "消音器", "燃烧瓶", "炸弹", "爆炸物", "炸药", "走私", "洗钱", "撬锁", "入室盗窃", "盗窃", "假钞", "假证"],
};

/** An attack on a crowded public place. */
const ATTACK: TermGroup = {
  en: [
    "bomb", "bombing", "blow up", "plant explosives", "plant a bomb", "mass shooting", "shoot up", "terrorist attack", "terror attack",
    "massacre", "ram the crowd", "drive into the crowd",
  ],
  zh: ["炸弹", "炸药", "放置炸药", "爆炸袭击", "恐怖袭击", "扫射", "冲撞人群", "屠杀"],
};
const CROWDED_PLACE: TermGroup = {
  en: ["subway", "metro", "station", "rush hour", "school", "concert", "stadium", "mall", "market", "crowd", "church", "mosque", "synagogue", "airport", "parade"],
  zh: ["地铁", "车站", "学校", "演唱会", "商场", "市场", "人群", "教堂", "清真寺", "机场"],
};

/** Killing or harming oneself, said indirectly. */
const SELF: TermGroup = {
  en: ["himself", "herself", "myself", "yourself", "themselves", "his own", "her own", "my own", "she decides", "he decides", "i decide", "goodbye video", "last day", "last video", "never wake up", "stop being a burden", "burden"],
  zh: ["自己", "她觉得", "他觉得", "累赘", "遗书", "最后一天", "告别"],
};
const SELF_METHOD: TermGroup = {
  en: [
    "shooting", "shoots", "shot", "hang", "hanging", "noose", "jump", "jumps", "walks off", "off the edge", "off the bridge", "off the roof",
    "whole bottle", "sleeping pills", "pills", "overdose", "engine running", "in the garage", "wrists",
    "drown", "walks into the water", "never wake up", "better without", "world is better", "end it all",
  ],
  zh: ["跳", "走进水里", "走进江", "安眠药", "整瓶", "上吊", "割", "划", "手腕", "刀片", "烧炭", "不想活", "结束"],
};

/** Eating-disorder promotion. */
const DISORDERED: TermGroup = {
  en: ["anorexi*", "bulimi*", "pro ana", "pro-ana", "thinspo*", "meanspo", "throw up", "purge", "purging", "skip meals", "starve", "starving myself", "see my ribs", "ribs showing", "thigh gap"],
  zh: ["厌食", "催吐", "吐掉", "不要吃饭", "不吃饭", "绝食", "瘦到", "肋骨"],
};
const DISORDER_PUSH: TermGroup = {
  en: ["tips", "motivation", "inspiration", "goals", "aesthetic", "quietly", "so nobody hears", "so no one knows", "challenge", "how to", "reminder"],
  zh: ["激励", "技巧", "提醒自己", "打卡", "目标", "教程", "怎么"],
};

/** Graphic injury to a body. */
const BODY_HARM: TermGroup = {
  en: [
    "head come off", "off his shoulders", "off her shoulders", "decapitat*", "behead*", "dismember*", "disembowel*", "open him up",
    "open her up", "chin to belly", "entrails", "red mist", "point blank", "red-hot iron", "pull out his nails", "skin him alive",
    "fed to the pigs", "to the pigs", "bones sticking out", "knife to his throat", "cut his throat", "slit his throat",
  ],
  zh: ["身首异处", "砍头", "斩首", "大卸八块", "分尸", "肢解", "开膛破肚", "烙铁", "烧红的铁", "拔指甲", "剥皮", "碾过", "血肉模糊", "割喉"],
};
const GRAPHIC: TermGroup = {
  en: ["close-up", "close up", "up close", "aftermath", "detail", "detailed", "realistic", "graphic", "on camera", "documentary style", "screaming", "slow motion", "show everything", "ends up on the floor", "everywhere", "still alive", "while he's still alive", "while she's still alive", "in one swing"],
  zh: ["特写", "镜头", "细节", "写实", "清楚", "惨叫", "慢慢", "真实", "行李箱"],
};

/** Sex or nudity said without the words. */
const UNDRESSED: TermGroup = {
  en: [
    "wearing nothing", "nothing but a smile", "nothing left to the imagination", "birthday suit", "in the buff", "showing her goods",
    "showing his goods", "going all the way", "onlyfans", "only fans", "18+", "xxx", "lewd", "spread her legs", "boudoir",
  ],
  zh: ["一丝不挂", "什么都不穿", "没穿衣服", "全裸", "无码", "床戏", "亲热", "啪啪", "车震", "露点", "福利姬", "十八禁"],
};
const INTIMATE: TermGroup = {
  en: ["bedroom", "bed", "lovers", "woman", "lady", "girl", "man", "couple", "scene", "clip", "video", "camera", "full body", "shower"],
  zh: ["两人", "女人", "男人", "床", "温泉", "视频", "镜头", "直接"],
};

export const COMBINATIONS: readonly Combination[] = [
  { category: "hate", rule: "protected group + dehumanization or removal", groups: [PROTECTED, DEHUMANIZE] },
  { category: "hate", rule: "extremist movement + recruitment or glorification", groups: [EXTREMIST, GLORIFY] },
  { category: "real_person_likeness", rule: "real public role + fabricated as real", groups: [REAL_ROLE, MADE_REAL] },
  { category: "illegal_dangerous", rule: "how-to + weapons, drugs or crime", groups: [HOW_TO, DANGEROUS_GOODS] },
  { category: "illegal_dangerous", rule: "attack + crowded place", groups: [ATTACK, CROWDED_PLACE] },
  { category: "self_harm", rule: "oneself + a way to die", groups: [SELF, SELF_METHOD] },
  { category: "self_harm", rule: "disordered eating + encouragement", groups: [DISORDERED, DISORDER_PUSH] },
  { category: "violence_gore", rule: "graphic injury + shown in detail", groups: [BODY_HARM, GRAPHIC] },
  { category: "sexual", rule: "undressed or sex, said indirectly + a scene", groups: [UNDRESSED, INTIMATE] },
];
