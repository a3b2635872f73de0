/**
 * The retry detectors (grace-period, delay-backoff, rpc-errors) on
 * generated captures reproducing each incident and on real captures.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, type AnalyzeOptions } from '../src/analyze.js';
import type { DetectorContext, Finding } from '../src/detectors/finding.js';
import type { FrameRef } from '../src/capture/frame.js';
import { GracePeriodDetector, MAX_RST_SENDERS, MAX_SERVERS } from '../src/detectors/grace-period.js';
import { classifyBackoff } from '../src/detectors/retry-schedule.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { writePcap } from './gen/capture-writer.js';
import {
  NFS_PROGRAM, NFSPROC3_READ, XdrWriter, nfs3ReadArgs, nfs3ReadResultHead, recordMark, rpcAcceptedReply, rpcAuthErrorReply, rpcCall,
  rpcProgMismatchReply, rpcRpcMismatchReply,
} from './gen/rpc.js';
import { OP, compoundArgs, compoundRes, getfhArgs, openArgs, putfhArgs, statusRes } from './gen/nfs4.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const KINDS = new Set(['grace-period', 'delay-backoff', 'rpc-errors']);
const DIR_FH = Buffer.alloc(16, 0xd1);
const FILE_FH = Buffer.alloc(16, 0xf1);
const NFS4ERR_GRACE = 10013;
const NFS4ERR_DELAY = 10008;

async function findingsOf(file: string, options: AnalyzeOptions = {}): Promise<Finding[]> {
  const report = readable(await analyze(file, options));
  return report.findings.filter((f) => KINDS.has(f.kind));
}

async function run(capture: Capture, options: AnalyzeOptions = {}): Promise<Finding[]> {
  return findingsOf(writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 })), options);
}

function session(capture = new Capture()): TcpSession {
  return new TcpSession(capture, CLIENT, SERVER).handshake();
}

const cred = { machine: 'c', uid: 0, gid: 0 };
const v4call = (xid: number, ops: Buffer[], minor = 0): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers: 4, proc: 1, cred }, compoundArgs('', minor, ops));
const openCall = (xid: number, name: string): Buffer =>
  v4call(xid, [putfhArgs(DIR_FH), openArgs(1, 1, 0, 0x1234n, Buffer.from('owner'), name), getfhArgs()]);
/** PUTFH OK, OPEN failing with `status`. */
const openFailed = (xid: number, status: number): Buffer =>
  rpcAcceptedReply(xid, compoundRes(status, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, status)]));

/** PUTFH and OPEN OK. */
const openOk = (xid: number): Buffer => rpcAcceptedReply(xid, compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, 0)]));

/** A session whose server restarts: an OPEN answered, 20 s of silence, GRACE three times a second apart, then OK. */
function restartThenGrace(): TcpSession {
  const s = session();
  exchange(s, openCall(0x01, 'a'), openOk(0x01));
  s.capture.advance(20);
  for (let i = 0; i < 3; i++) {
    exchange(s, openCall(0x10 + i, 'a'), openFailed(0x10 + i, NFS4ERR_GRACE));
    s.capture.advance(1);
  }
  exchange(s, openCall(0x20, 'a'), openOk(0x20));
  return s;
}

/**
 * A call/reply exchange at the capture's current time; the reply after
 * `latency` s. Returns [call frame, reply frame].
 */
function exchange(s: TcpSession, call: Buffer, reply: Buffer, latency = 0.0002): [number, number] {
  const [c] = s.send('client', recordMark(call));
  s.capture.advance(latency);
  const [r] = s.send('server', recordMark(reply));
  return [c!, r!];
}

/** Elapsed time of one exchange besides `advance`: 4 frames of 1 µs each plus the latency. */
const exchangeTime = (latency = 0.0002): number => latency + 4e-6;

describe('retry schedules', () => {
  it('classifies doubling with a cap, fixed and irregular intervals', () => {
    expect(classifyBackoff([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 15, 15, 15])).toEqual({ backoff: 'doubling', capSeconds: 15 });
    expect(classifyBackoff([1, 2, 4, 8])).toEqual({ backoff: 'doubling', capSeconds: undefined });
    expect(classifyBackoff([2.007, 2.006, 2.007])).toEqual({ backoff: 'fixed', capSeconds: undefined });
    expect(classifyBackoff([1, 7, 0.5, 3])).toEqual({ backoff: 'irregular', capSeconds: undefined });
    expect(classifyBackoff([])).toEqual({ backoff: 'irregular', capSeconds: undefined });
  });
});

