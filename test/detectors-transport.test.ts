/**
 * The transport detectors (unanswered-call, rpc-retransmission,
 * connections) on generated incidents and on real captures.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { REFUSED_LISTED } from '../src/analysis/capture-summary.js';
import type { FrameRef } from '../src/capture/frame.js';
import type { DetectorContext, Finding } from '../src/detectors/finding.js';
import { ConnectionsDetector } from '../src/detectors/connections.js';
import { UnansweredCallDetector } from '../src/detectors/unanswered-call.js';
import { MAX_GROUPS, RpcRetransmissionDetector } from '../src/detectors/rpc-retransmission.js';
import type { TcpConnection, TcpEvent } from '../src/transport/stream.js';
import { mergeReports } from '../src/report/merge.js';
import { renderReportText } from '../src/report/render-text.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { writePcap } from './gen/capture-writer.js';
import { NFS_PROGRAM, NFSPROC3_READ, XdrWriter, nfs3ReadArgs, nfs3ReadResultHead, recordMark, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { rawSegment, refusedSyn, resendFrame, rtoBackoff } from './gen/tcp-faults.js';
import { ACK, RST, SYN } from './gen/tcp.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const FH = Buffer.alloc(32, 0xfe);
const KINDS = ['unanswered-call', 'rpc-retransmission', 'connections'];

const getattrCall = (xid: number): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: { machine: 'c', uid: 0, gid: 0 } }, new XdrWriter().opaque(FH).bytes());
const okReply = (xid: number, size = 100): Buffer => rpcAcceptedReply(xid, Buffer.alloc(size, 1));

async function findingsOf(capture: Capture | string): Promise<Finding[]> {
  const file = typeof capture === 'string' ? capture : writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 }));
  const report = readable(await analyze(file));
  return report.findings.filter((f) => KINDS.includes(f.kind));
}

const frames = (f: Finding): number[] => f.evidence.map((e) => e.frame);

/**
 * A READ whose reply the server retransmits six times without
 * acknowledgement, then, 20 s on, a client RST; `others` short connections
 * (handshake, RST) of other clients come and go meanwhile.
 */
function stalledRead(others = 0): { capture: Capture; callFrame: number; retrans: number[]; rst: number; partial: Buffer } {
  const s = new TcpSession(new Capture(), CLIENT, SERVER).handshake();
  const read = rpcCall({ xid: 0x8008, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: {} }, nfs3ReadArgs(FH, 0, 65536));
  const [callFrame] = s.send('client', recordMark(read));
  s.capture.advance(0.001);
  const head = rpcAcceptedReply(0x8008, nfs3ReadResultHead(65536, false, 1 << 20));
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((0x80000000 | (head.length + 65536)) >>> 0);
  const partial = Buffer.concat([mark, head, Buffer.alloc(10_000, 0x33)]);
  const sent = s.send('server', partial, { ack: false });
  const retrans: number[] = [];
  let rto = 0.2;
  for (let i = 0; i < 6; i++) {
    s.capture.advance(rto);
    retrans.push(resendFrame(s.capture, sent[0]!));
    rto *= 2;
  }
  for (let i = 0; i < others; i++) new TcpSession(s.capture, { addr: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 900 }, SERVER).handshake().rst('client');
  s.capture.advance(20);
  // The client's RST acknowledges none of the reply (TcpSession's would acknowledge all): SYN 1000 + 1, server ISN 500000 + 1.
  const rst = rawSegment(s.capture, CLIENT, SERVER, 1001 + recordMark(read).length, 500_001, RST | ACK);
  return { capture: s.capture, callFrame: callFrame!, retrans, rst, partial };
}

