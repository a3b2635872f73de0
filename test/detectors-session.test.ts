/**
 * The session detectors (session-recovery-loop, session-slots, state-errors)
 * on generated NFSv4.1 / NFSv3 conversations and on the bundled captures.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { MAX_BURSTS_DETAILED, StateErrorsDetector } from '../src/detectors/state-errors.js';
import type { Transaction } from '../src/rpc/transaction.js';
import type { DetectorOptions, Finding } from '../src/detectors/finding.js';
import { writePcap } from './gen/capture-writer.js';
import {
  OP,
  compoundArgs,
  compoundRes,
  createSessionArgs,
  createSessionRes,
  exchangeIdArgs,
  exchangeIdRes,
  lookupArgs,
  putfhArgs,
  putrootfhArgs,
  rawOp,
  readArgs,
  readRes,
  sequenceArgs,
  sequenceRes,
  stateid4,
  statusRes,
} from './gen/nfs4.js';
import { NFSPROC3_READ, NFS_PROGRAM, XdrWriter, nfs3ReadArgs, recordMark, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const KINDS = ['session-recovery-loop', 'session-slots', 'state-errors'];
const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const FH = Buffer.alloc(28, 0xab);
const CHANNEL = { maxRequestSize: 1_048_576, maxResponseSize: 1_048_576, maxRequests: 4 };

const NFS4_OK = 0;
const NFS4ERR_STALE_CLIENTID = 10022;
const NFS4ERR_BAD_STATEID = 10025;
const NFS4ERR_BADSESSION = 10052;
const NFS4ERR_BADSLOT = 10053;
const NFS4ERR_SEQ_MISORDERED = 10063;
const OP_DESTROY_SESSION = 44;

const sessionId = (n: number): Buffer => Buffer.alloc(16, n);
const sidHex = (n: number): string => sessionId(n).toString('hex');

/** An NFSv4.1 client talking to a server over one TCP connection. */
class V41 {
  private xid = 0x100;
  readonly s: TcpSession;
  /** Per slot, the next sequence id. */
  private seq = new Map<number, number>();

  constructor(
    readonly capture = new Capture(),
    client: Host = CLIENT,
  ) {
    this.s = new TcpSession(capture, client, SERVER).handshake();
  }

  /** A COMPOUND and its reply 1 ms later; returns the call and reply frames. */
  compound(tag: string, ops: Buffer[], status: number, results: Buffer[]): { call: number; reply: number } {
    const xid = this.xid++;
    const [call] = this.s.send('client', recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 4, proc: 1, cred: { machine: 'c' } }, compoundArgs(tag, 1, ops))));
    this.capture.advance(0.001);
    const [reply] = this.s.send('server', recordMark(rpcAcceptedReply(xid, compoundRes(status, tag, results))));
    return { call: call!, reply: reply! };
  }

  exchangeId(clientid: bigint): { call: number; reply: number } {
    return this.compound('exchange_id', [exchangeIdArgs(Buffer.alloc(8, 1), 'linux-client', 0)], NFS4_OK, [exchangeIdRes(clientid, 1, 0, 'server', 'scope')]);
  }

  createSession(clientid: bigint, sess: Buffer, status = NFS4_OK, slots = CHANNEL.maxRequests): { call: number; reply: number } {
    const fore = { ...CHANNEL, maxRequests: slots };
    const args = createSessionArgs(clientid, 1, 0, fore, CHANNEL, 0x40000000);
    this.seq.clear();
    return this.compound('create_session', [args], status, [status === NFS4_OK ? createSessionRes(sess, 1, 0, fore, CHANNEL) : statusRes(OP.CREATE_SESSION, status)]);
  }

  destroySession(sess: Buffer, status = NFS4_OK): { call: number; reply: number } {
    return this.compound('destroy_session', [rawOp(OP_DESTROY_SESSION, sess)], status, [statusRes(OP_DESTROY_SESSION, status)]);
  }

  /** SEQUENCE + PUTFH + READ on a slot; `seqStatus` refuses the SEQUENCE, `readStatus` the READ. */
  read(sess: Buffer, opts: { slot?: number; seqid?: number; seqStatus?: number; readStatus?: number; lookup?: string[] } = {}): { call: number; reply: number } {
    const slot = opts.slot ?? 0;
    const seqid = opts.seqid ?? this.seq.get(slot) ?? 1;
    const seqStatus = opts.seqStatus ?? NFS4_OK;
    const readStatus = opts.readStatus ?? NFS4_OK;
    const fhOps = opts.lookup !== undefined ? [putrootfhArgs(), ...opts.lookup.map((n) => lookupArgs(n))] : [putfhArgs(FH)];
    const fhRes = opts.lookup !== undefined ? [statusRes(OP.PUTROOTFH, 0), ...opts.lookup.map(() => statusRes(OP.LOOKUP, 0))] : [statusRes(OP.PUTFH, 0)];
    const ops = [sequenceArgs(sess, seqid, slot, CHANNEL.maxRequests - 1, false), ...fhOps, readArgs(stateid4(1, 5), 0, 4096)];
    let results: Buffer[];
    let status: number;
    if (seqStatus !== NFS4_OK) {
      results = [statusRes(OP.SEQUENCE, seqStatus)];
      status = seqStatus;
    } else {
      this.seq.set(slot, seqid + 1);
      results = [sequenceRes(sess, seqid, slot, CHANNEL.maxRequests - 1, CHANNEL.maxRequests - 1, 0), ...fhRes, readStatus === NFS4_OK ? readRes(false, Buffer.alloc(64, 7)) : statusRes(OP.READ, readStatus)];
      status = readStatus;
    }
    return this.compound('read', ops, status, results);
  }
}

