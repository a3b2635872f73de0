/**
 * Boundaries of every `nfsight check` rule type and of the `nfsight diff`
 * tolerance: a figure exactly at its limit passes (is within tolerance), one
 * unit beyond it fails (is a change). Units: a call or an error for counts,
 * the report's resolution for latencies (1 ns = 1e-6 ms), 0.001 percentage
 * point for rates.
 *
 * Figures are the report's own (real captures), or set on a copy of a real
 * report's rows where a round value shows the floating-point edge (7 errors
 * in 50 calls is 14% exactly, though 7 / 50 × 100 computes to 14.000000000000002).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { diffReports, type DiffTolerance } from '../src/check/diff.js';
import { evaluateRules } from '../src/check/evaluate.js';
import { LATENCY_STATS, type LatencyStat, type Rule } from '../src/check/rules.js';
import type { OperationRow, Report } from '../src/report/model.js';
import { CAPTURES } from './helpers.js';

const NS = 1e-6; // ms

let errorsReport: Report;
let unansweredReport: Report;
let graceReport: Report;

beforeAll(async () => {
  errorsReport = await analyze(join(CAPTURES, 'nfsv3-errors.pcap'));
  unansweredReport = await analyze(join(CAPTURES, 'unanswered-read-tail.pcap'));
  graceReport = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
});

const passes = (rule: Rule, report: Report): boolean => evaluateRules([rule], report).results[0]!.passed;

/** The operations row of `name` (procedure rows first). */
function rowOf(report: Report, name: string): OperationRow {
  const row = report.operations.find((r) => r.name === name);
  expect(row, name).toBeDefined();
  return row!;
}

/** A copy of `report` whose only operations row is a copy of `name`'s, changed by `change`. */
function withRow(report: Report, name: string, change: (r: OperationRow) => void): Report {
  const row = structuredClone(rowOf(report, name));
  change(row);
  return { ...report, operations: [row], errors: [] };
}

describe('check: a figure at its limit passes, one unit over fails', () => {
  it('latency, every statistic, on the capture’s own figures', () => {
    const mnt = rowOf(errorsReport, 'MNT');
    for (const stat of LATENCY_STATS) {
      const v = mnt.latency[stat]!;
      expect(v, stat).toBeGreaterThan(0);
      expect([stat, passes({ type: 'latency', op: 'MNT', stat, maxMs: v }, errorsReport)]).toEqual([stat, true]);
      // The figure one nanosecond above the limit.
      expect([stat, passes({ type: 'latency', op: 'MNT', stat, maxMs: v - NS }, errorsReport)]).toEqual([stat, false]);
    }
  });

  it('latency at a round limit', () => {
    for (const stat of LATENCY_STATS) {
      const at = withRow(errorsReport, 'READ', (r) => void (r.latency[stat as LatencyStat] = 50));
      const over = withRow(errorsReport, 'READ', (r) => void (r.latency[stat as LatencyStat] = 50 + NS));
      const rule: Rule = { type: 'latency', op: 'READ', stat, maxMs: 50 };
      expect([stat, passes(rule, at), passes(rule, over)]).toEqual([stat, true, false]);
    }
  });

  it('errors: maxCount, by status, by operation and over all calls', () => {
    // LOOKUP: 5 calls, 3 errors; MNT3ERR_ACCES: 4; all: 12.
    expect(rowOf(errorsReport, 'LOOKUP')).toMatchObject({ calls: 5, errors: 3 });
    const cases: [Omit<Rule & { type: 'errors' }, 'maxCount'>, number][] = [
      [{ type: 'errors', op: 'LOOKUP' }, 3],
      [{ type: 'errors', status: 'MNT3ERR_ACCES' }, 4],
      [{ type: 'errors', status: 'NFS3ERR_ACCES', op: 'LOOKUP' }, 1],
      [{ type: 'errors' }, 12],
    ];
    for (const [rule, n] of cases) {
      expect([rule, passes({ ...rule, maxCount: n }, errorsReport), passes({ ...rule, maxCount: n - 1 }, errorsReport)]).toEqual([rule, true, false]);
    }
  });

  it('errors: maxRatePercent at the exact rate, whatever the floating-point rounding', () => {
    // 3 of 5 LOOKUPs failed: 60%.
    expect(passes({ type: 'errors', op: 'LOOKUP', maxRatePercent: 60 }, errorsReport)).toBe(true);
    expect(passes({ type: 'errors', op: 'LOOKUP', maxRatePercent: 59.999 }, errorsReport)).toBe(false);
    // Rates whose quotient rounds above the exact percentage.
    for (const [errors, calls, percent] of [[7, 50, 14], [11, 20, 55], [7, 25, 28], [1, 3, 100 / 3]] as const) {
      const report = withRow(errorsReport, 'LOOKUP', (r) => Object.assign(r, { calls, errors }));
      const rule = { type: 'errors', op: 'LOOKUP' } as const;
      expect([errors, calls, passes({ ...rule, maxRatePercent: percent }, report), passes({ ...rule, maxRatePercent: percent - 0.001 }, report)]).toEqual([
        errors,
        calls,
        true,
        false,
      ]);
    }
  });

  it('unanswered: max', () => {
    expect(unansweredReport.rpc.unanswered).toBe(1);
    expect(passes({ type: 'unanswered', max: 1 }, unansweredReport)).toBe(true);
    expect(passes({ type: 'unanswered', max: 0 }, unansweredReport)).toBe(false);
    expect(passes({ type: 'unanswered', op: 'READ', max: 1 }, unansweredReport)).toBe(true);
    expect(passes({ type: 'unanswered', op: 'READ', max: 0 }, unansweredReport)).toBe(false);
  });

  it('calls: min and max', () => {
    const n = errorsReport.rpc.calls;
    expect(n).toBe(79);
    expect([passes({ type: 'calls', min: n }, errorsReport), passes({ type: 'calls', min: n + 1 }, errorsReport)]).toEqual([true, false]);
    expect([passes({ type: 'calls', max: n }, errorsReport), passes({ type: 'calls', max: n - 1 }, errorsReport)]).toEqual([true, false]);
    expect([passes({ type: 'calls', op: 'MNT', min: 13, max: 13 }, errorsReport), passes({ type: 'calls', op: 'MNT', min: 14 }, errorsReport)]).toEqual([true, false]);
    expect(passes({ type: 'calls', op: 'MNT', max: 12 }, errorsReport)).toBe(false);
  });

  it('findings: none passes, one fails', () => {
    const kinds = graceReport.findings.map((f) => f.kind);
    expect(kinds.filter((k) => k === 'grace-period')).toHaveLength(1);
    expect(passes({ type: 'findings', kinds: ['grace-period'] }, graceReport)).toBe(false);
    const without = { ...graceReport, findings: graceReport.findings.filter((f) => f.kind !== 'grace-period') };
    expect(passes({ type: 'findings', kinds: ['grace-period'] }, without)).toBe(true);
  });
});