describe('unanswered-call', () => {
  it('an unanswered READ whose reply the server retransmits without acknowledgement, then a client RST', async () => {
    const { capture, callFrame, retrans, rst, partial } = stalledRead();
    const found = await findingsOf(capture);
    const un = found.filter((f) => f.kind === 'unanswered-call');
    expect(un).toHaveLength(1);
    const f = un[0]!;
    expect(f.severity).toBe('error');
    expect(f.title).toBe('READ never answered: the server sent the reply, the client never acknowledged it (6 server retransmissions)');
    expect(f.explanation).toContain(`and ${partial.length.toLocaleString('en-US')} bytes stayed unacknowledged until the client reset the connection`);
    expect(f.explanation).toContain('The packets reach the capture point but not the client');
    expect(f.metrics).toMatchObject({ calls: 1, why: ['reply-lost ×1'], serverRetransmissions: 6, resets: 'the client', unacknowledgedBytes: partial.length, unfinishedReplies: 1 });
    expect(f.metrics['clientResends']).toBeUndefined();
    // Doubling intervals, 1 µs per pushed frame aside.
    expect((f.metrics['retransmissionIntervals'] as number[]).map((x) => Math.round(x * 10) / 10)).toEqual([0.4, 0.8, 1.6, 3.2, 6.4]);
    // Stall: from the first retransmission to the RST: 0.4 + 0.8 + 1.6 + 3.2 + 6.4 + 20 s.
    expect(f.metrics['stallSeconds'] as number).toBeCloseTo(32.4, 3);
    const ev = frames(f);
    expect(ev).toEqual(expect.arrayContaining([callFrame, retrans[0], retrans[5], rst]));
    expect(ev[0]).toBe(callFrame);
    expect(ev[ev.length - 1]).toBe(rst);
    expect(f.client).toBe(CLIENT.addr);
    expect(f.server).toBe('192.0.2.20:2049');
  });

  it('the same READ and stall while 10,500 short connections come and go: the stalled connection is still followed', async () => {
    // More connections than the transport timeline follows (10,000): the ended ones make room, not the stalled one.
    const { capture, callFrame, rst } = stalledRead(10_500);
    const file = writeTemp(tempDir(), 'busy.pcap', writePcap(capture.frames, { linkType: 1 }));
    const report = readable(await analyze(file));
    const titles = report.findings.filter((f) => f.kind === 'unanswered-call' || f.kind === 'network-health').map((f) => f.title);
    expect(titles).toEqual([
      'READ never answered: the server sent the reply, the client never acknowledged it (6 server retransmissions)',
      'TCP stall of 32.4 s: the server resent a segment 6 times and it was never acknowledged',
    ]);
    const un = report.findings.find((f) => f.kind === 'unanswered-call')!;
    expect([frames(un)[0], frames(un).at(-1)]).toEqual([callFrame, rst]);
  }, 60_000);

  it('a group names each file and connection once: three READs of one file on one connection, one file named', () => {
    const d = new UnansweredCallDetector({ fileName: () => 'x.pcap', lastFrame: () => ({ fileIndex: 0, number: 99, tsSec: 1_000, tsNsec: 0 }) });
    const read = (xid: number, fh: string, connId = 7): Transaction => {
      const frame = { fileIndex: 0, number: xid, tsSec: 100 + xid, tsNsec: 0 };
      return {
        program: 100003,
        version: 3,
        procedure: NFSPROC3_READ,
        xid,
        connId,
        client: { addr: '10.1.0.1', port: 800 },
        server: { addr: '10.0.0.2', port: 2049 },
        call: { frame, firstFrame: frame },
        retransmits: 0,
        retransmitFrames: [],
        decoded: { call: { fh, offset: 4096 * xid } },
      } as unknown as Transaction;
    };
    for (const xid of [1, 2, 3]) d.onUnanswered(read(xid, 'ab'.repeat(16)));
    const [one] = d.finish();
    expect(one).toMatchObject({ count: 3, file: 'ab'.repeat(16), metrics: { why: ['no-reply ×3'], offsets: [4096, 8192, 12288] } });
    d.onUnanswered(read(4, 'cd'.repeat(16), 8));
    const [two] = d.finish();
    expect([two!.count, two!.file]).toEqual([4, undefined]);
  });

  it('captures/unanswered-read-tail.pcap: the READ at frame 66, its 6 server retransmissions and the client RST', async () => {
    const found = await findingsOf(join(CAPTURES, 'unanswered-read-tail.pcap'));
    const un = found.filter((f) => f.kind === 'unanswered-call');
    expect(un).toHaveLength(1);
    const f = un[0]!;
    expect(f.title).toContain('the server sent the reply, the client never acknowledged it (6 server retransmissions)');
    // tshark -r captures/unanswered-read-tail.pcap -Y tcp.analysis.retransmission -T fields -e frame.number → 383..388 (2049 → 694, Seq=353669 Len=1448)
    // tshark -r captures/unanswered-read-tail.pcap -Y tcp.flags.reset==1 → 389 (694 → 2049, RST, ACK)
    // tshark -r captures/unanswered-read-tail.pcap -Y rpc → 66 V3 READ Call xid 0x351ccd70 Offset 2097152
    expect(frames(f)).toEqual([66, 67, 383, 388, 389]);
    expect(f.metrics).toMatchObject({ calls: 1, xids: ['0x351ccd70'], serverRetransmissions: 6, resets: 'the client', unfinishedReplies: 1, offsets: [2097152] });
    // Last client ACK = 2390701 (raw, .notes), last new server segment 2408077+1448: 18824 bytes never acknowledged.
    expect(f.metrics['unacknowledgedBytes']).toBe(18824);
    // tshark frame.time_relative: 383 at 0.626684, 389 at 20.392475; intervals 0.428048 0.864065 1.727870 3.553182 6.910863
    expect(f.metrics['stallSeconds']).toBeCloseTo(20.392475 - 0.626684, 6);
    expect(f.metrics['retransmissionIntervals']).toEqual([0.428048, 0.864065, 1.72787, 3.553182, 6.910863]);
    expect(f.evidence.find((e) => e.frame === 389)?.what).toBe('RST from the client');
  });
});

