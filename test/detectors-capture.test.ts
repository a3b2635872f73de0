/**
 * capture-quality and the verdict: captures that lack something (no RPC,
 * one direction, lost bytes, snaplen cuts, a mid-stream start, time going
 * backwards), each beside a clean counterpart.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Finding } from '../src/detectors/finding.js';
import type { Report } from '../src/report/model.js';
import { writePcap } from './gen/capture-writer.js';
import { patternBytes } from './gen/packets.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { oneDirection, withoutFrames } from './gen/tcp-faults.js';
import { getattrCall, getattrs, okReply, readCall, readReply } from './gen/workload.js';
import { NFS_PROGRAM, recordMark, rpcAcceptedReply, rpcAcceptedReplyVerf, rpcCallRaw } from './gen/rpc.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };

async function reportOf(capture: Capture | string, snaplen?: number): Promise<Report> {
  const file = typeof capture === 'string' ? capture : writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1, ...(snaplen ? { snaplen } : {}) }));
  return readable(await analyze(file));
}

const quality = (r: Report): Finding[] => r.findings.filter((f) => f.kind === 'capture-quality');
const frames = (f: Finding): number[] => f.evidence.map((e) => e.frame);

/** A clean NFSv3 session: handshake, GETATTRs and READs answered, FIN both ways. */
function cleanSession(c = new Capture()): TcpSession {
  const s = new TcpSession(c, CLIENT, SERVER).handshake();
  getattrs(s, 0x100, 5);
  s.send('client', readCall(0x200, 0, 8192));
  c.advance(0.002);
  s.send('server', readReply(0x200, 8192));
  s.fin('client');
  s.fin('server');
  s.ack('client');
  return s;
}

describe('the clean counterpart', () => {
  it('a clean generated session: no finding; the verdict says no problems were found', async () => {
    const r = await reportOf(cleanSession().capture);
    expect(r.findings).toEqual([]);
    expect(r.verdict).toEqual({ status: 'no-problems', summary: 'No problems found in 6 RPC calls.', notJudged: [], problems: [], notes: 0 });
  });
});

describe('capture-quality: no RPC traffic', () => {
  it('an SMB-like conversation on port 445: no RPC, the busiest port named, not judged', async () => {
    const c = new Capture();
    const s = new TcpSession(c, { addr: CLIENT.addr, port: 50000 }, { addr: SERVER.addr, port: 445 }).handshake();
    for (let i = 0; i < 4; i++) {
      s.send('client', patternBytes(300, i));
      s.send('server', patternBytes(2000, i + 10));
    }
    const r = await reportOf(c);
    expect(r.rpc.calls).toBe(0);
    const q = quality(r);
    expect(q).toHaveLength(1);
    const f = q[0]!;
    expect(f.severity).toBe('warning');
    expect(f.title).toBe('No NFS or RPC traffic in the capture');
    expect(f.explanation).toContain('--nfs-port');
    expect(f.explanation).toContain('the busiest here: 445');
    expect(f.metrics).toMatchObject({ frames: c.frames.length, busiestTcpPorts: [445] });
    expect(f.limitsJudgement).toBe('the capture holds no NFS or RPC traffic');
    expect(r.verdict.status).toBe('not-judged');
    expect(r.verdict.summary).toBe('Not judged: the capture holds no NFS or RPC traffic.');
  });

  it('an empty capture: no frames, not judged', async () => {
    const r = await reportOf(new Capture());
    expect(quality(r).map((f) => f.title)).toEqual(['The capture holds no frames']);
    expect(r.verdict.summary).toBe('Not judged: the capture holds no frames.');
  });
});

