/**
 * The memory budget (issue 16): one budget shared by every holder of state;
 * past its limit the oldest state goes, counted per kind in the report's
 * `memory.dropped`, with one warning naming --max-memory. The hostile
 * shapes of test/gen/hostile.ts, scaled down, with limits small enough
 * that each drops what it should; the full sizes are `npm run bench:hostile`.
 *
 * Expected values come from the generator (how many connections and calls
 * it wrote, in which order), not from the code under test.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PcapStream } from '../bench/generate.js';
import { analyze } from '../src/analyze.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { MemoryBudget, newDroppedCounts } from '../src/memory/budget.js';
import { FragmentReassembler, newIpScratch } from '../src/net/fragments.js';
import { newNetStats } from '../src/net/packet.js';
import { FileHandlePaths } from '../src/nfs/fh-paths.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { getattrCall, HOSTILE_AHEAD, writeHostileFile, type HostileShape } from './gen/hostile.js';
import { writeWideFile } from './gen/wide.js';
import { NFS_PROGRAM, nfs3Fattr, recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './gen/rpc.js';
import { bundledCaptures, CAPTURES, tempDir, writeTemp } from './helpers.js';
import { writePcap } from './gen/capture-writer.js';
import { makeFh, readdirplusOk } from './gen/nfs3.js';
import { Capture, TcpSession } from './gen/session.js';

const MiB = 1024 * 1024;

async function run(shape: HostileShape, maxMemory?: number) {
  const file = join(tempDir(), 'hostile.pcap');
  const counts = writeHostileFile(file, shape);
  const diagnostics: Diagnostic[] = [];
  const report = await analyze(file, { ...(maxMemory ? { maxMemory } : {}), onDiagnostic: (d) => diagnostics.push(d) });
  return { counts, report, diagnostics, file };
}

function memoryWarnings(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.code === 'memory-limit');
}

/** Nothing dropped, of any kind. */
const NONE = newDroppedCounts();