describe('rpc-retransmission', () => {
  it('a call resent 3 times with the same xid, then answered', async () => {
    const s = new TcpSession(new Capture(), CLIENT, SERVER).handshake();
    const call = recordMark(getattrCall(0x4242));
    const [first] = s.send('client', call);
    const resends: number[] = [];
    for (let i = 0; i < 3; i++) {
      s.capture.advance(1.1);
      resends.push(s.send('client', call)[0]!);
    }
    s.capture.advance(0.01);
    const [reply] = s.send('server', recordMark(okReply(0x4242)));
    const found = await findingsOf(s.capture);
    const rr = found.filter((f) => f.kind === 'rpc-retransmission');
    expect(rr).toHaveLength(1);
    const f = rr[0]!;
    expect(f.severity).toBe('warning');
    expect(f.title).toContain('GETATTR resent with the same xid');
    expect(f.metrics).toMatchObject({ calls: 1, resends: 3, answered: 1, unanswered: 0, xids: ['0x00004242'] });
    expect((f.metrics['resendIntervals'] as number[]).map((x) => Math.round(x * 10) / 10)).toEqual([1.1, 1.1, 1.1]);
    expect(frames(f)).toEqual([first, ...resends, reply]);
    // Answered in the end: no unanswered-call finding.
    expect(found.filter((x) => x.kind === 'unanswered-call')).toEqual([]);
  });

  it('beyond retransmissionMaxGroups the least recently seen group is forgotten, its calls counted in callsNotReported', async () => {
    const c = new Capture();
    const udpClient = (i: number): Host => ({ addr: `192.0.2.${100 + i}`, port: 800 });
    const udpServer: Host = { addr: SERVER.addr, port: 2049 };
    let xid = 0x700;
    // Over UDP: a GETATTR, its resend after 1.1 s, the reply.
    const resent = (i: number): void => {
      const call = getattrCall(++xid);
      c.udp(udpClient(i), udpServer, call);
      c.advance(1.1);
      c.udp(udpClient(i), udpServer, call);
      c.advance(0.01);
      c.udp(udpServer, udpClient(i), okReply(xid));
      c.advance(1);
    };
    // Clients 0, 1, 2, then 0 again (the most recently seen now), then 3 and 4: 1 and 2 go.
    for (const i of [0, 1, 2, 0, 3, 4]) resent(i);
    const file = writeTemp(tempDir(), 'gen.pcap', writePcap(c.frames, { linkType: 1 }));
    const report = await analyze(file, { detectorOptions: { retransmissionMaxGroups: 3 } });
    const rr = report.findings.filter((f) => f.kind === 'rpc-retransmission');
    expect(rr.map((f) => [f.client, f.metrics['calls'], f.metrics['resends']]).sort()).toEqual([
      ['192.0.2.100', 2, 2],
      ['192.0.2.103', 1, 1],
      ['192.0.2.104', 1, 1],
    ]);
    expect(rr.map((f) => f.metrics['callsNotReported']).filter((n) => n !== undefined)).toEqual([2]);
    // Every resend is still counted where the RPC layer counts them.
    expect(report.rpc.retransmittedCalls).toBe(6);
  });

  it(`follows at most ${MAX_GROUPS.toLocaleString('en-US')} groups by default; 5,000 clients through a cap of 100 leave 100 and 4,900 calls not reported`, () => {
    const detector = new RpcRetransmissionDetector({ fileName: () => 'x.pcap' } as unknown as DetectorContext, { retransmissionMaxGroups: 100 });
    const frame = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 1000 + n, tsNsec: 0 });
    for (let n = 0; n < 5000; n++) {
      const t = {
        xid: n, client: { addr: `10.9.${n >> 8}.${n & 255}`, port: 800 }, server: { addr: '10.0.0.1', port: 2049 }, program: 100003, version: 3, procedure: 1,
        call: { frame: frame(3 * n) }, retransmits: 1, retransmitFrames: [frame(3 * n + 1)], duplicateReplies: 0, reply: { frame: frame(3 * n + 2) }, latency: 1,
      } as unknown as Transaction;
      detector.onTransaction(t);
      expect(detector.groupCount).toBe(Math.min(n + 1, 100));
    }
    const found = detector.finish();
    expect(found).toHaveLength(100);
    expect(found.map((f) => f.client)).toEqual(Array.from({ length: 100 }, (_, i) => `10.9.${(4900 + i) >> 8}.${(4900 + i) & 255}`));
    expect(found[99]!.metrics['callsNotReported']).toBe(4900);
    expect(MAX_GROUPS).toBe(10_000);
  });
});