describe('grace-period', () => {
  it('generated: OPEN refused with NFS4ERR_GRACE, Linux backoff 0.1 s doubling to 15 s, then OK', async () => {
    const s = session();
    const waits = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 15, 15, 15, 15];
    const graceReplies: number[] = [];
    const calls: number[] = [];
    let xid = 0x100;
    for (const w of waits) {
      const [c, r] = exchange(s, openCall(xid, 'data.txt'), openFailed(xid, NFS4ERR_GRACE));
      xid++;
      calls.push(c);
      graceReplies.push(r);
      s.capture.advance(w - exchangeTime());
    }
    const okReply = rpcAcceptedReply(xid, compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, 0)]));
    const [okCall, okFrame] = exchange(s, openCall(xid, 'data.txt'), okReply);
    const findings = await run(s.capture);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ kind: 'grace-period', severity: 'error', client: '192.0.2.10', server: '192.0.2.20:2049', count: 13 });
    expect(f.metrics).toMatchObject({ attempts: 13, errorReplies: 12, backoff: 'doubling', capSeconds: 15, outcome: 'NFS4_OK', serverGraceReplies: 12 });
    const intervals = f.metrics.intervals as number[];
    expect(intervals).toHaveLength(12);
    intervals.forEach((x, i) => expect(x).toBeCloseTo(waits[i]!, 5));
    // First GRACE call → the OK reply: 85.5 s of waits plus the last exchange.
    expect(f.metrics.blockedSeconds).toBeCloseTo(85.5 + exchangeTime() - 2e-6, 5);
    expect(f.durationSeconds).toBe(f.metrics.blockedSeconds);
    expect(f.evidence.map((e) => e.frame)).toEqual([...graceReplies, okFrame]);
    expect(f.evidence[0]!.what).toBe('OPEN → NFS4ERR_GRACE (attempt 1, call +0.000 s)');
    expect(f.evidence[12]!.what).toMatch(/^OPEN → NFS4_OK \(retry succeeded/);
    expect(calls[0]).toBeLessThan(okCall);
    expect(f.file).toBe(`${DIR_FH.toString('hex')}/data.txt`);
  });

  it('generated: a short grace episode is a warning; two files of one client are one finding', async () => {
    const s = session();
    const replies: number[] = [];
    for (let i = 0; i < 3; i++) {
      replies.push(exchange(s, openCall(0x10 + i, 'a'), openFailed(0x10 + i, NFS4ERR_GRACE))[1]);
      replies.push(exchange(s, openCall(0x20 + i, 'b'), openFailed(0x20 + i, NFS4ERR_GRACE))[1]);
      s.capture.advance(1);
    }
    const [, ok] = exchange(s, openCall(0x30, 'a'), rpcAcceptedReply(0x30, compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, 0)])));
    const findings = await run(s.capture);
    const dir = DIR_FH.toString('hex');
    expect(findings.map((f) => [f.kind, f.severity, f.count, f.file])).toEqual([['grace-period', 'warning', 7, undefined]]);
    const f = findings[0]!;
    // Calls 0x10-0x12 on a (then 0x30 OK), 0x20-0x22 on b, one exchange each second: a blocked from its first call to the OK reply.
    expect(f.title).toMatch(/^2 calls of 192\.0\.2\.10 blocked up to 3(\.0\d)? s by the server's grace period \(6 × NFS4ERR_GRACE\)$/);
    expect(f.explanation).toMatch(/^The server answered NFS4ERR_GRACE 6 times to 2 calls \(OPEN ×2 on 2 files\): it had restarted before the capture and allowed only reclaims\. 1 of 2 succeeded in the end; the longest waited 3/);
    expect(f.metrics).toMatchObject({ calls: 2, errorReplies: 6, resolved: 1, ops: ['OPEN ×2'], files: [`${dir}/a`, `${dir}/b`], serverGraceReplies: 6 });
    expect(f.metrics.sequences).toEqual([expect.stringMatching(/^OPEN [0-9a-f]+\/a: 3 × NFS4ERR_GRACE, 3(\.0\d)? s, NFS4_OK$/), expect.stringMatching(/^OPEN [0-9a-f]+\/b: 3 × NFS4ERR_GRACE, 2(\.0\d)? s, unresolved$/)]);
    // Each call's first refusal, and how each ended: a's OK, b's last refusal.
    expect(f.evidence.map((e) => e.frame)).toEqual([replies[0], replies[1], replies[5], ok]);
  });

  it('generated: the silence before the grace period is still named after 150 more silences (those far from any episode are forgotten)', async () => {
    const s = restartThenGrace();
    // Then an idle client: one call every 6 s (a 6 s silence each time), 150 times.
    for (let i = 0; i < 150; i++) {
      s.capture.advance(6);
      exchange(s, openCall(0x100 + i, 'b'), openOk(0x100 + i));
    }
    const findings = await run(s.capture);
    expect(findings.map((f) => [f.kind, f.count])).toEqual([['grace-period', 4]]);
    // Only the last 100 silences were kept before: this one was gone.
    expect(findings[0]!.metrics.restartSigns).toEqual([expect.stringMatching(/^server silent 20(\.0\d*)? s$/)]);
    expect(findings[0]!.metrics.silenceSeconds).toBeCloseTo(20, 2);
  });

  it('generated: beyond graceMaxServers the least recently seen servers are forgotten, not one in its grace period (its signs stay)', async () => {
    const s = restartThenGrace();
    // Then twelve other servers, one call each: more than the five followed.
    for (let i = 0; i < 12; i++) {
      s.capture.advance(1);
      const other = new TcpSession(s.capture, { addr: '192.0.2.11', port: 900 + i }, { addr: `192.0.2.${101 + i}`, port: 2049 }).handshake();
      exchange(other, openCall(0x200 + i, 'c'), openOk(0x200 + i));
    }
    const findings = await run(s.capture, { detectorOptions: { graceMaxServers: 5 } });
    expect(findings.map((f) => [f.kind, f.server, f.count])).toEqual([['grace-period', '192.0.2.20:2049', 4]]);
    expect(findings[0]!.metrics.restartSigns).toEqual([expect.stringMatching(/^server silent 20(\.0\d*)? s$/)]);
    expect(findings[0]!.metrics.serverGraceReplies).toBe(3);
  });

  it('generated: the server\'s RST is a restart sign after more than MAX_RST_SENDERS other endpoints reset before it', async () => {
    const capture = new Capture();
    // 1,200 clients of other servers each close with an RST (clients commonly do).
    for (let i = 0; i < MAX_RST_SENDERS + 200; i++) {
      const c = new TcpSession(capture, { addr: `198.51.${100 + (i >> 8)}.${i & 255}`, port: 900 }, { addr: '203.0.113.9', port: 2049 }).handshake();
      c.rst('client');
    }
    const s = new TcpSession(capture, CLIENT, SERVER).handshake();
    exchange(s, openCall(0x01, 'a'), openOk(0x01));
    const rst = s.rst('server');
    capture.advance(3);
    const again = new TcpSession(capture, { addr: CLIENT.addr, port: 803 }, SERVER).handshake();
    for (let i = 0; i < 3; i++) {
      exchange(again, openCall(0x10 + i, 'a'), openFailed(0x10 + i, NFS4ERR_GRACE));
      capture.advance(1);
    }
    exchange(again, openCall(0x20, 'a'), openOk(0x20));
    const [f] = (await run(capture)).filter((x) => x.kind === 'grace-period');
    expect(f!.explanation).toContain('the server reset TCP connections once');
    expect(f!.evidence.map((e) => e.frame)).toContain(rst);
  });

  it('follows at most graceMaxServers servers without a grace episode, the least recently seen forgotten first', () => {
    const detector = new GracePeriodDetector({} as DetectorContext, { graceMaxServers: 100 });
    const frame = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 1000 + n, tsNsec: 0 });
    const answered = (n: number, server: string): Transaction =>
      ({ xid: n, connId: n, client: { addr: '10.0.0.1', port: 800 }, server: { addr: server, port: 2049 }, program: 100003, version: 3, procedure: 1, call: { frame: frame(2 * n) }, reply: { frame: frame(2 * n + 1) }, latency: 1 }) as unknown as Transaction;
    for (let n = 0; n < 5000; n++) {
      detector.onTransaction(answered(n, `10.9.${n >> 8}.${n & 255}`));
      expect(detector.followedServers).toBe(Math.min(n + 1, 100));
    }
    expect(MAX_SERVERS).toBe(10_000);
  });

  it('real: nfsv4-grace-restart.pcap, six OPENs refused every ~2 s after a ~12 s restart gap', async () => {
    const findings = await findingsOf(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({
      kind: 'grace-period', severity: 'warning', client: '127.0.0.1', server: '127.0.0.1:2049', file: '/export/hello.txt',
      clientid: '6b02598f00000001', start: '2026-11-22T02:55:22.142217Z', end: '2026-11-22T02:55:34.185153Z', count: 7,
    });
    // tshark -r nfsv4-grace-restart.pcap -T fields -e frame.number -e frame.time_epoch (OPEN calls 70 86 102 118 134 150 166):
    // 1795316122.142217 124.149181 126.156216 128.164053 130.170777 132.179005 134.185050; OK reply 167 at 134.185153.
    // GRACE replies 71 87 103 119 135 151 (frame 87: tshark misses it, see test/nfs4-state.test.ts).
    expect(f.evidence.map((e) => e.frame)).toEqual([23, 28, 71, 87, 103, 119, 135, 151, 167]);
    expect(f.metrics).toEqual({
      attempts: 7,
      errorReplies: 6,
      intervals: [2.006964, 2.007035, 2.007837, 2.006724, 2.008228, 2.006045],
      blockedSeconds: 12.042936,
      backoff: 'fixed',
      outcome: 'NFS4_OK',
      graceWindowSeconds: 10.036795,
      serverGraceReplies: 6,
      graceWindowStart: '2026-11-22T02:55:22.142285Z',
      graceWindowEnd: '2026-11-22T02:55:32.179080Z',
      reclaimOpens: 0,
      reclaimCompletes: 0,
      // Frame 23 (last reply before the kill, 1795316109.692456) → frame 28 (MOUNT NULL call, 1795316122.135295).
      restartSigns: ['server silent 12.4 s, then traffic on a new connection'],
      silenceSeconds: 12.442839,
    });
  });
});