describe('memory budget: hostile shapes', () => {
  it('4,000 connections each with one segment far ahead: the oldest connections are evicted, their buffered bytes dropped', async () => {
    const { counts, report, diagnostics } = await run({ connections: 4000, calls: 0, hugeRecord: false }, 3 * MiB);
    const d = report.memory.dropped;
    expect(counts.tcpConnections).toBe(4000);
    expect(report.memory.limitBytes).toBe(3 * MiB);
    expect(d.connections).toBeGreaterThan(1000);
    expect(d.connections).toBeLessThan(4000);
    // Each connection evicted held its one 100-byte segment, and nothing else was dropped.
    expect(d).toEqual({ ...NONE, connections: d.connections, outOfOrderBytes: 100 * d.connections });
    // No connection is seen twice: each evicted one sent nothing after its lone segment.
    expect(report.tcp.connections).toBe(4000);
    // The survivors' segments are delivered at the end (the hole before them lost):
    // one GETATTR call each, unanswered; the evicted ones were the oldest.
    expect(report.rpc.calls).toBe(4000 - d.connections);
    expect(report.rpc.unanswered).toBe(4000 - d.connections);
    expect(report.rpc.unansweredCalls[0]!.xid).toBe(`0x${(0x10000000 + d.connections).toString(16)}`);
    expect(report.tcp.gapBytes).toBe(HOSTILE_AHEAD * (4000 - d.connections));
    // Said once, naming the option.
    const warnings = memoryWarnings(diagnostics);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.severity).toBe('warning');
    expect(warnings[0]!.message).toContain('--max-memory');
    expect(warnings[0]!.message).toContain('3 MB');
    expect(report.diagnostics.byCode['memory-limit']).toBe(1);
    expect(report.memory.peakBytes).toBeGreaterThan(3 * MiB * 0.9);
  });

  it('one connection with 20,000 GETATTR calls never answered: the oldest are dropped, fate unknown, not unanswered', async () => {
    const { counts, report, diagnostics } = await run({ connections: 0, calls: 20_000, hugeRecord: false }, 4 * MiB);
    const d = report.memory.dropped;
    expect(counts.calls).toBe(20_000);
    expect(report.rpc.calls).toBe(20_000);
    expect(d.outstandingCalls).toBeGreaterThan(10_000);
    expect(d).toEqual({ ...NONE, outstandingCalls: d.outstandingCalls });
    // Every call either dropped (its fate unknown) or reported unanswered at the end, never both.
    expect(report.rpc.unanswered + d.outstandingCalls).toBe(20_000);
    // The oldest went: the first call still outstanding is the one after the dropped ones.
    expect(report.rpc.unansweredCalls[0]!.xid).toBe(`0x${(0x20000000 + d.outstandingCalls).toString(16)}`);
    // One direction may hold an eighth of the limit.
    expect(report.memory.peakBytes).toBeLessThanOrEqual(4 * MiB);
    const getattr = report.operations.find((o) => o.kind === 'procedure' && o.program === 100003 && o.name === 'GETATTR');
    expect(getattr).toMatchObject({ calls: report.rpc.unanswered, unanswered: report.rpc.unanswered, answered: 0 });
    expect(memoryWarnings(diagnostics)).toHaveLength(1);
  });

  it('both, plus record marks claiming 2 GiB and 16 MiB: everything counted, the 2 GiB mark not believed', async () => {
    const { counts, report, diagnostics } = await run({ connections: 4000, calls: 20_000, hugeRecord: true }, 4 * MiB);
    const d = report.memory.dropped;
    expect(counts.tcpConnections).toBe(4003);
    expect(d.connections).toBeGreaterThan(1000);
    expect(d.outOfOrderBytes).toBe(100 * d.connections);
    expect(d.outstandingCalls).toBeGreaterThan(10_000);
    // The 2 GiB mark is out of sync: the layer resynchronised instead of waiting for 2 GiB.
    expect(report.rpc.resyncs).toBeGreaterThan(0);
    // Every call generated is accounted for: dropped, unanswered at the end, or never delivered (its connection evicted first).
    expect(report.rpc.calls).toBe(report.rpc.unanswered + d.outstandingCalls);
    expect(report.rpc.calls + d.connections).toBe(24_001);
    expect(memoryWarnings(diagnostics)).toHaveLength(1);
  });

  it('a record in progress too big for the budget is dropped, the call in it not analysed', async () => {
    const small = await run({ connections: 0, calls: 0, hugeRecord: true }, 1 * MiB);
    expect(small.report.memory.dropped).toEqual({ ...NONE, partialRecords: 1 });
    expect(small.report.rpc.calls).toBe(0);
    expect(memoryWarnings(small.diagnostics)).toHaveLength(1);
    // With the default limit the same capture keeps it: the call is reported unanswered (it never completed).
    const roomy = await run({ connections: 0, calls: 0, hugeRecord: true });
    expect(roomy.report.memory.dropped).toEqual(NONE);
    expect(roomy.report.rpc.calls).toBe(1);
    expect(roomy.report.rpc.unansweredCalls.map((u) => u.xid)).toEqual(['0x30000001']);
    expect(memoryWarnings(roomy.diagnostics)).toEqual([]);
  });

  it('data after an evicted connection resynchronises like a capture starting mid-stream', async () => {
    const file = join(tempDir(), 'resync.pcap');
    const fd = openSync(file, 'w');
    const out = new PcapStream(fd);
    const client = 0x0a050001;
    const server = 0x0a000001;
    let cseq = 1000;
    let sseq = 5000;
    const SYN = 0x02;
    const ACK = 0x10;
    const reply = (xid: number): Buffer => recordMark(rpcAcceptedReply(xid, new XdrWriter().u32(0).raw(nfs3Fattr(1, 7)).bytes()));
    out.tcp(client, server, 800, 2049, cseq, 0, SYN, Buffer.alloc(0));
    out.tcp(server, client, 2049, 800, sseq, cseq + 1, SYN | ACK, Buffer.alloc(0));
    cseq++;
    sseq++;
    const exchange = (xid: number): void => {
      const c = getattrCall(xid, 1);
      out.tcp(client, server, 800, 2049, cseq, sseq, ACK, c);
      cseq += c.length;
      const r = reply(xid);
      out.tcp(server, client, 2049, 800, sseq, cseq, ACK, r);
      sseq += r.length;
    };
    exchange(0x51);
    out.flush();
    closeSync(fd);
    // Then 3,000 connections with a segment far ahead push it out; then it goes on.
    const filler = join(tempDir(), 'filler.pcap');
    writeHostileFile(filler, { connections: 3000, calls: 0, hugeRecord: false });
    const tail = join(tempDir(), 'tail.pcap');
    const fd2 = openSync(tail, 'w');
    const out2 = new PcapStream(fd2);
    // The same connection, later: a call without its reply, then a call answered.
    const c2 = getattrCall(0x52, 1);
    out2.tcp(client, server, 800, 2049, cseq, sseq, ACK, c2);
    cseq += c2.length;
    const c3 = getattrCall(0x53, 1);
    out2.tcp(client, server, 800, 2049, cseq, sseq, ACK, c3);
    cseq += c3.length;
    const r3 = reply(0x53);
    out2.tcp(server, client, 2049, 800, sseq, cseq, ACK, r3);
    out2.flush();
    closeSync(fd2);
    const transactions: Transaction[] = [];
    const report = await analyze([file, filler, tail], { maxMemory: 2 * MiB, onTransaction: (t) => transactions.push(t) });
    expect(report.memory.dropped.connections).toBeGreaterThan(0);
    const answered = transactions.filter((t) => t.reply !== undefined).map((t) => [t.xid, t.connId]);
    // 0x51 on the first connection (id 0); 0x53 on the connection seen again, a new one.
    expect(answered).toEqual([
      [0x51, 0],
      [0x53, 3001],
    ]);
    expect(report.tcp.connections).toBe(3002);
  });
});