describe('the report lists the first 100 refused connections', () => {
  /** A capture of `n` SYNs from the client's ports 1000 up, each answered by RST; returns it and the RSTs' frames. */
  const refusals = (n: number, firstPort = 1000): [string, number[]] => {
    const c = new Capture();
    const rsts: number[] = [];
    for (let i = 0; i < n; i++) {
      rsts.push(refusedSyn(c, { addr: CLIENT.addr, port: firstPort + i }, SERVER, 7000 + i)[1]);
      c.advance(0.001);
    }
    return [writeTemp(tempDir(), 'gen.pcap', writePcap(c.frames, { linkType: 1 })), rsts];
  };

  it(`130 SYNs answered by RST: the first ${REFUSED_LISTED} in tcp.refused, 30 in tcp.refusedNotListed, and the text says so`, async () => {
    const [file, rsts] = refusals(130);
    const r = await analyze(file);
    expect(r.tcp.events['refused']).toBe(130);
    expect(r.tcp.refused.map((x) => x.frame)).toEqual(rsts.slice(0, 100));
    expect(r.tcp.refused[99]).toMatchObject({ client: `${CLIENT.addr}:1099`, server: '192.0.2.20:2049' });
    expect(r.tcp.refusedNotListed).toBe(30);
    expect(REFUSED_LISTED).toBe(100);
    expect(renderReportText(r, { sections: ['capture'] })).toContain('Refused connections (SYN answered by RST; first 100 of 130)');
    const few = await analyze(refusals(3)[0]);
    expect([few.tcp.refused.length, few.tcp.refusedNotListed]).toEqual([3, 0]);
    expect(renderReportText(few, { sections: ['capture'] })).toContain('Refused connections (SYN answered by RST)\n');
  });

  it('merge keeps the first 100 in the order of the reports and counts the rest', async () => {
    const [fileA, rstsA] = refusals(130);
    const [fileB, rstsB] = refusals(20, 5000);
    const a = JSON.parse(JSON.stringify(await analyze(fileA)));
    const b = JSON.parse(JSON.stringify(await analyze(fileB)));
    const m = mergeReports([b, a]);
    expect(m.tcp.refused.map((x) => [x.client.split(':')[1], x.frame])).toEqual([
      ...rstsB.map((f, i) => [String(5000 + i), f]),
      ...rstsA.slice(0, 80).map((f, i) => [String(1000 + i), f]),
    ]);
    expect(m.tcp.refusedNotListed).toBe(50);
    // A report made before the cap has no refusedNotListed.
    delete b.tcp.refusedNotListed;
    const old = mergeReports([b, b, b, b, b, b]);
    expect([old.tcp.refused.length, old.tcp.refusedNotListed]).toEqual([100, 20]);
  });
});

