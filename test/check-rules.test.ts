/**
 * `nfsight check` and `nfsight diff` without the CLI, value by value: every
 * field a rules file may hold and every mistake it may make (the message a
 * user reads), the text of each rule, each rule's verdict, figure, limit and
 * detail on a report whose rows are set by hand, the whole comparison of two
 * reports (row order, deltas, reasons, verdicts), the tolerance options, and
 * the JUnit document.
 */
import { describe, expect, it } from 'vitest';
import { diffReports, parseMs, parsePercent, VERDICTS, type DiffSide } from '../src/check/diff.js';
import { evaluateRules } from '../src/check/evaluate.js';
import { renderJunit } from '../src/check/junit.js';
import { DEFAULT_RULES, parseRules, parseRulesText, ruleText, RulesError, type Rule } from '../src/check/rules.js';
import type { OperationKind, OperationRow, Report } from '../src/report/model.js';

// ---------------------------------------------------------------- a report by hand

interface RowSpec {
  kind?: OperationKind;
  program: number;
  programName: string;
  version: number;
  procedure: number;
  name: string;
  calls: number;
  answered?: number;
  errors?: number;
  /** p50, p90, p99 (ms); min, mean and max follow. null: no answered call. */
  ms?: [number, number, number] | null;
}

function row(s: RowSpec): OperationRow {
  const answered = s.answered ?? s.calls;
  const ms = s.ms === undefined ? [1, 2, 3] : s.ms;
  const [p50, p90, p99] = ms ?? [null, null, null];
  const kind = s.kind ?? 'procedure';
  return {
    kind,
    program: s.program,
    programName: s.programName,
    version: s.version,
    procedure: s.procedure,
    op: kind === 'procedure' ? null : s.name,
    name: s.name,
    calls: s.calls,
    answered,
    unanswered: s.calls - answered,
    errors: s.errors ?? 0,
    latency: {
      min: ms === null ? null : p50! / 2,
      mean: p50,
      p50,
      p90,
      p99,
      max: ms === null ? null : p99! + 1,
      histogram: { relativeError: 0.01, count: answered, zeros: 0, sum: 0, min: null, max: null, buckets: [] },
    },
    readBytes: 0,
    writeBytes: 0,
    firstSeconds: null,
    lastSeconds: null,
    throughput: null,
  };
}

const NFS = { program: 100003, programName: 'NFS' };
const MOUNT = { program: 100005, programName: 'MOUNT' };

/** Only the parts of a report that check and diff read. */
function report(operations: OperationRow[], extra: Partial<Pick<Report, 'errors' | 'findings'>> & { unanswered?: number } = {}): Report {
  const procedures = operations.filter((r) => r.kind === 'procedure');
  return {
    operations,
    errors: extra.errors ?? [],
    findings: extra.findings ?? [],
    rpc: { calls: procedures.reduce((n, r) => n + r.calls, 0), unanswered: extra.unanswered ?? procedures.reduce((n, r) => n + r.unanswered, 0) },
  } as unknown as Report;
}

const finding = (kind: string, severity: string, title: string) => ({ kind, severity, title }) as unknown as Report['findings'][number];
const error = (p: { program: number; programName: string }, version: number, status: string, op: string, count: number) =>
  ({ ...p, version, status, op, count, first: [] }) as Report['errors'][number];

const EVAL = report(
  [
    row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 10, answered: 8, errors: 2, ms: [2, 3, 4] }),
    row({ ...NFS, version: 3, procedure: 7, name: 'WRITE', calls: 5, ms: [5, 6, 7] }),
    row({ ...NFS, version: 3, procedure: 21, name: 'COMMIT', calls: 1, answered: 0, ms: null }),
    row({ ...NFS, version: 4, procedure: 1, name: 'COMPOUND', calls: 20, errors: 3, ms: [7, 8, 9] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'READ', calls: 6, errors: 1, ms: [4, 5, 6] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'WRITE', calls: 1, ms: [1, 1.5, 2] }),
    row({ ...MOUNT, version: 3, procedure: 1, name: 'MNT', calls: 4, errors: 4, ms: [0.25, 0.5, 1.5] }),
  ],
  {
    errors: [error(NFS, 3, 'NFS3ERR_IO', 'READ', 2), error(NFS, 4, 'NFS4ERR_GRACE', 'READ', 1), error(MOUNT, 3, 'MNT3ERR_ACCES', 'MNT', 4)],
    findings: [
      ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => finding(`kind-${k}`, 'error', `title ${k}`)),
      finding('grace-period', 'warning', 'grace'),
      finding('slow-ops', 'info', 'slow'),
    ],
  },
);

// ---------------------------------------------------------------- rules files