describe('memory budget: a wide capture (many clients, servers and files), scaled down', () => {
  it('at a small limit the tables, file handles and answered calls give up their oldest, counted; every call is still analysed', async () => {
    const file = join(tempDir(), 'wide.pcap');
    // 300 connections to 200 servers, 1,000 files each: about 3,100 calls.
    const counts = writeWideFile(file, { connections: 300, servers: 200, filesPerServer: 1000, targetBytes: 3e6 });
    const unanswered = Math.floor(counts.calls / 500);
    const roomy: Diagnostic[] = [];
    const full = await analyze(file, { onDiagnostic: (d) => roomy.push(d) });
    expect(full.memory.dropped).toEqual(NONE);
    expect(memoryWarnings(roomy)).toEqual([]);
    expect([full.rpc.calls, full.rpc.unanswered]).toEqual([counts.calls, unanswered]);

    const tight: Diagnostic[] = [];
    const small = await analyze(file, { maxMemory: 0.7 * MiB, onDiagnostic: (d) => tight.push(d) });
    const d = small.memory.dropped;
    expect(d.fileHandles).toBeGreaterThan(0);
    expect(d.tableRows).toBeGreaterThan(0);
    // What the calls need is kept: no connection, no outstanding call dropped.
    expect(d).toEqual({ ...NONE, fileHandles: d.fileHandles, tableRows: d.tableRows, answeredCalls: d.answeredCalls });
    expect([small.rpc.calls, small.rpc.unanswered]).toEqual([counts.calls, unanswered]);
    expect(memoryWarnings(tight)).toHaveLength(1);
    expect(small.memory.peakBytes).toBeLessThan(0.7 * MiB * 1.05);
  });
});

describe('memory budget: file handle paths at their ceiling', () => {
  it('a directory listing of 12,000 files (300 READDIRPLUS of 40) at a 4 MB limit: the oldest paths forgotten with the ceiling\'s warning, nothing else dropped', async () => {
    const s = new TcpSession(new Capture(), { addr: '192.0.2.10', port: 801 }, { addr: '192.0.2.20', port: 2049 }).handshake();
    const dir = makeFh(1);
    // 28 bytes, each file's own (makeFh repeats after 256).
    const fileFh = (n: number): Buffer => Buffer.concat([Buffer.from('01000700', 'hex'), Buffer.alloc(20), Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])]);
    for (let i = 0; i < 300; i++) {
      const args = new XdrWriter().opaque(dir).u64(i * 40).fixed(Buffer.alloc(8)).u32(65536).u32(131072).bytes();
      const entries: [string, Buffer][] = [];
      for (let k = 0; k < 40; k++) entries.push([`f${i * 40 + k}`, fileFh(i * 40 + k)]);
      s.send('client', recordMark(rpcCall({ xid: 0x100 + i, prog: NFS_PROGRAM, vers: 3, proc: 17, cred: { machine: 'c', uid: 0, gid: 0 } }, args)));
      s.capture.advance(0.001);
      s.send('server', recordMark(rpcAcceptedReply(0x100 + i, readdirplusOk(true, entries, i === 299))));
    }
    const file = writeTemp(tempDir(), 'listing.pcap', writePcap(s.capture.frames, { linkType: 1 }));
    const diagnostics: Diagnostic[] = [];
    const r = await analyze(file, { maxMemory: 4 * MiB, onDiagnostic: (d) => diagnostics.push(d) });
    expect([r.rpc.calls, r.rpc.matched]).toEqual([300, 300]);
    // About 150 bytes a handle: a quarter of 4 MB holds some 7,000 of the 12,000.
    const dropped = r.memory.dropped.fileHandles;
    expect(dropped).toBeGreaterThan(3_000);
    expect(dropped).toBeLessThan(8_000);
    expect({ ...r.memory.dropped, fileHandles: 0 }).toEqual(NONE);
    const codes = diagnostics.map((d) => d.code);
    expect(codes).toEqual(['memory-ceiling']);
    expect(diagnostics[0]!.message).toContain('1 MB (a quarter of the memory limit)');
    // The budget as a whole stayed under its limit: the ceiling, not the limit, dropped them.
    expect(r.memory.peakBytes).toBeLessThan(2 * MiB);
  });
});

