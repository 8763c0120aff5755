import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLASSES, featureSlots, probabilities, type ClassifierModel } from "../../edge/src/safety/classifier.ts";
import { BLIND3_JSONL, BLIND4_JSONL, BLIND5_JSONL, BLIND_JSONL } from "../../edge/safety-eval/blind.data.ts";
import { createModerator } from "../../edge/src/safety/moderate.ts";
import { rng } from "../../edge/safety-eval/build.ts";
import { PROMPTS_JSONL } from "../../edge/safety-eval/prompts.data.ts";

/**
 * Trains the prompt-safety classifier (edge/src/safety/classifier.ts), reproducibly:
 *
 *   npm run train:safety             # writes edge/src/safety/model/weights.data.ts
 *   npm run train:safety -- --check  # exits 1 if that file is not what it would write
 *
 * Data: every labelled prompt in edge/safety-train/*.jsonl (written for training by authors
 * who had not seen the filter or the evaluation sets), the "dev" half of the first evaluation
 * set, all of the second, third and fourth (blind-v2, -v3, -v4): each blind set is held out
 * until a newer one exists, then becomes training data. The held-out sets, the first set's
 * "test" half, the fifth set (blind-v5) and the generated minors set, are never read for
 * training or for choosing a threshold: they are what the filter is measured on
 * (edge/bench/safety.ts).
 *
 * Model: softmax regression over CLASSES, hashed features, L2, Adam, a fixed number of epochs
 * in a seeded order; safe prompts weigh SAFE_PRIOR of the total. The biases are not learned:
 * they are set so that a prompt with nothing the model knows scores EMPTY_UNSAFE (most prompts
 * are safe; without this an unfamiliar prompt scores near 50/50 and is refused). Thresholds, one
 * per class on P(class), from 5-fold cross-validation over the training data: the lowest that
 * keeps that class's false positives on safe prompts at or under its share, FPR_BY_CLASS, larger
 * for the severe classes (graphic violence, weapons and drugs) so that they are tuned for
 * recall. With a minor in the prompt, P(sexual) is held to a lower threshold still: the one that
 * flags MINOR_SEXUAL_FPR of the safe training prompts that name a minor. Weights ship as int8
 * (one scale per class).
 */
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
/** Chosen by cross-validation on the training data (`--epochs`, `--l2`, `--lr` to explore). */
const BUCKETS = 1 << 15;
const EPOCHS = arg("epochs", 30);
const L2 = arg("l2", 1e-4);
const LR = arg("lr", 0.005);
const FOLDS = 5;
const SAFE_PRIOR = arg("safe-prior", 0.7);
const EMPTY_UNSAFE = arg("empty-unsafe", 0.02);
/** Share of safe training prompts each class may flag in cross-validation, by severity. */
const FPR_BY_CLASS: Record<string, number> = {
  sexual: arg("fpr-sexual", 0.001),
  violence_gore: arg("fpr-violence_gore", 0.002),
  self_harm: arg("fpr-self_harm", 0.001),
  hate: arg("fpr-hate", 0.001),
  illegal_dangerous: arg("fpr-illegal_dangerous", 0.002),
  real_person_likeness: arg("fpr-real_person_likeness", 0.0005),
};
const MINOR_SEXUAL_FPR = arg("fpr-minor-sexual", 0.002);
const OUT = new URL("../../edge/src/safety/model/weights.data.ts", import.meta.url);
const TRAIN_DIR = new URL("../../edge/safety-train/", import.meta.url);

interface Example {
  text: string;
  y: number;
  slots: number[];
  weight: number;
}

const classOf = (label: string): number => {
  const name = label === "sexual_minors" ? "sexual" : label;
  const i = (CLASSES as readonly string[]).indexOf(name);
  if (i < 0) throw new Error(`unknown label ${label}`);
  return i;
};