describe('connections', () => {
  it('beyond connectionsMaxTracked groups of refused and of unanswered attempts, the attempts of others are counted, not reported', () => {
    const d = new ConnectionsDetector({ fileName: () => 'x.pcap' } as unknown as DetectorContext, { connectionsMaxTracked: 5 });
    const at = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 1000 + n, tsNsec: 0 });
    const conn = (i: number): TcpConnection => ({ id: i, a: { addr: `10.1.0.${i}`, port: 800 }, b: { addr: SERVER.addr, port: 2049 }, midstream: false, firstFrame: at(3 * i), segments: [3, 0], dataSegments: [0, 0] });
    for (let i = 0; i < 8; i++) {
      d.onTcpEvent({ kind: 'refused', conn: conn(i), direction: 1, at: at(3 * i + 1), bytes: 0, seq: -1 } as unknown as TcpEvent);
      d.onTcpEvent({ kind: 'connection-end', conn: conn(100 + i), direction: 0, at: at(3 * i + 2), bytes: 0, seq: -1 } as unknown as TcpEvent);
    }
    const found = d.finish();
    const refused = found.filter((f) => f.title.includes('refused'));
    const unanswered = found.filter((f) => f.title.includes('unanswered'));
    expect([refused.length, unanswered.length]).toEqual([5, 5]);
    expect(refused.map((f) => f.metrics['refusalsNotReported']).filter((x) => x !== undefined)).toEqual([3]);
    expect(unanswered.map((f) => f.metrics['attemptsNotReported']).filter((x) => x !== undefined)).toEqual([3]);
  });

  it('a SYN to port 20049 answered by RST: NFS over RDMA refused', async () => {
    const c = new Capture();
    const [, rst1] = refusedSyn(c, CLIENT, { addr: SERVER.addr, port: 20049 });
    c.advance(1);
    const [, rst2] = refusedSyn(c, { addr: CLIENT.addr, port: 802 }, { addr: SERVER.addr, port: 20049 }, 9000);
    const found = await findingsOf(c);
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.kind).toBe('connections');
    expect(f.title).toBe('Connection to 192.0.2.20:20049 (NFS/RDMA) refused 2 times');
    expect(f.explanation).toContain('RDMA');
    expect(f.explanation).toContain('Port 20049 is NFS over RDMA: the server does not listen for it');
    expect(f.metrics).toEqual({ attempts: 2, port: 20049 });
    expect(frames(f)).toEqual([rst1, rst2]);
  });

  it('a reset with a call outstanding, a reconnect, and the call never resent: lost', async () => {
    const c = new Capture();
    const s1 = new TcpSession(c, CLIENT, SERVER).handshake();
    const [call] = s1.send('client', recordMark(getattrCall(0x1111)));
    c.advance(12);
    const rst = s1.rst('server');
    c.advance(0.5);
    const s2 = new TcpSession(c, { addr: CLIENT.addr, port: 802 }, SERVER);
    const syn2 = c.frames.length + 1;
    s2.handshake();
    s2.send('client', recordMark(getattrCall(0x2222)));
    s2.send('server', recordMark(okReply(0x2222)));
    const found = await findingsOf(c);
    const conn = found.filter((f) => f.kind === 'connections');
    expect(conn).toHaveLength(1);
    const f = conn[0]!;
    expect(f.severity).toBe('error');
    expect(f.title).toBe('The server closed the connection with 1 call outstanding (GETATTR); the client reconnected after 500 ms');
    expect(f.explanation).toContain('of those, 1 never seen again');
    expect(frames(f)).toEqual([call, rst, syn2]);
    expect(f.metrics).toMatchObject({ connections: 1, closedByServer: 1, outstandingCalls: 1, reconnects: 1, lost: 1, outstanding: [`GETATTR xid 0x00001111 frame ${call}: lost`] });
    expect(f.metrics['secondsWithoutReply'] as number).toBeCloseTo(12, 3);
    // Nothing but the close shows on the call: no unanswered-call finding of its own.
    expect(found.filter((x) => x.kind === 'unanswered-call')).toEqual([]);
  });

  it('the server closes (FIN) with a READ outstanding; the client reconnects and resends it (same xid), answered', async () => {
    const c = new Capture();
    const s1 = new TcpSession(c, CLIENT, SERVER).handshake();
    s1.send('client', recordMark(getattrCall(0x3000)));
    s1.send('server', recordMark(okReply(0x3000)));
    const read = recordMark(rpcCall({ xid: 0x3001, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: {} }, nfs3ReadArgs(FH, 0, 4096)));
    const [call] = s1.send('client', read);
    c.advance(2);
    const fin = s1.fin('server');
    s1.fin('client');
    s1.ack('server');
    c.advance(0.3);
    const s2 = new TcpSession(c, { addr: CLIENT.addr, port: 802 }, SERVER);
    const syn2 = c.frames.length + 1;
    s2.handshake();
    s2.send('client', read);
    c.advance(0.004);
    const head = rpcAcceptedReply(0x3001, Buffer.concat([nfs3ReadResultHead(4096, false, 1 << 20), Buffer.alloc(4096, 7)]));
    // Three segments: the reply is shown where it completes, the last.
    const reply = s2.send('server', recordMark(head))[2]!;
    const found = await findingsOf(c);
    const conn = found.filter((f) => f.kind === 'connections');
    expect(conn).toHaveLength(1);
    const f = conn[0]!;
    expect(f.severity).toBe('info');
    expect(f.title).toBe('The server closed the connection with 1 call outstanding (READ); the client reconnected after 300 ms');
    expect(f.explanation).toContain('of those, 1 resent on a new connection and answered (the slowest after 2.3 s)');
    expect(frames(f)).toEqual([call, fin, syn2, reply]);
    expect(f.evidence[1]!.what).toBe('FIN from the server: the connection closes with 1 call outstanding');
    // From the first call to the reply on the new connection: 2 + 0.3 + 0.004 s and 12 frames of 1 µs.
    expect(f.metrics).toMatchObject({ closedByServer: 1, resentAndAnswered: 1, outstanding: [`READ xid 0x00003001 frame ${call}: resent-answered after 2.304012 s`] });
    expect(found.filter((x) => x.kind === 'unanswered-call')).toEqual([]);
  });

  // The resend is answered on a new connection before the first one is reset; `extra` more calls are
  // answered after it, with room for two answered calls remembered: the third pushes the resend out.
  for (const [extra, fate] of [[1, 'resent-answered'], [2, 'lost']] as const) {
    it(`a call resent and answered elsewhere before the reset, ${extra} more answered with 2 remembered: ${fate}`, async () => {
      const c = new Capture();
      const s1 = new TcpSession(c, CLIENT, SERVER).handshake();
      const [call] = s1.send('client', recordMark(getattrCall(0x4001)));
      c.advance(1);
      const s2 = new TcpSession(c, { addr: CLIENT.addr, port: 802 }, SERVER).handshake();
      s2.send('client', recordMark(getattrCall(0x4001)));
      c.advance(0.25);
      const [reply] = s2.send('server', recordMark(okReply(0x4001)));
      for (let i = 0; i < extra; i++) {
        s2.send('client', recordMark(getattrCall(0x5000 + i)));
        s2.send('server', recordMark(okReply(0x5000 + i)));
      }
      c.advance(0.5);
      s1.rst('server');
      const file = writeTemp(tempDir(), 'gen.pcap', writePcap(c.frames, { linkType: 1 }));
      const report = readable(await analyze(file, { detectorOptions: { connectionsMaxCalls: 2 } }));
      const conn = report.findings.filter((f) => f.kind === 'connections');
      expect(conn).toHaveLength(1);
      const outstanding = conn[0]!.metrics['outstanding'] as string[];
      expect(outstanding).toHaveLength(1);
      expect(outstanding[0]).toMatch(new RegExp(`^GETATTR xid 0x00004001 frame ${call}: ${fate}`));
      if (fate === 'resent-answered') expect(conn[0]!.evidence.map((e) => e.frame)).toContain(reply);
    });
  }

  // With more connections than it counts (2 here, 3 in the capture) the detector stops counting them and remembers every answered call, as it did before counting.
  for (const [counted, fate] of [[10, 'resent-answered after 1.25001 s'], [2, 'lost']] as const) {
  it(`calls of another client's only connection are not remembered, ${counted} connections counted: ${fate}`, async () => {
    const c = new Capture();
    const s1 = new TcpSession(c, CLIENT, SERVER).handshake();
    const [call] = s1.send('client', recordMark(getattrCall(0x4101)));
    // Another client, one connection to the server: its answered calls are not a resend's.
    const other = new TcpSession(c, { addr: '192.0.2.11', port: 801 }, SERVER).handshake();
    c.advance(1);
    const s2 = new TcpSession(c, { addr: CLIENT.addr, port: 802 }, SERVER).handshake();
    s2.send('client', recordMark(getattrCall(0x4101)));
    c.advance(0.25);
    const [reply] = s2.send('server', recordMark(okReply(0x4101)));
    for (let i = 0; i < 5; i++) {
      other.send('client', recordMark(getattrCall(0x5100 + i)));
      other.send('server', recordMark(okReply(0x5100 + i)));
    }
    c.advance(0.5);
    s1.rst('server');
    const file = writeTemp(tempDir(), 'gen.pcap', writePcap(c.frames, { linkType: 1 }));
    // Room for 2 answered calls: the other client's 5 would have pushed the resend's answer out.
    const report = readable(await analyze(file, { detectorOptions: { connectionsMaxCalls: 2, connectionsMaxCounted: counted } }));
    const conn = report.findings.filter((f) => f.kind === 'connections');
    expect(conn).toHaveLength(1);
    expect(conn[0]!.metrics['outstanding']).toEqual([`GETATTR xid 0x00004101 frame ${call}: ${fate}`]);
    expect(conn[0]!.evidence.map((e) => e.frame).includes(reply)).toBe(fate !== 'lost');
  });
  }

  it('the clean counterpart: the server closes after every call was answered', async () => {
    const s = new TcpSession(new Capture(), CLIENT, SERVER).handshake();
    s.send('client', recordMark(getattrCall(0x3100)));
    s.send('server', recordMark(okReply(0x3100)));
    s.capture.advance(5);
    s.fin('server');
    s.fin('client');
    s.ack('server');
    expect(await findingsOf(s.capture)).toEqual([]);
  });

  it('SYNs to port 2049 never answered: the server is down or unreachable', async () => {
    const c = new Capture();
    const syn = rawSegment(c, CLIENT, SERVER, 7000, 0, SYN);
    const resends = rtoBackoff(c, syn, 4, 1);
    const found = await findingsOf(c);
    expect(found.map((f) => [f.kind, f.severity, f.title])).toEqual([['connections', 'error', 'Connection attempts to 192.0.2.20:2049 (NFS) unanswered: 5 SYNs, no reply']]);
    expect(found[0]!.metrics).toEqual({ attempts: 1, syns: 5, port: 2049 });
    expect(frames(found[0]!)).toEqual([syn]);
    expect(resends).toHaveLength(4);
  });
});