describe('capture-quality: one direction only', () => {
  it("only the client's packets: the calls are not reported as unanswered by a hung server", async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    // Calls over two minutes: long enough for unanswered-call's 60 s rule, were the replies really missing.
    for (let i = 0; i < 6; i++) {
      s.send('client', getattrCall(0x300 + i));
      c.advance(0.001);
      s.send('server', okReply(0x300 + i));
      c.advance(20);
    }
    const client = oneDirection(c, CLIENT);
    const r = await reportOf(client);
    expect(r.rpc.calls).toBe(6);
    expect(r.rpc.unanswered).toBe(6);
    expect(r.findings.map((f) => f.kind)).toEqual(['capture-quality']);
    const f = r.findings[0]!;
    expect(f.title).toBe("Only 192.0.2.10's packets are in the capture on 1 connection: no reply could be seen");
    expect(f.metrics).toMatchObject({ connections: 1, calls: 6, unansweredCalls: 6, servers: ['192.0.2.20:2049'] });
    expect(f.limitsJudgement).toBe('the capture holds one direction of the traffic only');
    expect(frames(f)).toEqual([1]);
    expect(r.verdict.status).toBe('not-judged');
    expect(r.verdict.summary).toBe('Not judged: the capture holds one direction of the traffic only.');
  });

  it("only the server's packets: replies without calls", async () => {
    const server = oneDirection(cleanSession().capture, SERVER);
    const r = await reportOf(server);
    expect(r.rpc.repliesWithoutCall).toBe(6);
    const q = quality(r);
    expect(q.map((f) => f.title)).toEqual(["Only the server's packets are in the capture on 1 connection of 192.0.2.10: no call could be seen"]);
    expect(q[0]!.metrics).toMatchObject({ repliesWithoutCall: 6 });
    expect(r.verdict.status).toBe('not-judged');
  });

  it('one connection of two seen one way: a warning, but the verdict still judges', async () => {
    const c = new Capture();
    cleanSession(c);
    const other = new TcpSession(c, { addr: '192.0.2.11', port: 802 }, SERVER).handshake();
    getattrs(other, 0x400, 3);
    // Drop every frame the server sent on the second connection (frames after the first session).
    const firstSession = cleanSession().capture.frames.length;
    const drop = c.frames.map((_, i) => i + 1).filter((n) => n > firstSession && c.frames[n - 1]!.data[29] === 20 && c.frames[n - 1]!.data[33] === 11);
    const r = await reportOf(withoutFrames(c, drop));
    const q = quality(r);
    expect(q).toHaveLength(1);
    expect(q[0]!.client).toBe('192.0.2.11');
    expect(q[0]!.limitsJudgement).toBeUndefined();
    expect(r.verdict.status).toBe('problems');
  });
});

describe('capture-quality: bytes missing from the capture', () => {
  it('READ reply segments the client ACKed but the capture never saw: capture loss, not network loss', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x500, 3);
    s.send('client', readCall(0x600, 0, 65536));
    c.advance(0.003);
    // 46 segments; the capture misses 10 in the middle (the client ACKs them all).
    const sent = s.send('server', readReply(0x600, 65536), { drop: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19] });
    getattrs(s, 0x700, 3);
    const r = await reportOf(c);
    expect(r.tcp.gapBytes).toBe(14480);
    const q = quality(r);
    expect(q).toHaveLength(1);
    const f = q[0]!;
    expect(f.severity).toBe('warning');
    const percent = Math.round((100 * 14480) / (r.tcp.deliveredBytes + 14480));
    expect(percent).toBe(22);
    expect(f.title).toBe(`The capture lost 14.1 KiB (${percent}% of the stream bytes) in 1 gap`);
    expect(f.explanation).toContain('not the network');
    expect(f.metrics).toMatchObject({ missingBytes: 14480, gaps: 1, gapBytes: 14480, ackedUnseenSegments: 1, connections: 1 });
    // The ACK after the reply revealed the hole.
    expect(frames(f)).toEqual([sent[sent.length - 1]! + 1, sent[sent.length - 1]! + 1]);
    expect(f.limitsJudgement).toBe('the capture lost 22% of the stream bytes');
    // No retransmission: nothing for network-health.
    expect(r.findings.filter((x) => x.kind === 'network-health')).toEqual([]);
    expect(r.verdict.status).toBe('not-judged');
  });
});

describe('capture-quality: connections with capture loss beyond captureMaxConnections', () => {
  it('three connections losing bytes, two counted: "at least 2 connections"; within the cap, the exact number', async () => {
    const lossy = (): string => {
      const c = new Capture();
      for (let i = 0; i < 3; i++) {
        const s = new TcpSession(c, { addr: CLIENT.addr, port: 900 + i }, SERVER).handshake();
        s.send('client', readCall(0x600 + i, 0, 65536));
        c.advance(0.003);
        s.send('server', readReply(0x600 + i, 65536), { drop: [10, 11] });
        getattrs(s, 0x700 + 8 * i, 2);
      }
      return writeTemp(tempDir(), 'lossy3.pcap', writePcap(c.frames, { linkType: 1 }));
    };
    const file = lossy();
    const capped = quality(readable(await analyze(file, { detectorOptions: { captureMaxConnections: 2 } })))[0]!;
    expect(capped.explanation).toContain('never saw, on at least 2 connections:');
    expect(capped.metrics['connections']).toBe(2);
    const all = quality(readable(await analyze(file)))[0]!;
    expect(all.explanation).toContain('never saw, on 3 connections:');
    expect(all.metrics['connections']).toBe(3);
  });
});

