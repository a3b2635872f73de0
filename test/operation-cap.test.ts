/**
 * The cap on distinct operations (src/analysis/operation-cap.ts): on
 * captures calling thousands of distinct (program, version, procedure)
 * (test/gen/operation-flood.ts), the operations and errors tables, the time
 * series and the slow-ops detector keep rows for the first operations seen
 * and count the calls of the others in OTHER rows, totals unchanged; merged
 * reports keep the cap; the renderers label the OTHER rows.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { MAX_OPERATIONS, OTHER } from '../src/analysis/operation-cap.js';
import { diffReports } from '../src/check/diff.js';
import { renderDiffTable } from '../src/cli/diff-command.js';
import type { Report } from '../src/report/model.js';
import { mergeReports } from '../src/report/merge.js';
import { pageData } from '../src/report/render-html.js';
import { renderReportText } from '../src/report/render-text.js';
import { renderTimelineText } from '../src/report/render-timeline.js';
import { MAX_TIMELINE_SERIES } from '../src/analysis/timeline.js';
import { writeOperationFloodFile, type OperationFloodCounts, type OperationFloodShape } from './gen/operation-flood.js';
import { tempDir } from './helpers.js';

/** 3,000 operations, every other one answered with an error, among 20 GETATTRs (10 before them). */
const A: OperationFloodShape = { operations: 3000, getattrs: 20 };
/** 1,500 others, and 10 GETATTRs. */
const B: OperationFloodShape = { operations: 1500, first: 3000, getattrs: 10 };

let dir: string;
let a: { counts: OperationFloodCounts; report: Report };
let b: { counts: OperationFloodCounts; report: Report };
/** A with a cap above its 3,001 operations. */
let wide: { counts: OperationFloodCounts; report: Report } | undefined;
const aWide = async () => (wide ??= await run('a5000', A, 5000));

async function run(name: string, shape: OperationFloodShape, maxOperations?: number) {
  const file = join(dir, `${name}.pcap`);
  const counts = writeOperationFloodFile(file, shape);
  return { counts, report: await analyze(file, maxOperations === undefined ? {} : { maxOperations }) };
}

const sum = <T>(rows: readonly T[], f: (r: T) => number): number => rows.reduce((n, r) => n + f(r), 0);
const others = <T extends { programName: string }>(rows: readonly T[]): T[] => rows.filter((r) => r.programName === OTHER);
const own = <T extends { programName: string }>(rows: readonly T[]): T[] => rows.filter((r) => r.programName !== OTHER);

/** What every report must hold whatever the cap: each table's totals are the capture's. */
function expectTotals(r: Report, calls: number, errors: number): void {
  expect(r.rpc.calls).toBe(calls);
  const procs = r.operations.filter((o) => o.kind === 'procedure');
  expect(sum(procs, (o) => o.calls)).toBe(calls);
  expect(sum(procs, (o) => o.errors)).toBe(errors);
  expect(sum(procs, (o) => o.latency.histogram.count)).toBe(calls);
  expect(sum(r.errors, (e) => e.count)).toBe(errors);
  expect(sum(r.timeline.operations, (s) => s.calls)).toBe(calls);
  expect(sum(r.timeline.operations, (s) => s.errors)).toBe(errors);
  expect(sum(r.timeline.intervals, (iv) => sum(iv.ops, (o) => o.calls))).toBe(calls);
  expect(sum(r.timeline.intervals, (iv) => sum(iv.ops, (o) => o.answered))).toBe(calls);
  // `folded` is what the OTHER rows count.
  expect(r.operationsCap.folded).toBe(sum(others(r.operations), (o) => o.calls));
  expect(r.errorsCap.folded).toBe(sum(others(r.errors), (e) => e.count));
  expect(r.timeline.operationsCap.folded).toBe(sum(others(r.timeline.operations), (s) => s.calls));
  expect(sum(r.timeline.intervals, (iv) => sum(iv.ops.filter((o) => o.op === OTHER), (o) => o.calls))).toBe(r.timeline.operationsCap.folded);
}

beforeAll(async () => {
  dir = tempDir();
  a = await run('a', A);
  b = await run('b', B);
});