describe('a call that never reached the server (client-side TCP)', () => {
  /** A READ whose segment the client's TCP resends 3 times over 40 s without an ACK; the capture ends 45 s after the call. */
  function hung(acked: boolean): { capture: Capture; call: number; resends: number[] } {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    s.send('client', recordMark(getattrCall(0x5000)));
    s.send('server', recordMark(okReply(0x5000)));
    c.advance(0.1);
    const read = recordMark(rpcCall({ xid: 0x5001, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: {} }, nfs3ReadArgs(FH, 0, 4096)));
    const [call] = s.send('client', read, { ack: acked });
    // RTO 5.7 s doubling: resends at +5.7, +17.1, +39.9 s.
    const resends = acked ? [] : rtoBackoff(c, call!, 3, 5.7);
    c.advance(acked ? 45 : 5.1);
    s.ack('client');
    return { capture: c, call: call!, resends };
  }

  it('reported before any timeout, with the intervals: the server never received it', async () => {
    const g = hung(false);
    const found = await findingsOf(g.capture);
    const un = found.filter((f) => f.kind === 'unanswered-call');
    expect(un).toHaveLength(1);
    const f = un[0]!;
    expect(f.severity).toBe('error');
    expect(f.title).toBe('READ never reached the server: the client resent it 3 times, never acknowledged');
    expect(f.explanation).toContain('at growing intervals (11.4, 22.8 s)');
    expect(f.explanation).toContain('it never received it');
    expect(f.explanation).toContain('The server is down or unreachable');
    expect(f.metrics).toMatchObject({ calls: 1, why: ['not-received ×1'], clientTcpResends: 3 });
    expect((f.metrics['clientResendIntervals'] as number[]).map((x) => Math.round(x * 10) / 10)).toEqual([11.4, 22.8]);
    expect(frames(f)).toEqual([g.call, g.resends[0], g.resends[2]]);
    // Waited 45 s: less than unanswered-call's 60 s timeout.
    expect(f.metrics['waitSeconds'] as number).toBeLessThan(60);
  });

  it('the clean counterpart: the same READ acknowledged by the server and left pending at the end of the capture is not reported', async () => {
    const found = await findingsOf(hung(true).capture);
    expect(found).toEqual([]);
  });
});

