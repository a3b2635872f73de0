import { describe, expect, it } from 'vitest';
import { CompactHistogram, LatencyHistogram, RELATIVE_ERROR } from '../src/analysis/histogram.js';
import { rng } from './gen/random.js';

/** The exact nearest-rank quantile of sorted values. */
function exactQuantile(sorted: number[], q: number): number {
  const rank = Math.max(0, Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

const QUANTILES = [0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1];

function distributions(): [string, number[]][] {
  const r = rng(42);
  const logUniform = Array.from({ length: 20_000 }, () => Math.exp(Math.log(1e-6) + r() * Math.log(1e9)));
  // NFS-like: a fast mode around 100 µs, a slow tail of seconds (server restarts).
  const bimodal = Array.from({ length: 20_000 }, () => (r() < 0.97 ? 5e-5 + r() * 1e-4 : 1 + r() * 14));
  const identical = Array.from({ length: 1000 }, () => 0.000123);
  const withZeros = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 0 : 1e-3 * (1 + (i % 7))));
  return [
    ['log-uniform from 1 µs to 1000 s', logUniform],
    ['bimodal', bimodal],
    ['all identical', identical],
    ['a third zeros', withZeros],
  ];
}

describe('LatencyHistogram', () => {
  it('a negative latency (a reply stamped before its call) is no measurement: not counted, not a zero', () => {
    const h = new LatencyHistogram();
    for (const v of [0.002, -3, 0, 0.004, -1e-6]) h.record(v);
    expect([h.count, h.zeros, h.min, h.max]).toEqual([3, 1, 0, 0.004]);
    expect(h.sum).toBeCloseTo(0.006, 12);
    expect(h.quantile(0.5)).toBeCloseTo(0.002, 4);
  });

  for (const [name, values] of distributions()) {
    it(`quantiles within 1% of the exact ones: ${name}`, () => {
      const h = new LatencyHistogram();
      values.forEach((v) => h.record(v));
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of QUANTILES) {
        const exact = exactQuantile(sorted, q);
        const got = h.quantile(q)!;
        if (exact === 0) expect(got).toBe(0);
        else expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(RELATIVE_ERROR + 1e-12);
      }
      expect(h.count).toBe(values.length);
      expect(h.min).toBe(sorted[0]);
      expect(h.max).toBe(sorted[sorted.length - 1]);
      // The sum is kept in whole nanoseconds: each latency rounded by at most half of one.
      expect(Math.abs(h.mean()! - values.reduce((a, b) => a + b, 0) / values.length)).toBeLessThanOrEqual(0.5e-9);
    });
  }

  it('the sum is exact in nanoseconds: the same whatever the order of records and merges', () => {
    const values = [0.1, 0.2, 0.3, 0.000038, 1.000000001, 2.5e-7];
    const one = new LatencyHistogram();
    values.forEach((v) => one.record(v));
    const parts = values.map((v) => {
      const h = new LatencyHistogram();
      h.record(v);
      return h;
    });
    const merged = new LatencyHistogram();
    for (const p of [...parts].reverse()) merged.merge(p);
    const compact = new CompactHistogram();
    [...values].reverse().forEach((v) => compact.record(v));
    // As floats, 0.1 + 0.2 + 0.3 is 0.6000000000000001 and 0.3 + 0.2 + 0.1 is 0.6.
    expect(one.sum).toBe(1.600038251);
    expect(merged.sum).toBe(one.sum);
    expect(compact.sum).toBe(one.sum);
    expect(JSON.stringify(LatencyHistogram.fromJSON(one.toJSON()).toJSON())).toBe(JSON.stringify(one.toJSON()));
  });

  it('merging equals recording everything in one', () => {
    const [, values] = distributions()[1]!;
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    values.forEach((v, i) => {
      (i % 2 === 0 ? a : b).record(v);
      all.record(v);
    });
    a.merge(b);
    // Buckets, counts, min and max exactly; the sum up to floating-point addition order.
    expect({ ...a.toJSON(), sum: 0 }).toEqual({ ...all.toJSON(), sum: 0 });
    expect(a.sum).toBeCloseTo(all.sum, 9);
    for (const q of QUANTILES) expect(a.quantile(q)).toBe(all.quantile(q));
  });

  it('survives JSON and refuses damaged or mismatched data', () => {
    const h = new LatencyHistogram();
    [1e-4, 2e-4, 0, 3.5].forEach((v) => h.record(v));
    const back = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(back.toJSON()).toEqual(h.toJSON());
    expect(back.quantile(0.5)).toBe(h.quantile(0.5));
    expect(() => LatencyHistogram.fromJSON({ ...h.toJSON(), relativeError: 0.02 })).toThrow('relative error');
    expect(() => LatencyHistogram.fromJSON({ ...h.toJSON(), count: 99 })).toThrow('do not add up');
    expect(() => LatencyHistogram.fromJSON({ ...h.toJSON(), buckets: [[-1, 1]] })).toThrow('bad histogram bucket');
  });

  it('is empty-safe and stores only non-empty buckets', () => {
    const h = new LatencyHistogram();
    expect(h.quantile(0.5)).toBeNull();
    expect(h.mean()).toBeNull();
    expect(h.toJSON()).toMatchObject({ count: 0, min: null, max: null, buckets: [] });
    h.record(0.001);
    h.record(0.001);
    expect(h.toJSON().buckets).toHaveLength(1);
    expect(h.toJSON().buckets[0]![1]).toBe(2);
  });

  it('keeps only the range of buckets recorded: small for NFS latencies, whole at the extremes', () => {
    const h = new LatencyHistogram();
    expect(h.bytes).toBeLessThan(200); // nothing stored before a positive latency
    h.record(0);
    expect(h.bytes).toBeLessThan(200);
    // 50 µs to 20 ms, in both directions of growth.
    for (const v of [1e-3, 5e-5, 2e-2, 1e-4, 3e-3]) h.record(v);
    expect(h.bytes).toBeLessThan(4096);
    expect(h.toJSON().buckets.map(([, c]) => c)).toEqual([1, 1, 1, 1, 1]);
    // Below 1 ns and above 10^9 s: the first and the last bucket, whatever the value.
    const edges = new LatencyHistogram();
    for (const v of [1e-12, 1e-10, 1e12, 1e15, 1e-3]) edges.record(v);
    const buckets = edges.toJSON().buckets;
    expect(buckets).toHaveLength(3);
    expect(buckets[0]).toEqual([0, 2]);
    expect(buckets[2]![1]).toBe(2);
    expect([edges.min, edges.max]).toEqual([1e-12, 1e15]);
    // The same latencies recorded in the opposite order give the same histogram.
    const reversed = new LatencyHistogram();
    for (const v of [1e-3, 1e15, 1e12, 1e-10, 1e-12]) reversed.record(v);
    expect(reversed.toJSON()).toEqual(edges.toJSON());
  });

  it('counts in bytes, then 16 and 32 bits as a bucket passes 255 and 65,535, then doubles past 2^32 - 1 or not whole (merged reports), exact each way', () => {
    const h = new LatencyHistogram();
    for (const v of [1e-4, 1.2e-4, 1.5e-4]) h.record(v);
    // 64 buckets of a byte, and the two objects.
    expect(h.bytes).toBe(96 + 64 + 96);
    const base = h.toJSON();
    const bucket = base.buckets[1]![0];
    // A bucket at 255, then 256: 16 bits; at 65,535, then 65,536: 32 bits; nothing wraps.
    for (const [at, width] of [
      [0xff, 2],
      [0xffff, 4],
    ] as const) {
      const w = LatencyHistogram.fromJSON({ ...base, count: base.count - 1 + at, buckets: base.buckets.map(([i, c]) => [i, i === bucket ? at : c]) });
      expect(w.bytes).toBe(96 + (width / 2) * 64 + 96);
      w.record(1.2e-4);
      expect(w.bytes).toBe(96 + width * 64 + 96);
      expect(w.toJSON().buckets.find(([i]) => i === bucket)).toEqual([bucket, at + 1]);
      expect(w.toJSON().buckets.map(([, c]) => c).reduce((a, b) => a + b)).toBe(at + 3);
      expect(w.quantile(0.5)).toBe(h.quantile(0.5));
    }
    const big = LatencyHistogram.fromJSON({ ...base, count: base.count - 1 + 2 ** 32 + 5, buckets: base.buckets.map(([i, c]) => [i, i === bucket ? 2 ** 32 + 5 : c]) });
    expect(big.toJSON().buckets[1]).toEqual([bucket, 2 ** 32 + 5]);
    expect(big.bytes).toBe(96 + 64 * 8 + 96);
    // Adding one more to a bucket at 2^32 - 1 does not wrap to 0.
    const edge = LatencyHistogram.fromJSON({ ...base, count: base.count - 1 + 0xffffffff, buckets: base.buckets.map(([i, c]) => [i, i === bucket ? 0xffffffff : c]) });
    edge.record(1.2e-4);
    expect(edge.toJSON().buckets.find(([i]) => i === bucket)).toEqual([bucket, 2 ** 32]);
    // A count that is not whole is kept as it is.
    const half = LatencyHistogram.fromJSON({ ...base, count: 3.5, zeros: 0, buckets: [[bucket, 3.5]] });
    expect(half.toJSON().buckets).toEqual([[bucket, 3.5]]);
    // Growing the range keeps the doubles.
    big.record(100);
    expect(big.toJSON().buckets.find(([i]) => i === bucket)).toEqual([bucket, 2 ** 32 + 5]);
  });
  it('its JSON form makes the bucket list when read, from a packed copy: the same text, keys and values, later records not seen', () => {
    const h = new LatencyHistogram();
    for (const v of [0.001, 0.001, 0.002, 0.5, 0]) h.record(v);
    const data = h.toJSON();
    const plain = JSON.parse(JSON.stringify(data)) as typeof data;
    expect(Object.keys(data)).toEqual(['relativeError', 'count', 'zeros', 'sum', 'min', 'max', 'buckets']);
    expect(plain.buckets).toHaveLength(3);
    expect(plain.buckets.map(([, c]) => c)).toEqual([2, 1, 1]);
    expect(data).toEqual(plain);
    expect({ ...data }).toEqual(plain);
    // A copy, not a view: what the histogram records next is not in it.
    h.record(7);
    expect(data.buckets).toEqual(plain.buckets);
    // Assigned, it is a plain list.
    data.buckets = [[1, 1]];
    expect(data.buckets).toEqual([[1, 1]]);
    expect(JSON.parse(JSON.stringify(data)).buckets).toEqual([[1, 1]]);
  });
});