describe('operation cap: one capture', () => {
  it('keeps rows for the first 1,000 operations and counts the calls of the 2,001 others in one OTHER row', () => {
    const r = a.report;
    expect(a.counts).toMatchObject({ calls: 3020, errors: 1500, operations: 3001 });
    expect(MAX_OPERATIONS).toBe(1000);
    // GETATTR, then the first 999 of the flood; no NFSv4, so one OTHER row, of kind procedure, last.
    expect(own(r.operations)).toHaveLength(1000);
    expect(r.operations).toHaveLength(1001);
    const other = r.operations[1000]!;
    expect(other).toMatchObject({ kind: 'procedure', program: 0, programName: OTHER, version: 0, procedure: 0, op: null, name: OTHER });
    // All 20 GETATTRs in their row (it was made before the flood); flood operations 0-998 one call each, 500 of them errors.
    expect(r.operations.find((o) => o.name === 'GETATTR')!.calls).toBe(20);
    expect(other).toMatchObject({ calls: 2001, answered: 2001, unanswered: 0, errors: 1000 });
    expect(other.latency.histogram.count).toBe(2001);
    expect(r.operationsCap).toEqual({ maxRows: 1000, folded: 2001 });
    expectTotals(r, 3020, 1500);
  });

  it('keeps the errors of the first 1,000 (operation, status) seen, and the 500 others in one OTHER row with its first replies', () => {
    const r = a.report;
    expect(r.errors).toHaveLength(1001);
    const other = r.errors[1000]!;
    expect(other).toMatchObject({ program: 0, programName: OTHER, version: 0, status: OTHER, op: OTHER, count: 500 });
    expect(other.first).toHaveLength(5);
    // The flood's 1,001st error is its combination 2000 (every even one fails): 10 GETATTRs, 2,000 calls, then it.
    expect(other.first[0]!.xid).toBe(`0x${(0x51000000 + 10 + 2000).toString(16)}`);
    expect(r.errorsCap).toEqual({ maxRows: 1000, folded: 500 });
  });

  it('keeps 100 time series (fewer than table rows: a series costs a cell per interval), the OTHER series last, its cells adding up to its calls', () => {
    const t = a.report.timeline;
    expect(MAX_TIMELINE_SERIES).toBe(100);
    expect(t.operations).toHaveLength(101);
    // GETATTR and flood operations 0-98 (50 of them errors) have series; the other 2,901 calls, 1,450 errors, are OTHER's.
    expect(t.operations[100]).toMatchObject({ key: OTHER, programName: OTHER, name: OTHER, calls: 2901, errors: 1450 });
    expect(t.operationsCap).toEqual({ maxRows: 100, folded: 2901 });
    expect(t.operations[0]!.name).toBe('GETATTR');
  });

  it('takes another cap (maxOperations), and nothing is folded below it', async () => {
    const small = await run('a10', A, 10);
    expect(own(small.report.operations)).toHaveLength(10);
    expect(small.report.operationsCap).toEqual({ maxRows: 10, folded: 3020 - 20 - 9 });
    expect(own(small.report.errors)).toHaveLength(10);
    expect(small.report.timeline.operations).toHaveLength(11);
    expectTotals(small.report, 3020, 1500);
    const wide = await aWide();
    expect(wide.report.operations).toHaveLength(3001);
    expect(others(wide.report.operations)).toEqual([]);
    expect(wide.report.operationsCap).toEqual({ maxRows: 5000, folded: 0 });
    expect(wide.report.errorsCap).toEqual({ maxRows: 5000, folded: 0 });
    expect(wide.report.timeline.operationsCap).toEqual({ maxRows: 5000, folded: 0 });
    expectTotals(wide.report, 3020, 1500);
  });

  it('has an OTHER row per kind: NFSv4 ops beyond the cap go to the op kind’s', async () => {
    // 3 operations, then 8 COMPOUNDs of PUTROOTFH and an unknown op (OP_100000 …), answered NFS4ERR_OP_ILLEGAL.
    const r = (await run('v4', { operations: 3, compounds: 8 }, 6)).report;
    // Rows: the 3 operations, NFS v4 COMPOUND, COMPOUND(PUTROOTFH), PUTROOTFH; each unknown op is a 7th.
    expect(own(r.operations).map((o) => `${o.kind} ${o.name}`)).toEqual([
      'procedure 23',
      'procedure COMPOUND',
      'compound COMPOUND(PUTROOTFH)',
      'op PUTROOTFH',
      'procedure 0',
      'procedure 0',
    ]);
    expect(others(r.operations)).toEqual([expect.objectContaining({ kind: 'op', op: OTHER, name: OTHER, calls: 8, errors: 8 })]);
    expect(r.operationsCap).toEqual({ maxRows: 6, folded: 8 });
    const ops = r.operations.filter((o) => o.kind === 'op');
    expect(sum(ops, (o) => o.calls)).toBe(16);
    expect(sum(ops, (o) => o.errors)).toBe(8);
    expect(sum(r.operations.filter((o) => o.kind === 'compound'), (o) => o.calls)).toBe(8);
    expectTotals(r, 11, 10);
    expect(renderReportText(r, { details: true, width: 140 })).toMatch(/│ {3}other NFSv4 ops +│ +8 │ +8 │/);
  });

  it('operations nfsight knows by name have a row beyond the cap: NFSv4 after a flood of unknown procedures', async () => {
    // 20 unknown procedures fill a cap of 5; then 8 COMPOUNDs of PUTROOTFH and an unknown op.
    const r = (await run('late-v4', { operations: 20, compounds: 8 }, 5)).report;
    // The first 5 flood procedures (numbered, of unknown programs), and beyond the cap the named NFSv4 rows.
    const rows = own(r.operations);
    const numbered = (o: { name: string }): boolean => /^\d+$/.test(o.name);
    expect(rows.filter(numbered)).toHaveLength(5);
    expect(rows.filter((o) => !numbered(o)).map((o) => `${o.kind} ${o.name}`)).toEqual(['procedure COMPOUND', 'compound COMPOUND(PUTROOTFH)', 'op PUTROOTFH']);
    expect(r.operations.find((o) => o.name === 'COMPOUND')).toMatchObject({ calls: 8, errors: 8 });
    // The 15 unknown procedures beyond the cap, and the 8 unknown ops.
    expect(others(r.operations).map((o) => [o.kind, o.calls])).toEqual([
      ['procedure', 15],
      ['op', 8],
    ]);
    expect(r.operationsCap).toEqual({ maxRows: 5, folded: 23 });
    expectTotals(r, 28, 18);
    // A merge of it into a report with a smaller cap keeps the named rows too.
    const merged = mergeReports([JSON.parse(JSON.stringify(r)) as Report]);
    expect(own(merged.operations).map((o) => o.name)).toEqual(own(r.operations).map((o) => o.name));
  });

  it('slow-ops follows slowOpsMaxOperations operations; the slow calls of the others are still found, named by their own operation', async () => {
    // 20 operations, each answered 2 s late (slow: over the 1 s floor).
    const shape: OperationFloodShape = { operations: 20, errorEvery: 0, slowEvery: 1 };
    const file = join(dir, 'slow.pcap');
    writeOperationFloodFile(file, shape);
    const slowOps = (r: Report) => r.findings.filter((f) => f.kind === 'slow-ops');
    const all = slowOps(await analyze(file));
    expect(all).toHaveLength(20);
    const capped = slowOps(await analyze(file, { detectorOptions: { slowOpsMaxOperations: 5 } }));
    // Five operations of their own, one call each; the 15 others together, one finding (one client and server).
    expect(capped).toHaveLength(6);
    const other = capped.find((f) => f.metrics['op'] === OTHER)!;
    expect(other.count).toBe(15);
    expect(other.title).toMatch(/^15 slow calls of other operations, the worst/);
    // The six slowest of the 15 shown (all 2 s: the first six, operations 5-10), each named by its operation.
    expect(other.evidence.filter((e) => e.what.includes(' call xid ')).map((e) => e.what.split(' call xid')[0])).toEqual([
      '805306368 v6 0',
      '536870918 v1 6',
      'NFS v3 NFSPROC3_29',
      '805306368 v9 0',
      '536870921 v1 2',
      'NFS v3 NFSPROC3_32',
    ]);
    expect(sum(capped, (f) => f.count)).toBe(20);
    // analyze()'s maxOperations caps the detector too, unless slowOpsMaxOperations says otherwise.
    expect(slowOps(await analyze(file, { maxOperations: 5 }))).toHaveLength(6);
    expect(slowOps(await analyze(file, { maxOperations: 5, detectorOptions: { slowOpsMaxOperations: 100 } }))).toHaveLength(20);
  });
});

