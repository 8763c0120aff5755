/**
 * Word-level tokenizer for model packages whose `tokenizer.type` is "word-level": lower-cased
 * words split on anything that is not a letter or digit; runs of CJK characters are split
 * greedily, longest known word first (Chinese has no spaces). Unknown words become `unk_id`.
 */
export interface WordTokenizerConfig {
  vocab: string[];
  maxLength: number;
  padId: number;
  unkId: number;
}

const CJK = /\p{Script=Han}/u;

export class WordTokenizer {
  private readonly ids: Map<string, number>;
  private readonly longestCjk: number;
  readonly config: WordTokenizerConfig;

  constructor(config: WordTokenizerConfig) {
    this.config = config;
    this.ids = new Map(config.vocab.map((w, i) => [w, i]));
    this.longestCjk = Math.max(1, ...config.vocab.filter((w) => CJK.test(w)).map((w) => [...w].length));
  }

  /** Token ids, padded (or cut) to `maxLength`. */
  encode(text: string): BigInt64Array {
    const out = new BigInt64Array(this.config.maxLength).fill(BigInt(this.config.padId));
    let n = 0;
    const push = (word: string) => {
      if (n < out.length) out[n++] = BigInt(this.ids.get(word) ?? this.config.unkId);
    };
    for (const run of text
      .toLowerCase()
      .normalize("NFKC")
      .match(/[\p{L}\p{N}]+/gu) ?? []) {
      const chars = [...run];
      let i = 0;
      while (i < chars.length) {
        if (!CJK.test(chars[i]!)) {
          let j = i;
          while (j < chars.length && !CJK.test(chars[j]!)) j++;
          push(chars.slice(i, j).join(""));
          i = j;
          continue;
        }
        let len = Math.min(this.longestCjk, chars.length - i);
        while (len > 1 && !this.ids.has(chars.slice(i, i + len).join(""))) len--;
        push(chars.slice(i, i + len).join(""));
        i += len;
      }
    }
    return out;
  }
}
