/**
 * The per-operation report on the real captures, against tshark's fields
 * (captures/*.expected.json): calls per procedure and per NFSv4 op, errors
 * per status and op; percentiles within the histogram's 1% of the exact
 * ones; deterministic JSON; merging the reports of two halves of a capture
 * gives the whole capture's counts (and, the cut chosen where no
 * transaction straddles it, the same histograms and percentiles).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Report } from '../src/report/model.js';
import { mergeReports } from '../src/report/merge.js';
import { renderOperationsCsv, csvField } from '../src/report/render-csv.js';
import { renderReportText } from '../src/report/render-text.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { CAPTURES, bundledCaptures, tempDir, writeTemp } from './helpers.js';
import { rfc } from './reference/rfc-names.js';

type Message = [number, string, number, number, number, number, number | null, string | null];
interface NfsRow {
  msgtype: number;
  ops?: number[];
  nfsStatus?: number | number[];
  mountstat?: number;
  mainOpcode?: number | number[];
}
interface Tshark {
  rpc: { messages: Message[] };
  nfs?: Record<string, NfsRow>;
}

const tsharkOf = (name: string): Tshark => JSON.parse(readFileSync(join(CAPTURES, `${name}.expected.json`), 'utf8')) as Tshark;

/**
 * Counts from tshark: calls per program/version/procedure and per NFSv4 op,
 * errors per "status op". tshark's numbers are named from the RFC tables
 * (test/reference/rfc-names.ts), never from nfsight's.
 */
function tsharkCounts(x: Tshark): { calls: Map<string, number>; ops: Map<string, number>; errors: Map<string, number> } {
  const calls = new Map<string, number>();
  const ops = new Map<string, number>();
  const errors = new Map<string, number>();
  const add = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const seen = new Set<string>();
  const callOf = new Map<number, Message>();
  const answered = new Set<string>();
  for (const m of x.rpc.messages) {
    const [frame, xid, type, program, version, procedure, callFrame] = m;
    if (type === 0) {
      callOf.set(frame, m);
      const key = `${xid}/${program}/${version}/${procedure}`;
      if (seen.has(key)) continue; // a retransmission: one transaction
      seen.add(key);
      add(calls, `${program}/${version}/${procedure}`);
      const row = x.nfs?.[String(frame)];
      if (program === 100003 && version === 4 && procedure === 1 && row?.ops) for (const op of row.ops) add(ops, rfc.nfs4Op(op));
      continue;
    }
    const call = callFrame === null ? undefined : callOf.get(callFrame);
    if (call === undefined) continue;
    const key = `${call[1]}/${call[3]}/${call[4]}/${call[5]}`;
    if (answered.has(key)) continue; // a duplicate reply
    answered.add(key);
    const row = x.nfs?.[String(frame)];
    if (row === undefined) continue;
    const [, , , cProgram, cVersion, cProcedure] = call;
    const proc = rfc.procedure(cProgram, cVersion, cProcedure);
    if (cProgram === 100003 && cVersion === 3 && typeof row.nfsStatus === 'number' && row.nfsStatus !== 0) add(errors, `${rfc.nfsstat3(row.nfsStatus)} ${proc}`);
    if (cProgram === 100005 && row.mountstat !== undefined && row.mountstat !== 0) add(errors, `${rfc.mountstat3(row.mountstat)} ${proc}`);
    const main = x.nfs?.[String(call[0])]?.mainOpcode;
    const mainName = main === undefined ? undefined : rfc.nfs4Op(Array.isArray(main) ? main[0]! : main);
    // A reply without ops: the COMPOUND's status only, under its main op.
    if (cProgram === 100003 && cVersion === 4 && cProcedure === 1 && typeof row.nfsStatus === 'number' && row.nfsStatus !== 0 && mainName) {
      add(errors, `${rfc.nfsstat4(row.nfsStatus)} ${mainName}`);
    }
    if (cProgram === 100003 && cVersion === 4 && cProcedure === 1 && Array.isArray(row.nfsStatus) && row.ops) {
      const st = row.nfsStatus;
      let opFailed = false;
      row.ops.forEach((op, i) => {
        const s = st[i + 1];
        if (s !== undefined && s !== 0) {
          add(errors, `${rfc.nfsstat4(s)} ${rfc.nfs4Op(op)}`);
          opFailed = true;
        }
      });
      // A COMPOUND that failed without a failing op (e.g. no op executed): its status under its main op.
      if (st[0] !== 0 && !opFailed && mainName) add(errors, `${rfc.nfsstat4(st[0]!)} ${mainName}`);
    }
  }
  return { calls, ops, errors };
}

