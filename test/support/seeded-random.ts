/**
 * Seeded randomness for the fuzz suites: the same seed gives the same cases on every machine, and each case
 * draws from its own generator, so one case replays alone (FUZZ_SEED / FUZZ_CASE).
 */
export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for fuzzing, identical on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator of case `n` under `seed`. */
export const caseRng = (seed: number, n: number): Rng => mulberry32((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
export const int = (r: Rng, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)];
export const chance = (r: Rng, p: number): boolean => r() < p;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };
