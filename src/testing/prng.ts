// A small seeded pseudo-random source (mulberry32) for tests, fuzzing and fault rounds: the same seed
// gives the same sequence, so a failing case can be replayed from its seed.
export type Rand = () => number;

/** mulberry32: numbers in [0, 1), fully determined by `seed` (taken as an unsigned 32-bit integer). */
export function prng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
