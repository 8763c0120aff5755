/**
 * Prompt-safety bench: quality on every labelled evaluation set and throughput on one core.
 *
 *   npm run bench:safety              # tables
 *   npm run bench:safety -- --json    # machine-readable
 *   npm run bench:safety -- --misses  # also list misses and false positives of the sets that
 *                                     # are training data (never of a held-out set)
 *
 * Quality, per set: recall on unsafe prompts (flagged at all: what blocks a create), false
 * positives on safe prompts, and both per category (recall of the prompts labelled with it,
 * safe prompts flagged with it). The held-out sets come first: the fifth blind set (blind-v5,
 * written by an author who had seen neither the filter nor the other sets), the generated
 * minors set (minors.ts) and the first set's held-out split; then the sets that are training
 * data since a newer one exists, with the lexicons alone beside the whole check.
 * Throughput: moderate() over every evaluation prompt, repeated for ~2 s after a warm-up,
 * on this (single) thread: prompts/s and the mean prompt length.
 *
 * Type-checked with the edge (Workers types only): no Node imports; argv via globalThis.
 */
import { createModerator, moderate } from "../src/safety/moderate.ts";
import { parseJsonl, score, type Scores } from "../safety-eval/evaluate.ts";
import { PROMPTS_JSONL } from "../safety-eval/prompts.data.ts";
import { BLIND3_JSONL, BLIND4_JSONL, BLIND5_JSONL, BLIND_JSONL } from "../safety-eval/blind.data.ts";
import { minorsSet } from "../safety-eval/minors.ts";
import type { EvalItem } from "../safety-eval/build.ts";

const argv = (globalThis as { process?: { argv: string[] } }).process?.argv ?? [];
const asJson = argv.includes("--json");
const showMisses = argv.includes("--misses");

const first = parseJsonl(PROMPTS_JSONL);
const blind2 = parseJsonl(BLIND_JSONL);
const blind3Items = parseJsonl(BLIND3_JSONL);
const blind4Items = parseJsonl(BLIND4_JSONL);
const blind5Items = parseJsonl(BLIND5_JSONL);
const minors = minorsSet();
const lexicons = createModerator({ classifier: false });

interface SetScore {
  name: string;
  heldOut: boolean;
  combined: Scores;
  lexicons: Scores;
}
const sets: SetScore[] = (
  [
    ["fifth set (blind-v5)", true, blind5Items],
    ["minors (generated)", true, minors],
    ["first set, held-out split", true, first.filter((i) => i.split === "test")],
    ["fourth set (blind-v4)", false, blind4Items],
    ["third set (blind-v3)", false, blind3Items],
    ["second set (blind-v2)", false, blind2],
    ["first set, dev split", false, first.filter((i) => i.split !== "test")],
  ] as const
).map(([name, heldOut, subset]: readonly [string, boolean, readonly EvalItem[]]) => ({
  name,
  heldOut,
  combined: score(subset, (t) => moderate(t)),
  lexicons: score(subset, (t) => lexicons.moderate(t)),
}));

// Throughput, over every written evaluation prompt (about half safe, which is where the
// classifier runs; the lexicons stop most unsafe prompts before it). Real traffic is mostly
// safe, so this is between the lexicons' speed and the classifier's worst case.
const texts = [...first, ...blind2, ...blind3Items, ...blind4Items, ...blind5Items].map((i) => i.text);
const meanChars = texts.reduce((n, t) => n + t.length, 0) / texts.length;
let sink = 0;
/**
 * Calls per second of `check` over the texts after a warm-up: ROUNDS rounds of ~0.3 s,
 * reported as the median round (a shared machine's stolen time lands in a few rounds, not in
 * the code's speed) with the slowest and fastest beside it.
 */