describe('capture-quality: snaplen', () => {
  it('replies cut before their status: their errors are unknown', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    const cut: number[] = [];
    for (let i = 0; i < 3; i++) {
      s.send('client', getattrCall(0x800 + i));
      c.advance(0.001);
      // Ethernet 14 + IPv4 20 + TCP 20 + record mark 4 + xid, msg_type, reply_stat 12 = 70: the accept status is cut off.
      cut.push(s.send('server', okReply(0x800 + i), { snap: 70 })[0]!);
    }
    const r = await reportOf(c, 70);
    expect(r.rpc.matched).toBe(3);
    const q = quality(r);
    expect(q.map((f) => f.title)).toEqual(['The snaplen cut 3 replies before their status']);
    expect(q[0]!.metrics).toMatchObject({ framesCutBySnaplen: 3, repliesCut: 3, callsCut: 0 });
    expect(frames(q[0]!)).toEqual(cut);
  });

  it('calls cut before their procedure number (Linux -i any at -s 96): no call can be counted, and the finding says why', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    const cut: number[] = [];
    for (let i = 0; i < 3; i++) {
      // Ethernet 14 + IPv4 20 + TCP 20 + record mark 4 + xid, msg_type, rpcvers, prog, vers 20 = 78: the procedure is cut off.
      cut.push(s.send('client', getattrCall(0x900 + i), { snap: 78 })[0]!);
      c.advance(0.001);
      s.send('server', okReply(0x900 + i), { snap: 78 });
    }
    const r = await reportOf(c, 78);
    expect(r.rpc.calls).toBe(0);
    expect(r.rpc.invalidMessages).toBe(3);
    const q = quality(r);
    expect(q.map((f) => f.title)).toEqual(['The snaplen cut 3 RPC messages before their header']);
    expect(q[0]!.metrics).toMatchObject({ framesCutBySnaplen: 6, callsCut: 0, repliesCut: 0, messagesCutBeforeHeader: 3 });
    expect(frames(q[0]!)).toEqual([cut[0]]);
    expect(r.verdict.status).toBe('problems');
  });

  it('captures/nfsv3-snaplen200.pcap: only READ/WRITE data cut, nothing hidden: no finding', async () => {
    const r = await reportOf(join(CAPTURES, 'nfsv3-snaplen200.pcap'));
    expect(r.capture.framesCutBySnaplen).toBeGreaterThan(0);
    expect(quality(r)).toEqual([]);
  });
});

describe('capture-quality: RPC-with-TLS (RFC 9289)', () => {
  /** The AUTH_TLS probe, answered with STARTTLS (or not), then TLS records both ways. */
  function tlsSession(startTls: boolean, clearCalls = 0): Capture {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x100, clearCalls);
    s.send('client', recordMark(rpcCallRaw({ xid: 0x77, prog: NFS_PROGRAM, vers: 4, proc: 0, cred: { flavor: 7, body: Buffer.alloc(0) } }, Buffer.alloc(0))));
    c.advance(0.0003);
    s.send('server', recordMark(rpcAcceptedReplyVerf(0x77, { flavor: 0, body: Buffer.from(startTls ? 'STARTTLS' : '') }, Buffer.alloc(0))));
    const record = (type: number, n: number): Buffer => Buffer.concat([Buffer.from([type, 3, 3, n >> 8, n & 0xff]), patternBytes(n, type)]);
    s.send('client', record(0x16, 300));
    s.send('server', record(0x16, 2500));
    for (let i = 0; i < 20; i++) {
      s.send('client', record(0x17, 200));
      c.advance(0.0005);
      s.send('server', record(0x17, 300));
      c.advance(0.01);
    }
    return c;
  }

  it('the server says STARTTLS and nothing else is in the clear: not judged, the warning names the frame', async () => {
    const r = await reportOf(tlsSession(true));
    const q = quality(r);
    expect(q.map((f) => [f.severity, f.title])).toEqual([['warning', 'A connection to 192.0.2.20:2049 switched to TLS (RPC-with-TLS): its NFS traffic is encrypted']]);
    expect(q[0]!.evidence.map((e) => e.what)).toEqual(['STARTTLS: the connection turns to TLS']);
    expect(q[0]!.limitsJudgement).toBe('the NFS traffic is encrypted (RPC-with-TLS)');
    expect(r.verdict.summary).toBe('Not judged: the NFS traffic is encrypted (RPC-with-TLS).');
  });

  it('calls in the clear besides: judged, with the warning; a probe the server does not take up: nothing', async () => {
    const mixed = await reportOf(tlsSession(true, 5));
    expect(quality(mixed).map((f) => [f.severity, f.limitsJudgement])).toEqual([['warning', undefined]]);
    expect(mixed.verdict.status).toBe('problems');
    const refused = await reportOf(tlsSession(false, 5));
    expect(quality(refused)).toEqual([]);
  });
});