async function run(path: string | string[]): Promise<{ report: Report; latencies: Map<string, number[]> }> {
  const latencies = new Map<string, number[]>();
  const onTransaction = (t: Transaction): void => {
    if (t.reply === undefined) return;
    const k = `${t.program}/${t.version}/${t.procedure}`;
    latencies.set(k, [...(latencies.get(k) ?? []), t.latency]);
  };
  return { report: await analyze(path, { onTransaction }), latencies };
}

const sortedEntries = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));

/** Captures whose RPC tshark sees whole (cut captures: tshark misses calls nfsight resynchronises to). */
const captures = bundledCaptures();

describe('operations against tshark', () => {
  it.each(captures)('%s: calls, NFSv4 ops and errors per status', async (name) => {
    const x = tsharkOf(name);
    const want = tsharkCounts(x);
    const { report } = await run(join(CAPTURES, name));
    const procs = new Map<string, number>();
    const ops = new Map<string, number>();
    for (const r of report.operations) {
      if (r.kind === 'procedure') procs.set(`${r.program}/${r.version}/${r.procedure}`, r.calls);
      if (r.kind === 'op' && r.program === 100003) ops.set(r.op!, r.calls);
    }
    const errors = new Map<string, number>();
    for (const e of report.errors) {
      if ((e.program === 100003 || e.program === 100005) && /^(NFS|MNT)/.test(e.status)) errors.set(`${e.status} ${e.op}`, (errors.get(`${e.status} ${e.op}`) ?? 0) + e.count);
    }
    // Procedures tshark saw: same count (nfsight may see more in cut captures, resynchronising mid-stream).
    for (const [k, n] of want.calls) expect({ k, n: procs.get(k) }).toEqual({ k, n });
    expect(sortedEntries(ops)).toEqual(sortedEntries(want.ops));
    expect(sortedEntries(errors)).toEqual(sortedEntries(want.errors));
    // Every row adds up.
    for (const r of report.operations) {
      expect(r.answered + r.unanswered).toBe(r.calls);
      expect(r.latency.histogram.count).toBe(r.answered);
      expect(r.errors).toBeLessThanOrEqual(r.answered);
    }
  });
});