describe('memory budget: ordinary captures', () => {
  it('drops nothing and warns about nothing on every bundled capture', async () => {
    for (const name of bundledCaptures()) {
      const diagnostics: Diagnostic[] = [];
      const report = await analyze(join(CAPTURES, name), { onDiagnostic: (d) => diagnostics.push(d) });
      expect({ name, dropped: report.memory.dropped }).toEqual({ name, dropped: NONE });
      expect(memoryWarnings(diagnostics)).toEqual([]);
      expect(report.memory.limitBytes).toBe(64 * MiB);
      expect(report.memory.peakBytes).toBeLessThan(64 * MiB);
    }
  });
});

describe('MemoryBudget', () => {
  it('asks the account furthest above its share first, down to 90% of the limit, and warns once', () => {
    const budget = new MemoryBudget(1000);
    const calls = budget.account('calls'); // share 25%: 250
    const conns = budget.account('connections'); // share 35%: 350
    const asked: string[] = [];
    const evictor = (a: typeof calls, name: string) => (want: number) => {
      asked.push(`${name} ${want}`);
      const n = Math.min(want, a.bytes);
      a.add(-n);
      budget.drop(name === 'calls' ? 'outstandingCalls' : 'connections', 1);
      return n;
    };
    calls.evictor = evictor(calls, 'calls');
    conns.evictor = evictor(conns, 'connections');
    const kinds: string[] = [];
    budget.onFirstDrop = (kind) => kinds.push(kind);
    calls.add(700); // 450 above its share
    conns.add(400); // 50 above
    budget.reclaim(0);
    // 1100 → 900: calls is asked for 200 (what brings the total to 900), being the furthest above.
    expect(asked).toEqual(['calls 200']);
    expect(budget.used).toBe(900);
    expect(kinds).toEqual(['outstandingCalls']);
    calls.add(300); // 1200: calls 800 (550 above), conns 400
    budget.reclaim(0);
    expect(asked).toEqual(['calls 200', 'calls 300']);
    expect(budget.report()).toEqual({ limitBytes: 1000, peakBytes: 1200, dropped: { ...NONE, outstandingCalls: 2 } });
    expect(kinds).toHaveLength(1);
  });

  it('goes on to the next account when one can free nothing', () => {
    const budget = new MemoryBudget(100);
    const stuck = budget.account('tables');
    const free = budget.account('fileHandles');
    stuck.evictor = () => 0;
    free.evictor = (want) => {
      free.add(-want);
      return want;
    };
    stuck.add(90);
    free.add(30);
    budget.reclaim(0);
    expect(budget.used).toBe(90);
    expect(free.bytes).toBe(0);
  });

  it('file handle paths: with a budget no fixed cap drops them silently; the budget drops the oldest, counted, with its warning', () => {
    const roomy = new MemoryBudget(64 * 1024 * 1024);
    const many = new FileHandlePaths(undefined, roomy);
    for (let i = 0; i < 100_500; i++) many.learnRoot(i.toString(16).padStart(8, '0'), `/e${i}`);
    roomy.reclaim(0);
    // Beyond the 100,000 a FileHandlePaths keeps without a budget: all held, none dropped.
    expect(many.size).toBe(100_500);
    expect(many.pathOf('00000000')).toBe('/e0');
    expect(roomy.dropped.fileHandles).toBe(0);

    // A budget full of other state (an account with no evictor): the file handles, above their share, give up their oldest.
    const tight = new MemoryBudget(50_000);
    const warned: string[] = [];
    tight.onFirstDrop = (kind) => warned.push(kind);
    tight.onFirstCeilingDrop = (a) => warned.push(`ceiling ${a.name}`);
    tight.account('connections').add(40_000);
    const few = new FileHandlePaths(undefined, tight);
    for (let i = 0; i < 1_000; i++) {
      few.learnRoot(i.toString(16).padStart(8, '0'), `/e${i}`);
      tight.reclaim(0);
    }
    expect(tight.used).toBeLessThanOrEqual(50_000);
    expect(tight.account('fileHandles').bytes).toBeLessThan(tight.account('fileHandles').ceiling);
    expect(few.size).toBeLessThan(1_000);
    expect(few.size + tight.dropped.fileHandles).toBe(1_000);
    expect(few.pathOf((999).toString(16).padStart(8, '0'))).toBe('/e999');
    expect(few.pathOf('00000000')).toBeUndefined();
    expect(warned).toEqual(['fileHandles']);
    // Without a budget the fixed cap still bounds it.
    expect(new FileHandlePaths().capacity).toBe(100_000);
  });

  it('file handle paths: a quarter of the limit at most, even with room in the budget; dropped with a warning of their own', () => {
    const budget = new MemoryBudget(400_000);
    const warned: string[] = [];
    budget.onFirstDrop = (kind) => warned.push(kind);
    budget.onFirstCeilingDrop = (a) => warned.push(`ceiling ${a.name}`);
    const account = budget.account('fileHandles');
    expect(account.ceiling).toBe(100_000);
    expect(budget.account('connections').ceiling).toBe(Number.POSITIVE_INFINITY);
    const paths = new FileHandlePaths(undefined, budget);
    const fh = (i: number): string => i.toString(16).padStart(8, '0');
    for (let i = 0; i < 5_000; i++) {
      paths.learnRoot(fh(i), `/e${i}`);
      // Handle 7 is looked up now and then: the least recently used go, not it.
      if (i % 100 === 50) expect(paths.pathOf(fh(7))).toBe('/e7');
      expect(account.bytes).toBeLessThanOrEqual(account.ceiling);
    }
    // 98 bytes a handle here (80 + twice 4 packed bytes and a 5-byte name): about 1,000 fit under the ceiling.
    expect(paths.size).toBeGreaterThan(800);
    expect(paths.size).toBeLessThan(1_100);
    expect(paths.size + budget.dropped.fileHandles).toBe(5_000);
    expect(paths.pathOf(fh(4_999))).toBe('/e4999');
    expect(paths.pathOf(fh(8))).toBeUndefined();
    expect(paths.pathOf(fh(7))).toBe('/e7');
    // Once per account, and not the limit's warning: nothing else was dropped.
    expect(warned).toEqual(['ceiling fileHandles']);
    expect({ ...budget.dropped, fileHandles: 0 }).toEqual(newDroppedCounts());
  });

  it('fragments in progress are accounted and evicted oldest first, their fragments counted', () => {
    const budget = new MemoryBudget(2000);
    const stats = newNetStats();
    const r = new FragmentReassembler(stats, {}, budget);
    const frag = newIpScratch();
    frag.fragMore = true;
    frag.fragOffset = 0;
    for (let id = 0; id < 4; id++) expect(r.add(`d${id}`, frag, Buffer.alloc(400), 400, 0)).toBeNull();
    // Four datagrams of one 400-byte piece each, over 2000 bytes with their bookkeeping.
    expect(budget.used).toBeGreaterThan(2000);
    budget.reclaim(0);
    expect(budget.used).toBeLessThanOrEqual(1800);
    expect(r.pending).toBeLessThan(4);
    expect(budget.dropped.fragments).toBe(4 - r.pending);
    expect(stats.fragmentsDropped).toBe(4 - r.pending);
  });
});