async function findings(capture: Capture, detectorOptions: DetectorOptions = {}): Promise<Finding[]> {
  const file = writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 }));
  const report = readable(await analyze(file, { detectorOptions }));
  return report.findings.filter((f) => KINDS.includes(f.kind));
}

async function realFindings(name: string): Promise<Finding[]> {
  const report = readable(await analyze(join(CAPTURES, name)));
  return report.findings.filter((f) => KINDS.includes(f.kind));
}

/** One recovery episode: READ → BADSESSION, DESTROY_SESSION, CREATE_SESSION → STALE_CLIENTID, READ → BADSESSION, EXCHANGE_ID, CREATE_SESSION OK. */
function episode(c: V41, old: Buffer, next: Buffer, clientid: bigint, stale = true): number[] {
  const frames: number[] = [];
  frames.push(c.read(old, { seqStatus: NFS4ERR_BADSESSION }).reply);
  frames.push(c.destroySession(old, NFS4ERR_BADSESSION).reply);
  if (stale) {
    frames.push(c.createSession(clientid - 1n, next, NFS4ERR_STALE_CLIENTID).reply);
    frames.push(c.read(old, { slot: 1, seqStatus: NFS4ERR_BADSESSION }).reply);
    frames.push(c.exchangeId(clientid).reply);
  }
  frames.push(c.createSession(clientid, next).reply);
  return frames;
}

