/**
 * The time series against tshark, on every bundled capture: per interval
 * (1 ms, 100 ms and 1 s), the calls and, per reply interval, the answered
 * calls and the p50, p99 and max of rpc.time, overall and per operation,
 * equal what scripts/expected-timeline.mjs made of tshark's decoding
 * (X.timeline.json): counts exactly, percentiles within the relative error
 * the interval's histogram states, the max to the nanosecond.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { TimelineLatency, TimelineSection, TimelineSeries } from '../src/report/model.js';
import { CAPTURES, bundledCaptures } from './helpers.js';

interface ExpectedCell {
  calls: number;
  answered: number;
  /** Seconds. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}
interface ExpectedBucket extends ExpectedCell {
  /** Interval index since the epoch. */
  index: number;
  ops: Record<string, ExpectedCell>;
}
interface ExpectedTimeline {
  timelines: { intervalNs: number; buckets: ExpectedBucket[] }[];
}

/**
 * tshark's key of an operation: program/version/procedure, and /<main op>
 * for an NFSv4 COMPOUND. A COMPOUND with no known op (empty, or only
 * undefined op numbers) has no nfs.main_opcode; nfsight names it COMPOUND.
 */
function tsharkKey(s: TimelineSeries): string {
  const compound = s.program === 100003 && s.version === 4 && s.procedure === 1 && s.name !== 'COMPOUND';
  return `${s.program}/${s.version}/${s.procedure}${compound ? `/${s.name}` : ''}`;
}

/** The cells of a timeline by epoch interval index, keyed as tshark's. */
function cellsOf(t: TimelineSection): Map<number, { all: ExpectedCell & { latency: TimelineLatency }; ops: Map<string, ExpectedCell & { latency: TimelineLatency }> }> {
  const keyOf = new Map(t.operations.map((s) => [s.key, tsharkKey(s)]));
  const first = Math.round(t.start! / t.intervalSeconds);
  const ms = (x: number | null): number | null => (x === null ? null : x / 1000);
  const cell = (c: { calls: number; answered: number; latency: TimelineLatency }) => ({
    calls: c.calls,
    answered: c.answered,
    p50: ms(c.latency.p50),
    p99: ms(c.latency.p99),
    max: ms(c.latency.max),
    latency: c.latency,
  });
  return new Map(
    t.intervals.map((iv) => [
      first + iv.index,
      { all: cell(iv), ops: new Map(iv.ops.map((o) => [keyOf.get(o.op)!, cell(o)])) },
    ]),
  );
}

function expectClose(what: string, got: number | null, exact: number | null, relativeError: number): void {
  if (exact === null || got === null) {
    expect(`${what}: ${got}`).toBe(`${what}: ${exact}`);
    return;
  }
  // The histogram's bound, plus the report's rounding to the nanosecond.
  const ok = Math.abs(got - exact) <= exact * relativeError + 1e-9;
  expect(ok, `${what}: ${got} vs tshark's ${exact} (±${relativeError})`).toBe(true);
}

function compare(where: string, got: (ExpectedCell & { latency: TimelineLatency }) | undefined, exp: ExpectedCell): void {
  expect(`${where} calls ${got?.calls ?? 0}, answered ${got?.answered ?? 0}`).toBe(`${where} calls ${exp.calls}, answered ${exp.answered}`);
  if (got === undefined || exp.answered === 0) return;
  const err = got.latency.histogram.relativeError;
  expectClose(`${where} p50`, got.p50, exp.p50, err);
  expectClose(`${where} p99`, got.p99, exp.p99, err);
  expectClose(`${where} max`, got.max, exp.max, 0);
}

describe('timeline: per-interval calls and latency percentiles equal tshark’s', () => {
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const exp = JSON.parse(readFileSync(join(CAPTURES, `${name}.timeline.json`), 'utf8')) as ExpectedTimeline;
      expect(exp.timelines.map((t) => t.intervalNs)).toEqual([1e6, 1e8, 1e9]);
      for (const { intervalNs, buckets } of exp.timelines) {
        const report = await analyze(join(CAPTURES, name), { timeline: { intervalNs } });
        const t = report.timeline;
        const ours = cellsOf(t);
        const ratio = Math.round((t.intervalSeconds * 1e9) / intervalNs);
        if (ratio === 1) {
          expect(t.requestedSeconds).toBeNull();
          for (const b of buckets) {
            const got = ours.get(b.index);
            const where = `${intervalNs / 1e6} ms interval ${b.index}`;
            compare(where, got?.all, b);
            for (const [k, e] of Object.entries(b.ops)) compare(`${where} ${k}`, got?.ops.get(k), e);
            expect([...(got?.ops.keys() ?? [])].filter((k) => b.ops[k] === undefined && (got!.ops.get(k)!.calls > 0 || got!.ops.get(k)!.answered > 0))).toEqual([]);
          }
          // No interval with calls or replies that tshark does not have.
          const theirs = new Set(buckets.map((b) => b.index));
          expect([...ours.entries()].filter(([i, c]) => !theirs.has(i) && (c.all.calls > 0 || c.all.answered > 0)).map(([i]) => i)).toEqual([]);
        } else {
          // The capture spans more intervals than the cap: they were joined by a whole factor. Counts still add up.
          expect(t.requestedSeconds).toBe(intervalNs / 1e9);
          expect(t.count).toBeLessThanOrEqual(4000);
          const joined = new Map<number, { calls: number; answered: number }>();
          for (const b of buckets) {
            const j = Math.floor(b.index / ratio);
            const c = joined.get(j) ?? { calls: 0, answered: 0 };
            c.calls += b.calls;
            c.answered += b.answered;
            joined.set(j, c);
          }
          for (const [j, c] of joined) expect({ interval: j, calls: ours.get(j)?.all.calls, answered: ours.get(j)?.all.answered }).toEqual({ interval: j, ...c });
        }
      }
    });
  }
});