describe('rules: what a rules file may say', () => {
  it('every field of every rule type, as parsed', () => {
    const set = parseRules({
      description: 'nightly',
      comment: 'ignored',
      rules: [
        { type: 'latency', op: 'READ', maxMs: 20 },
        { type: 'latency', op: 'read', program: 'NFS', version: 3, stat: 'p50', maxMs: 1.5, name: 'fast reads', comment: 'x' },
        { type: 'errors', status: 'NFS3ERR_IO', maxCount: 0 },
        { type: 'errors', program: 100003, version: 4, op: 'OPEN', maxRatePercent: 100 },
        { type: 'errors', maxCount: 3, maxRatePercent: 0 },
        { type: 'findings', kinds: ['grace-period', 'slow-ops'] },
        { type: 'findings', severities: ['warning', 'error'], name: 'quiet' },
        { type: 'unanswered', max: 0 },
        { type: 'unanswered', op: 'READ', program: 'NFS', max: 2 },
        { type: 'calls', min: 1 },
        { type: 'calls', max: 5, version: 4 },
        { type: 'calls', op: 'MNT', min: 2, max: 2 },
      ],
    });
    expect(set).toEqual({
      description: 'nightly',
      rules: [
        { type: 'latency', op: 'READ', stat: 'p99', maxMs: 20 },
        { name: 'fast reads', type: 'latency', op: 'read', program: 'NFS', version: 3, stat: 'p50', maxMs: 1.5 },
        { type: 'errors', status: 'NFS3ERR_IO', maxCount: 0 },
        { type: 'errors', program: 100003, version: 4, op: 'OPEN', maxRatePercent: 100 },
        { type: 'errors', maxCount: 3, maxRatePercent: 0 },
        { type: 'findings', kinds: ['grace-period', 'slow-ops'] },
        { name: 'quiet', type: 'findings', severities: ['warning', 'error'] },
        { type: 'unanswered', max: 0 },
        { type: 'unanswered', op: 'READ', program: 'NFS', max: 2 },
        { type: 'calls', min: 1 },
        { type: 'calls', max: 5, version: 4 },
        { type: 'calls', op: 'MNT', min: 2, max: 2 },
      ],
    });
    // Fields that are absent stay absent.
    expect(Object.keys(set.rules[0]!).sort()).toEqual(['maxMs', 'op', 'stat', 'type']);
    expect(Object.keys(set.rules[2]!).sort()).toEqual(['maxCount', 'status', 'type']);
    expect(Object.keys(set.rules[7]!).sort()).toEqual(['max', 'type']);
    expect(Object.keys(set.rules[9]!).sort()).toEqual(['min', 'type']);
    expect(Object.keys(set.rules[3]!).sort()).toEqual(['maxRatePercent', 'op', 'program', 'type', 'version']);
    expect(Object.keys(set.rules[4]!).sort()).toEqual(['maxCount', 'maxRatePercent', 'type']);
    expect(Object.keys(set.rules[5]!).sort()).toEqual(['kinds', 'type']);
    expect(Object.keys(set.rules[6]!).sort()).toEqual(['name', 'severities', 'type']);
    expect(Object.keys(set.rules[10]!).sort()).toEqual(['max', 'type', 'version']);
    expect(parseRules([{ type: 'calls', max: 1 }])).toEqual({ rules: [{ type: 'calls', max: 1 }] });
    expect(parseRulesText('{"rules":[{"type":"unanswered","max":1}]}')).toEqual({ rules: [{ type: 'unanswered', max: 1 }] });
    expect(DEFAULT_RULES).toEqual({ description: 'default: no finding of severity error', rules: [{ type: 'findings', severities: ['error'] }] });
  });

  const message = (json: unknown): string => {
    try {
      parseRules(json);
    } catch (e) {
      expect(e).toBeInstanceOf(RulesError);
      return (e as Error).message;
    }
    return 'accepted';
  };
  const rule = (r: unknown): string => message({ rules: [{ type: 'calls', min: 1 }, r] });

  it('every mistake, in the words the user reads', () => {
    const cases: [unknown, string][] = [
      [5, 'rules[1]: expected an object, got 5'],
      [null, 'rules[1]: expected an object, got null'],
      [['x'], 'rules[1]: expected an object, got ["x"]'],
      [{}, 'rules[1].type: expected one of latency, errors, findings, unanswered, calls, got undefined'],
      [{ type: 7 }, 'rules[1].type: expected one of latency, errors, findings, unanswered, calls, got 7'],
      [{ type: 'calls', min: 1, zz: 1, aa: 2 }, 'rules[1]: unknown field "aa" for a calls rule (fields: op, program, version, min, max, name, comment)'],
      [{ type: 'unanswered', max: 0, stat: 'p99' }, 'rules[1]: unknown field "stat" for a unanswered rule (fields: op, program, version, max, name, comment)'],
      [{ type: 'calls', min: 1, name: '' }, 'rules[1].name: expected a non-empty string, got ""'],
      [{ type: 'calls', min: 1, name: '  ' }, 'rules[1].name: expected a non-empty string, got "  "'],
      [{ type: 'calls', min: 1, name: 5 }, 'rules[1].name: expected a non-empty string, got 5'],
      [{ type: 'calls', min: 1, comment: 5 }, 'rules[1].comment: expected a non-empty string, got 5'],
      [{ type: 'calls', min: 1, op: '' }, 'rules[1].op: expected a non-empty string, got ""'],
      [{ type: 'calls', min: 1, program: '' }, 'rules[1].program: expected a program name (NFS, MOUNT…) or number, got ""'],
      [{ type: 'calls', min: 1, program: -1 }, 'rules[1].program: expected a program name (NFS, MOUNT…) or number, got -1'],
      [{ type: 'calls', min: 1, program: 1.5 }, 'rules[1].program: expected a program name (NFS, MOUNT…) or number, got 1.5'],
      [{ type: 'calls', min: 1, program: true }, 'rules[1].program: expected a program name (NFS, MOUNT…) or number, got true'],
      [{ type: 'calls', min: 1, version: 3.5 }, 'rules[1].version: expected a whole number ≥ 0, got 3.5'],
      [{ type: 'calls', min: 1, version: -3 }, 'rules[1].version: expected a whole number ≥ 0, got -3'],
      [{ type: 'calls', min: 1, version: '3' }, 'rules[1].version: expected a whole number ≥ 0, got "3"'],
      [{ type: 'latency', maxMs: 5 }, 'rules[1].op: a latency rule needs the operation (e.g. "READ")'],
      [{ type: 'latency', op: 'READ' }, 'rules[1].maxMs: a latency rule needs the limit in milliseconds'],
      [{ type: 'latency', op: 'READ', maxMs: -1 }, 'rules[1].maxMs: expected a number ≥ 0, got -1'],
      [{ type: 'latency', op: 'READ', maxMs: Infinity }, 'rules[1].maxMs: expected a number ≥ 0, got null'],
      [{ type: 'latency', op: 'READ', maxMs: '20ms' }, 'rules[1].maxMs: expected a number ≥ 0, got "20ms"'],
      [{ type: 'latency', op: 'READ', stat: 'p95', maxMs: 5 }, 'rules[1].stat: expected one of min, mean, p50, p90, p99, max, got "p95"'],
      [{ type: 'latency', op: 'READ', stat: 99, maxMs: 5 }, 'rules[1].stat: expected one of min, mean, p50, p90, p99, max, got 99'],
      [{ type: 'errors', status: 'NFS4ERR_GRACE' }, 'rules[1]: an errors rule needs "maxCount" or "maxRatePercent"'],
      [{ type: 'errors', maxCount: 1.5 }, 'rules[1].maxCount: expected a whole number ≥ 0, got 1.5'],
      [{ type: 'errors', maxRatePercent: 100.5 }, 'rules[1].maxRatePercent: expected a percentage from 0 to 100, got 100.5'],
      [{ type: 'errors', maxRatePercent: -0.5 }, 'rules[1].maxRatePercent: expected a number ≥ 0, got -0.5'],
      [{ type: 'errors', maxCount: 1, status: '' }, 'rules[1].status: expected a non-empty string, got ""'],
      [{ type: 'findings' }, 'rules[1]: a findings rule needs "kinds" or "severities"'],
      [{ type: 'findings', kinds: [] }, 'rules[1].kinds: expected a non-empty list of strings, got []'],
      [{ type: 'findings', kinds: 'grace-period' }, 'rules[1].kinds: expected a non-empty list of strings, got "grace-period"'],
      [{ type: 'findings', kinds: ['a', ''] }, 'rules[1].kinds: expected a non-empty list of strings, got ["a",""]'],
      [{ type: 'findings', kinds: ['a', 1] }, 'rules[1].kinds: expected a non-empty list of strings, got ["a",1]'],
      [{ type: 'findings', severities: ['error', 'fatal'] }, 'rules[1].severities: expected severities among info, warning, error, got ["error","fatal"]'],
      [{ type: 'unanswered' }, 'rules[1].max: an unanswered rule needs the maximum number of unanswered calls'],
      [{ type: 'unanswered', max: 0.5 }, 'rules[1].max: expected a whole number ≥ 0, got 0.5'],
      [{ type: 'calls' }, 'rules[1]: a calls rule needs "min" or "max"'],
      [{ type: 'calls', min: 1.5 }, 'rules[1].min: expected a whole number ≥ 0, got 1.5'],
      [{ type: 'calls', max: 1.5 }, 'rules[1].max: expected a whole number ≥ 0, got 1.5'],
      [{ type: 'calls', min: 5, max: 1 }, 'rules[1]: "min" (5) is above "max" (1)'],
      // Names nfsight does not give: refused with the nearest it gives, when one is near.
      [{ type: 'latency', op: 'RAED', maxMs: 5 }, 'rules[1].op: unknown operation "RAED" (nearest: READ)'],
      [{ type: 'calls', op: 'compound(opne)', min: 1 }, 'rules[1].op: unknown operation "compound(opne)" (nearest: COMPOUND(OPEN))'],
      [{ type: 'calls', op: 'FROBNICATE', min: 1 }, 'rules[1].op: unknown operation "FROBNICATE"'],
      [{ type: 'errors', status: 'NFS4ERR_GRAC', maxCount: 0 }, 'rules[1].status: unknown status "NFS4ERR_GRAC" (nearest: NFS4ERR_GRACE)'],
      [{ type: 'errors', status: 'nfs3err_noent', maxCount: 0 }, 'accepted'],
      [{ type: 'errors', status: 'MNT3ERR_ACCESS', maxCount: 0 }, 'rules[1].status: unknown status "MNT3ERR_ACCESS" (nearest: MNT3ERR_ACCES)'],
      [{ type: 'calls', program: 'MOUTN', min: 1 }, 'rules[1].program: unknown program "MOUTN" (nearest: MOUNT)'],
      [{ type: 'findings', kinds: ['grace-period', 'grace'] }, 'rules[1].kinds: unknown finding kind "grace" (nearest: grace-period)'],
      [{ type: 'findings', kinds: ['unanswered-calls'] }, 'rules[1].kinds: unknown finding kind "unanswered-calls" (nearest: unanswered-call)'],
      [{ type: 'latency', op: 'READ', maxms: 5 }, 'rules[1]: unknown field "maxms" for a latency rule (nearest: maxMs) (fields: op, program, version, stat, maxMs, name, comment)'],
    ];
    expect(cases.map(([r]) => [r, rule(r)])).toEqual(cases.map(([r, m]) => [r, m]));
    // Limits at their edges are accepted.
    expect(rule({ type: 'calls', min: 2, max: 2 })).toBe('accepted');
    expect(rule({ type: 'errors', maxRatePercent: 100, maxCount: 0 })).toBe('accepted');
    expect(rule({ type: 'calls', min: 1, program: 0, version: 0 })).toBe('accepted');
  });

  it('mistakes in the file around the rules', () => {
    expect(message({ rulez: [], rules: [] })).toBe('unknown top-level field "rulez" (nearest: rules) (fields: rules, description, comment, requireRpcTraffic)');
    expect(message({ b: 1, a: 2, rules: [{ type: 'calls', min: 1 }] })).toBe('unknown top-level field "a" (fields: rules, description, comment, requireRpcTraffic)');
    expect(message({ requireRpcTraffic: 'no', rules: [{ type: 'calls', min: 1 }] })).toBe('requireRpcTraffic: expected true or false, got "no"');
    expect(message({ description: 5, rules: [{ type: 'calls', min: 1 }] })).toBe('description: expected a string');
    expect(message({ rules: { type: 'calls' } })).toBe('rules: expected a list of rules');
    expect(message({})).toBe('rules: expected a list of rules');
    expect(message({ rules: [] })).toBe('rules: the list is empty');
    expect(message([])).toBe('rules: the list is empty');
    expect(message(42)).toBe('expected an object with a "rules" list');
    expect(message(null)).toBe('expected an object with a "rules" list');
    expect(() => parseRulesText('{ nope')).toThrow(RulesError);
    expect(() => parseRulesText('{ nope')).toThrow(/^not JSON \(.+\)$/);
    expect(parseRules({ rules: [{ type: 'calls', min: 1 }], comment: 'c' })).toEqual({ rules: [{ type: 'calls', min: 1 }] });
  });

  it('each rule as one line of text', () => {
    const texts: [Rule, string][] = [
      [{ type: 'latency', op: 'READ', stat: 'p99', maxMs: 20 }, 'READ p99 latency ≤ 20 ms'],
      [{ type: 'latency', op: 'READ', program: 'NFS', version: 3, stat: 'p50', maxMs: 1.5 }, 'NFS v3 READ p50 latency ≤ 1.5 ms'],
      [{ type: 'latency', op: 'OPEN', version: 4, stat: 'max', maxMs: 5 }, 'v4 OPEN max latency ≤ 5 ms'],
      [{ type: 'latency', op: 'MNT', program: 100005, stat: 'mean', maxMs: 0 }, '100005 MNT mean latency ≤ 0 ms'],
      [{ type: 'errors', status: 'NFS4ERR_GRACE', maxCount: 0 }, 'NFS4ERR_GRACE errors ≤ 0'],
      [{ type: 'errors', maxRatePercent: 5 }, 'all errors ≤ 5% of calls'],
      [{ type: 'errors', status: 'NFS4ERR_GRACE', op: 'OPEN', maxCount: 1, maxRatePercent: 2 }, 'NFS4ERR_GRACE on OPEN errors ≤ 1 and ≤ 2% of calls'],
      [{ type: 'errors', program: 'MOUNT', maxCount: 3 }, 'MOUNT errors ≤ 3'],
      [{ type: 'findings', kinds: ['a', 'b'], severities: ['warning', 'error'] }, 'no finding of kind a or b and severity warning or error'],
      [{ type: 'findings', kinds: ['grace-period'] }, 'no finding of kind grace-period'],
      [{ type: 'findings', severities: ['error'] }, 'no finding of severity error'],
      [{ type: 'unanswered', max: 0 }, 'unanswered calls ≤ 0'],
      [{ type: 'unanswered', op: 'READ', max: 2 }, 'READ unanswered calls ≤ 2'],
      [{ type: 'calls', min: 1 }, 'all calls ≥ 1'],
      [{ type: 'calls', max: 9 }, 'all calls ≤ 9'],
      [{ type: 'calls', op: 'MNT', program: 'MOUNT', min: 1, max: 3 }, 'MOUNT MNT calls ≥ 1 and ≤ 3'],
      [{ type: 'calls', version: 4, min: 1 }, 'v4 calls ≥ 1'],
      [{ type: 'calls', min: 1, name: 'traffic' }, 'traffic'],
    ];
    expect(texts.map(([r]) => ruleText(r))).toEqual(texts.map(([, t]) => t));
  });
});

