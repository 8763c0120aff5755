/**
 * Seeded Gaussian noise, identical on every machine and independent of scheduling: the
 * noise of chunk k depends only on (seed, k), so a chunk regenerated after a crash, or on
 * another worker, is the same chunk.
 */

/** SplitMix64 over BigInt state, reduced to 32-bit outputs. */
function* splitmix(seed: bigint): Generator<number, never> {
  let state = BigInt.asUintN(64, seed);
  for (;;) {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    z ^= z >> 31n;
    yield Number(z >> 32n);
  }
}

/** xoshiro128** seeded from SplitMix64: fast 32-bit generator for bulk noise. */
function xoshiro128(seed: bigint): () => number {
  const init = splitmix(seed);
  const s = Uint32Array.from({ length: 4 }, () => init.next().value);
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** `count` standard-normal float32 values for (seed, stream). Box–Muller. */
export function gaussianNoise(seed: number, stream: number, count: number): Float32Array {
  const next = xoshiro128((BigInt(seed) << 20n) ^ BigInt(stream) ^ 0x5ee1_0000_0000n);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    // (0, 1]: never log(0).
    const u1 = (next() + 1) / 4294967296;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
