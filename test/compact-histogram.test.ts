/**
 * The time series' per-cell histogram: bounded buckets, quantiles within
 * the relative error its level states (checked against exact nearest-rank
 * quantiles of the recorded values), exact merging, and its JSON form.
 */
import { describe, expect, it } from 'vitest';
import { COMPACT_MAX_BUCKETS, CompactHistogram, compactRelativeError, LatencyHistogram, RELATIVE_ERROR } from '../src/analysis/histogram.js';
import { rng } from './gen/random.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1))]!;
}
const QUANTILES = [0, 0.01, 0.5, 0.9, 0.99, 1];

function logUniform(n: number, lo: number, hi: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.exp(Math.log(lo) + r() * Math.log(hi / lo)));
}

describe('CompactHistogram', () => {
  it('states the relative error of each level: 1% at level 0, then about doubling', () => {
    expect(compactRelativeError(0)).toBeCloseTo(RELATIVE_ERROR, 12);
    expect(compactRelativeError(1)).toBeCloseTo(0.02, 3);
    expect(compactRelativeError(2)).toBeCloseTo(0.04, 2);
    expect(compactRelativeError(3)).toBeCloseTo(0.0797, 3);
  });

  for (const [name, values, level] of [
    ['within a factor 1.5 (stays at level 0)', logUniform(5000, 1e-4, 1.5e-4, 1), 0],
    ['10× spread', logUniform(5000, 1e-4, 1e-3, 2), 2],
    ['100× spread', logUniform(5000, 1e-5, 1e-3, 3), 3],
    ['1000× spread', logUniform(5000, 1e-5, 1e-2, 3), 4],
    ['eight decades', logUniform(5000, 1e-6, 100, 4), 5],
  ] as [string, number[], number][]) {
    it(`keeps at most ${COMPACT_MAX_BUCKETS} buckets, quantiles within its stated error: ${name}`, () => {
      const h = new CompactHistogram();
      values.forEach((v) => h.record(v));
      const json = h.toJSON();
      expect(json.buckets.length).toBeLessThanOrEqual(COMPACT_MAX_BUCKETS);
      expect(h.level).toBe(level);
      expect(json.relativeError).toBe(compactRelativeError(level));
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of QUANTILES) {
        const exact = exactQuantile(sorted, q);
        expect(Math.abs(h.quantile(q)! - exact) / exact).toBeLessThanOrEqual(json.relativeError + 1e-12);
      }
      expect(h.min).toBe(sorted[0]);
      expect(h.max).toBe(sorted[sorted.length - 1]);
    });
  }

  it('at level 0 gives the same quantiles as LatencyHistogram', () => {
    const values = logUniform(1000, 2e-4, 3e-4, 5);
    const c = new CompactHistogram();
    const l = new LatencyHistogram();
    values.forEach((v) => {
      c.record(v);
      l.record(v);
    });
    expect(c.level).toBe(0);
    for (const q of QUANTILES) expect(c.quantile(q)).toBe(l.quantile(q));
    expect(c.toJSON().buckets).toEqual(l.toJSON().buckets);
  });

  it('merging equals recording everything in one, across levels', () => {
    const a = new CompactHistogram();
    const b = new CompactHistogram();
    const all = new CompactHistogram();
    const narrow = logUniform(500, 1e-4, 1.2e-4, 6);
    const wide = logUniform(500, 1e-5, 1, 7);
    narrow.forEach((v) => a.record(v));
    wide.forEach((v) => b.record(v));
    [...narrow, ...wide].forEach((v) => all.record(v));
    expect(a.level).toBe(0);
    expect(b.level).toBeGreaterThan(2);
    a.merge(b);
    expect(a.level).toBe(all.level);
    expect({ ...a.toJSON(), sum: 0 }).toEqual({ ...all.toJSON(), sum: 0 });
    expect(a.sum).toBeCloseTo(all.sum, 9);
  });

  it('counts zeros apart and is empty-safe', () => {
    const h = new CompactHistogram();
    expect(h.quantile(0.5)).toBeNull();
    expect(h.toJSON()).toMatchObject({ count: 0, zeros: 0, min: null, max: null, buckets: [], level: 0 });
    [0, 0, 0, 0.001].forEach((v) => h.record(v));
    expect(h.quantile(0.5)).toBe(0);
    expect(Math.abs(h.quantile(1)! - 0.001) / 0.001).toBeLessThanOrEqual(RELATIVE_ERROR);
    expect(h.toJSON()).toMatchObject({ count: 4, zeros: 3, min: 0, max: 0.001 });
  });

  it('survives JSON and refuses damaged data', () => {
    const h = new CompactHistogram();
    logUniform(300, 1e-5, 1, 8).forEach((v) => h.record(v));
    const data = JSON.parse(JSON.stringify(h.toJSON()));
    const back = CompactHistogram.fromJSON(data);
    expect(back.toJSON()).toEqual(h.toJSON());
    for (const q of QUANTILES) expect(back.quantile(q)).toBe(h.quantile(q));
    expect(() => CompactHistogram.fromJSON({ ...data, relativeError: 0.01 })).toThrow('relative error');
    expect(() => CompactHistogram.fromJSON({ ...data, count: data.count + 1 })).toThrow('do not add up');
    expect(() => CompactHistogram.fromJSON({ ...data, buckets: [[5, 1], [5, 1]] })).toThrow('bad histogram bucket');
    expect(() => CompactHistogram.fromJSON({ ...data, level: -1 })).toThrow('level');
  });
});