describe('session-recovery-loop', () => {
  it('finds five recovery episodes about every 30 s as one loop, with steps, period and the failed READs', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    c.read(sessionId(1));
    c.read(sessionId(1));
    const episodes: number[][] = [];
    for (let i = 0; i < 5; i++) {
      c.capture.advance(30);
      episodes.push(episode(c, sessionId(1 + i), sessionId(2 + i), BigInt(2 + i)));
      c.read(sessionId(2 + i));
      c.read(sessionId(2 + i));
    }
    const all = await findings(c.capture);
    expect(all.map((f) => f.kind)).toEqual(['session-recovery-loop']);
    const f = all[0]!;
    expect(f).toMatchObject({ severity: 'error', count: 5, client: CLIENT.addr, server: SERVER.addr });
    expect(f.metrics.episodes).toBe(5);
    expect(f.metrics.staleClientidEpisodes).toBe(5);
    expect(f.metrics.periodSeconds as number).toBeCloseTo(30, 1);
    expect(f.metrics.intervalsSeconds as number[]).toHaveLength(4);
    expect(f.metrics.failedCalls).toBe(10);
    expect(f.metrics.failedOps).toEqual(['READ ×10']);
    expect((f.metrics.episodeSteps as string[])[0]).toBe(
      `#1 ${f.start}: SEQUENCE → BADSESSION (frame ${episodes[0]![0]}), DESTROY_SESSION → BADSESSION (frame ${episodes[0]![1]}), ` +
        `CREATE_SESSION → STALE_CLIENTID (frame ${episodes[0]![2]}), EXCHANGE_ID → NFS4_OK (frame ${episodes[0]![4]}), CREATE_SESSION → NFS4_OK (frame ${episodes[0]![5]})`,
    );
    // Evidence: every step of the first and last episodes, the start and the end of the others, one failure meanwhile (episode 1's second READ).
    const steps = (ep: number[]): number[] => ep.filter((_, i) => i !== 3);
    expect(f.evidence.map((e) => e.frame)).toEqual([...episodes[0]!, ...episodes.slice(1, 4).flatMap((ep) => [ep[0], ep[5]]), ...steps(episodes[4]!)]);
    expect(f.evidence[3]!.what).toBe('episode 1: READ SEQUENCE → NFS4ERR_BADSESSION');
    expect(f.evidence[0]).toMatchObject({ file: expect.stringMatching(/gen\.pcap$/), frame: episodes[0]![0], what: 'episode 1: READ SEQUENCE → NFS4ERR_BADSESSION' });
    expect(f.title).toBe(`Session recovery loop: client ${CLIENT.addr} lost its session 5 times about every 30 s`);
    expect(f.explanation).toMatch(/5 times/);
    expect(f.explanation).toMatch(/restart/);
    expect(f.durationSeconds).toBeGreaterThan(120);
  });

  it('five episodes in two bursts 110 s apart: the cadence says bursts, not a period', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    for (let i = 0; i < 5; i++) {
      // Episodes at 0, 2, 4 s, then 110 s later at 114, 116 s (each episode itself takes a few µs).
      c.capture.advance(i === 3 ? 110 : 2);
      episode(c, sessionId(1 + i), sessionId(2 + i), BigInt(2 + i));
    }
    const all = await findings(c.capture);
    const f = all[0]!;
    expect(f.title).toBe(`Session recovery loop: client ${CLIENT.addr} lost its session 5 times in 2 bursts, 110 s apart`);
    expect(f.metrics.bursts).toBe(2);
    expect(f.metrics.periodSeconds).toBeUndefined();
    expect((f.metrics.intervalsSeconds as number[]).map(Math.round)).toEqual([2, 2, 110, 2]);
  });

  it('reports a single episode as a warning', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    c.read(sessionId(1));
    c.capture.advance(5);
    const frames = episode(c, sessionId(1), sessionId(2), 2n, false);
    c.read(sessionId(2));
    const all = await findings(c.capture);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'session-recovery-loop', severity: 'warning', count: 1 });
    expect(all[0]!.metrics).toMatchObject({ episodes: 1, staleClientidEpisodes: 0, failedCalls: 1, failedOps: ['READ ×1'] });
    expect(all[0]!.evidence.map((e) => e.frame)).toEqual(frames);
    expect(all[0]!.metrics.periodSeconds).toBeUndefined();
    expect(all[0]!.metrics.clientsNotReported).toBeUndefined();
    expect(all[0]!.metrics.episodesNotReported).toBeUndefined();
  });

  it('beyond sessionRecovery.maxClients the least recently seen client is forgotten, episode open or not, never the one being added; counted', async () => {
    const capture = new Capture();
    const [a, b, c] = ['192.0.2.11', '192.0.2.12', '192.0.2.13'].map((addr) => new V41(capture, { addr, port: 801 }));
    a!.read(sessionId(1), { seqStatus: NFS4ERR_BADSESSION });
    b!.read(sessionId(2), { seqStatus: NFS4ERR_BADSESSION });
    a!.read(sessionId(1), { slot: 1, seqStatus: NFS4ERR_BADSESSION }); // a seen again: b is the least recently seen
    c!.read(sessionId(3), { seqStatus: NFS4ERR_BADSESSION }); // every client followed in an episode: b goes
    for (const [i, x] of [a!, b!, c!].entries()) x.createSession(1n, sessionId(10 + i));
    const all = await findings(capture, { 'sessionRecovery.maxClients': 2 });
    expect(all.map((f) => [f.kind, f.client, f.metrics.episodes, f.metrics.failedCalls, f.metrics.clientsNotReported])).toEqual([
      ['session-recovery-loop', '192.0.2.11', 1, 2, undefined],
      ['session-recovery-loop', '192.0.2.13', 1, 1, 1],
    ]);
  });

  it('at the detectors\' shared bound, beyond its floor, the least recently seen client makes room the same way; the refusal counted', async () => {
    const capture = new Capture();
    const [a, b, c] = ['192.0.2.11', '192.0.2.12', '192.0.2.13'].map((addr) => new V41(capture, { addr, port: 801 }));
    a!.read(sessionId(1), { seqStatus: NFS4ERR_BADSESSION });
    b!.read(sessionId(2), { seqStatus: NFS4ERR_BADSESSION });
    a!.read(sessionId(1), { slot: 1, seqStatus: NFS4ERR_BADSESSION });
    c!.read(sessionId(3), { seqStatus: NFS4ERR_BADSESSION }); // two groups held, the floor one: b goes
    for (const [i, x] of [a!, b!, c!].entries()) x.createSession(1n, sessionId(10 + i));
    const file = writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 }));
    const report = readable(await analyze(file, { detectorOptions: { detectorsMaxGroups: 2, detectorsGroupFloor: 1 } }));
    expect(report.findings.filter((f) => f.kind === 'session-recovery-loop').map((f) => [f.client, f.metrics.episodes, f.metrics.clientsNotReported])).toEqual([
      ['192.0.2.11', 1, undefined],
      ['192.0.2.13', 1, 1],
    ]);
    expect(report.notReported?.['session-recovery-loop']).toEqual({ clientsNotReported: 1, bySharedBound: 1 });
  });

  it('state-errors follows as many recovering clients (sessionRecovery.maxClients): a STALE_CLIENTID of a client forgotten is a state error', async () => {
    const capture = new Capture();
    const [a, b] = ['192.0.2.11', '192.0.2.12'].map((addr) => new V41(capture, { addr, port: 801 }));
    a!.read(sessionId(1), { seqStatus: NFS4ERR_BADSESSION });
    b!.read(sessionId(2), { seqStatus: NFS4ERR_BADSESSION });
    a!.createSession(1n, sessionId(3), NFS4ERR_STALE_CLIENTID);
    a!.exchangeId(2n);
    a!.createSession(2n, sessionId(3));
    b!.createSession(1n, sessionId(4));
    const kinds = (all: Finding[]): string[] => all.map((f) => `${f.kind} ${f.client}`);
    expect(kinds(await findings(capture))).toEqual(['session-recovery-loop 192.0.2.11', 'session-recovery-loop 192.0.2.12']);
    const one = await findings(capture, { 'sessionRecovery.maxClients': 1 });
    expect(kinds(one)).toEqual(['session-recovery-loop 192.0.2.12', 'state-errors 192.0.2.11']);
    expect(one[0]!.metrics.clientsNotReported).toBe(1);
  });

  it('a client with more episodes than are kept in detail: counted in every metric, those not listed said', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    // 52 episodes: every other one with STALE_CLIENTID; the 51st, not kept in detail, never completed (the next 130 s later).
    for (let i = 0; i < 52; i++) {
      c.capture.advance(i === 51 ? 130 : 30);
      if (i === 50) c.read(sessionId(1 + i), { seqStatus: NFS4ERR_BADSESSION });
      else episode(c, sessionId(1 + i), sessionId(2 + i), BigInt(2 + i), i % 2 === 0);
    }
    const all = await findings(c.capture);
    expect(all).toHaveLength(1);
    const f = all[0]!;
    expect(f.count).toBe(52);
    expect(f.metrics).toMatchObject({ episodes: 52, staleClientidEpisodes: 25, incompleteEpisodes: 1, episodesNotReported: 2, failedCalls: 25 * 2 + 26 + 1 });
    expect(f.metrics.episodeDurationsSeconds as number[]).toHaveLength(50);
    expect(f.metrics.intervalsSeconds as number[]).toHaveLength(50);
    // The time blocked counts the two episodes not listed too (each a few ms).
    const listed = (f.metrics.episodeDurationsSeconds as number[]).reduce((x, y) => x + y, 0);
    expect(f.impact!.blockedSeconds).toBeGreaterThan(listed + 0.001);
  });
});

