/**
 * Aho–Corasick multi-pattern matcher over UTF-16 code units.
 *
 * - Failure links: the longest proper suffix of the current state that is also a trie prefix.
 * - Output (dictionary-suffix) links: from each state, the nearest state along the failure
 *   chain that ends a pattern. Following them reports every pattern that ends at a position,
 *   including patterns that are suffixes of other patterns ("he" inside "she" inside
 *   "ushers"), which is what matchers that only look at the current state's own output miss.
 * - ASCII transitions are compiled into a dense table (a full DFA: no failure walk at match
 *   time); other code units (CJK etc.) use a per-state map plus the failure walk.
 *
 * Pure and runtime-neutral: build once per isolate, then `scan` is allocation-free.
 */
export class AhoCorasick {
  /** Number of patterns given to the constructor (ids are their indexes). */
  readonly size: number;
  private readonly lengths: Int32Array;
  /** ASCII goto/delta table: state * 128 + code unit → next state. */
  private readonly ascii: Int32Array;
  /** Non-ASCII trie children per state (undefined when none). */
  private readonly wide: (Map<number, number> | undefined)[];
  private readonly fail: Int32Array;
  /** Output link: nearest proper-suffix state that ends a pattern, or -1. */
  private readonly outLink: Int32Array;
  /** Pattern ids ending exactly at a state (undefined when none). */
  private readonly ends: (number[] | undefined)[];

  constructor(patterns: readonly string[]) {
    this.size = patterns.length;
    this.lengths = new Int32Array(patterns.length);
    // 1. Trie.
    const children: Map<number, number>[] = [new Map<number, number>()];
    const ends: (number[] | undefined)[] = [undefined];
    patterns.forEach((p, id) => {
      if (p.length === 0) throw new Error("AhoCorasick: empty pattern");
      this.lengths[id] = p.length;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let t = children[s]!.get(c);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          ends.push(undefined);
          children[s]!.set(c, t);
        }
        s = t;
      }
      (ends[s] ??= []).push(id);
    });
    const n = children.length;
    this.ends = ends;
    this.fail = new Int32Array(n);
    this.outLink = new Int32Array(n).fill(-1);
    this.ascii = new Int32Array(n * 128);
    this.wide = new Array<Map<number, number> | undefined>(n);
    // 2. Breadth-first: failure links, output links, ASCII delta.
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    for (const [c, t] of children[0]!) {
      this.fail[t] = 0;
      queue[tail++] = t;
      if (c < 128) this.ascii[c] = t;
    }
    while (head < tail) {
      const s = queue[head++]!;
      const f = this.fail[s]!;
      this.outLink[s] = ends[f] ? f : this.outLink[f]!;
      // ASCII row: inherit the failure state's row (already final: f is shallower), then own children.
      this.ascii.copyWithin(s * 128, f * 128, f * 128 + 128);
      let wide: Map<number, number> | undefined;
      for (const [c, t] of children[s]!) {
        if (c < 128) this.ascii[s * 128 + c] = t;
        else (wide ??= new Map()).set(c, t);
        // Failure of t: follow s's failure chain until a state with a c-transition.
        let g = f;
        let next = this.step(children, g, c);
        while (next < 0 && g !== 0) {
          g = this.fail[g]!;
          next = this.step(children, g, c);
        }
        this.fail[t] = next >= 0 && next !== t ? next : 0;
        queue[tail++] = t;
      }
      this.wide[s] = wide;
    }
    const rootWide = new Map<number, number>();
    for (const [c, t] of children[0]!) if (c >= 128) rootWide.set(c, t);
    this.wide[0] = rootWide.size ? rootWide : undefined;
  }

  private step(children: Map<number, number>[], s: number, c: number): number {
    return children[s]!.get(c) ?? -1;
  }

  /** Length (code units) of pattern `id`. */
  patternLength(id: number): number {
    return this.lengths[id]!;
  }

  /**
   * Reports every occurrence of every pattern: `onMatch(id, end)` with `end` exclusive, in
   * order of `end`; at one `end`, longer patterns first.
   */
  scan(text: string, onMatch: (id: number, end: number) => void): void {
    const ascii = this.ascii;
    const fail = this.fail;
    const wide = this.wide;
    const ends = this.ends;
    const outLink = this.outLink;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        s = ascii[s * 128 + c]!;
      } else {
        for (;;) {
          const t = wide[s]?.get(c);
          if (t !== undefined) {
            s = t;
            break;
          }
          if (s === 0) break;
          s = fail[s]!;
        }
      }
      let o = ends[s] ? s : outLink[s]!;
      while (o >= 0) {
        for (const id of ends[o]!) onMatch(id, i + 1);
        o = outLink[o]!;
      }
    }
  }

  /** Convenience: all matches as objects (tests, tools). */
  findAll(text: string): { id: number; start: number; end: number }[] {
    const out: { id: number; start: number; end: number }[] = [];
    this.scan(text, (id, end) => out.push({ id, start: end - this.lengths[id]!, end }));
    return out;
  }
}
