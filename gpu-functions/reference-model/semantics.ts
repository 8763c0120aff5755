/**
 * What the reference model understands: colours, shapes, motions and backgrounds, in
 * English and Chinese. Each word is a point in a small semantic embedding space; the text
 * encoder is a lookup into the table built here, and the denoiser reads the pooled
 * embedding to choose the clip it converges to, so the clip responds to the prompt.
 */

export const SHAPES = ["circle", "square", "triangle", "star"] as const;
export const MOTIONS = ["still", "bounce", "left", "right", "orbit"] as const;
export type Shape = (typeof SHAPES)[number];
export type Motion = (typeof MOTIONS)[number];

/** Embedding layout (width EMBED_DIM). */
export const DIM = {
  fg: 0, // 3 dims: object colour, latent units
  fgSet: 3, // 1 when a colour word was given
  shape: 4, // SHAPES.length logits
  motion: 8, // MOTIONS.length logits
  bg: 13, // 3 dims: background colour, latent units
  bgSet: 16,
  object: 17, // 1 per word that describes the object; none → no object in the clip
} as const;
export const EMBED_DIM = 18;

/** Logit a shape or motion word adds; defaults below make a prompt without one still valid. */
const WORD_LOGIT = 8;
export const DEFAULT_SHAPE_LOGITS = [1, 0, 0, 0];
export const DEFAULT_MOTION_LOGITS = [1, 0, 0, 0, 0];

/** sRGB 0–255 → the latent value the VAE decodes back to it (decoder: tanh(2·l)). */
export function rgbToLatent(rgb: readonly [number, number, number]): [number, number, number] {
  return rgb.map((v) => {
    const p = Math.min(0.96, Math.max(-0.96, v / 127.5 - 1));
    return Math.atanh(p) / 2;
  }) as [number, number, number];
}

const COLOURS: Record<string, readonly [number, number, number]> = {
  red: [225, 35, 35],
  green: [40, 190, 60],
  blue: [40, 90, 230],
  yellow: [240, 215, 40],
  orange: [250, 140, 30],
  purple: [140, 60, 200],
  pink: [245, 120, 180],
  white: [240, 240, 240],
  black: [20, 20, 20],
  cyan: [40, 210, 220],
  grey: [128, 128, 128],
};
export const DEFAULT_FG: readonly [number, number, number] = [235, 235, 235];

const BACKGROUNDS: Record<string, readonly [number, number, number]> = {
  night: [15, 20, 50],
  sky: [120, 180, 240],
  grass: [60, 140, 50],
  beach: [225, 200, 140],
  snow: [235, 240, 245],
  sunset: [240, 120, 60],
  ocean: [20, 60, 130],
};
/** Neutral grey: guidance extrapolates away from the unconditional clip, and away from grey keeps hue. */
export const DEFAULT_BG: readonly [number, number, number] = [70, 70, 70];

type Meaning =
  | { kind: "colour"; value: keyof typeof COLOURS }
  | { kind: "shape"; value: Shape }
  | { kind: "motion"; value: Motion }
  | { kind: "background"; value: keyof typeof BACKGROUNDS };

const c = (value: keyof typeof COLOURS): Meaning => ({ kind: "colour", value });
const s = (value: Shape): Meaning => ({ kind: "shape", value });
const m = (value: Motion): Meaning => ({ kind: "motion", value });
const b = (value: keyof typeof BACKGROUNDS): Meaning => ({ kind: "background", value });

/** Every word the tokenizer knows and what it means. Other words map to `<unk>` (no effect). */
export const LEXICON: Record<string, Meaning> = {
  red: c("red"),
  green: c("green"),
  blue: c("blue"),
  yellow: c("yellow"),
  orange: c("orange"),
  purple: c("purple"),
  violet: c("purple"),
  pink: c("pink"),
  white: c("white"),
  black: c("black"),
  cyan: c("cyan"),
  grey: c("grey"),
  gray: c("grey"),
  ball: s("circle"),
  circle: s("circle"),
  sphere: s("circle"),
  dot: s("circle"),
  orb: s("circle"),
  square: s("square"),
  box: s("square"),
  cube: s("square"),
  block: s("square"),
  triangle: s("triangle"),
  pyramid: s("triangle"),
  star: s("star"),
  still: m("still"),
  resting: m("still"),
  floating: m("still"),
  bouncing: m("bounce"),
  bounce: m("bounce"),
  bounces: m("bounce"),
  jumping: m("bounce"),
  jumps: m("bounce"),
  left: m("left"),
  right: m("right"),
  orbiting: m("orbit"),
  orbit: m("orbit"),
  circling: m("orbit"),
  spinning: m("orbit"),
  night: b("night"),
  dark: b("night"),
  sky: b("sky"),
  grass: b("grass"),
  field: b("grass"),
  meadow: b("grass"),
  beach: b("beach"),
  sand: b("beach"),
  desert: b("beach"),
  snow: b("snow"),
  sunset: b("sunset"),
  ocean: b("ocean"),
  sea: b("ocean"),
  water: b("ocean"),
  // Chinese: matched greedily, longest first, inside runs of CJK characters.
  红色: c("red"),
  红: c("red"),
  绿色: c("green"),
  绿: c("green"),
  蓝色: c("blue"),
  蓝: c("blue"),
  黄色: c("yellow"),
  黄: c("yellow"),
  橙色: c("orange"),
  橙: c("orange"),
  紫色: c("purple"),
  紫: c("purple"),
  粉色: c("pink"),
  粉: c("pink"),
  白色: c("white"),
  白: c("white"),
  黑色: c("black"),
  黑: c("black"),
  灰色: c("grey"),
  青色: c("cyan"),
  球: s("circle"),
  圆: s("circle"),
  圆形: s("circle"),
  方块: s("square"),
  正方形: s("square"),
  盒子: s("square"),
  三角形: s("triangle"),
  三角: s("triangle"),
  星星: s("star"),
  星: s("star"),
  静止: m("still"),
  弹跳: m("bounce"),
  跳: m("bounce"),
  跳动: m("bounce"),
  向左: m("left"),
  左: m("left"),
  向右: m("right"),
  右: m("right"),
  旋转: m("orbit"),
  绕圈: m("orbit"),
  夜晚: b("night"),
  夜: b("night"),
  天空: b("sky"),
  草地: b("grass"),
  沙滩: b("beach"),
  雪: b("snow"),
  雪地: b("snow"),
  日落: b("sunset"),
  大海: b("ocean"),
  海: b("ocean"),
};

/** The embedding row of one word. */
export function embedWord(meaning: Meaning): Float32Array {
  const row = new Float32Array(EMBED_DIM);
  switch (meaning.kind) {
    case "colour":
      row.set(rgbToLatent(COLOURS[meaning.value]!), DIM.fg);
      row[DIM.fgSet] = 1;
      row[DIM.object] = 1;
      break;
    case "shape":
      row[DIM.shape + SHAPES.indexOf(meaning.value)] = WORD_LOGIT;
      row[DIM.object] = 1;
      break;
    case "motion":
      row[DIM.motion + MOTIONS.indexOf(meaning.value)] = WORD_LOGIT;
      row[DIM.object] = 1;
      break;
    case "background":
      row.set(rgbToLatent(BACKGROUNDS[meaning.value]!), DIM.bg);
      row[DIM.bgSet] = 1;
      break;
  }
  return row;
}