describe('operation cap: merged reports', () => {
  const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;

  it('keeps the cap: the second report’s new operations are folded, GETATTR joins its row', () => {
    const m = mergeReports([copy(a.report), copy(b.report)]);
    expect(own(m.operations)).toHaveLength(1000);
    expect(m.operations.find((o) => o.name === 'GETATTR')!.calls).toBe(30);
    expect(m.operationsCap).toEqual({ maxRows: 1000, folded: 2001 + 1500 });
    expect(own(m.errors)).toHaveLength(1000);
    expect(m.errorsCap).toEqual({ maxRows: 1000, folded: 500 + 750 });
    expect(m.timeline.operations).toHaveLength(101);
    // B's GETATTRs join their series; all 1,500 of its flood calls are folded.
    expect(m.timeline.operationsCap).toEqual({ maxRows: 100, folded: 2901 + 1500 });
    expectTotals(m, 3020 + 1510, 1500 + 750);
  });

  it('keeps the largest cap of its reports, and folds a report made without a cap down to it', async () => {
    const wide = copy((await aWide()).report);
    // A report of an nfsight without the cap: no cap fields, 3,001 rows.
    const before = copy(wide);
    delete (before as Partial<Report>).operationsCap;
    delete (before as Partial<Report>).errorsCap;
    delete (before.timeline as Partial<Report['timeline']>).operationsCap;
    const alone = mergeReports([before]);
    // 1,000 of the flood's numbered procedures, and GETATTR, named, beyond them.
    expect(own(alone.operations)).toHaveLength(1001);
    expect(alone.operations.find((o) => o.name === 'GETATTR')).toMatchObject({ calls: 20 });
    expect(alone.operationsCap).toEqual({ maxRows: 1000, folded: 2000 });
    expect(alone.timeline.operations).toHaveLength(101);
    expect(alone.timeline.operationsCap).toEqual({ maxRows: 100, folded: 2901 });
    expectTotals(alone, 3020, 1500);
    const both = mergeReports([copy(b.report), wide]);
    expect(both.operationsCap.maxRows).toBe(5000);
    // B's 1,000 rows (GETATTR among them), then A's 3,000 other operations; B's OTHER row stays one.
    expect(own(both.operations)).toHaveLength(1000 + 3000);
    expect(both.operationsCap.folded).toBe(501);
    expectTotals(both, 3020 + 1510, 1500 + 750);
  });
});