const readCall = (xid: number, fh = FILE_FH): Buffer => rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred }, nfs3ReadArgs(fh, 0, 4096));
const readOk = (xid: number): Buffer => rpcAcceptedReply(xid, Buffer.concat([nfs3ReadResultHead(8, true, 8), Buffer.alloc(8, 0x61)]));
/** READ3resfail: status, post_op_attr absent. */
const readFailed = (xid: number, status: number): Buffer => rpcAcceptedReply(xid, new XdrWriter().u32(status).bool(false).bytes());

describe('delay-backoff', () => {
  it('generated: NFSv4 OPEN answered NFS4ERR_DELAY, retried 0.1, 0.2, 0.4, 0.8 s, then OK', async () => {
    const s = session();
    const waits = [0.1, 0.2, 0.4, 0.8];
    const frames: number[] = [];
    for (const [i, w] of waits.entries()) {
      frames.push(exchange(s, openCall(0x40 + i, 'busy'), openFailed(0x40 + i, NFS4ERR_DELAY))[1]);
      s.capture.advance(w - exchangeTime());
    }
    frames.push(exchange(s, openCall(0x50, 'busy'), rpcAcceptedReply(0x50, compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, 0)])))[1]);
    const findings = await run(s.capture);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ kind: 'delay-backoff', severity: 'warning', count: 5, file: `${DIR_FH.toString('hex')}/busy` });
    expect(f.title).toContain(` ${DIR_FH.toString('hex').slice(0, 8)}…${DIR_FH.toString('hex').slice(-4)}/busy `);
    expect(f.metrics).toMatchObject({ attempts: 5, errorReplies: 4, backoff: 'doubling', outcome: 'NFS4_OK' });
    expect(f.metrics.capSeconds).toBeUndefined();
    (f.metrics.intervals as number[]).forEach((x, i) => expect(x).toBeCloseTo(waits[i]!, 5));
    expect(f.metrics.blockedSeconds).toBeCloseTo(1.5 + exchangeTime() - 2e-6, 5);
    expect(f.evidence.map((e) => e.frame)).toEqual(frames);
  });

  it('generated: NFSv3 READ answered NFS3ERR_JUKEBOX every 5 s for 70 s, then OK (error severity)', async () => {
    const s = session();
    for (let i = 0; i < 14; i++) {
      exchange(s, readCall(0x60 + i), readFailed(0x60 + i, 10008));
      s.capture.advance(5 - exchangeTime());
    }
    exchange(s, readCall(0x80), readOk(0x80));
    const findings = await run(s.capture);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ kind: 'delay-backoff', severity: 'error', count: 15, file: FILE_FH.toString('hex'), title: expect.stringContaining('14 × NFS3ERR_JUKEBOX') });
    // The title names the handle in a short form (first 8 and last 4 hex digits), never the whole 64.
    const hex = FILE_FH.toString('hex');
    expect(f.title.startsWith('READ f1f1f1f1…f1f1 delayed ')).toBe(true);
    expect(f.title).not.toContain(hex);
    expect(f.metrics).toMatchObject({ attempts: 15, errorReplies: 14, backoff: 'fixed', outcome: 'NFS3_OK' });
    expect(f.metrics.blockedSeconds).toBeCloseTo(70, 2);
    expect(f.evidence).toHaveLength(15);
  });
});

