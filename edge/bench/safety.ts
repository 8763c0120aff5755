/**
 * Prompt-safety bench: quality on the labelled evaluation set and throughput on one core.
 *
 *   npm run bench:safety              # table
 *   npm run bench:safety -- --json    # machine-readable
 *   npm run bench:safety -- --misses  # also list the dev splits' misses and false positives
 *
 * Quality: per-category precision/recall, recall on unsafe prompts, false-positive rate on
 * safe prompts, for all prompts and for the held-out "test" split separately; then the same
 * for the blind sets (blind-v2.jsonl, blind-v3.jsonl, written by people who had not seen the
 * filter). Misses are listed for the dev splits only: held-out sets are for measuring, never
 * for tuning.
 * Throughput: moderate() over every evaluation prompt, repeated for ~2 s after a warm-up,
 * on this (single) thread: prompts/s and the mean prompt length.
 *
 * Type-checked with the edge (Workers types only): no Node imports; argv via globalThis.
 */
import { createModerator, moderate } from "../src/safety/moderate.ts";
import { parseJsonl, score, type Scores } from "../safety-eval/evaluate.ts";
import { PROMPTS_JSONL } from "../safety-eval/prompts.data.ts";
import { BLIND3_JSONL, BLIND4_JSONL, BLIND_JSONL } from "../safety-eval/blind.data.ts";

const argv = (globalThis as { process?: { argv: string[] } }).process?.argv ?? [];
const asJson = argv.includes("--json");
const showMisses = argv.includes("--misses");

const items = parseJsonl(PROMPTS_JSONL);
const all = score(items, (t) => moderate(t));
const test = score(
  items.filter((i) => i.split === "test"),
  (t) => moderate(t),
);
const dev = score(
  items.filter((i) => i.split !== "test"),
  (t) => moderate(t),
);
const blindItems = parseJsonl(BLIND_JSONL);
const blindDev = score(
  blindItems.filter((i) => i.split === "dev"),
  (t) => moderate(t),
);
const blindTest = score(
  blindItems.filter((i) => i.split === "test"),
  (t) => moderate(t),
);
const blind3Items = parseJsonl(BLIND3_JSONL);
const blind3 = score(blind3Items, (t) => moderate(t));
const blind4Items = parseJsonl(BLIND4_JSONL);
const blind4 = score(blind4Items, (t) => moderate(t));
// The same sets with the lexicons alone (no classifier), side by side.
const lexicons = createModerator({ classifier: false });
const lexOnly = (subset: typeof items) => score(subset, (t) => lexicons.moderate(t));
const comparison = [
  ["first set, held-out split", items.filter((i) => i.split === "test")],
  ["blind set, dev half", blindItems.filter((i) => i.split === "dev")],
  ["blind set, test half", blindItems.filter((i) => i.split === "test")],
  ["third set", blind3Items],
  ["fourth set (held out)", blind4Items],
].map(([name, subset]) => ({
  name: name as string,
  lexicons: lexOnly(subset as typeof items),
  combined: score(subset as typeof items, (t) => moderate(t)),
}));

// Throughput, over every evaluation prompt (1,404: about half safe, which is where the
// classifier runs; the lexicons stop most unsafe prompts before it). Real traffic is mostly
// safe, so this is between the lexicons' speed and the classifier's worst case.
const texts = [...items, ...blindItems, ...blind3Items, ...blind4Items].map((i) => i.text);
const meanChars = texts.reduce((n, t) => n + t.length, 0) / texts.length;
let sink = 0;
/** Calls per second of `check` over the texts for ~2 s after a 0.5 s warm-up. */
const rate = (check: (t: string) => { matches: unknown[] }) => {
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) for (const t of texts) sink += check(t).matches.length;
  let n = 0;
  const start = performance.now();
  let ms = 0;
  while (ms < 2000) {
    for (const t of texts) sink += check(t).matches.length;
    n += texts.length;
    ms = performance.now() - start;
  }
  return { calls: n, ms };
};
const { calls, ms: elapsed } = rate((t) => moderate(t));
const throughput = (calls / elapsed) * 1000;
// The same with the lexicons alone, for what the classifier costs.
const lexiconRun = rate((t) => lexicons.moderate(t));
const lexiconThroughput = (lexiconRun.calls / lexiconRun.ms) * 1000;
// The worst input the normalizer sees: a 100 KB run of spaced single letters (prompts are
// capped at 2,000 characters; /v1/moderations at the body limit).
const worstInput = "a ".repeat(50_000) + "porn";
const tWorst = performance.now();
sink += moderate(worstInput).matches.length;
const worstMs = performance.now() - tWorst;
const usPerPrompt = (elapsed * 1000) / calls;

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const goals = { recall: 0.95, falsePositiveRate: 0.03, throughput: 100_000 };