/** Nearest-rank quantile, as LatencyHistogram defines its rank. */
function exactQuantile(sorted: number[], q: number): number {
  const rank = Math.max(0, Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

describe('latency percentiles', () => {
  it.each(captures)('%s: within 1 percent of the exact ones', async (name) => {
    const { report, latencies } = await run(join(CAPTURES, name));
    let checked = 0;
    for (const r of report.operations) {
      if (r.kind !== 'procedure') continue;
      const all = (latencies.get(`${r.program}/${r.version}/${r.procedure}`) ?? []).map((s) => Math.max(0, s)).sort((a, b) => a - b);
      expect(all.length).toBe(r.answered);
      if (all.length === 0) {
        expect(r.latency.p50).toBeNull();
        continue;
      }
      const near = (ours: number | null, exactSeconds: number): void => {
        const exact = exactSeconds * 1000;
        expect(ours).not.toBeNull();
        expect(Math.abs(ours! - exact)).toBeLessThanOrEqual(exact * 0.01 + 1e-6);
      };
      near(r.latency.p50, exactQuantile(all, 0.5));
      near(r.latency.p90, exactQuantile(all, 0.9));
      near(r.latency.p99, exactQuantile(all, 0.99));
      near(r.latency.min, all[0]!);
      near(r.latency.max, all[all.length - 1]!);
      near(r.latency.mean, all.reduce((a, b) => a + b, 0) / all.length);
      checked++;
    }
    if (report.rpc.matched > 0) expect(checked).toBeGreaterThan(0);
  });
});

describe('the files table', () => {
  it('counts a failed NFSv4 op against the file its path names (OPEN refused with NFS4ERR_GRACE)', async () => {
    // tshark: 6 replies with status 10013 (NFS4ERR_GRACE), each an OPEN of /export/hello.txt.
    const expected = JSON.parse(readFileSync(join(CAPTURES, 'nfsv4-grace-restart.pcap.expected.json'), 'utf8')) as { calls: { status: number | null }[] };
    const grace = expected.calls.filter((c) => c.status === 10013).length;
    expect(grace).toBe(6);
    const r = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    const hello = r.files.rows.find((f) => f.path === '/export/hello.txt')!;
    expect(hello.errors).toBe(grace);
    expect(r.files.rows.reduce((n, f) => n + f.errors, 0)).toBe(grace);
    expect(r.errors.filter((e) => e.status === 'NFS4ERR_GRACE').reduce((n, e) => n + e.count, 0)).toBe(grace);
  });
});

describe('determinism', () => {
  it.each(['nfsv4-errors.pcap', 'nfsv3-errors.pcap', 'nfsv41-pynfs-mid.pcap'])('%s: two runs give the same JSON', async (name) => {
    const a = await analyze(join(CAPTURES, name));
    const b = await analyze(join(CAPTURES, name));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.schemaVersion).toBe(3);
  });
});

/** Classic pcap records: [offset, length] of each, after the 24-byte header. */
function pcapRecords(buf: Buffer): { le: boolean; records: [number, number][] } {
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const records: [number, number][] = [];
  let o = 24;
  while (o + 16 <= buf.length) {
    const incl = le ? buf.readUInt32LE(o + 8) : buf.readUInt32BE(o + 8);
    records.push([o, 16 + incl]);
    o += 16 + incl;
  }
  return { le, records };
}

/** Ethernet / IPv4 / TCP: whether the record is a SYN without ACK. */
function isSyn(buf: Buffer, offset: number): boolean {
  const p = offset + 16;
  if (buf.readUInt16BE(p + 12) !== 0x0800) return false;
  const ihl = (buf[p + 14]! & 0x0f) * 4;
  if (buf[p + 14 + 9] !== 6) return false;
  const flags = buf[p + 14 + ihl + 13]!;
  return (flags & 0x12) === 0x02;
}

const stripSum = (r: Report): unknown =>
  JSON.parse(JSON.stringify({ operations: r.operations, errors: r.errors, clients: r.clients, servers: r.servers, files: r.files }), (k, v: unknown) =>
    k === 'sum' || k === 'mean' || k === 'file' || k === 'frame' || k === 'throughput' ? undefined : v,
  );

describe('merge', () => {
  it('two halves of a capture, cut between TCP connections, merge into the whole', async () => {
    const name = 'nfsv4-errors.pcap';
    const whole = await run(join(CAPTURES, name));
    const spans: [number, number][] = [];
    await analyze(join(CAPTURES, name), { onTransaction: (t) => spans.push([t.call.firstFrame.number, (t.reply ?? t.call).lastFrame.number]) });
    const buf = readFileSync(join(CAPTURES, name));
    const { records } = pcapRecords(buf);
    // The SYN nearest the middle: a new connection starts, and no transaction straddles the cut.
    let cut = -1;
    for (let i = 1; i < records.length; i++) {
      if (!isSyn(buf, records[i]![0])) continue;
      if (cut < 0 || Math.abs(i - records.length / 2) < Math.abs(cut - records.length / 2)) cut = i;
    }
    expect(cut).toBeGreaterThan(0);
    const cutFrame = cut + 1; // frames are 1-based
    expect(spans.filter(([a, b]) => a < cutFrame && b >= cutFrame)).toEqual([]);
    const dir = tempDir();
    const head = buf.subarray(0, 24);
    const split = records[cut]![0];
    const p1 = writeTemp(dir, 'a.pcap', buf.subarray(0, split));
    const p2 = writeTemp(dir, 'b.pcap', Buffer.concat([head, buf.subarray(split)]));
    const a = await analyze(p1);
    const b = await analyze(p2);
    expect(a.rpc.calls).toBeGreaterThan(0);
    expect(b.rpc.calls).toBeGreaterThan(0);
    const m = mergeReports(JSON.parse(JSON.stringify([a, b])) as unknown[]);
    const w = whole.report;
    expect(m.capture.frames).toBe(w.capture.frames);
    expect(m.capture.files.map((f) => f.name)).toEqual([p1, p2]);
    expect(m.capture.first?.time).toBe(w.capture.first?.time);
    expect(m.capture.last?.time).toBe(w.capture.last?.time);
    expect(m.capture.durationSeconds).toBeCloseTo(w.capture.durationSeconds, 9);
    expect(m.rpc.calls).toBe(w.rpc.calls);
    expect(m.rpc.matched).toBe(w.rpc.matched);
    expect(m.errors.map((e) => [e.status, e.op, e.count])).toEqual(w.errors.map((e) => [e.status, e.op, e.count]));
    // Same counts, histograms, percentiles (the sums differ only by float rounding order).
    expect(stripSum(m)).toEqual(stripSum(w));
    m.operations.forEach((r, i) => {
      expect(r.latency.histogram.sum).toBeCloseTo(w.operations[i]!.latency.histogram.sum, 12);
      expect(r.latency.mean ?? 0).toBeCloseTo(w.operations[i]!.latency.mean ?? 0, 5);
    });
    // Merging is deterministic and order-independent in counts.
    expect(JSON.stringify(mergeReports([a, b]))).toBe(JSON.stringify(m));
    expect(mergeReports([b, a]).operations.map((r) => r.calls)).toEqual(m.operations.map((r) => r.calls));
    // A merged report merges again.
    expect(mergeReports([m]).operations.map((r) => r.calls)).toEqual(m.operations.map((r) => r.calls));
  });

  it('rejects what is not a report of this schema', async () => {
    const r = JSON.parse(JSON.stringify(await analyze(join(CAPTURES, 'nfsv3-errors.pcap')))) as Report;
    expect(() => mergeReports([])).toThrow(/no reports/);
    expect(() => mergeReports([r, 42])).toThrow(/report 2: not a JSON object/);
    expect(() => mergeReports([{ ...r, schemaVersion: 2 }])).toThrow(/^report 1: a report of schemaVersion 2, made by nfsight [0-9.]+ \(older\); this nfsight reads schemaVersion 3/);
    expect(() => mergeReports([r, { ...r, tool: { name: 'other' } }], ['a.json', 'b.json'])).toThrow(/b\.json: not an nfsight report/);
    const noOps = { ...r } as Partial<Report>;
    delete noOps.operations;
    expect(() => mergeReports([noOps])).toThrow(/section "operations" missing/);
    const badHist = JSON.parse(JSON.stringify(r)) as Report;
    badHist.operations[0]!.latency.histogram.count += 1;
    expect(() => mergeReports([r, badHist])).toThrow(/report 2: operations\[0\].*histogram counts do not add up/);
    const badErr = JSON.parse(JSON.stringify(r)) as Report;
    badErr.operations[0]!.latency.histogram.relativeError = 0.02;
    expect(() => mergeReports([badErr])).toThrow(/relative error of 0.02/);
    const badCount = JSON.parse(JSON.stringify(r)) as Report;
    (badCount.clients.rows[0] as unknown as Record<string, unknown>)['calls'] = 'x';
    expect(() => mergeReports([badCount])).toThrow(/clients\.rows\[0\].*calls is not a count/);
  });
});

describe('rendering', () => {
  it('text: operations, errors, clients, servers, files; --by and --top', async () => {
    const r = await analyze(join(CAPTURES, 'nfsv4-errors.pcap'));
    const text = renderReportText(r);
    for (const h of ['Timing by operation', 'Errors by status and operation', 'Clients (by address)', 'Servers (by address:port)', 'Files by operations']) expect(text).toContain(h);
    const byClient = renderReportText(r, { by: 'client', top: 2 });
    expect(byClient.indexOf('Clients (by address)')).toBeLessThan(byClient.indexOf('Timing by operation'));
    expect(byClient).toMatch(/Timing by operation \(top 2 of \d+\)/);
    const byFile = renderReportText(r, { by: 'file' });
    expect(byFile.indexOf('Files by operations')).toBeLessThan(byFile.indexOf('Timing by operation'));
  });

  it('csv: RFC 4180, one row per operation', async () => {
    const r = await analyze(join(CAPTURES, 'nfsv3-errors.pcap'));
    const csv = renderOperationsCsv(r);
    const lines = csv.split('\r\n');
    expect(lines[0]).toMatch(/^kind,program,program_name,version,procedure,op,name,calls,/);
    expect(lines.length).toBe(r.operations.length + 2);
    expect(lines.at(-1)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('x\ny')).toBe('"x\ny"');
    expect(csvField(null)).toBe('');
    expect(csvField(1.5)).toBe('1.5');
  });

  it('files are named by path where known, and the keyed tables stay bounded', async () => {
    const r = await analyze(join(CAPTURES, 'linux-v42-basic-head.pcap'));
    expect(r.files.rows.length).toBeGreaterThan(0);
    expect(r.files.rows.some((f) => f.path !== null)).toBe(true);
    expect(r.files.rows.length).toBeLessThanOrEqual(r.files.maxTracked);
  });
});
