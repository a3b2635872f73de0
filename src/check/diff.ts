/**
 * Compares two reports operation by operation (`nfsight diff`): the change
 * in calls, errors and latency percentiles, with a verdict per row.
 *
 * A latency percentile (p50, p90, p99) changed when the difference is more
 * than BOTH the relative tolerance (of the baseline's figure) and the
 * absolute floor in ms: `--tolerance 10% --tolerance-ms 1` ignores 0.2 →
 * 0.5 ms (below the floor) and 40 → 43 ms (below 10%). The error rate
 * (errors / calls) changed when it moved by more than the relative
 * tolerance of the baseline's rate (any move from a rate of 0).
 *
 * Verdicts: `regressed` (a figure got worse beyond the tolerance; wins over
 * an improvement), `improved`, `unchanged` (every figure identical),
 * `within tolerance` (changed, but not beyond the tolerance), `new` (only in
 * the candidate) and `gone` (only in the baseline). Call counts are shown
 * but do not decide the verdict.
 */
import type { OperationKind, OperationRow, Report } from '../report/model.js';
import { above } from './compare.js';
import { isOther } from '../analysis/operation-cap.js';

export const DIFF_STATS = ['p50', 'p90', 'p99'] as const;
export type DiffStat = (typeof DIFF_STATS)[number];

export type Verdict = 'regressed' | 'improved' | 'unchanged' | 'within tolerance' | 'new' | 'gone';
export const VERDICTS: readonly Verdict[] = ['regressed', 'improved', 'within tolerance', 'unchanged', 'new', 'gone'];

export interface DiffTolerance {
  /** Relative, in percent of the baseline's figure (default 10). */
  percent: number;
  /** Absolute floor for latency, ms (default 1). */
  ms: number;
}

export const DEFAULT_TOLERANCE: DiffTolerance = { percent: 10, ms: 1 };

export interface DiffSide {
  calls: number;
  errors: number;
  /** errors / calls (0 without calls). */
  errorRate: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface DiffRow {
  program: number;
  programName: string;
  version: number;
  kind: OperationKind;
  name: string;
  baseline: DiffSide | null;
  candidate: DiffSide | null;
  /** candidate − baseline; null where either side lacks the figure. */
  delta: { calls: number | null; errors: number | null; p50: number | null; p90: number | null; p99: number | null };
  verdict: Verdict;
  /** The changes beyond the tolerance ("p99 +50.1 ms", "error rate 0% → 10%"). */
  reasons: string[];
}

export interface DiffResult {
  tolerance: DiffTolerance;
  rows: DiffRow[];
  /** Rows per verdict. */
  summary: Record<Verdict, number>;
  regressed: boolean;
}

const KIND_ORDER: Record<OperationKind, number> = { procedure: 0, compound: 1, op: 2 };
const keyOf = (r: OperationRow): string => `${r.program}/${r.version}/${r.kind}/${r.name}`;
/** Rounded to the nanosecond (in ms), so float noise does not show. */
const round = (n: number): number => Number(n.toFixed(6));
const pct = (n: number): string => `${Number((n * 100).toFixed(2))}%`;
const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

function side(r: OperationRow): DiffSide {
  return {
    calls: r.calls,
    errors: r.errors,
    errorRate: r.calls > 0 ? r.errors / r.calls : 0,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
  };
}

function compare(b: DiffSide, c: DiffSide, tol: DiffTolerance): { verdict: Verdict; reasons: string[] } {
  const rel = tol.percent / 100;
  const reasons: string[] = [];
  let worse = false;
  let better = false;
  for (const s of DIFF_STATS) {
    const x = b[s];
    const y = c[s];
    if (x === null || y === null) continue;
    const d = y - x;
    if (above(Math.abs(d), tol.ms) && above(Math.abs(d), Math.abs(x) * rel)) {
      reasons.push(`${s} ${signed(round(d))} ms`);
      if (d > 0) worse = true;
      else better = true;
    }
  }
  const dr = c.errorRate - b.errorRate;
  if (dr !== 0 && above(Math.abs(dr), b.errorRate * rel)) {
    reasons.push(`error rate ${pct(b.errorRate)} → ${pct(c.errorRate)}`);
    if (dr > 0) worse = true;
    else better = true;
  }
  if (worse) return { verdict: 'regressed', reasons };
  if (better) return { verdict: 'improved', reasons };
  const same = b.calls === c.calls && b.errors === c.errors && DIFF_STATS.every((s) => b[s] === c[s]);
  return { verdict: same ? 'unchanged' : 'within tolerance', reasons };
}

const minus = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined ? null : round(a - b);

/** Compares the operations of two reports; rows in report order (program, version, kind, name; the OTHER rows last). */
export function diffReports(baseline: Report, candidate: Report, tolerance: DiffTolerance = DEFAULT_TOLERANCE): DiffResult {
  const rows = new Map<string, { meta: OperationRow; b?: OperationRow; c?: OperationRow }>();
  for (const r of baseline.operations) rows.set(keyOf(r), { meta: r, b: r });
  for (const r of candidate.operations) {
    const e = rows.get(keyOf(r));
    if (e) e.c = r;
    else rows.set(keyOf(r), { meta: r, c: r });
  }
  const order = [...rows.values()].sort(
    (x, y) =>
      // The OTHER rows (operations beyond the cap) last.
      Number(isOther(x.meta)) - Number(isOther(y.meta)) ||
      x.meta.program - y.meta.program ||
      x.meta.version - y.meta.version ||
      KIND_ORDER[x.meta.kind] - KIND_ORDER[y.meta.kind] ||
      // Procedures keep their number order; COMPOUND and NFSv4 ops sort by name.
      (x.meta.kind === 'procedure' ? x.meta.procedure - y.meta.procedure : 0) ||
      (x.meta.name < y.meta.name ? -1 : x.meta.name > y.meta.name ? 1 : 0),
  );
  const summary: Record<Verdict, number> = { regressed: 0, improved: 0, 'within tolerance': 0, unchanged: 0, new: 0, gone: 0 };
  const out: DiffRow[] = order.map(({ meta, b, c }) => {
    const bs = b ? side(b) : null;
    const cs = c ? side(c) : null;
    const { verdict, reasons } = bs && cs ? compare(bs, cs, tolerance) : { verdict: (bs ? 'gone' : 'new') as Verdict, reasons: [] };
    summary[verdict]++;
    return {
      program: meta.program,
      programName: meta.programName,
      version: meta.version,
      kind: meta.kind,
      name: meta.name,
      baseline: bs,
      candidate: cs,
      delta: {
        calls: minus(cs?.calls, bs?.calls),
        errors: minus(cs?.errors, bs?.errors),
        p50: minus(cs?.p50, bs?.p50),
        p90: minus(cs?.p90, bs?.p90),
        p99: minus(cs?.p99, bs?.p99),
      },
      verdict,
      reasons,
    };
  });
  return { tolerance, rows: out, summary, regressed: summary.regressed > 0 };
}

/** `--tolerance 10%` (or `10`): a percentage ≥ 0. Throws on anything else. */
export function parsePercent(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(s);
  if (m === null) throw new Error(`expected a percentage such as 10%: ${s}`);
  return Number(m[1]);
}

/** `--tolerance-ms 1` (or `1ms`, `0.5ms`, `2s`): milliseconds ≥ 0. Throws on anything else. */
export function parseMs(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|us)?\s*$/.exec(s);
  if (m === null) throw new Error(`expected a time in ms such as 1, 1ms, 0.5ms: ${s}`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'us' ? n / 1000 : n;
}
