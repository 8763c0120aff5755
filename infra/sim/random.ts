/**
 * A seeded random source (mulberry32), so that a seed names one run: the same arrivals, the same
 * spot interruptions and the same scale-in choices every time. Each concern takes its own stream
 * (`fork`), so a change in how one consumes numbers does not shift the others.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Exponentially distributed with the given rate (mean 1 / rate). */
  exp(rate: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A new independent stream derived from this one's seed and a label. */
  fork(label: string): Random;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    exp: (rate) => -Math.log(1 - next()) / rate,
    int: (n) => Math.floor(next() * n),
    fork: (label) => createRandom(hash(`${seed}:${label}`)),
  };
}

/** Shuffles in place (Fisher–Yates) with the given stream, and returns the array. */
export function shuffle<T>(rand: Random, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const k = rand.int(i + 1);
    [xs[i], xs[k]] = [xs[k]!, xs[i]!];
  }
  return xs;
}

/** FNV-1a, enough to spread labels over seeds. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