function load(): { examples: Example[]; sources: { name: string; sha256: string; n: number }[] } {
  const sources: { name: string; sha256: string; n: number }[] = [];
  const rows: { text: string; label: string }[] = [];
  const take = (name: string, text: string, keep: (o: { split?: string }) => boolean) => {
    const lines = text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { text: string; label: string; split?: string });
    const kept = lines.filter(keep);
    rows.push(...kept);
    sources.push({ name, sha256: createHash("sha256").update(text).digest("hex"), n: kept.length });
  };
  // Never train on a prompt that is also in a held-out half, whoever wrote it.
  const heldOut = new Set(
    [PROMPTS_JSONL, BLIND5_JSONL]
      .flatMap((t) =>
        t
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as { text: string; split: string }),
      )
      .filter((o) => o.split === "test")
      .map((o) => o.text.trim().toLowerCase()),
  );
  const dir = TRAIN_DIR.pathname;
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort())
    take(`edge/safety-train/${f}`, readFileSync(join(dir, f), "utf8"), () => true);
  take("edge/safety-eval/prompts.jsonl (dev)", PROMPTS_JSONL, (o) => o.split === "dev");
  take("edge/safety-eval/blind-v2.jsonl (retired held-out)", BLIND_JSONL, () => true);
  take("edge/safety-eval/blind-v3.jsonl (retired held-out)", BLIND3_JSONL, () => true);
  take("edge/safety-eval/blind-v4.jsonl (retired held-out)", BLIND4_JSONL, () => true);
  const seen = new Set<string>();
  const examples: Example[] = [];
  for (const r of rows) {
    if (seen.has(r.text) || heldOut.has(r.text.trim().toLowerCase())) continue;
    seen.add(r.text);
    examples.push({ text: r.text, y: classOf(r.label), slots: [...featureSlots(r.text, BUCKETS)], weight: 1 });
  }
  const safe = examples.filter((e) => e.y === 0).length;
  const unsafe = examples.length - safe;
  for (const e of examples) e.weight = e.y === 0 ? (SAFE_PRIOR * examples.length) / safe : ((1 - SAFE_PRIOR) * examples.length) / unsafe;
  return { examples, sources };
}

function train(examples: readonly Example[], seed: number): ClassifierModel {
  const k = CLASSES.length;
  const w = new Float32Array(k * BUCKETS);
  const b = new Float32Array(k);
  // Adam moments, lazily updated per touched slot (sparse features).
  const m = new Float32Array(k * BUCKETS);
  const v = new Float32Array(k * BUCKETS);
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  // The bias is the prior, fixed: a prompt with no known feature scores EMPTY_UNSAFE unsafe,
  // so the weights alone must carry the evidence.
  b[0] = Math.log(1 - EMPTY_UNSAFE);
  for (let c = 1; c < k; c++) b[c] = Math.log(EMPTY_UNSAFE / (k - 1));
  const model: ClassifierModel = { buckets: BUCKETS, weights: w, bias: b };
  const order = examples.map((_, i) => i);
  const random = rng(seed);
  let t = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const idx of order) {
      const ex = examples[idx]!;
      const p = probabilities(model, ex.slots);
      t++;
      const c1 = 1 - b1 ** t,
        c2 = 1 - b2 ** t;
      for (let c = 0; c < k; c++) {
        const g = (p[c]! - (c === ex.y ? 1 : 0)) * ex.weight;
        for (const s of ex.slots) {
          const at = s * k + c; // the model's layout: [bucket][class]
          const gi = g + L2 * w[at]!;
          m[at] = b1 * m[at]! + (1 - b1) * gi;
          v[at] = b2 * v[at]! + (1 - b2) * gi * gi;
          w[at] = w[at]! - (LR * (m[at] / c1)) / (Math.sqrt(v[at] / c2) + eps);
        }
      }
    }
  }
  return model;
}

/** Out-of-fold class probabilities for every example. */
function crossValidated(examples: readonly Example[]): Float64Array[] {
  const out: Float64Array[] = new Array<Float64Array>(examples.length);
  const fold = examples.map((_, i) => i % FOLDS);
  for (let f = 0; f < FOLDS; f++) {
    const model = train(
      examples.filter((_, i) => fold[i] !== f),
      17 + f,
    );
    examples.forEach((e, i) => {
      if (fold[i] === f) out[i] = probabilities(model, e.slots);
    });
  }
  return out;
}

interface Operating {
  thresholds: number[];
  minorSexual: number;
  /** Cross-validated: unsafe examples flagged (any class), safe examples flagged, per class. */
  recall: number;
  falsePositiveRate: number;
  byClass: Record<string, { threshold: number; recall: number; false_positive_rate: number }>;
}

/** The (share × n)-th highest of `scores`, just above it: flags at most that share. */
function atShare(scores: number[], share: number): number {
  const sorted = [...scores].sort((a, b) => b - a);
  return Math.min(0.99, Math.max(0.05, (sorted[Math.floor(share * sorted.length)] ?? 0) + 1e-6));
}