// ---------------------------------------------------------------- evaluation

describe('rules: each verdict, figure, limit and detail', () => {
  const one = (r: Rule) => {
    const [res] = evaluateRules([r], EVAL).results;
    return res;
  };

  it('latency: the worst matching row decides; rows without an answer do not count', () => {
    expect(one({ type: 'latency', op: 'read', stat: 'p99', maxMs: 5 })).toEqual({
      rule: 'read p99 latency ≤ 5 ms',
      type: 'latency',
      passed: false,
      actual: 6,
      unit: 'ms',
      limit: '≤ 5 ms',
      detail: 'NFS v3 READ: p99 4 ms over 8 answered; NFS v4 READ: p99 6 ms over 6 answered',
    });
    expect(one({ type: 'latency', op: 'READ', program: 'nfs', version: 3, stat: 'max', maxMs: 5 })).toMatchObject({
      passed: true,
      actual: 5,
      detail: 'NFS v3 READ: max 5 ms over 8 answered',
    });
    expect(one({ type: 'latency', op: 'READ', program: 100003, version: 4, stat: 'min', maxMs: 1.99 })).toMatchObject({ passed: false, actual: 2 });
    expect(one({ type: 'latency', op: 'MNT', stat: 'p50', maxMs: 1 })).toMatchObject({ passed: true, actual: 0.25, detail: 'MOUNT v3 MNT: p50 0.25 ms over 4 answered' });
    // The worst row is not always the last.
    expect(one({ type: 'latency', op: 'WRITE', stat: 'p99', maxMs: 6.5 })).toMatchObject({ passed: false, actual: 7, detail: 'NFS v3 WRITE: p99 7 ms over 5 answered; NFS v4 WRITE: p99 2 ms over 1 answered' });
    expect(one({ type: 'latency', op: 'COMMIT', stat: 'p99', maxMs: 1 })).toEqual({
      rule: 'COMMIT p99 latency ≤ 1 ms',
      type: 'latency',
      passed: true,
      actual: null,
      unit: 'ms',
      limit: '≤ 1 ms',
      detail: 'no answered COMMIT call in the capture',
    });
    expect(one({ type: 'latency', op: 'READ', program: 'MOUNT', stat: 'p99', maxMs: 1 })).toMatchObject({ passed: true, actual: null });
    expect(one({ type: 'latency', op: 'READ', version: 2, stat: 'p99', maxMs: 1 })).toMatchObject({ passed: true, actual: null });
  });

  it('errors: by count and rate, of all calls, of an operation, a program, or a status', () => {
    expect(one({ type: 'errors', maxCount: 6 })).toEqual({
      rule: 'all errors ≤ 6',
      type: 'errors',
      passed: false,
      actual: 7,
      limit: '≤ 6',
      detail: '7 errors in 40 calls (17.5%); all calls',
    });
    expect(one({ type: 'errors', op: 'READ', maxRatePercent: 20 })).toMatchObject({
      passed: true,
      actual: 3,
      limit: '≤ 20% of calls',
      detail: '3 errors in 16 calls (18.75%); NFS v3 READ, NFS v4 READ',
    });
    expect(one({ type: 'errors', op: 'READ', maxRatePercent: 18 })).toMatchObject({ passed: false });
    expect(one({ type: 'errors', status: 'nfs3err_io', maxCount: 1 })).toMatchObject({
      passed: false,
      actual: 2,
      detail: '2 errors in 40 calls (5%); NFS v3 READ: 2',
    });
    expect(one({ type: 'errors', status: 'NFS4ERR_GRACE', op: 'READ', program: 'NFS', version: 4, maxCount: 1 })).toMatchObject({
      passed: true,
      actual: 1,
      detail: '1 errors in 6 calls (16.67%); NFS v4 READ: 1',
    });
    expect(one({ type: 'errors', status: 'NFS4ERR_GRACE', op: 'WRITE', maxCount: 0 })).toMatchObject({ passed: true, actual: 0, detail: '0 errors in 6 calls (0%); no NFS4ERR_GRACE reply' });
    expect(one({ type: 'errors', status: 'NFS3ERR_IO', program: 'MOUNT', maxCount: 0 })).toMatchObject({ passed: true, actual: 0 });
    expect(one({ type: 'errors', status: 'NFS4ERR_DELAY', maxCount: 0 })).toMatchObject({ passed: true, actual: 0, detail: '0 errors in 40 calls (0%); no NFS4ERR_DELAY reply' });
    expect(one({ type: 'errors', program: 'MOUNT', maxCount: 4, maxRatePercent: 100 })).toEqual({
      rule: 'MOUNT errors ≤ 4 and ≤ 100% of calls',
      type: 'errors',
      passed: true,
      actual: 4,
      limit: '≤ 4 and ≤ 100% of calls',
      detail: '4 errors in 4 calls (100%); MOUNT v3 MNT',
    });
    expect(one({ type: 'errors', program: 'MOUNT', maxCount: 3, maxRatePercent: 100 })).toMatchObject({ passed: false });
    expect(one({ type: 'errors', program: 'MOUNT', maxCount: 4, maxRatePercent: 99 })).toMatchObject({ passed: false });
    expect(one({ type: 'errors', op: 'NOPE', maxRatePercent: 0 })).toMatchObject({ passed: true, actual: 0, detail: '0 errors in 0 calls (0%); no matching operation' });
    expect(one({ type: 'errors', version: 4, maxCount: 10 })).toMatchObject({ actual: 3, detail: '3 errors in 20 calls (15%); NFS v4 COMPOUND' });
    // A status found on several rows: each listed.
    const two = report([row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 4 })], {
      errors: [error(NFS, 3, 'NFS3ERR_IO', 'READ', 2), error(NFS, 3, 'NFS3ERR_IO', 'WRITE', 1)],
    });
    expect(evaluateRules([{ type: 'errors', status: 'NFS3ERR_IO', maxCount: 3 }], two).results[0]).toMatchObject({
      passed: true,
      actual: 3,
      detail: '3 errors in 4 calls (75%); NFS v3 READ: 2, NFS v3 WRITE: 1',
    });
  });

  it('findings: by kind and severity; the first five listed', () => {
    expect(one({ type: 'findings', severities: ['error'] })).toEqual({
      rule: 'no finding of severity error',
      type: 'findings',
      passed: false,
      actual: 7,
      limit: '= 0',
      detail: 'error kind-a: title a; error kind-b: title b; error kind-c: title c; error kind-d: title d; error kind-e: title e; and 2 more',
    });
    expect(one({ type: 'findings', kinds: ['grace-period', 'kind-a'], severities: ['warning'] })).toMatchObject({ passed: false, actual: 1, detail: 'warning grace-period: grace' });
    expect(one({ type: 'findings', kinds: ['slow-ops'] })).toMatchObject({ actual: 1, detail: 'info slow-ops: slow' });
    expect(one({ type: 'findings', kinds: ['connections'] })).toMatchObject({ passed: true, actual: 0, detail: 'none among 9 findings' });
    const five = report([], { findings: ['a', 'b', 'c', 'd', 'e'].map((k) => finding(k, 'error', k)) });
    expect(evaluateRules([{ type: 'findings', severities: ['error'] }], five).results[0]!.detail).toBe('error a: a; error b: b; error c: c; error d: d; error e: e');
  });

  it('unanswered and calls', () => {
    expect(one({ type: 'unanswered', max: 2 })).toEqual({
      rule: 'unanswered calls ≤ 2',
      type: 'unanswered',
      passed: false,
      actual: 3,
      limit: '≤ 2',
      detail: '3 of 40 calls unanswered; all calls',
    });
    expect(one({ type: 'unanswered', op: 'read', max: 2 })).toMatchObject({ passed: true, actual: 2, detail: '2 of 16 calls unanswered; NFS v3 READ, NFS v4 READ' });
    expect(one({ type: 'calls', program: 100003, version: 4, min: 21 })).toEqual({
      rule: '100003 v4 calls ≥ 21',
      type: 'calls',
      passed: false,
      actual: 20,
      limit: '≥ 21',
      detail: '20 calls; NFS v4 COMPOUND',
    });
    expect(one({ type: 'calls', max: 40 })).toMatchObject({ passed: true, actual: 40, limit: '≤ 40', detail: '40 calls; all calls' });
    expect(one({ type: 'calls', program: 100005, min: 1 })).toMatchObject({ actual: 4, detail: '4 calls; MOUNT v3 MNT' });
    expect(one({ type: 'calls', max: 39 })).toMatchObject({ passed: false });
    expect(one({ type: 'calls', version: 3, min: 1, max: 100 })).toMatchObject({
      passed: true,
      actual: 20,
      limit: '≥ 1 and ≤ 100',
      detail: '20 calls; NFS v3 READ, NFS v3 WRITE, NFS v3 COMMIT, MOUNT v3 MNT',
    });
  });

  it('the whole check: rules in order, named rules shown by name, failures counted', () => {
    const res = evaluateRules(
      [
        { type: 'calls', min: 1, name: 'traffic' },
        { type: 'unanswered', max: 0 },
        { type: 'findings', kinds: ['nope'] },
      ],
      EVAL,
    );
    expect([res.passed, res.total, res.failed, res.results.map((r) => [r.rule, r.passed])]).toEqual([
      false,
      3,
      1,
      [
        ['traffic', true],
        ['unanswered calls ≤ 0', false],
        ['no finding of kind nope', true],
      ],
    ]);
    expect(evaluateRules([{ type: 'calls', min: 1 }], EVAL)).toMatchObject({ passed: true, total: 1, failed: 0 });
  });
});