describe('no transport findings on clean captures', () => {
  it('a clean generated capture (calls answered, FIN close)', async () => {
    const s = new TcpSession(new Capture(), CLIENT, SERVER).handshake();
    for (let i = 0; i < 3; i++) {
      s.send('client', recordMark(getattrCall(0x100 + i)));
      s.capture.advance(0.002);
      s.send('server', recordMark(okReply(0x100 + i)));
    }
    s.fin('client');
    s.fin('server');
    expect(await findingsOf(s.capture)).toEqual([]);
  });

  it('an RST after every call was answered (as libnfs closes) is not reported', async () => {
    const s = new TcpSession(new Capture(), CLIENT, SERVER).handshake();
    s.send('client', recordMark(getattrCall(0x300)));
    s.send('server', recordMark(okReply(0x300)));
    s.capture.advance(1);
    s.rst('client');
    expect(await findingsOf(s.capture)).toEqual([]);
  });

  // lossy-read-cut: TCP retransmissions, and one call cut off by the end of the capture
  // (its reply in flight): no incident. nfsv3-basic-head / nfsv3-errors: libnfs closes with RSTs.
  for (const name of ['lossy-read-cut.pcap', 'nfsv3-errors.pcap', 'nfsv3-basic-head.pcap']) {
    it(`captures/${name}`, async () => {
      expect(await findingsOf(join(CAPTURES, name))).toEqual([]);
    });
  }
});
