/**
 * `nfsight calls` on the real captures: every row against tshark (frames,
 * xid, procedure, rpc.time, statuses), the jsonl contract, CSV equal to
 * jsonl, every filter against the rows it selects from, and the command
 * run in-process (main.ts registers it; here a program is built with
 * addCallsCommand and its output captured).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addCallsCommand, runCalls, type CallsOptions } from '../src/cli/calls-command.js';
import type { CliIo } from '../src/cli/common.js';
import { analyze } from '../src/analyze.js';
import { CALL_COLUMNS, callFilter, callRow, callsRenderer, csvField, msLabel, parseEndpointFilter, parseFrameRange, parseSeconds, parseXid, type CallRow } from '../src/report/calls.js';
import { writePcap } from './gen/capture-writer.js';
import { Capture, TcpSession } from './gen/session.js';
import { getattrCall, okReply } from './gen/workload.js';
import { MAX_HELD_ROWS } from '../src/report/call-order.js';
import { CAPTURES, bundledCaptures, expectedOf, tempDir, writeTemp } from './helpers.js';

type TsharkRow = [number, string, number, number, number, number, number | null, string | null];
interface NfsFields {
  msgtype?: number;
  nfsStatus?: number | number[];
  mountstat?: number | number[];
  nfsstat4?: number[];
}
type Exp = ReturnType<typeof expectedOf> & {
  rpc: { messages: TsharkRow[]; messagesWithoutOutOfOrderReassembly?: TsharkRow[] };
  nfs?: Record<string, NfsFields>;
};

interface Run {
  out: string;
  err: string;
  code: number;
}

function captureIo(): CliIo & { run: Run } {
  const run: Run = { out: '', err: '', code: 0 };
  return {
    run,
    out: (s) => {
      run.out += s;
    },
    err: (s) => {
      run.err += s;
    },
    color: false,
    setExitCode: (c) => {
      run.code = c;
    },
  };
}

/** Runs `nfsight calls ...args` in-process, at `width` columns. */
async function cli(args: string[], width = 100): Promise<Run> {
  const io = { ...captureIo(), width };
  const program = new Command().exitOverride();
  program.configureOutput({ writeOut: io.out, writeErr: io.err });
  addCallsCommand(program, io);
  try {
    await program.parseAsync(['node', 'nfsight', 'calls', ...args]);
  } catch (e) {
    const c = e as { code?: string; exitCode?: number };
    if (typeof c.code !== 'string' || !c.code.startsWith('commander.')) throw e;
    io.run.code = c.exitCode === 0 ? 0 : 2;
  }
  return io.run;
}

const cache = new Map<string, Promise<CallRow[]>>();
/** Every row of a bundled capture, as jsonl, in the order written. */
function rowsOf(name: string): Promise<CallRow[]> {
  let p = cache.get(name);
  if (p === undefined) {
    p = (async () => {
      const io = captureIo();
      const opts: CallsOptions = { format: 'jsonl' };
      expect(await runCalls([join(CAPTURES, name)], opts, io)).toBe(0);
      return io.run.out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as CallRow);
    })();
    cache.set(name, p);
  }
  return p;
}

const single = (v: number | number[] | undefined): number | undefined => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);