// ---------------------------------------------------------------- diff

describe('diff: the whole comparison', () => {
  const base = report([
    row({ ...MOUNT, version: 3, procedure: 1, name: 'MNT', calls: 4, ms: [1, 1, 1] }),
    row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 10, ms: [5, 8, 10] }),
    row({ ...NFS, version: 3, procedure: 1, name: 'GETATTR', calls: 7, errors: 1, ms: [0.5, 0.75, 1] }),
    row({ ...NFS, version: 3, procedure: 21, name: 'COMMIT', calls: 1, ms: [1, 1, 1] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'OPEN', calls: 3, ms: [10, 10, 10] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'LOOKUP', calls: 3, ms: [1, 1, 1] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'CLOSE', calls: 3, ms: [1, 1, 1] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'ACCESS', calls: 3, ms: [1, 1, 1] }),
    row({ ...NFS, kind: 'compound', version: 4, procedure: 1, name: 'COMPOUND(OPEN)', calls: 5, ms: [3, 3, 3] }),
    row({ ...NFS, version: 4, procedure: 1, name: 'COMPOUND', calls: 20, ms: [10, 12, 14] }),
  ]);
  base.operations[4]!.latency.p99 = null; // OPEN: no p99 in the baseline
  const cand = report([
    row({ ...NFS, version: 4, procedure: 1, name: 'COMPOUND', calls: 20, ms: [8, 12, 14] }),
    row({ ...NFS, kind: 'compound', version: 4, procedure: 1, name: 'COMPOUND(OPEN)', calls: 6, ms: [3, 3, 3] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'ACCESS', calls: 3, ms: [1, 1, 1] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'OPEN', calls: 3, ms: [10, 10.5, 50] }),
    row({ ...NFS, version: 3, procedure: 21, name: 'COMMIT', calls: 1, ms: [1, 1, 1] }),
    row({ ...NFS, kind: 'op', version: 4, procedure: 1, name: 'LOOKUP', calls: 3, ms: [1, 1, 1] }),
    row({ ...NFS, version: 3, procedure: 7, name: 'WRITE', calls: 2, ms: [1, 1, 1] }),
    row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 10, ms: [5, 8, 15] }),
    row({ ...NFS, version: 3, procedure: 1, name: 'GETATTR', calls: 7, errors: 1, ms: [0.5, 0.75, 1] }),
    row({ ...MOUNT, version: 3, procedure: 1, name: 'MNT', calls: 4, errors: 1, ms: [1, 1, 1] }),
  ]);
  cand.operations[1]!.latency.p99 = null; // COMPOUND(OPEN): no p99 in the candidate
  const side = (calls: number, errors: number, p50: number | null, p90: number | null, p99: number | null): DiffSide => ({
    calls,
    errors,
    errorRate: calls > 0 ? errors / calls : 0,
    p50,
    p90,
    p99,
  });

  it('rows in program, version, kind, then procedure number or name order; deltas; reasons; verdicts', () => {
    const d = diffReports(base, cand);
    expect(d.tolerance).toEqual({ percent: 10, ms: 1 });
    expect(d.rows.map((r) => [r.programName, r.version, r.kind, r.name, r.verdict, r.reasons])).toEqual([
      ['NFS', 3, 'procedure', 'GETATTR', 'unchanged', []],
      ['NFS', 3, 'procedure', 'READ', 'regressed', ['p99 +5 ms']],
      ['NFS', 3, 'procedure', 'WRITE', 'new', []],
      ['NFS', 3, 'procedure', 'COMMIT', 'unchanged', []],
      ['NFS', 4, 'procedure', 'COMPOUND', 'improved', ['p50 -2 ms']],
      ['NFS', 4, 'compound', 'COMPOUND(OPEN)', 'within tolerance', []],
      ['NFS', 4, 'op', 'ACCESS', 'unchanged', []],
      ['NFS', 4, 'op', 'CLOSE', 'gone', []],
      ['NFS', 4, 'op', 'LOOKUP', 'unchanged', []],
      ['NFS', 4, 'op', 'OPEN', 'within tolerance', []],
      ['MOUNT', 3, 'procedure', 'MNT', 'regressed', ['error rate 0% → 25%']],
    ]);
    const byName = new Map(d.rows.map((r) => [`${r.kind} ${r.name}`, r]));
    expect(byName.get('procedure READ')).toMatchObject({
      program: 100003,
      baseline: side(10, 0, 5, 8, 10),
      candidate: side(10, 0, 5, 8, 15),
      delta: { calls: 0, errors: 0, p50: 0, p90: 0, p99: 5 },
    });
    expect(byName.get('procedure WRITE')).toMatchObject({ baseline: null, candidate: side(2, 0, 1, 1, 1), delta: { calls: null, errors: null, p50: null, p90: null, p99: null } });
    expect(byName.get('op CLOSE')).toMatchObject({ baseline: side(3, 0, 1, 1, 1), candidate: null, delta: { calls: null, p99: null } });
    expect(byName.get('op OPEN')!.delta).toEqual({ calls: 0, errors: 0, p50: 0, p90: 0.5, p99: null });
    expect(byName.get('compound COMPOUND(OPEN)')!.delta).toEqual({ calls: 1, errors: 0, p50: 0, p90: 0, p99: null });
    expect(byName.get('procedure MNT')).toMatchObject({ program: 100005, baseline: side(4, 0, 1, 1, 1), candidate: side(4, 1, 1, 1, 1), delta: { errors: 1 } });
    expect(d.summary).toEqual({ regressed: 2, improved: 1, 'within tolerance': 2, unchanged: 4, new: 1, gone: 1 });
    expect(d.regressed).toBe(true);
    // The other way round: gone and new swap, regressions become improvements.
    const back = diffReports(cand, base);
    expect(back.summary).toEqual({ regressed: 1, improved: 2, 'within tolerance': 2, unchanged: 4, new: 1, gone: 1 });
    expect(VERDICTS).toEqual(['regressed', 'improved', 'within tolerance', 'unchanged', 'new', 'gone']);
    expect(back.rows.find((r) => r.name === 'READ')!.reasons).toEqual(['p99 -5 ms']);
    expect(back.rows.find((r) => r.name === 'MNT')!.reasons).toEqual(['error rate 25% → 0%']);
  });

  it('a regression wins over an improvement in the same row; every reason is listed', () => {
    const a = report([row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 100, errors: 10, ms: [10, 20, 30] })]);
    const b = report([row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 100, errors: 5, ms: [5, 20, 40.5] })]);
    expect(diffReports(a, b).rows[0]).toMatchObject({ verdict: 'regressed', reasons: ['p50 -5 ms', 'p99 +10.5 ms', 'error rate 10% → 5%'] });
    const c = report([row({ ...NFS, version: 3, procedure: 6, name: 'READ', calls: 100, errors: 5, ms: [5, 20, 30] })]);
    expect(diffReports(a, c, { percent: 10, ms: 0 }).rows[0]).toMatchObject({ verdict: 'improved', reasons: ['p50 -5 ms', 'error rate 10% → 5%'] });
    expect(diffReports(a, a).regressed).toBe(false);
    // A row without calls has an error rate of 0, not NaN.
    const idle = report([row({ ...NFS, version: 3, procedure: 0, name: 'NULL', calls: 0, ms: null })]);
    expect(diffReports(idle, idle).rows[0]).toMatchObject({ verdict: 'unchanged', baseline: { errorRate: 0 }, candidate: { errorRate: 0 } });
  });

  it('tolerance options: percentages and times', () => {
    expect(['10%', ' 7.5 % ', '10', '0', '0.5%', '12.25%'].map(parsePercent)).toEqual([10, 7.5, 10, 0, 0.5, 12.25]);
    expect(['1', '1ms', '0.5ms', '2s', '250us', ' 3 ms ', '1.5s', '0.125ms'].map(parseMs)).toEqual([1, 1, 0.5, 2000, 0.25, 3, 1500, 0.125]);
    for (const bad of ['', '%', '-1%', 'ten', '1.%', '10%%', 'x10', '10 x']) expect(() => parsePercent(bad), bad).toThrow(`expected a percentage such as 10%: ${bad}`);
    for (const bad of ['', 'ms', '1 h', '-1', '1.', 'x1', '1ms2']) expect(() => parseMs(bad), bad).toThrow(`expected a time in ms such as 1, 1ms, 0.5ms: ${bad}`);
  });
});