const ROUNDS = 7;
/** Long enough for a virtual machine that idled to give the core back at full speed. */
const WARM_UP_MS = 2000;
const rate = (check: (t: string) => { matches: unknown[] }) => {
  const warmEnd = performance.now() + WARM_UP_MS;
  while (performance.now() < warmEnd) for (const t of texts) sink += check(t).matches.length;
  const rounds: { calls: number; ms: number; perSecond: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = performance.now();
    let ms = 0;
    while (ms < 300) {
      for (const t of texts) sink += check(t).matches.length;
      n += texts.length;
      ms = performance.now() - start;
    }
    rounds.push({ calls: n, ms, perSecond: (n / ms) * 1000 });
  }
  rounds.sort((a, b) => a.perSecond - b.perSecond);
  const median = rounds[ROUNDS >> 1]!;
  return { calls: median.calls, ms: median.ms, slowest: rounds[0]!.perSecond, fastest: rounds[ROUNDS - 1]!.perSecond };
};
const run = rate((t) => moderate(t));
const { calls, ms: elapsed } = run;
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
const goals = { recall: 0.97, sexualMinorsRecall: 1, falsePositiveRate: 0.02, throughput: 100_000 };
const slim = (s: Scores) => ({ ...s, missed: s.missed.length, falsePositives: s.falsePositives.length });

if (asJson) {
  console.log(
    JSON.stringify(
      {
        sets: sets.map((x) => ({ set: x.name, held_out: x.heldOut, combined: slim(x.combined), lexicons: slim(x.lexicons) })),
        throughput: {
          promptsPerSecond: Math.round(throughput),
          slowestRound: Math.round(run.slowest),
          fastestRound: Math.round(run.fastest),
          microsecondsPerPrompt: usPerPrompt,
          meanChars,
          calls,
          ms: elapsed,
        },
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
  for (const x of sets) {
    const s = x.combined;
    console.log(`\n${x.name}${x.heldOut ? " — held out" : " — training data"}: ${s.total} prompts (${s.unsafe} unsafe, ${s.safe} safe)`);
    console.log("  category                n   recall   safe flagged as it");
    for (const [label, b] of Object.entries(s.byLabel))
      console.log(
        `  ${label.padEnd(22)} ${String(b.n).padStart(4)}  ${(b.n ? pct(b.recall) : "—").padStart(7)}   ${b.safeFlagged} (${pct(b.falsePositiveRate)})`,
      );
    console.log(
      `  all: recall ${pct(s.recall)}, false positives ${pct(s.falsePositiveRate)} (${s.falsePositives.length} of ${s.safe}); ` +
        `lexicons alone ${pct(x.lexicons.recall)} / ${pct(x.lexicons.falsePositiveRate)}`,
    );
    console.log(
      "  by kind (share flagged): " +
        Object.entries(s.byKind)
          .map(([k, v]) => `${k} ${pct(v.flaggedShare)} of ${v.n}`)
          .join(", "),
    );
  }
  console.log(
    `\ngoals on held-out sets: sexual_minors recall ${pct(goals.sexualMinorsRecall)}, recall ≥ ${pct(goals.recall)}, false positives ≤ ${pct(goals.falsePositiveRate)}`,
  );
  console.log(
    `\nthroughput: ${Math.round(throughput).toLocaleString("en-US")} prompts/s on one core, median of ${ROUNDS} rounds ` +
      `(${Math.round(run.slowest).toLocaleString("en-US")}–${Math.round(run.fastest).toLocaleString("en-US")}; ` +
      `${usPerPrompt.toFixed(2)} µs/prompt, mean ${meanChars.toFixed(0)} chars; goal ≥ 100,000)`,
  );
  console.log(
    `lexicons alone: ${Math.round(lexiconThroughput).toLocaleString("en-US")} prompts/s (the classifier costs ${(usPerPrompt - 1e6 / lexiconThroughput).toFixed(2)} µs/prompt on this mix)`,
  );
  console.log(`worst case: a 100 KB run of spaced single letters in ${worstMs.toFixed(1)} ms`);
  if (showMisses) {
    for (const x of sets.filter((y) => !y.heldOut)) {
      console.log(`\n${x.name}, missed:`);
      for (const m of x.combined.missed) console.log(`  [${m.label}/${m.kind}${m.evasion ? "/" + m.evasion : ""}] ${m.text}`);
      console.log(`${x.name}, false positives:`);
      for (const f of x.combined.falsePositives) console.log(`  [${f.kind}: ${f.categories.join(",")}] ${f.text}`);
    }
  }
  if (sink < 0) console.log(sink);
}