describe('--max-memory', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const nfsight = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1', COLUMNS: '80' } });

  it('raises or lowers the limit; one warning line on stderr when state is dropped; exit 0', () => {
    const file = join(tempDir(), 'calls.pcap');
    writeHostileFile(file, { connections: 0, calls: 5000, hugeRecord: false });
    const low = nfsight(['report', '--format', 'json', '--max-memory', '2M', file]);
    expect(low.status).toBe(0);
    const lines = low.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nfsight: warning: .*calls\.pcap: frame \d+: memory limit of 2 MB reached: .*--max-memory/);
    const report = JSON.parse(low.stdout) as { memory: { limitBytes: number; dropped: { outstandingCalls: number } }; rpc: { unanswered: number } };
    expect(report.memory.limitBytes).toBe(2 * MiB);
    expect(report.memory.dropped.outstandingCalls + report.rpc.unanswered).toBe(5000);
    expect(report.memory.dropped.outstandingCalls).toBeGreaterThan(0);
    const high = nfsight(['report', '--format', 'json', '--max-memory', '1G', file]);
    expect(high.status).toBe(0);
    expect(high.stderr).toBe('');
    expect((JSON.parse(high.stdout) as typeof report).memory).toMatchObject({ limitBytes: 1024 * MiB, dropped: { outstandingCalls: 0 } });
  });

  it('refuses a size it cannot read, or below 1M', () => {
    for (const bad of ['lots', '512K', '-1G']) {
      const r = nfsight(['report', '--max-memory', bad, 'captures/nfsv3-errors.pcap']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('--max-memory');
      expect(r.stdout).toBe('');
    }
  });
});