describe('operation cap: what the renderers show of the OTHER rows', () => {
  it('labels them (other procedures, other errors, other operations), never "OTHER v0"', () => {
    const text = renderReportText(a.report, { width: 140 });
    expect(text).toMatch(/│ other procedures +│ +2,001 │ +1,000 │/);
    expect(text).toMatch(/│ other errors +│ other operations +│ +500 │ -/);
    expect(text).toContain('2,001 calls of the operations after the first 1,000 are counted together in the "other" rows');
    expect(text).not.toContain('OTHER');
    const page = pageData(a.report);
    expect(page.operations[0]).toMatchObject({ name: 'other procedures', programLabel: '-', calls: 2001 });
    expect(page.errors[0]).toMatchObject({ status: 'other errors', op: 'other operations', programLabel: '-', count: 500 });
    expect(page.histograms.find((h) => h.count === 2001)!.name).toBe('other procedures');
    expect(page.timeline.operations.at(-1)).toMatchObject({ key: OTHER, name: 'other operations' });
    const timeline = renderTimelineText(a.report.timeline, { width: 200 });
    expect(timeline).toContain('2,901 calls of the operations after the first 100 are counted together as other operations.');
  });

  it('diff compares the OTHER rows under their label, last', () => {
    const d = diffReports(a.report, b.report);
    const last = d.rows.at(-1)!;
    // B's 1,501 operations are over the cap too: its OTHER row counts 501 calls, 250 errors.
    expect(last).toMatchObject({ programName: OTHER, kind: 'procedure', baseline: { calls: 2001, errors: 1000 }, candidate: { calls: 501, errors: 250 }, verdict: 'within tolerance' });
    const table = renderDiffTable(d, d.rows.slice(-3), false, 140);
    expect(table).toMatch(/│ other procedures +│ 2001 → 501 │ 1000 → 250 │ +0\.007 │ +0\.007 │ +0\.007 │ within tolerance │/);
    expect(table).not.toContain('OTHER');
  });
});