describe('capture-quality: mid-stream start and time', () => {
  it('a capture started after a call was sent: its reply has no call (info)', async () => {
    const full = cleanSession().capture;
    // Handshake (3 frames) and the first GETATTR call (frame 4) happened before the capture started.
    const r = await reportOf(withoutFrames(full, [1, 2, 3, 4]));
    const q = quality(r);
    expect(q.map((f) => [f.severity, f.title])).toEqual([['info', 'The capture started mid-stream: 1 reply without its call']]);
    expect(r.verdict.status).toBe('no-problems');
    expect(r.verdict.notes).toBe(1);
  });

  it('time going backwards by 2 s between two frames', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x900, 2);
    c.advance(-2);
    const [back] = s.send('client', getattrCall(0x910));
    s.send('server', okReply(0x910));
    const r = await reportOf(c);
    const q = quality(r);
    expect(q).toHaveLength(1);
    expect(q[0]!.title).toBe('Time goes backwards once in the capture (by up to 1.99 s)');
    expect(frames(q[0]!)).toEqual([back]);
    // The frame before: the ACK of the last reply; then 10 ms and 1 µs later the clock stepped back 2 s.
    expect(q[0]!.metrics).toEqual({ framesBackwards: 1, largestStepBackSeconds: 1.989999 });
  });

  it('time going backwards by 5 µs (frames stamped on several CPUs): a note, not a warning', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x900, 2);
    // The last frame (an ACK) came 10 ms earlier (getattrs' pace), minus the 1 µs each frame takes.
    c.advance(-0.010006);
    s.send('client', getattrCall(0x910));
    s.send('server', okReply(0x910));
    const r = await reportOf(c);
    const q = quality(r);
    expect(q.map((f) => [f.severity, f.title])).toEqual([['info', 'Time goes backwards once in the capture (by up to 5 µs)']]);
    expect(q[0]!.explanation).toContain('No latency or interval is off by more than 5 µs.');
    expect(r.verdict.status).toBe('no-problems');
  });

  it('a reply stamped 3 s before its call: left out of the timing figures and said so; the span is earliest to latest', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x900, 3, 0.002);
    const [call] = s.send('client', getattrCall(0x910));
    c.advance(-3);
    const [reply] = s.send('server', okReply(0x910));
    const r = await reportOf(c);
    const q = quality(r);
    expect(q.map((f) => f.title)).toEqual(['Time goes backwards once in the capture (by up to 3 s)']);
    expect(q[0]!.explanation).toContain('Latencies and intervals across the step are wrong (one reply stamped before its call is left out of the timing figures);');
    expect(q[0]!.evidence.map((e) => [e.frame, e.what])).toEqual([[reply, 'earlier than the frame before it, a reply stamped before its call']]);
    expect(q[0]!.metrics).toMatchObject({ framesBackwards: 1, repliesBeforeCall: 1 });
    const getattr = r.operations.find((o) => o.kind === 'procedure' && o.name === 'GETATTR')!;
    expect(getattr.calls).toBe(4);
    // The three answered in 2 ms: the negative one counts nowhere, not as a 0.
    expect(getattr.latency.histogram.count).toBe(3);
    expect(getattr.latency.histogram.zeros).toBe(0);
    expect(getattr.latency.min).toBeCloseTo(2, 2);
    // By time: the reply stamped 3 s back is the earliest frame, the server's ACK of the call before it the latest.
    expect([r.capture.first!.frame, r.capture.last!.frame]).toEqual([reply, call! + 1]);
    const at = (iso: string): number => Date.parse(iso.slice(0, 19) + 'Z') / 1000 + Number(iso.slice(19, -1));
    expect(r.capture.durationSeconds).toBeCloseTo(at(r.capture.last!.time) - at(r.capture.first!.time), 6);
    expect(r.capture.durationSeconds).toBeGreaterThan(2.9);
  });

  it('an error reply stamped before its call: its finding spans from the reply to the call, never a negative duration', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x900, 3, 0.002);
    s.send('client', getattrCall(0x910));
    c.advance(-0.5);
    // GARBAGE_ARGS (accept_stat 4).
    s.send('server', recordMark(rpcAcceptedReply(0x910, Buffer.alloc(0), 4)));
    const r = await reportOf(c);
    const errors = r.findings.filter((f) => f.kind === 'rpc-errors');
    expect(errors.map((f) => f.title)).toEqual(['1 × GARBAGE_ARGS from NFS v3 on 192.0.2.20:2049']);
    const f = errors[0]!;
    expect(f.start < f.end).toBe(true);
    expect(f.durationSeconds).toBeCloseTo(0.5, 2);
    expect(r.findings.every((x) => x.durationSeconds >= 0)).toBe(true);
  });
});
