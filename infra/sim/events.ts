/**
 * The event queue: a binary min-heap on time, ties broken by insertion order so that a run is
 * deterministic.
 */
export class EventQueue<T> {
  readonly #heap: { t: number; seq: number; ev: T }[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  peekTime(): number {
    return this.#heap.length ? this.#heap[0]!.t : Infinity;
  }

  push(t: number, ev: T): void {
    const h = this.#heap;
    h.push({ t, seq: this.#seq++, ev });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): { t: number; ev: T } | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined) return undefined;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(l, m)) m = l;
        if (r < h.length && this.#less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return { t: top.t, ev: top.ev };
  }

  #less(a: number, b: number): boolean {
    const x = this.#heap[a]!;
    const y = this.#heap[b]!;
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
}
