import type { Lexicon } from "./types.ts";

/**
 * Real, identifiable people: living heads of state and other widely-known public figures,
 * and deepfake / face-swap phrasing about anyone. A deployment with a licensing deal can
 * allowlist a name (ModerateOptions.allow). The list is a seed, not a registry of the famous.
 */
export default {
  note: "public figures by name; deepfakes, face swaps, impersonation of real people",
  en: [
    "deepfake*", "deep fake*", "face swap*", "faceswap*", "swap his face", "swap her face",
    "swap the face", "put his face on", "put her face on", "put my face on", "in the likeness of",
    "real person", "lookalike of", "look alike of", "voice clone", "clone the voice",
    "donald trump", "trump", "joe biden", "biden", "barack obama", "obama", "kamala harris",
    "hillary clinton", "bill clinton", "george w bush", "vladimir putin", "putin",
    "volodymyr zelensky", "zelensky", "zelenskyy", "xi jinping", "kim jong un", "narendra modi",
    "emmanuel macron", "olaf scholz", "rishi sunak", "keir starmer", "benjamin netanyahu",
    "netanyahu", "pope francis", "pope leo", "king charles", "elon musk", "mark zuckerberg",
    "jeff bezos", "bill gates", "taylor swift", "beyonce", "rihanna", "kim kardashian",
    "kanye west", "selena gomez", "ariana grande", "billie eilish", "scarlett johansson",
    "emma watson", "tom cruise", "tom hanks", "leonardo dicaprio", "keanu reeves",
    "dwayne johnson", "brad pitt", "angelina jolie", "jennifer lawrence",
    "margot robbie", "zendaya", "cristiano ronaldo", "lionel messi", "lebron james",
    "michael jordan", "greta thunberg", "al gore", "oprah winfrey", "mrbeast", "mr beast",
    "jackie chan", "jet li", "lisa blackpink", "jungkook", "bts jungkook",
  ],
  zh: [
    "换脸", "深度伪造", "深伪", "ai换脸", "换成他的脸", "换成她的脸", "冒充真人", "声音克隆",
    "习近平", "李强", "毛泽东", "邓小平", "江泽民", "胡锦涛", "温家宝", "李克强", "彭丽媛",
    "特朗普", "川普", "拜登", "奥巴马", "普京", "泽连斯基", "马克龙", "莫迪", "金正恩",
    "马斯克", "扎克伯格", "比尔盖茨", "马云", "马化腾", "雷军", "任正非", "泰勒斯威夫特",
    "霉霉", "成龙", "李连杰", "周杰伦", "刘德华", "范冰冰", "杨幂", "赵丽颖", "迪丽热巴",
    "杨紫", "刘亦菲", "蔡徐坤", "王一博", "肖战", "易烊千玺", "吴京", "章子怡", "巩俐",
    "梅西", "c罗", "姚明", "刘翔", "谷爱凌",
  ],
} satisfies Lexicon;