describe('retry trackers: bounds and clients apart', () => {
  it('generated: beyond retryMaxAttemptsHeld a sequence keeps its first and last attempt times and says how many it kept', async () => {
    const s = session();
    // 12 JUKEBOX replies a second apart, then OK; the tracker may hold 5 attempt times.
    for (let i = 0; i < 12; i++) {
      exchange(s, readCall(0x100 + i), readFailed(0x100 + i, 10008));
      s.capture.advance(1 - exchangeTime());
    }
    exchange(s, readCall(0x200), readOk(0x200));
    const [bounded] = await run(s.capture, { detectorOptions: { retryMaxAttemptsHeld: 5 } });
    const [whole] = await run(s.capture);
    expect(whole!.metrics).toMatchObject({ attempts: 13, errorReplies: 12 });
    expect(whole!.metrics.errorRepliesTimed).toBeUndefined();
    expect(whole!.metrics.intervals).toHaveLength(12);
    // Still every attempt counted; 5 times kept: 4 intervals among them, the 4th to the 11th skipped, then the end.
    expect(bounded!.metrics).toMatchObject({ attempts: 13, errorReplies: 12, errorRepliesTimed: 5, outcome: 'NFS3_OK' });
    const iv = bounded!.metrics.intervals as number[];
    expect(iv).toHaveLength(5);
    [1, 1, 1, 8, 1].forEach((x, i) => expect(iv[i]).toBeCloseTo(x, 5));
    expect(bounded!.metrics.blockedSeconds).toBeCloseTo(whole!.metrics.blockedSeconds as number, 6);
  });

  it('generated: a client with a sequence open is followed while another client with none passes by', async () => {
    const capture = new Capture();
    const a = new TcpSession(capture, CLIENT, SERVER).handshake();
    const b = new TcpSession(capture, { addr: '192.0.2.11', port: 802 }, SERVER).handshake();
    for (let i = 0; i < 3; i++) {
      exchange(a, readCall(0x300 + i), readFailed(0x300 + i, 10008));
      exchange(b, readCall(0x400 + i), readOk(0x400 + i));
      capture.advance(2);
    }
    const [, endA] = exchange(a, readCall(0x310), readOk(0x310));
    // b fails once and recovers: its own sequence, while a's is closed.
    exchange(b, readCall(0x500), readFailed(0x500, 10008));
    capture.advance(1);
    const [, endB] = exchange(b, readCall(0x501), readOk(0x501));
    const findings = await run(capture);
    expect(findings.map((f) => [f.metrics.attempts, f.metrics.outcome, f.evidence.at(-1)!.frame])).toEqual([
      [4, 'NFS3_OK', endA],
      [2, 'NFS3_OK', endB],
    ]);
  });
});