if (asJson) {
  const slim = (s: Scores) => ({ ...s, missed: s.missed.length, falsePositives: s.falsePositives.length });
  console.log(
    JSON.stringify(
      {
        all: showMisses ? all : slim(all),
        dev: slim(dev),
        test: slim(test),
        blind_dev: slim(blindDev),
        blind_test: slim(blindTest),
        blind3: slim(blind3),
        blind4: slim(blind4),
        lexicons_vs_combined: comparison.map((c) => ({
          set: c.name,
          lexicons: { recall: c.lexicons.recall, falsePositiveRate: c.lexicons.falsePositiveRate },
          combined: { recall: c.combined.recall, falsePositiveRate: c.combined.falsePositiveRate },
        })),
        throughput: { promptsPerSecond: Math.round(throughput), microsecondsPerPrompt: usPerPrompt, meanChars, calls, ms: elapsed },
        lexicons_only_prompts_per_second: Math.round(lexiconThroughput),
        worst_case_100kb_ms: worstMs,
        goals,
        sink,
      },
      null,
      2,
    ),
  );
} else {
  const table = (name: string, s: Scores) => {
    console.log(`\n${name}: ${s.total} prompts (${s.unsafe} unsafe, ${s.safe} safe)`);
    console.log("  category               support  precision  recall");
    for (const c of s.perCategory)
      console.log(
        `  ${c.category.padEnd(22)} ${String(c.support).padStart(7)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall).padStart(7)}`,
      );
    console.log(`  recall on unsafe (flagged at all): ${pct(s.recall)}   (goal ≥ ${pct(goals.recall)})`);
    console.log(`  false-positive rate on safe:       ${pct(s.falsePositiveRate)}   (goal ≤ ${pct(goals.falsePositiveRate)})`);
    console.log(
      "  by kind (share flagged): " +
        Object.entries(s.byKind)
          .map(([k, v]) => `${k} ${pct(v.flaggedShare)} of ${v.n}`)
          .join(", "),
    );
  };
  table("all", all);
  table("dev split", dev);
  table("held-out test split", test);
  table("blind set, dev split", blindDev);
  table("blind set, test split (training data since the third set)", blindTest);
  table("third set (blind-v3)", blind3);
  table("fourth set (blind-v4, held out)", blind4);
  console.log("\nlexicons alone vs lexicons + classifier (recall on unsafe / false positives on safe):");
  for (const c of comparison)
    console.log(
      `  ${c.name.padEnd(28)} ${pct(c.lexicons.recall).padStart(7)} / ${pct(c.lexicons.falsePositiveRate).padStart(6)}   →   ${pct(c.combined.recall).padStart(7)} / ${pct(c.combined.falsePositiveRate).padStart(6)}`,
    );
  console.log(
    `\nthroughput: ${Math.round(throughput).toLocaleString("en-US")} prompts/s on one core ` +
      `(${usPerPrompt.toFixed(2)} µs/prompt, mean ${meanChars.toFixed(0)} chars, ${calls} calls in ${elapsed.toFixed(0)} ms; goal ≥ 100,000)`,
  );
  console.log(
    `lexicons alone: ${Math.round(lexiconThroughput).toLocaleString("en-US")} prompts/s (the classifier costs ${(usPerPrompt - 1e6 / lexiconThroughput).toFixed(2)} µs/prompt on this mix)`,
  );
  console.log(`worst case: a 100 KB run of spaced single letters in ${worstMs.toFixed(1)} ms`);
  if (showMisses) {
    for (const [name, s] of [
      ["dev split", dev],
      ["blind set, dev split", blindDev],
    ] as const) {
      console.log(`\n${name}, missed:`);
      for (const m of s.missed) console.log(`  [${m.label}/${m.kind}${m.evasion ? "/" + m.evasion : ""}] ${m.text}`);
      console.log(`${name}, false positives:`);
      for (const f of s.falsePositives) console.log(`  [${f.kind}: ${f.categories.join(",")}] ${f.text}`);
    }
  }
  if (sink < 0) console.log(sink);
}