describe('session-slots', () => {
  it('finds SEQ_MISORDERED, BADSLOT, a slot beyond the table and a sequence gap, per session', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    c.read(sessionId(1)); // slot 0 seq 1
    c.read(sessionId(1)); // slot 0 seq 2
    const gap = c.read(sessionId(1), { seqid: 5 }); // slot 0: 5 after 2, accepted
    c.read(sessionId(1), { slot: 1 }); // slot 1 seq 1
    const mis = c.read(sessionId(1), { slot: 1, seqid: 0, seqStatus: NFS4ERR_SEQ_MISORDERED });
    const bad = c.read(sessionId(1), { slot: 4, seqStatus: NFS4ERR_BADSLOT }); // 4 slots: ids 0..3
    const beyond = c.read(sessionId(1), { slot: 7 }); // accepted by the server, still beyond what it granted
    const all = await findings(c.capture);
    expect(all.map((f) => f.kind)).toEqual(['session-slots']);
    const f = all[0]!;
    expect(f).toMatchObject({ severity: 'warning', sessionid: sidHex(1), clientid: '0000000000000001', count: 4 });
    expect(f.metrics).toMatchObject({ seqMisordered: 1, badSlot: 1, slotBeyondTable: 2, sequenceGaps: 1, foreChannelSlots: 4, highestSlotSeen: 7 });
    expect(f.evidence.map((e) => [e.frame, e.what])).toEqual([
      [gap.call, 'READ: slot 0 seq 5 after 2 (2 skipped) → NFS4_OK'],
      [mis.reply, 'READ: slot 1 seq 0 (last accepted 1) → NFS4ERR_SEQ_MISORDERED'],
      [bad.reply, 'READ: slot 4 → NFS4ERR_BADSLOT'],
      [bad.call, 'READ: slot 4 beyond the table of 4 slots (→ NFS4ERR_BADSLOT)'],
      [beyond.call, 'READ: slot 7 beyond the table of 4 slots (→ NFS4_OK)'],
    ]);
    expect(f.metrics.callsOnSlotsNotFollowed).toBeUndefined();
    expect(f.metrics.sessionsNotReported).toBeUndefined();
  });

  it('beyond sessionSlots.maxSessions: the least recently seen session without issues goes first, else the least recently seen with, never the one being added; counted', async () => {
    const c = new V41();
    const badslot = (n: number): void => void c.read(sessionId(n), { slot: 9, seqStatus: NFS4ERR_BADSLOT });
    badslot(1);
    c.read(sessionId(2));
    c.read(sessionId(3));
    badslot(4); // 3 followed: session 2 (no issue, least recently seen) goes
    c.read(sessionId(1)); // session 1 seen again: more recent than 4
    badslot(5); // session 3 (no issue) goes
    badslot(6); // all three with issues: 4, the least recently seen, goes; not 6
    const all = await findings(c.capture, { 'sessionSlots.maxSessions': 3 });
    expect(all).toHaveLength(1);
    expect(all[0]!.metrics).toMatchObject({ badSlot: 3, sessions: [sidHex(1), sidHex(5), sidHex(6)], sessionsNotReported: 1 });
    expect(all[0]!.count).toBe(3);
  });

  it('follows slots 0 to 127 (in a table grown as they are used): gaps beyond are not looked for, the calls there counted', async () => {
    const c = new V41();
    c.createSession(1n, sessionId(1), NFS4_OK, 256);
    c.read(sessionId(1), { slot: 3, seqid: 1 });
    c.read(sessionId(1), { slot: 127, seqid: 1 });
    const gap3 = c.read(sessionId(1), { slot: 3, seqid: 3 }); // slot 3 kept when the table grew for 127
    const gap127 = c.read(sessionId(1), { slot: 127, seqid: 4 });
    c.read(sessionId(1), { slot: 128, seqid: 1 });
    c.read(sessionId(1), { slot: 128, seqid: 5 }); // not followed: no gap found
    c.read(sessionId(1), { slot: 200, seqid: 1 });
    const all = await findings(c.capture);
    expect(all).toHaveLength(1);
    expect(all[0]!.metrics).toMatchObject({ sequenceGaps: 2, highestSlotSeen: 200, callsOnSlotsNotFollowed: 3, foreChannelSlots: 256 });
    expect(all[0]!.evidence.map((e) => [e.frame, e.what])).toEqual([
      [gap3.call, 'READ: slot 3 seq 3 after 1 (1 skipped) → NFS4_OK'],
      [gap127.call, 'READ: slot 127 seq 4 after 1 (2 skipped) → NFS4_OK'],
    ]);
  });
});