/** RFC 4180: fields separated by commas, records by CRLF, quoted fields with "" for a quote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

describe('calls: replies decoded for their summary', () => {
  it('every row of every bundled capture is the row of the fully decoded transaction (the command asks only for the summary)', async () => {
    let rows = 0;
    for (const name of bundledCaptures()) {
      const file = join(CAPTURES, name);
      const full: CallRow[] = [];
      await analyze(file, { onTransaction: (t, ctx) => full.push(callRow(t, (i) => ctx.fileName?.(i) ?? file, ctx)) });
      expect(await rowsOf(name), name).toEqual(full);
      rows += full.length;
    }
    expect(rows).toBeGreaterThan(1000);
  });
});

describe('calls rows equal tshark’s', () => {
  let statusesCompared = 0;
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const exp = expectedOf(name) as Exp;
      const msgs = [...exp.rpc.messages, ...(exp.rpc.messagesWithoutOutOfOrderReassembly ?? [])];
      const calls = new Set<string>();
      const replies = new Map<string, string | null>();
      for (const [frame, xid, type, prog, vers, proc, callFrame, time] of msgs) {
        if (type === 0) calls.add(`${frame} ${xid} ${prog}/${vers}/${proc}`);
        else if (callFrame !== null) replies.set(`${frame} ${xid} -> ${callFrame}`, time);
      }
      const rows = await rowsOf(name);
      expect(rows.length).toBeGreaterThan(0);
      const mismatches: string[] = [];
      const answeredCallFrames = new Set<number>();
      for (const r of rows) {
        if (!calls.has(`${r.frame} ${r.xid} ${r.program}/${r.version}/${r.procedure}`)) mismatches.push(`call ${r.frame} ${r.xid}`);
        if (r.replyFrame === null) {
          expect(r.latency).toBeNull();
          expect(r.rpcStatus).toBeNull();
          continue;
        }
        answeredCallFrames.add(r.frame);
        const key = `${r.replyFrame} ${r.xid} -> ${r.frame}`;
        if (!replies.has(key)) mismatches.push(`reply ${key}`);
        const time = replies.get(key);
        if (time !== null && time !== undefined && r.latency!.toFixed(9) !== time) mismatches.push(`rpc.time ${r.replyFrame}: ${r.latency} vs ${time}`);
        // Statuses where tshark shows the reply frame alone.
        const f = exp.nfs?.[String(r.replyFrame)];
        if (f === undefined || r.procName === 'NULL' || r.rpcStatus !== 'SUCCESS') continue;
        const want =
          r.program === 100003 && r.version === 4 ? f.nfsstat4?.[0] : r.program === 100005 ? single(f.mountstat) : r.program === 100003 ? single(f.nfsStatus) : undefined;
        if (want === undefined) continue;
        statusesCompared++;
        if (r.statusCode !== want) mismatches.push(`status ${r.replyFrame}: ${r.status} (${r.statusCode}) vs ${want}`);
      }
      expect(mismatches).toEqual([]);
      // Every call tshark matched a reply to is an answered row; every tshark call is a row or a retransmission of one.
      for (const k of replies.keys()) expect(answeredCallFrames.has(Number(k.split(' -> ')[1])), k).toBe(true);
      const rowFrames = new Set(rows.map((r) => r.frame));
      const notRows = [...calls].filter((k) => !rowFrames.has(Number(k.split(' ')[0]))).length;
      expect(notRows).toBe(rows.reduce((n, r) => n + r.retransmits, 0));
      // Rows come in completion order: answered ones first, unanswered at the end.
      const firstUnanswered = rows.findIndex((r) => r.replyFrame === null);
      if (firstUnanswered >= 0) expect(rows.slice(firstUnanswered).every((r) => r.replyFrame === null)).toBe(true);
    });
  }
  it('compared statuses', () => {
    expect(statusesCompared).toBeGreaterThan(1000);
  });
});

const CONTRACT_TYPES: Record<string, string[]> = {
  file: ['string'], frame: ['number'], replyFrame: ['number', 'null'], firstFrame: ['number'], time: ['string'], xid: ['string'],
  client: ['string'], server: ['string'], transport: ['string'], program: ['number'], version: ['number'], minorVersion: ['number', 'null'],
  procedure: ['number'], procName: ['string'], ops: ['array'], rpcStatus: ['string', 'null'], status: ['string', 'null'],
  opStatus: ['array', 'null'], latency: ['number', 'null'], retransmits: ['number'], callBytes: ['number'], replyBytes: ['number', 'null'],
  fh: ['string', 'null'], path: ['string', 'null'],
};
const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function checkContract(r: CallRow): void {
  const o = r as unknown as Record<string, unknown>;
  for (const [k, types] of Object.entries(CONTRACT_TYPES)) expect(types, `${k} of frame ${r.frame}`).toContain(typeOf(o[k]));
  expect(r.xid).toMatch(/^0x[0-9a-f]{8}$/);
  expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{6}|\d{9})Z$/);
  if (r.fh !== null) {
    expect(r.fh).toMatch(/^0x[0-9a-f]{8}$/);
    expect(r.fhHex).toMatch(/^[0-9a-f]+$/);
  }
  expect(r.firstFrame).toBeLessThanOrEqual(r.frame);
}

describe('the jsonl contract', () => {
  it('nfsv41-pynfs-head: NFSv4.1 COMPOUNDs with ops, op statuses, minor version and paths', async () => {
    const rows = await rowsOf('nfsv41-pynfs-head.pcap');
    rows.forEach(checkContract);
    const compounds = rows.filter((r) => r.procName === 'COMPOUND');
    expect(compounds.length).toBeGreaterThan(100);
    for (const r of compounds) {
      expect(r.minorVersion).toBe(1);
      expect(r.program).toBe(100003);
      expect(r.version).toBe(4);
      expect(r.transport).toBe('tcp');
      if (r.replyFrame !== null && r.rpcStatus === 'SUCCESS') {
        expect(r.status).toMatch(/^NFS4(_OK|ERR_)/);
        expect(r.opStatus!.length).toBeGreaterThan(0);
        expect(r.opStatus!.length).toBeLessThanOrEqual(r.ops.length);
        // The COMPOUND status is its last op's.
        expect(r.opStatus![r.opStatus!.length - 1]).toBe(r.status);
      }
    }
    const first = rows.find((r) => r.frame === 12)!;
    expect(first).toMatchObject({
      replyFrame: 13, firstFrame: 12, xid: '0x71aa170e', client: '127.0.0.1:58980', server: '127.0.0.1:2049',
      ops: ['SEQUENCE', 'PUTROOTFH', 'LOOKUP'], rpcStatus: 'SUCCESS', status: 'NFS4_OK', opStatus: ['NFS4_OK', 'NFS4_OK', 'NFS4_OK'],
      latency: 0.000113, path: '/export',
    });
    expect(rows.filter((r) => r.path !== null).length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.fh !== null).length).toBeGreaterThan(0);
  });

  it('nfsv3-errors: MOUNT refused (MNT3ERR_ACCES), NFSv3 errors, NULL without a status', async () => {
    const rows = await rowsOf('nfsv3-errors.pcap');
    rows.forEach(checkContract);
    const acces = rows.filter((r) => r.status === 'MNT3ERR_ACCES');
    expect(acces.length).toBeGreaterThan(0);
    for (const r of acces) expect(r).toMatchObject({ program: 100005, version: 3, procName: 'MNT', ops: ['MNT'], rpcStatus: 'SUCCESS', minorVersion: null, opStatus: null });
    expect(rows.find((r) => r.frame === 34)).toMatchObject({ xid: '0x2144743e', replyFrame: 35, status: 'MNT3ERR_ACCES', statusCode: 13 });
    expect(rows.find((r) => r.frame === 24)).toMatchObject({ procName: 'LOOKUP', status: 'NFS3ERR_NOENT', statusCode: 2, time: '2026-11-22T02:53:21.848763Z' });
    for (const r of rows.filter((x) => x.procName === 'NULL')) expect(r.status).toBeNull();
    expect(rows.filter((r) => r.status?.startsWith('NFS3ERR_')).length).toBeGreaterThan(0);
  });

  it('unanswered-read-tail: the READ whose reply never completed', async () => {
    const rows = await rowsOf('unanswered-read-tail.pcap');
    rows.forEach(checkContract);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      frame: 66, xid: '0x351ccd70', procName: 'READ', replyFrame: null, latency: null, rpcStatus: null, status: null,
      replyBytes: null, unfinishedReplyFrame: 67,
    });
    expect(rows[0]!.fh).toMatch(/^0x[0-9a-f]{8}$/);
  });
});

describe('formats', () => {
  for (const name of ['nfsv3-errors.pcap', 'nfsv41-pynfs-head.pcap', 'linux-v3-nfsacl-cut.pcap']) {
    it(`csv has the rows of jsonl, in the same order: ${name}`, async () => {
      const rows = await rowsOf(name);
      const r = await cli(['--format', 'csv', join(CAPTURES, name)]);
      expect(r.code).toBe(0);
      const records = parseCsv(r.out);
      expect(records[0]).toEqual([...CALL_COLUMNS]);
      expect(records.length - 1).toBe(rows.length);
      rows.forEach((row, i) => {
        const want = CALL_COLUMNS.map((k) => {
          const v = row[k];
          return v === null ? '' : Array.isArray(v) ? v.join(';') : String(v);
        });
        expect(records[i + 1]).toEqual(want);
      });
    });
  }

  it('csv quoting (RFC 4180)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('x\ny')).toBe('"x\ny"');
    expect(csvField(['A', 'B'])).toBe('A;B');
    expect(csvField(null)).toBe('');
    expect(parseCsv('a,"b,""c"""\r\n,x\r\n')).toEqual([['a', 'b,"c"'], ['', 'x']]);
  });

  it('json: the jsonl rows in call-frame order', async () => {
    const name = 'nfsv41-pynfs-head.pcap';
    const rows = await rowsOf(name);
    const r = await cli(['--format', 'json', join(CAPTURES, name)]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as CallRow[];
    expect(json).toEqual([...rows].sort((a, b) => a.frame - b.frame));
    // Written row by row, the text is JSON.stringify(rows, null, 2)'s, byte for byte.
    expect(r.out).toBe(JSON.stringify(json, null, 2) + '\n');
  });

  it('table: a heading, one line per call in call-frame order with fixed columns, no colour', async () => {
    const r = await cli(['captures/nfsv3-errors.pcap', '--frames', '1-40']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('  frame time (UTC)      op                   status                 ms path / arguments');
    expect(lines[1]).toBe('── nfsv3-errors.pcap, 2026-11-22 ──');
    const rows = lines.slice(2).filter((l) => l !== '');
    expect(rows.map((l) => Number(l.slice(0, 7)))).toEqual([4, 8, 10, 16, 20, 22, 24, 30, 34, 40]);
    // Fixed columns: every field starts where its heading does.
    expect(rows.find((l) => l.startsWith('     34'))).toBe('     34 02:53:21.854300 MOUNT3 MNT           MNT3ERR_ACCES       0.077 /export/no-such-dir');
    // A LOOKUP that failed names what was looked up in the directory.
    expect(rows.find((l) => l.startsWith('     24'))).toBe('     24 02:53:21.848763 v3 LOOKUP            NFS3ERR_NOENT       0.055 /export "does-not-exist.txt"');
    expect(r.out).not.toContain('\u001b[');
  });

  it('table and json: calls in call-frame order where replies came in another order; jsonl in completion order', async () => {
    // Generated: the client sends three GETATTRs on one connection; the server answers the third, the first, then the second.
    const c = new Capture();
    const s = new TcpSession(c, { addr: '10.0.0.2', port: 900 }, { addr: '10.0.0.1', port: 2049 }).handshake();
    const calls = [0x10, 0x11, 0x12].map((xid) => s.send('client', getattrCall(xid))[0]!);
    c.advance(0.001);
    const replies = [0x12, 0x10, 0x11].map((xid) => s.send('server', okReply(xid))[0]!);
    const file = writeTemp(tempDir(), 'pipelined.pcap', writePcap(c.frames, { linkType: 1 }));
    const jsonl = (await cli(['--format', 'jsonl', file])).out.trim().split('\n').map((l) => JSON.parse(l) as CallRow);
    expect(jsonl.map((x) => [x.frame, x.replyFrame])).toEqual([[calls[2], replies[0]], [calls[0], replies[1]], [calls[1], replies[2]]]);
    const json = JSON.parse((await cli(['--format', 'json', file])).out) as CallRow[];
    expect(json.map((x) => x.frame)).toEqual(calls);
    const table = (await cli([file])).out.split('\n').filter((l) => /^ +\d+ /.test(l));
    expect(table.map((l) => Number(l.slice(0, 7)))).toEqual(calls);
  });

  it('table: READ offset and count, the reply frame from 110 columns, the client from 130', async () => {
    const r = await cli(['captures/linux-v3-basic-head.pcap', '--op', 'READ'], 130);
    expect(r.out.split('\n')[0]).toMatch(/^ +frame time \(UTC\) +op +status +ms +reply client +path \/ arguments$/);
    expect(r.out).toMatch(/^ +78 03:39:05\.667088 v3 READ +NFS3_OK +0\.408 +101 10\.98\.0\.2:941 +…xport\/big3\.bin @16384 \+32768$/m);
    // Wider, the whole path.
    expect((await cli(['captures/linux-v3-basic-head.pcap', '--op', 'READ'], 140)).out).toMatch(/ 10\.98\.0\.2:941 +\/export\/big3\.bin @16384 \+32768$/m);
    // The reply that began (frame 154) and never completed, in parentheses.
    expect(r.out).toMatch(/^ +153 .* no reply +- +\(154\) /m);
  });

  it('two files: a line names each file, rows sorted by file then frame; the reply file when it differs', async () => {
    const a = join(CAPTURES, 'unanswered-read-tail.pcap');
    const b = join(CAPTURES, 'nfsv3-errors.pcap');
    const r = await cli([b, a, '--frames', '60-70', '--format', 'json']);
    const rows = JSON.parse(r.out) as CallRow[];
    expect(rows.map((x) => [x.file, x.frame])).toEqual([[b, 62], [b, 66], [b, 68], [b, 70], [a, 66]]);
    expect(rows.every((x) => x.replyFile === null)).toBe(true);
    const t = await cli([b, a, '--frames', '60-70']);
    const lines = t.out.split('\n');
    expect(lines.indexOf('── nfsv3-errors.pcap, 2026-11-22 ──')).toBe(1);
    expect(lines.indexOf('── unanswered-read-tail.pcap ──')).toBeGreaterThan(4);
  });

  it('names, offsets and counts agree with tshark on every bundled capture', async () => {
    const expected = JSON.parse(readFileSync(join(CAPTURES, 'calls-args.expected.json'), 'utf8')) as Record<string, [number, string[], number | null, number | null, number[]][]>;
    let compared = 0;
    for (const name of bundledCaptures()) {
      const rows = new Map((await rowsOf(name)).map((x) => [x.frame, x]));
      for (const [frame, names, offset, count, ops] of expected[name] ?? []) {
        const row = rows.get(frame);
        expect(row, `${name} #${frame}`).toBeDefined();
        // NFSv4: nfsight leaves out SECINFO's and the xattr ops' names (not directory entries).
        const skipNames = ops.some((o) => o === 33 || o === 52 || (o >= 72 && o <= 75));
        if (!skipNames) expect([name, frame, row!.names ?? []]).toEqual([name, frame, names]);
        if (['READ', 'WRITE', 'COMMIT', 'READ_PLUS'].includes(row!.mainOp)) expect([name, frame, row!.offset, row!.count]).toEqual([name, frame, offset, count]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('MNT rows carry the export path; a READ that is not the main op of a COMPOUND gives no range', async () => {
    const v3 = await rowsOf('nfsv3-errors.pcap');
    expect(v3.filter((x) => x.procName === 'MNT').map((x) => [x.frame, x.path, x.names])).toContainEqual([34, '/export/no-such-dir', ['/export/no-such-dir']]);
    const v4 = await rowsOf('nfsv41-pynfs-mid.pcap');
    const lookupWithWrite = v4.find((x) => x.mainOp === 'LOOKUP' && x.ops.includes('WRITE'));
    expect(lookupWithWrite).toBeDefined();
    expect([lookupWithWrite!.offset, lookupWithWrite!.count]).toEqual([null, null]);
  });
});

describe('filters', () => {
  const count = async (name: string, args: string[]): Promise<number> => {
    const r = await cli(['--format', 'jsonl', join(CAPTURES, name), ...args]);
    expect(r.code).toBe(0);
    return r.out.split('\n').filter((l) => l !== '').length;
  };

  it('--op: procedure or any op of a COMPOUND, case-insensitive', async () => {
    const v3 = await rowsOf('nfsv3-errors.pcap');
    const lookups = v3.filter((r) => r.procName === 'LOOKUP').length;
    expect(lookups).toBeGreaterThan(0);
    expect(await count('nfsv3-errors.pcap', ['--op', 'lookup'])).toBe(lookups);
    const v4 = await rowsOf('nfsv41-pynfs-head.pcap');
    const seq = v4.filter((r) => r.ops.includes('PUTROOTFH')).length;
    expect(seq).toBeGreaterThan(0);
    expect(seq).toBeLessThan(v4.length);
    expect(await count('nfsv41-pynfs-head.pcap', ['--op', 'PUTROOTFH'])).toBe(seq);
    expect(await count('nfsv41-pynfs-head.pcap', ['--op', 'compound'])).toBe(v4.filter((r) => r.procName === 'COMPOUND').length);
  });

  it('--status: status, op status or RPC status', async () => {
    const v3 = await rowsOf('nfsv3-errors.pcap');
    const noent = v3.filter((r) => r.status === 'NFS3ERR_NOENT').length;
    expect(noent).toBeGreaterThan(0);
    expect(await count('nfsv3-errors.pcap', ['--status', 'nfs3err_noent'])).toBe(noent);
    expect(await count('nfsv3-errors.pcap', ['--status', 'MNT3ERR_ACCES'])).toBe(v3.filter((r) => r.status === 'MNT3ERR_ACCES').length);
    expect(await count('nfsv3-errors.pcap', ['--status', 'SUCCESS'])).toBe(v3.filter((r) => r.rpcStatus === 'SUCCESS').length);
    const v4 = await rowsOf('nfsv41-pynfs-errors.pcap');
    const byOp = v4.filter((r) => (r.opStatus ?? []).some((s) => s !== 'NFS4_OK')).length;
    expect(byOp).toBeGreaterThan(0);
    const errs = new Set(v4.flatMap((r) => (r.opStatus ?? []).filter((s) => s !== 'NFS4_OK')));
    const one = [...errs].sort()[0]!;
    expect(await count('nfsv41-pynfs-errors.pcap', ['--status', one])).toBe(
      v4.filter((r) => r.status === one || (r.opStatus ?? []).includes(one)).length,
    );
  });

  it('--client / --server with and without port', async () => {
    const rows = await rowsOf('linux-v3-basic-head.pcap');
    const c = rows[0]!.client;
    const [addr] = c.split(':');
    expect(await count('linux-v3-basic-head.pcap', ['--client', c])).toBe(rows.filter((r) => r.client === c).length);
    expect(await count('linux-v3-basic-head.pcap', ['--client', addr!])).toBe(rows.filter((r) => r.client.startsWith(`${addr}:`)).length);
    expect(await count('linux-v3-basic-head.pcap', ['--server', '10.98.0.1:2049'])).toBe(rows.filter((r) => r.server === '10.98.0.1:2049').length);
    expect(await count('linux-v3-basic-head.pcap', ['--server', '10.98.0.1:111'])).toBeGreaterThan(0);
    expect(await count('linux-v3-basic-head.pcap', ['--server', '10.98.0.9'])).toBe(0);
  });

  it('--min-latency in seconds, ms or us; unanswered calls never pass', async () => {
    const rows = await rowsOf('nfsv41-pynfs-mid.pcap');
    const slow = rows.filter((r) => r.latency !== null && r.latency >= 0.0005).length;
    expect(slow).toBeGreaterThan(0);
    expect(slow).toBeLessThan(rows.length);
    expect(await count('nfsv41-pynfs-mid.pcap', ['--min-latency', '0.5ms'])).toBe(slow);
    expect(await count('nfsv41-pynfs-mid.pcap', ['--min-latency', '500us'])).toBe(slow);
    expect(await count('nfsv41-pynfs-mid.pcap', ['--min-latency', '0.0005'])).toBe(slow);
    expect(await count('unanswered-read-tail.pcap', ['--min-latency', '0'])).toBe(0);
  });

  it('--xid, --frames, --unanswered', async () => {
    const rows = await rowsOf('nfsv3-errors.pcap');
    expect(await count('nfsv3-errors.pcap', ['--xid', '0x213f7437'])).toBe(1);
    expect(await count('nfsv3-errors.pcap', ['--xid', '213F7437'])).toBe(1);
    expect(await count('nfsv3-errors.pcap', ['--frames', '100-200'])).toBe(rows.filter((r) => r.frame >= 100 && r.frame <= 200).length);
    expect(await count('nfsv3-errors.pcap', ['--frames', '250-'])).toBe(rows.filter((r) => r.frame >= 250).length);
    expect(await count('nfsv3-errors.pcap', ['--unanswered'])).toBe(rows.filter((r) => r.replyFrame === null).length);
    expect(await count('unanswered-read-tail.pcap', ['--unanswered'])).toBe(1);
    // Filters combine (all must hold).
    expect(await count('nfsv3-errors.pcap', ['--op', 'LOOKUP', '--status', 'NFS3ERR_NOENT', '--frames', '1-30'])).toBe(1);
  });

  it('parsers', () => {
    expect(parseEndpointFilter('127.0.0.1:854')).toEqual({ addr: '127.0.0.1', port: 854 });
    expect(parseEndpointFilter('[FE80::1]:2049')).toEqual({ addr: 'fe80::1', port: 2049 });
    expect(parseEndpointFilter('fe80::1')).toEqual({ addr: 'fe80::1' });
    expect(parseSeconds('5ms')).toBeCloseTo(0.005, 12);
    expect(parseSeconds('2s')).toBe(2);
    expect(parseSeconds('100us')).toBeCloseTo(0.0001, 12);
    expect(() => parseSeconds('fast')).toThrow(/not a duration/);
    expect(parseXid('0x213f7437')).toBe(0x213f7437);
    expect(() => parseXid('0xzz')).toThrow(/not an xid/);
    expect(parseFrameRange('10-20')).toEqual({ from: 10, to: 20 });
    expect(parseFrameRange('7')).toEqual({ from: 7, to: 7 });
    expect(parseFrameRange('-9')).toEqual({ from: 1, to: 9 });
    expect(() => parseFrameRange('20-10')).toThrow(/empty/);
    const row = { client: '[fe80::1]:900', server: '[fe80::2]:2049' } as CallRow;
    expect(callFilter({ client: parseEndpointFilter('[fe80::1]:900') })(row)).toBe(true);
    expect(callFilter({ server: parseEndpointFilter('fe80::2') })(row)).toBe(true);
    expect(callFilter({ server: parseEndpointFilter('[fe80::2]:111') })(row)).toBe(false);
  });
});

describe('the command', () => {
  it('bad usage: exit 2 with a message', async () => {
    const r = await cli(['--min-latency', 'fast', 'captures/nfsv3-errors.pcap']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a duration: fast/);
    expect((await cli(['--format', 'xml', 'captures/nfsv3-errors.pcap'])).code).toBe(2);
    expect((await cli(['--xid', 'nope', 'captures/nfsv3-errors.pcap'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
  });

  it('unreadable input: the error on stderr, nothing on stdout, exit 2', async () => {
    const r = await cli(['--format', 'csv', 'no/such/file.pcap']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe('nfsight: error: no/such/file.pcap: cannot read: no such file\n');
  });

  it('help names the formats and the order', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--format <format>/);
    expect(r.out).toMatch(/table and json list calls by input file and call frame/);
    expect(r.out).toMatch(/jsonl and csv are written as calls complete/);
  });
});

describe('the ms column of the calls listing', () => {
  it('fits 8 characters from a microsecond to days, a reply stamped before its call included', () => {
    const cases: [number | null, string][] = [
      [null, '-'],
      [0.000_031, '0.031'],
      [0.999_999_4, '999.999'],
      [1.5, '1500.0'],
      [99.999_94, '99999.9'],
      [100, '100000'],
      [9_999.999, '9999999'],
      [10_000, '10000s'],
      [259_200.000_03, '259200s'],
      // The capture clock stepped back 10 s between call and reply.
      [-9.999_97, '-10000.0'],
      [-0.000_5, '-0.500'],
      [-259_200, '-259200s'],
    ];
    for (const [latency, label] of cases) {
      expect(msLabel(latency)).toBe(label);
      expect(msLabel(latency).length).toBeLessThanOrEqual(8);
    }
  });
});

describe('rows held as their text', () => {
  it('a row held (hold, then held) is written as row() writes it in its place: table, coloured or not, and json', async () => {
    // Two inputs: the table's separator lines come from the rows written before.
    const files = ['nfsv3-errors.pcap', 'nfsv41-pynfs-mid.pcap'].map((f) => join(CAPTURES, f));
    const rows: CallRow[] = [];
    await analyze(files, { onTransaction: (t, ctx) => rows.push(callRow(t, (i) => ctx.fileName?.(i) ?? files[i]!, ctx)) });
    expect(rows.length).toBeGreaterThan(100);
    for (const [format, color] of [['table', false], ['table', true], ['json', false]] as const) {
      let direct = '';
      let viaHeld = '';
      const a = callsRenderer(format, (s) => (direct += s), { color, width: 140 });
      const b = callsRenderer(format, (s) => (viaHeld += s), { color, width: 140 });
      for (const [i, r] of rows.entries()) {
        a.row(r);
        // Two rows of three through hold/held (the first too), the third straight: the heading, separators and commas still come once, in place.
        if (i % 3 !== 2) b.held!(b.hold!(r));
        else b.row(r);
      }
      a.end();
      b.end();
      expect(viaHeld, `${format} color ${color}`).toBe(direct);
      expect(direct.split('\n').length).toBeGreaterThan(rows.length);
    }
  });
});

describe('rows held before the first is written', () => {
  it('wait whole: the table columns are those of the first row written, as if none had waited', async () => {
    const file = join(CAPTURES, 'nfsv3-errors.pcap');
    const rows: CallRow[] = [];
    await analyze(file, { onTransaction: (t, ctx) => rows.push(callRow(t, () => file, ctx)) });
    // The first row written has nanoseconds, the one made to wait before it microseconds (inputs of two precisions).
    const first = { ...rows[0]!, time: rows[0]!.time.replace('Z', '000Z') };
    const waited = rows[1]!;
    let direct = '';
    let viaHeld = '';
    const a = callsRenderer('table', (t) => (direct += t), { width: 140 });
    a.row(first);
    a.row(waited);
    a.end();
    const b = callsRenderer('table', (t) => (viaHeld += t), { width: 140 });
    const h = b.hold!(waited);
    b.row(first);
    b.held!(h);
    b.end();
    expect(viaHeld).toBe(direct);
    expect(direct).toContain(first.time.slice(11, 29));
  });
});

describe('a listing with a call given up on', () => {
  it('a slow call waited for by more than MAX_HELD_ROWS rows is listed late, from its row; every other row in frame order, once', async () => {
    const capture = new Capture();
    const s = new TcpSession(capture, { addr: '192.0.2.10', port: 800 }, { addr: '192.0.2.20', port: 2049 }).handshake();
    const n = MAX_HELD_ROWS + 2;
    s.send('client', getattrCall(1));
    for (let xid = 2; xid <= n + 1; xid++) {
      s.send('client', getattrCall(xid));
      s.send('server', okReply(xid));
    }
    s.send('server', okReply(1));
    const file = writeTemp(tempDir(), 'late.pcap', writePcap(capture.frames, { linkType: 1 }));
    for (const format of ['table', 'json'] as const) {
      const r = await cli(['--format', format, file], 140);
      expect(r.code).toBe(0);
      if (format === 'table') {
        const lines = r.out.trimEnd().split('\n');
        const rows = lines.slice(0, -1).filter((l) => /^\s*\d+ /.test(l));
        expect(rows).toHaveLength(n + 1);
        // The slow call (frame 4, after the handshake) comes last, marked; the others by frame.
        expect(rows.at(-1)).toMatch(/^\s*4 .*\(late\)/);
        const frames = rows.slice(0, -1).map((l) => Number(l.trim().split(' ')[0]));
        expect(frames).toEqual([...frames].sort((a, b) => a - b));
        expect(new Set(frames).size).toBe(n);
        expect(lines.at(-1)).toBe('1 call(s) marked (late) are listed after later calls: they waited for a reply while more calls than nfsight holds in order completed.');
      } else {
        const rows = JSON.parse(r.out) as CallRow[];
        expect(rows.map((x) => x.xid).at(-1)).toBe('0x00000001');
        expect(rows.slice(0, -1).map((x) => x.frame)).toEqual(rows.slice(0, -1).map((x) => x.frame).sort((a, b) => a - b));
        expect(rows).toHaveLength(n + 1);
      }
    }
  });
});
