/** FNV-1a, 32-bit, over UTF-16 code units: the classifier's feature hash and the evaluation sets' split. */
export function fnv1a(s: string): number {
  return fnv1aFrom(0x811c9dc5, s);
}

/** FNV-1a continued from `h` over `s[start, end)`: the hash of a concatenation, built without it. */
export function fnv1aFrom(h: number, s: string, start = 0, end = s.length): number {
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