function chooseThresholds(examples: readonly Example[], oof: readonly Float64Array[]): Operating {
  const safe = examples.flatMap((e, i) => (e.y === 0 ? [i] : []));
  const unsafe = examples.flatMap((e, i) => (e.y !== 0 ? [i] : []));
  const thresholds = [
    1,
    ...CLASSES.slice(1).map((name, c) =>
      atShare(
        safe.map((i) => oof[i]![c + 1]!),
        FPR_BY_CLASS[name]!,
      ),
    ),
  ];
  const minors = createModerator({ classifier: false });
  const safeWithMinor = safe.filter((i) => minors.minorIn(examples[i]!.text) !== undefined);
  const minorSexual = Math.min(
    thresholds[1]!,
    atShare(
      safeWithMinor.map((i) => oof[i]![1]!),
      MINOR_SEXUAL_FPR,
    ),
  );
  const flags = (i: number) => CLASSES.some((_, c) => c > 0 && oof[i]![c]! >= thresholds[c]!);
  const byClass: Operating["byClass"] = {};
  CLASSES.forEach((name, c) => {
    if (c === 0) return;
    const members = unsafe.filter((i) => examples[i]!.y === c);
    byClass[name] = {
      threshold: Number(thresholds[c]!.toFixed(6)),
      recall: Number((members.filter(flags).length / members.length).toFixed(4)),
      false_positive_rate: Number((safe.filter((i) => oof[i]![c]! >= thresholds[c]!).length / safe.length).toFixed(4)),
    };
  });
  return {
    thresholds,
    minorSexual,
    recall: unsafe.filter(flags).length / unsafe.length,
    falsePositiveRate: safe.filter(flags).length / safe.length,
    byClass,
  };
}

function quantize(model: ClassifierModel): { scale: number[]; bytes: Uint8Array } {
  const k = CLASSES.length;
  const bytes = new Uint8Array(k * BUCKETS);
  const scale: number[] = [];
  for (let c = 0; c < k; c++) {
    let max = 0;
    for (let i = 0; i < BUCKETS; i++) max = Math.max(max, Math.abs(model.weights[i * k + c]!));
    const s = max / 127 || 1;
    scale.push(Number(s.toPrecision(8)));
    for (let i = 0; i < BUCKETS; i++) bytes[c * BUCKETS + i] = Math.round(model.weights[i * k + c]! / scale[c]!) & 0xff;
  }
  return { scale, bytes };
}

const { examples, sources } = load();
const oof = crossValidated(examples);
const cv = chooseThresholds(examples, oof);
if (process.argv.includes("--cv-errors")) {
  // The training data's cross-validated mistakes: what the next data should cover.
  examples.forEach((e, i) => {
    const over = CLASSES.findIndex((_, c) => c > 0 && oof[i]![c]! >= cv.thresholds[c]!);
    const wrong = e.y === 0 ? over > 0 : over < 0;
    const p = e.y === 0 ? oof[i]![over]! : oof[i]![e.y]!;
    if (wrong) console.log(`${e.y === 0 ? "FP" : "FN"} ${p.toFixed(2)} [${CLASSES[e.y === 0 ? over : e.y]}] ${e.text}`);
  });
}
const model = train(examples, 7);
const { scale, bytes } = quantize(model);
const summary = {
  examples: examples.length,
  unsafe: examples.filter((e) => e.y !== 0).length,
  cross_validated: {
    recall: Number(cv.recall.toFixed(4)),
    false_positive_rate: Number(cv.falsePositiveRate.toFixed(4)),
    by_class: cv.byClass,
  },
};
const text =
  "// Generated by infra/safety/train-classifier.ts: do not edit (run it to retrain).\n" +
  `export const TRAINED_ON = ${JSON.stringify({ sources, ...summary }, null, 2)};\n` +
  `export const MODEL = ${JSON.stringify({
    buckets: BUCKETS,
    thresholds: cv.thresholds.map((t) => Number(t.toFixed(6))),
    minor_sexual_threshold: Number(cv.minorSexual.toFixed(6)),
    scale,
    bias: Array.from(model.bias, (x) => Number(x.toPrecision(8))),
    weights: Buffer.from(bytes).toString("base64"),
  })};\n`;

if (process.argv.includes("--explore")) {
  console.log(
    JSON.stringify({
      epochs: EPOCHS,
      l2: L2,
      lr: LR,
      safe_prior: SAFE_PRIOR,
      empty_unsafe: EMPTY_UNSAFE,
      fpr_by_class: FPR_BY_CLASS,
      minor_sexual: cv.minorSexual,
      empty: 1 - probabilities(model, [])[0]!,
      ...summary.cross_validated,
    }),
  );
} else if (process.argv.includes("--check")) {
  let have = "";
  try {
    have = readFileSync(OUT, "utf8");
  } catch {
    // absent: stale by definition
  }
  if (have !== text) {
    console.error(`${OUT.pathname} is not what the training data gives: run npm run train:safety`);
    process.exitCode = 1;
  }
} else {
  writeFileSync(OUT, text);
  console.log(JSON.stringify({ ...summary, minor_sexual_threshold: cv.minorSexual, sources }, null, 1));
}
