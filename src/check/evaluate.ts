/**
 * Evaluates `nfsight check` rules against a report: one result per rule,
 * in the order of the rules, deterministic (no times, rows in report order).
 *
 * Selection: a rule with `op` looks at the operations rows of that name
 * (case-insensitive), narrowed by `program` and `version`; a rule with only
 * `program`/`version` looks at the procedure rows of that program (each RPC
 * call counted once); a rule without a selector looks at the whole capture.
 * An `errors` rule with `status` counts the rows of the errors table with
 * that status, whose `op` is the operation that failed (for NFSv4 the op
 * inside the COMPOUND, e.g. OPEN); its rate is over the calls of the
 * selected rows. A latency rule whose operation had no answered call passes
 * (nothing to measure), and says so in its detail.
 */
import type { OperationRow, Report } from '../report/model.js';
import { above } from './compare.js';
import { ruleText, type OpSelector, type Rule } from './rules.js';

export interface RuleResult {
  /** The rule as text (its name when it has one). */
  rule: string;
  type: Rule['type'];
  passed: boolean;
  /** The measured figure (ms for latency, a count otherwise); null when there was nothing to measure. */
  actual: number | null;
  /** 'ms' for latency rules. */
  unit?: 'ms';
  /** The limit, as text ("≤ 50 ms", "≥ 1 and ≤ 100"). */
  limit: string;
  /** What was measured, and where. */
  detail: string;
}

export interface CheckResult {
  passed: boolean;
  total: number;
  failed: number;
  results: RuleResult[];
}

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function programMatches(sel: OpSelector, program: number, programName: string, version: number): boolean {
  if (sel.program !== undefined) {
    if (typeof sel.program === 'number' ? sel.program !== program : !eq(sel.program, programName)) return false;
  }
  return sel.version === undefined || sel.version === version;
}

const hasSelector = (sel: OpSelector): boolean => sel.op !== undefined || sel.program !== undefined || sel.version !== undefined;

/** The operations rows a selector picks (see the module comment). */
export function selectRows(report: Report, sel: OpSelector): OperationRow[] {
  return report.operations.filter(
    (r) =>
      programMatches(sel, r.program, r.programName, r.version) &&
      (sel.op === undefined ? r.kind === 'procedure' : eq(r.name, sel.op)),
  );
}

const rowLabel = (r: OperationRow): string => `${r.programName} v${r.version} ${r.name}`;
const sum = (rows: readonly OperationRow[], f: (r: OperationRow) => number): number => rows.reduce((n, r) => n + f(r), 0);
const fmt = (n: number): string => String(Number(n.toFixed(6)));
const pct = (n: number): string => `${Number((n * 100).toFixed(2))}%`;

function selDesc(sel: OpSelector, rows: readonly OperationRow[]): string {
  if (!hasSelector(sel)) return 'all calls';
  if (rows.length === 0) return 'no matching operation';
  return rows.map(rowLabel).join(', ');
}

function evaluateRule(rule: Rule, report: Report): Omit<RuleResult, 'rule' | 'type'> {
  switch (rule.type) {
    case 'latency': {
      const rows = selectRows(report, rule).filter((r) => r.latency[rule.stat] !== null);
      const limit = `≤ ${rule.maxMs} ms`;
      if (rows.length === 0) return { passed: true, actual: null, unit: 'ms', limit, detail: `no answered ${rule.op} call in the capture` };
      // The worst row decides.
      let worst = rows[0]!;
      for (const r of rows) if (r.latency[rule.stat]! > worst.latency[rule.stat]!) worst = r;
      const actual = worst.latency[rule.stat]!;
      const detail = rows.map((r) => `${rowLabel(r)}: ${rule.stat} ${fmt(r.latency[rule.stat]!)} ms over ${r.answered} answered`).join('; ');
      return { passed: !above(actual, rule.maxMs), actual, unit: 'ms', limit, detail };
    }
    case 'errors': {
      const rows = selectRows(report, rule);
      const calls = hasSelector(rule) ? sum(rows, (r) => r.calls) : report.rpc.calls;
      let count: number;
      let where: string;
      if (rule.status !== undefined) {
        const status = rule.status;
        const errs = report.errors.filter(
          (e) => eq(e.status, status) && programMatches(rule, e.program, e.programName, e.version) && (rule.op === undefined || eq(e.op, rule.op)),
        );
        count = errs.reduce((n, e) => n + e.count, 0);
        where = errs.length === 0 ? `no ${status} reply` : errs.map((e) => `${e.programName} v${e.version} ${e.op}: ${e.count}`).join(', ');
      } else {
        count = hasSelector(rule) ? sum(rows, (r) => r.errors) : report.errors.reduce((n, e) => n + e.count, 0);
        where = selDesc(rule, rows);
      }
      const rate = calls > 0 ? count / calls : 0;
      const limits: string[] = [];
      let passed = true;
      if (rule.maxCount !== undefined) {
        limits.push(`≤ ${rule.maxCount}`);
        if (count > rule.maxCount) passed = false;
      }
      if (rule.maxRatePercent !== undefined) {
        limits.push(`≤ ${rule.maxRatePercent}% of calls`);
        if (above((count * 100) / calls, rule.maxRatePercent)) passed = false;
      }
      return { passed, actual: count, limit: limits.join(' and '), detail: `${count} errors in ${calls} calls (${pct(rate)}); ${where}` };
    }
    case 'findings': {
      const hits = report.findings.filter(
        (f) =>
          (rule.kinds === undefined || rule.kinds.includes(f.kind)) &&
          (rule.severities === undefined || (rule.severities as readonly string[]).includes(f.severity)),
      );
      const detail =
        hits.length === 0
          ? `none among ${report.findings.length} findings`
          : hits
              .slice(0, 5)
              .map((f) => `${f.severity} ${f.kind}: ${f.title}`)
              .join('; ') + (hits.length > 5 ? `; and ${hits.length - 5} more` : '');
      return { passed: hits.length === 0, actual: hits.length, limit: '= 0', detail };
    }
    case 'unanswered': {
      const rows = selectRows(report, rule);
      const actual = hasSelector(rule) ? sum(rows, (r) => r.unanswered) : report.rpc.unanswered;
      return { passed: actual <= rule.max, actual, limit: `≤ ${rule.max}`, detail: `${actual} of ${hasSelector(rule) ? sum(rows, (r) => r.calls) : report.rpc.calls} calls unanswered; ${selDesc(rule, rows)}` };
    }
    case 'calls': {
      const rows = selectRows(report, rule);
      const actual = hasSelector(rule) ? sum(rows, (r) => r.calls) : report.rpc.calls;
      const limits: string[] = [];
      let passed = true;
      if (rule.min !== undefined) {
        limits.push(`≥ ${rule.min}`);
        if (actual < rule.min) passed = false;
      }
      if (rule.max !== undefined) {
        limits.push(`≤ ${rule.max}`);
        if (actual > rule.max) passed = false;
      }
      return { passed, actual, limit: limits.join(' and '), detail: `${actual} calls; ${selDesc(rule, rows)}` };
    }
  }
}

/** Evaluates every rule against the report, in order. */
export function evaluateRules(rules: readonly Rule[], report: Report): CheckResult {
  const results = rules.map((r) => ({ rule: ruleText(r), type: r.type, ...evaluateRule(r, report) }));
  const failed = results.filter((r) => !r.passed).length;
  return { passed: failed === 0, total: results.length, failed, results };
}