// ---------------------------------------------------------------- JUnit

describe('JUnit document', () => {
  it('one testcase per rule, a failure with figure and limit for each rule that failed', () => {
    const res = evaluateRules(
      [
        { type: 'latency', op: 'READ', stat: 'p99', maxMs: 5 },
        { type: 'latency', op: 'COMMIT', stat: 'p99', maxMs: 5 },
        { type: 'calls', min: 1, name: 'traffic <all>' },
      ],
      EVAL,
    );
    expect(renderJunit(res, 'a.pcap & b.pcap')).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="nfsight check" tests="3" failures="1" errors="0">',
        '  <testsuite name="a.pcap &amp; b.pcap" tests="3" failures="1" errors="0" skipped="0">',
        '    <testcase classname="nfsight.check.latency" name="1. READ p99 latency ≤ 5 ms">',
        '      <failure message="actual 6 ms, limit ≤ 5 ms" type="RuleFailed">NFS v3 READ: p99 4 ms over 8 answered; NFS v4 READ: p99 6 ms over 6 answered</failure>',
        '    </testcase>',
        '    <testcase classname="nfsight.check.latency" name="2. COMMIT p99 latency ≤ 5 ms">',
        '      <system-out>actual none (limit ≤ 5 ms): no answered COMMIT call in the capture</system-out>',
        '    </testcase>',
        '    <testcase classname="nfsight.check.calls" name="3. traffic &lt;all&gt;">',
        '      <system-out>actual 40 (limit ≥ 1): 40 calls; all calls</system-out>',
        '    </testcase>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n'),
    );
  });
});