describe('rpc-errors', () => {
  it('generated: each RPC-level error kind, grouped per (server, program, error)', async () => {
    const s = session();
    const call = (xid: number, prog: number, vers: number, proc: number): Buffer => rpcCall({ xid, prog, vers, proc, cred }, Buffer.alloc(0));
    const accepted = (xid: number, stat: number): Buffer => rpcAcceptedReply(xid, Buffer.alloc(0), stat);
    exchange(s, call(1, 100099, 1, 0), accepted(1, 1)); // PROG_UNAVAIL
    exchange(s, call(2, NFS_PROGRAM, 5, 0), rpcProgMismatchReply(2, 3, 4)); // PROG_MISMATCH 3-4
    exchange(s, call(3, NFS_PROGRAM, 5, 0), rpcProgMismatchReply(3, 3, 4));
    exchange(s, call(4, NFS_PROGRAM, 3, 99), accepted(4, 3)); // PROC_UNAVAIL
    exchange(s, call(5, NFS_PROGRAM, 3, 1), accepted(5, 4)); // GARBAGE_ARGS
    exchange(s, call(6, NFS_PROGRAM, 3, 1), accepted(6, 5)); // SYSTEM_ERR
    exchange(s, call(7, NFS_PROGRAM, 3, 1), rpcRpcMismatchReply(7, 2, 2));
    exchange(s, call(8, NFS_PROGRAM, 3, 1), rpcAuthErrorReply(8, 5)); // AUTH_TOOWEAK
    exchange(s, call(9, NFS_PROGRAM, 3, 1), rpcAuthErrorReply(9, 14)); // RPCSEC_GSS_CTXPROBLEM
    exchange(s, call(10, NFS_PROGRAM, 3, 1), rpcAuthErrorReply(10, 13)); // RPCSEC_GSS_CREDPROBLEM
    exchange(s, v4call(11, [putfhArgs(DIR_FH)], 9), rpcAcceptedReply(11, compoundRes(10021, '', [])));
    const findings = await run(s.capture);
    const rows = findings.map((f) => [f.severity, f.metrics.error, f.metrics.program, f.count, f.metrics.supported ?? null, f.metrics.minorVersions ?? null]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(rows).toEqual([
      ['warning', 'AUTH_ERROR RPCSEC_GSS_CREDPROBLEM', 100003, 1, null, null],
      ['warning', 'AUTH_ERROR RPCSEC_GSS_CTXPROBLEM', 100003, 1, null, null],
      ['error', 'AUTH_ERROR AUTH_TOOWEAK', 100003, 1, null, null],
      ['error', 'GARBAGE_ARGS', 100003, 1, null, null],
      ['warning', 'NFS4ERR_MINOR_VERS_MISMATCH', 100003, 1, null, [9]],
      ['warning', 'PROC_UNAVAIL', 100003, 1, null, null],
      ['warning', 'PROG_MISMATCH', 100003, 2, ['3-4'], null],
      ['warning', 'PROG_UNAVAIL', 100099, 1, null, null],
      ['warning', 'RPC_MISMATCH', 100003, 1, ['2-2'], null],
      ['error', 'SYSTEM_ERR', 100003, 1, null, null],
    ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))));
    expect(findings.every((f) => f.kind === 'rpc-errors' && f.server === '192.0.2.20:2049')).toBe(true);
  });

  it('real: nfsv41-pynfs-tail.pcap, COMPOUNDs of minor version 50 → NFS4ERR_MINOR_VERS_MISMATCH; one GARBAGE_ARGS', async () => {
    const findings = await findingsOf(join(CAPTURES, 'nfsv41-pynfs-tail.pcap'));
    // tshark -r nfsv41-pynfs-tail.pcap -Y 'frame.number in {109 113 363}' -T fields -e frame.number -e rpc.state_accept -e rpc.repframe -e nfs.status
    //   109 0 108 10021 / 113 0 112 10021 / 363 4 362 (GARBAGE_ARGS to a COMPOUND, pynfs sending bad XDR on purpose)
    expect(findings.map((f) => [f.kind, f.severity, f.metrics.error, f.count, f.metrics.minorVersions, f.evidence.map((e) => e.frame)])).toEqual([
      ['rpc-errors', 'error', 'GARBAGE_ARGS', 1, undefined, [363]],
      ['rpc-errors', 'warning', 'NFS4ERR_MINOR_VERS_MISMATCH', 2, [50], [109, 113]],
    ]);
    expect(findings[1]!.server).toBe('127.0.0.1:2049');
  });
});

describe('no finding on clean captures', () => {
  it.each(['nfsv3-errors.pcap', 'linux-v42-basic-head.pcap', 'linux-v3-basic-head.pcap', 'nfsv3-basic-head.pcap'])('%s', async (name) => {
    expect(await findingsOf(join(CAPTURES, name))).toEqual([]);
  });

  it('generated: fast, successful traffic', async () => {
    const s = session();
    for (let i = 0; i < 50; i++) exchange(s, readCall(0x3000 + i), readOk(0x3000 + i));
    exchange(s, openCall(0x4000, 'x'), rpcAcceptedReply(0x4000, compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, 0)])));
    expect(await run(s.capture)).toEqual([]);
  });
});