/** NFS3ERR_STALE to client 10.1.0.1's call (frame n - 1) in frame n, both at `sec`. */
function staleReply(sec: number, n: number, op: string, fh?: string): Transaction {
  return {
    program: 100003,
    version: 3,
    procedure: 6,
    client: { addr: '10.1.0.1', port: 800 },
    server: { addr: '10.0.0.2', port: 2049 },
    call: { frame: { fileIndex: 0, number: n - 1, tsSec: sec, tsNsec: 0 } },
    reply: { frame: { fileIndex: 0, number: n, tsSec: sec, tsNsec: 0 }, header: { replyStat: 0, acceptStat: 0 } },
    decoded: { call: { mainOp: op, ...(fh !== undefined ? { fh } : {}) }, reply: { status: 'NFS3ERR_STALE', statusCode: 70 } },
  } as unknown as Transaction;
}

describe('state-errors', () => {
  it('groups a burst of BAD_STATEID per client, with the files; a later burst goes in the same finding', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    const burst: number[] = [];
    for (let i = 0; i < 4; i++) {
      burst.push(c.read(sessionId(1), { readStatus: NFS4ERR_BAD_STATEID, lookup: ['data', `f${i % 2}`] }).reply);
      c.capture.advance(1);
    }
    // Replies at 0, 1, 2, 3 s; the next one 11 s after the last (more than burstSeconds 5 s): a second burst.
    c.capture.advance(10);
    const later = c.read(sessionId(1), { readStatus: NFS4ERR_BAD_STATEID }).reply;
    const all = await findings(c.capture);
    expect(all.map((f) => [f.kind, f.count])).toEqual([['state-errors', 5]]);
    const f = all[0]!;
    expect(f).toMatchObject({ severity: 'warning', client: CLIENT.addr, sessionid: sidHex(1), clientid: '0000000000000001', title: `NFS4ERR_BAD_STATEID ×5 for client ${CLIENT.addr} on 3 files in 2 bursts` });
    expect(f.explanation).toMatch(/^5 calls were refused in 2 bursts, 11 s apart: the client used a stateid/);
    expect(f.metrics).toMatchObject({ status: 'NFS4ERR_BAD_STATEID', replies: 5, bursts: 2, ops: ['READ ×5'], files: ['/data/f0', '/data/f1', FH.toString('hex')] });
    expect((f.metrics.burstReplies as string[]).map((s) => s.replace(/^.*: /, ''))).toEqual(['4', '1']);
    expect(f.evidence.map((e) => e.frame)).toEqual([...burst, later]);
    expect(f.evidence[0]!.what).toBe('READ /data/f0 → NFS4ERR_BAD_STATEID (tag read)');
    expect(f.durationSeconds).toBeCloseTo(14, 2);
    expect(f.file).toBeUndefined();
  });

  it('a single burst names its one file', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    const a = c.read(sessionId(1), { readStatus: NFS4ERR_BAD_STATEID, lookup: ['data', 'f0'] }).reply;
    const all = await findings(c.capture);
    expect(all.map((f) => [f.title, f.file, f.metrics.bursts])).toEqual([[`NFS4ERR_BAD_STATEID ×1 for client ${CLIENT.addr} on /data/f0`, '/data/f0', 1]]);
    expect(all[0]!.explanation).toMatch(/^A call was refused: the client used a stateid/);
    expect(all[0]!.evidence.map((e) => e.frame)).toEqual([a]);
  });

  it('reports NFS3ERR_STALE with the file handle', async () => {
    const capture = new Capture();
    const s = new TcpSession(capture, CLIENT, SERVER).handshake();
    s.send('client', recordMark(rpcCall({ xid: 7, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: { machine: 'c' } }, nfs3ReadArgs(FH, 0, 4096))));
    const [reply] = s.send('server', recordMark(rpcAcceptedReply(7, new XdrWriter().u32(70).u32(0).bytes())));
    const all = await findings(capture);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'state-errors', severity: 'warning', count: 1, file: FH.toString('hex'), metrics: { status: 'NFS3ERR_STALE', ops: ['READ ×1'] } });
    expect(all[0]!.evidence.map((e) => e.frame)).toEqual([reply]);
  });

  it(`a client's bursts beyond ${MAX_BURSTS_DETAILED} are folded into one tally, counted in the finding; clients beyond stateErrors.maxGroups are counted in notReported`, async () => {
    const capture = new Capture();
    /** NFS3ERR_STALE on a READ from `client`: the reply's frame. */
    const stale = (s: TcpSession, xid: number): number => {
      s.send('client', recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: { machine: 'c' } }, nfs3ReadArgs(FH, 0, 4096))));
      return s.send('server', recordMark(rpcAcceptedReply(xid, new XdrWriter().u32(70).u32(0).bytes())))[0]!;
    };
    const a = new TcpSession(capture, CLIENT, SERVER).handshake();
    const replies: number[] = [];
    // 31 bursts of one reply, 10 s apart (burstSeconds is 5).
    for (let i = 0; i < 30; i++) {
      replies.push(stale(a, 0x100 + i));
      capture.advance(10);
    }
    replies.push(stale(a, 0x200));
    for (const [i, addr] of ['192.0.2.11', '192.0.2.12'].entries()) stale(new TcpSession(capture, { addr, port: 801 }, SERVER).handshake(), 0x300 + i);
    const file = writeTemp(tempDir(), 'bursts.pcap', writePcap(capture.frames, { linkType: 1 }));
    const report = readable(await analyze(file, { detectorOptions: { 'stateErrors.maxGroups': 2 } }));
    const found = report.findings.filter((f) => f.kind === 'state-errors');
    expect(found.map((f) => [f.client, f.count, f.metrics.bursts])).toEqual([
      [CLIENT.addr, 31, 31],
      ['192.0.2.11', 1, 1],
    ]);
    const f = found[0]!;
    expect(f.title).toBe(`NFS3ERR_STALE ×31 for client ${CLIENT.addr} on ${FH.toString('hex')} in 31 bursts`);
    const listed = f.metrics.burstReplies as string[];
    expect(listed).toHaveLength(MAX_BURSTS_DETAILED + 1);
    expect(listed[MAX_BURSTS_DETAILED]).toMatch(/ → .*: 11 in 11 more bursts$/);
    // The last reply is the evidence's last frame, and the finding ends there.
    expect(f.evidence[f.evidence.length - 1]!.frame).toBe(replies[replies.length - 1]);
    expect(report.notReported).toEqual({ 'state-errors': { burstsNotReported: 1 } });
  });

  it('closes a burst once burstSeconds pass without a reply of it, whatever client replies next: 3,000 clients refused once hold a few bursts open, not 3,000', () => {
    const d = new StateErrorsDetector({ fileName: () => 'x.pcap' });
    const stale = (client: string, sec: number, n: number): Transaction =>
      ({
        program: 100003,
        version: 3,
        procedure: 6,
        client: { addr: client, port: 800 },
        server: { addr: '10.0.0.2', port: 2049 },
        call: { frame: { fileIndex: 0, number: n, tsSec: sec, tsNsec: 0 } },
        reply: { frame: { fileIndex: 0, number: n + 1, tsSec: sec, tsNsec: 500_000_000 }, header: { replyStat: 0, acceptStat: 0 } },
        decoded: { call: { mainOp: 'READ', fh: 'ab'.repeat(28) }, reply: { status: 'NFS3ERR_STALE', statusCode: 70 } },
      }) as unknown as Transaction;
    let mostOpen = 0;
    for (let i = 0; i < 3000; i++) {
      d.onTransaction(stale(`10.1.${i >> 8}.${i & 255}`, 1000 + i, 2 * i + 1));
      mostOpen = Math.max(mostOpen, d.openBursts);
    }
    // A reply a second: the bursts of the last 5 s (burstSeconds) and the one just begun.
    expect(mostOpen).toBe(6);
    // Client 0 again 2 s after its reply would have continued its burst; 3,000 s after, it begins another.
    d.onTransaction(stale('10.1.0.0', 1000 + 3000, 7000));
    const found = d.finish();
    expect(found).toHaveLength(3000);
    expect(found[0]!.metrics.bursts).toBe(2);
    expect(found[0]!.evidence.map((e) => e.frame)).toEqual([2, 7001]);
    expect(found[0]!.evidence[0]!.what).toBe(`READ ${'ab'.repeat(28)} → NFS3ERR_STALE`);
    expect(found.slice(1).every((f) => f.count === 1 && f.metrics.bursts === 1)).toBe(true);
  });

  it('counts each op and names at most 20 files (then 20+), across bursts listed and folded', () => {
    const d = new StateErrorsDetector({ fileName: () => 'x.pcap' });
    const stale = (sec: number, n: number, op: string, file: number): Transaction => staleReply(sec, n, op, file.toString(16).padStart(4, '0').repeat(8));
    // One burst of 23 replies on 23 files, READ and WRITE in turn; then 25 bursts of a COMMIT on the first file, the last 6 folded.
    for (let i = 0; i < 23; i++) d.onTransaction(stale(100 + i, 10 + 2 * i, i % 2 === 0 ? 'READ' : 'WRITE', i));
    for (let k = 0; k < 25; k++) d.onTransaction(stale(200 + 10 * k, 100 + 2 * k, 'COMMIT', 0));
    const [f] = d.finish();
    expect(f!.title).toBe('NFS3ERR_STALE ×48 for client 10.1.0.1 on 20+ files in 26 bursts');
    expect(f!.metrics.ops).toEqual(['COMMIT ×25', 'READ ×12', 'WRITE ×11']);
    expect(f!.metrics.files).toEqual(Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(4, '0').repeat(8)));
    expect(f!.evidence.map((e) => e.what).slice(0, 2)).toEqual([`READ ${'0000'.repeat(8)} → NFS3ERR_STALE`, `WRITE ${'0001'.repeat(8)} → NFS3ERR_STALE`]);
    expect(f!.evidence.at(-1)!.frame).toBe(148);
  });

  it("a later burst keeps its first and last replies for the evidence, the first burst all it can show", () => {
    const d = new StateErrorsDetector({ fileName: () => 'x.pcap' });
    const stale = (sec: number, n: number): Transaction => staleReply(sec, n, 'READ');
    for (const [sec, n] of [[100, 10], [101, 12], [102, 14], [120, 20], [121, 22], [122, 24], [123, 26], [140, 30], [141, 32]]) d.onTransaction(stale(sec!, n!));
    const [f] = d.finish();
    expect(f!.metrics.bursts).toBe(3);
    expect(f!.evidence.map((e) => e.frame)).toEqual([10, 12, 14, 20, 30, 32]);
  });

  it('leaves out STALE_CLIENTID inside a recovery episode', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    episode(c, sessionId(1), sessionId(2), 2n);
    expect((await findings(c.capture)).map((f) => f.kind)).toEqual(['session-recovery-loop']);
  });
});

