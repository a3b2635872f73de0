/**
 * The hash the call indexes use (seededMix) mixes in a seed chosen per
 * process (HASH_SEED): xids picked to fall in one chain of a known seed
 * spread over the chains of another, and xids that differ in their high
 * bits only spread too (the matcher's memory of answered calls picks its
 * chain by the high bits).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HASH_SEED, seededMix } from '../src/fnv.js';

const BUCKETS = 4096;

/** Xids that seededMix with `seed` puts in bucket 0 of BUCKETS, for direction 0: found by trying them in turn. */
function colliding(seed: number, n: number): number[] {
  const out: number[] = [];
  for (let x = 0; out.length < n; x++) if ((seededMix(0, x, seed) & (BUCKETS - 1)) === 0) out.push(x);
  return out;
}

const distinct = (values: number[]): number => new Set(values).size;

describe('seededMix and HASH_SEED', () => {
  it('2,000 xids made to share one chain with seed 0 spread over the chains of another seed', () => {
    const xids = colliding(0, 2000);
    expect(distinct(xids.map((x) => seededMix(0, x, 0) & (BUCKETS - 1)))).toBe(1);
    // Thrown at random into 4,096 buckets, 2,000 keys fill about 1,590.
    for (const seed of [0x5eed1234, 1, HASH_SEED === 0 ? 7 : HASH_SEED]) {
      expect(distinct(xids.map((x) => seededMix(0, x, seed) & (BUCKETS - 1)))).toBeGreaterThan(1400);
    }
  });

  it('xids differing only in their high 16 bits fill the chains picked by the low bits and by the high bits', () => {
    const xids = Array.from({ length: 65536 }, (_, i) => (i << 16) >>> 0);
    const low = xids.map((x) => seededMix(3, x, HASH_SEED) & (BUCKETS - 1));
    const high = xids.map((x) => seededMix(3, x, HASH_SEED) >>> 20);
    expect(distinct(low)).toBeGreaterThan(4000);
    expect(distinct(high)).toBeGreaterThan(4000);
  });

  it('each process has its own seed', () => {
    const fnv = new URL('../dist/src/fnv.js', import.meta.url).href;
    const seedOf = (): string => execFileSync(process.execPath, ['--input-type=module', '-e', `import('${fnv}').then((m) => console.log(m.HASH_SEED))`], { encoding: 'utf8' }).trim();
    const seeds = new Set([seedOf(), seedOf(), seedOf()]);
    expect(seeds.size).toBe(3);
  });
});