describe('diff: a change exactly at the tolerance is within it, one unit beyond is not', () => {
  /** Baseline and candidate reports whose READ row has these p99s (ms) and errors in 500 calls. */
  function pair(p99: [number, number], errors: [number, number] = [0, 0]): [Report, Report] {
    const side = (i: 0 | 1) =>
      withRow(errorsReport, 'READ', (r) => {
        r.latency.p50 = r.latency.p90 = r.latency.p99 = p99[i];
        r.calls = 500;
        r.errors = errors[i];
      });
    return [side(0), side(1)];
  }
  const verdict = (p: [Report, Report], tol: DiffTolerance): string => diffReports(p[0], p[1], tol).rows[0]!.verdict;

  it('relative tolerance on latency, both ways', () => {
    const tol = { percent: 10, ms: 1 };
    expect(verdict(pair([40, 44]), tol)).toBe('within tolerance');
    expect(verdict(pair([40, 44 + NS]), tol)).toBe('regressed');
    expect(verdict(pair([40, 36]), tol)).toBe('within tolerance');
    expect(verdict(pair([40, 36 - NS]), tol)).toBe('improved');
    // Where the subtraction and the product round apart: 1.1 − 1 computes to 0.10000000000000009.
    for (const [x, percent] of [[1, 10], [2, 5], [4, 5], [0.3, 10], [238, 20]] as const) {
      const y = Number((x * (1 + percent / 100)).toFixed(6));
      expect([x, y, verdict(pair([x, y]), { percent, ms: 0 })]).toEqual([x, y, 'within tolerance']);
      expect([x, y, verdict(pair([x, y + NS]), { percent, ms: 0 })]).toEqual([x, y, 'regressed']);
    }
  });

  it('the absolute floor on latency', () => {
    const tol = { percent: 10, ms: 1 };
    expect(verdict(pair([2, 3]), tol)).toBe('within tolerance');
    expect(verdict(pair([2, 3 + NS]), tol)).toBe('regressed');
    expect(verdict(pair([0.2, 1.2]), { percent: 0, ms: 1 })).toBe('within tolerance');
    expect(verdict(pair([0.2, 1.2 + NS]), { percent: 0, ms: 1 })).toBe('regressed');
  });

  it('relative tolerance on the error rate', () => {
    const tol = { percent: 10, ms: 1 };
    // 100 → 110 errors in 500 calls: 20% → 22%, exactly 10% more.
    expect(verdict(pair([1, 1], [100, 110]), tol)).toBe('within tolerance');
    expect(verdict(pair([1, 1], [100, 111]), tol)).toBe('regressed');
    expect(verdict(pair([1, 1], [100, 90]), tol)).toBe('within tolerance');
    expect(verdict(pair([1, 1], [100, 89]), tol)).toBe('improved');
    // From no error at all, any error is a change.
    expect(verdict(pair([1, 1], [0, 1]), tol)).toBe('regressed');
    expect(verdict(pair([1, 1], [0, 0]), tol)).toBe('unchanged');
  });
});