describe('session detectors, clean', () => {
  it('a clean generated NFSv4.1 session gives no finding', async () => {
    const c = new V41();
    c.exchangeId(1n);
    c.createSession(1n, sessionId(1));
    for (let i = 0; i < 10; i++) {
      c.read(sessionId(1), { slot: i % 2 });
      c.capture.advance(0.5);
    }
    expect(await findings(c.capture)).toEqual([]);
  });

  it.each(['linux-v42-basic-head.pcap', 'nfsv4-dumpcap.pcapng'])('%s gives no finding', async (name) => {
    expect(await realFindings(name)).toEqual([]);
  });
});

describe('session detectors, real captures', () => {
  it('nfsv3-stale-cut.pcap: NFS3ERR_STALE on frame 6', async () => {
    // tshark -r captures/nfsv3-stale-cut.pcap -Y 'nfs.nfsstat3 != 0' -T fields -e frame.number -e nfs.nfsstat3  →  6  70
    const all = await realFindings('nfsv3-stale-cut.pcap');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'state-errors', count: 1, metrics: { status: 'NFS3ERR_STALE', ops: ['READ ×1'] } });
    expect(all[0]!.evidence.map((e) => e.frame)).toEqual([6]);
  });

  it('nfsv40-pynfs-state-errors-cut.pcap: stateid and client id errors, counted as tshark does', async () => {
    // Replies per nfsstat4 (expected.json `nfs`, first nfsstat4 of each reply = COMPOUND status):
    // 10011 EXPIRED 1, 10022 STALE_CLIENTID 3, 10023 STALE_STATEID 7, 10024 OLD_STATEID 7, 10025 BAD_STATEID 6.
    const all = await realFindings('nfsv40-pynfs-state-errors-cut.pcap');
    const by = new Map<string, number>();
    for (const f of all) {
      expect(f.kind).toBe('state-errors');
      const st = f.metrics.status as string;
      by.set(st, (by.get(st) ?? 0) + f.count);
    }
    expect(Object.fromEntries(by)).toEqual({ NFS4ERR_EXPIRED: 1, NFS4ERR_STALE_CLIENTID: 3, NFS4ERR_STALE_STATEID: 7, NFS4ERR_OLD_STATEID: 7, NFS4ERR_BAD_STATEID: 6 });
    // tshark -r captures/nfsv40-pynfs-state-errors-cut.pcap -Y 'nfs.nfsstat4 == 10011' -T fields -e frame.number -e nfs.tag → 33 st_setclientid.py:testClientReboot
    const expired = all.find((f) => f.metrics.status === 'NFS4ERR_EXPIRED')!;
    expect(expired).toMatchObject({ severity: 'error', file: '/export/pynfs40/tmp/CID1-1' });
    expect(expired.evidence.map((e) => e.frame)).toEqual([33]);
  });

  it('nfsv41-pynfs-mid.pcap: the two BAD_STATEID replies', async () => {
    // expected.json: 2 replies with COMPOUND status 10025 (frames 68 and 150, CLOSE, st_current_stateid.py).
    const all = await realFindings('nfsv41-pynfs-mid.pcap');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'state-errors', count: 2, metrics: { status: 'NFS4ERR_BAD_STATEID', ops: ['CLOSE ×2'] } });
    expect(all[0]!.evidence.map((e) => e.frame)).toEqual([68, 150]);
  });

  it('nfsv41-pynfs-errors.pcap: BADSLOT, SEQ_MISORDERED and the BADSESSION recoveries', async () => {
    // tshark -r captures/nfsv41-pynfs-errors.pcap -Y 'nfs.nfsstat4 == 10063 || nfs.nfsstat4 == 10053 || nfs.nfsstat4 == 10052' \
    //   -T fields -e frame.number -e nfs.opcode -e nfs.nfsstat4 -e nfs.tag
    // 108 44 BADSESSION clean_sessions | 333 53 BADSLOT testBadSlot | 341 53 BADSESSION testBadSession |
    // 351, 353 53 SEQ_MISORDERED testBadSequenceidAtSlot | 593 53 BADSESSION open_create_file | 601 44 BADSESSION clean_sessions
    const all = await realFindings('nfsv41-pynfs-errors.pcap');
    // One finding for the client, its two sessions inside (BADSLOT on one, SEQ_MISORDERED on the other).
    const slots = all.filter((f) => f.kind === 'session-slots');
    expect(slots.map((f) => [f.client, f.metrics.badSlot, f.metrics.seqMisordered, (f.metrics.sessions as string[]).length])).toEqual([['127.0.0.1', 1, 2, 2]]);
    expect(slots[0]!.sessionid).toBeUndefined();
    expect(slots.flatMap((f) => f.evidence.filter((e) => /→ NFS4ERR_(BADSLOT|SEQ_MISORDERED)$/.test(e.what) && !e.what.includes('skipped')).map((e) => e.frame)).sort()).toEqual([333, 351, 353]);
    const loop = all.find((f) => f.kind === 'session-recovery-loop')!;
    expect(loop.count).toBe(2);
    expect(loop.evidence.filter((e) => e.what.includes('BADSESSION')).map((e) => e.frame)).toEqual([341, 593]);
    // 6 replies with STALE_CLIENTID (DESTROY_CLIENTID, no session lost): state-errors.
    const stale = all.filter((f) => f.kind === 'state-errors' && f.metrics.status === 'NFS4ERR_STALE_CLIENTID');
    expect(stale.reduce((n, f) => n + f.count, 0)).toBe(6);
  });

  it('nfsv41-pynfs-tail.pcap: three recoveries with STALE_CLIENTID', async () => {
    const all = await realFindings('nfsv41-pynfs-tail.pcap');
    const loop = all.filter((f) => f.kind === 'session-recovery-loop');
    expect(loop).toHaveLength(1);
    expect(loop[0]!.metrics).toMatchObject({ episodes: 3, staleClientidEpisodes: 3 });
    // SEQ_MISORDERED there is CREATE_SESSION's (client id sequence, frames 39/69/79), not a slot's.
    expect(all.filter((f) => f.kind === 'session-slots')).toEqual([]);
  });

  it('nfsv41-pynfs-head.pcap gives no finding', async () => {
    expect(await realFindings('nfsv41-pynfs-head.pcap')).toEqual([]);
  });
});
