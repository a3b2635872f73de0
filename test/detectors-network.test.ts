/**
 * network-health and slow-ops: TCP stalls, zero windows, loss and
 * reordering, and slow calls explained by what the transport showed, on
 * generated captures (each beside a clean counterpart) and on real ones.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, type AnalyzeOptions } from '../src/analyze.js';
import type { Finding } from '../src/detectors/finding.js';
import type { Report } from '../src/report/model.js';
import { writePcap } from './gen/capture-writer.js';
import { NFS_PROGRAM, XdrWriter, recordMark, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { resendFrame, rtoBackoff } from './gen/tcp-faults.js';
import { FH, getattrCall, getattrs, okReply, readCall, readReply, reads } from './gen/workload.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const MSS = 1448;

async function reportOf(capture: Capture | string, options: AnalyzeOptions = {}): Promise<Report> {
  const file = typeof capture === 'string' ? capture : writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 }));
  return readable(await analyze(file, options));
}

const ofKind = (r: Report, kind: string): Finding[] => r.findings.filter((f) => f.kind === kind);
const frames = (f: Finding): number[] => f.evidence.map((e) => e.frame);

interface StalledRead {
  capture: Capture;
  call: number;
  /** The first transmission of the reply's first segment, its 7 RTO resends, the 9 go-back-N resends, the reply's last frame. */
  first: number;
  rto: number[];
  goBackN: number[];
  reply: number;
  xid: number;
}

/**
 * Ten 1 MiB-class READs answered in 1.1 s, then one whose reply stalls: the
 * server sends its first 10 segments, the client acknowledges none of them
 * for 25.4 s (the server resends the first one 7 times, RTO doubling from
 * 0.2 s), then acknowledges it; the server resends the other 9 (go-back-N:
 * 16 retransmissions in all) and completes the reply 29.6 s after the call.
 */
function stalledRead(stall = true): StalledRead {
  const c = new Capture();
  const s = new TcpSession(c, CLIENT, SERVER).handshake();
  reads(s, 0x1000, 10, 65536, 1.1);
  const xid = 0x2000;
  const [call] = s.send('client', readCall(xid, 10 * 65536, 65536));
  c.advance(1.1);
  const reply = readReply(xid, 65536);
  const firstPart = reply.subarray(0, 10 * MSS);
  const base = s.nextSeq('server');
  const sent = s.send('server', firstPart, { ack: false });
  let rto: number[] = [];
  const goBackN: number[] = [];
  if (stall) {
    rto = rtoBackoff(c, sent[0]!, 7, 0.2);
    s.ack('client', base + MSS);
    for (let i = 1; i < 10; i++) {
      c.advance(0.001);
      goBackN.push(resendFrame(c, sent[i]!));
    }
  }
  s.ack('client', base + 10 * MSS);
  // The rest of the reply 29.6 s after the call (1 µs per frame aside).
  c.advance(stall ? 29.6 - 1.1 - 25.4 - 0.009 : 0.001);
  const rest = s.send('server', reply.subarray(10 * MSS));
  return { capture: c, call: call!, first: sent[0]!, rto, goBackN, reply: rest[rest.length - 1]!, xid };
}

describe('a READ stalled in TCP (server segments unacknowledged for 25 s)', () => {
  it('slow-ops: a warning naming its xid and frame, the TCP stall as its cause', async () => {
    const g = stalledRead();
    const r = await reportOf(g.capture);
    expect(r.tcp.events['retransmission']).toBe(16);
    const slow = ofKind(r, 'slow-ops');
    expect(slow).toHaveLength(1);
    const f = slow[0]!;
    expect(f.severity).toBe('warning');
    expect(f.title).toBe(`READ xid 0x00002000 took 29.6 s (frame ${g.call}): TCP stall of the reply`);
    expect(f.explanation).toContain("the server's reply segments went unacknowledged for 25.2 s (16 retransmissions): the delay was in the network path, not the server");
    expect(f.metrics).toMatchObject({ op: 'NFS v3 READ', calls: 11, slowCalls: 1, worstXid: '0x00002000', worstFrame: g.call, worstCause: 'server-stall', causes: ['server-stall ×1'] });
    expect(f.metrics['worstSeconds'] as number).toBeCloseTo(29.6, 3);
    expect(f.metrics['medianSeconds'] as number).toBeCloseTo(1.1, 1);
    // The call, the stall's first and last resends, the reply.
    expect(frames(f)).toEqual([g.call, g.rto[0], g.rto[6], g.reply]);
    expect(f.client).toBe(CLIENT.addr);
    expect(f.server).toBe('192.0.2.20:2049');
  });

  it('network-health: the stall with its RTO intervals and the call that waited', async () => {
    const g = stalledRead();
    const r = await reportOf(g.capture);
    const stall = ofKind(r, 'network-health');
    expect(stall).toHaveLength(1);
    const f = stall[0]!;
    expect(f.severity).toBe('warning');
    expect(f.title).toBe('TCP stall of 25.2 s: the server resent a segment 7 times before it was acknowledged');
    expect((f.metrics['rtoIntervals'] as number[]).map((x) => Math.round(x * 10) / 10)).toEqual([0.4, 0.8, 1.6, 3.2, 6.4, 12.8]);
    expect(f.metrics).toMatchObject({ stalls: 1, longestStallResends: 7, serverStalls: 1, clientStalls: 0, callsDuring: 1 });
    expect(f.metrics['slowestCall']).toMatch(/^READ xid 0x00002000 frame \d+: 29\.6\d* s$/);
    expect(frames(f)).toEqual([g.call, g.rto[0], g.rto[1], g.rto[2], g.rto[3], g.rto[6], g.reply]);
    // The 9 go-back-N resends right after the stall are its recovery, not a loss rate of their own.
    expect(r.verdict.problems.map((p) => p.kind)).toEqual(['slow-ops', 'network-health']);
  });

  it('stalls counted per connection: two on one connection and one on another are 3 stalls on 2 connections', async () => {
    const c = new Capture();
    /** A READ whose reply's first segment is resent 4 times (RTO from 0.25 s: a 3.75 s stall) before the client acknowledges it. */
    const stallOn = (s: TcpSession, xid: number): void => {
      s.send('client', readCall(xid, 0, 65536));
      c.advance(0.001);
      const reply = readReply(xid, 65536);
      const base = s.nextSeq('server');
      const sent = s.send('server', reply.subarray(0, MSS), { ack: false });
      rtoBackoff(c, sent[0]!, 4, 0.25);
      s.ack('client', base + MSS);
      c.advance(0.001);
      s.send('server', reply.subarray(MSS));
      c.advance(0.5);
    };
    const one = new TcpSession(c, CLIENT, SERVER).handshake();
    const two = new TcpSession(c, { ...CLIENT, port: CLIENT.port + 1 }, SERVER).handshake();
    stallOn(one, 0x3000);
    stallOn(two, 0x3001);
    stallOn(one, 0x3002);
    const r = await reportOf(c);
    const stalls = ofKind(r, 'network-health');
    expect(stalls).toHaveLength(1);
    expect(stalls[0]!.metrics).toMatchObject({ stalls: 3, connections: 2, serverStalls: 3, clientStalls: 0 });
    // The count in the title; the explanation (three lines at most: readable()) gives the longest's intervals and the calls.
    expect(stalls[0]!.title).toBe('3 TCP stalls, 10.5 s in all; the longest, 3.5 s: the server resent a segment 4 times before it was acknowledged');
    expect(stalls[0]!.explanation).toBe(
      'The server resent it at growing intervals (0.5, 1, 2 s) before the client acknowledged it. 3 calls waited; the slowest, READ xid 0x00003000, took 3.75 s. Packets were lost (firewall, link down, MTU black hole) or the client stopped.',
    );
  });

  it('the clean counterpart: the same READs answered in 1.1 s give no finding', async () => {
    const r = await reportOf(stalledRead(false).capture);
    expect(r.findings).toEqual([]);
  });
});

/** WRITE calls of 16 KiB answered in 1 ms; during one, the server advertises a zero window for `closed` seconds. */
function zeroWindowWrites(closed: number): { capture: Capture; zero: number; open: number; call: number; reply: number } {
  const c = new Capture();
  const s = new TcpSession(c, CLIENT, SERVER).handshake();
  const write = (xid: number): Buffer => {
    const args = new XdrWriter().opaque(FH).u64(0).u32(16384).u32(0).u32(16384).fixed(Buffer.alloc(16384, 7)).bytes();
    return recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 7, cred: { machine: 'c' } }, args));
  };
  const ok = (xid: number): Buffer => recordMark(rpcAcceptedReply(xid, Buffer.alloc(120, 0)));
  let zero = 0;
  let open = 0;
  let call = 0;
  let reply = 0;
  for (let i = 0; i < 20; i++) {
    const data = write(0x3000 + i);
    if (i === 10) {
      s.send('client', data.subarray(0, 8 * MSS), { ack: false });
      zero = s.zeroWindow('server');
      c.advance(closed);
      open = s.openWindow('server');
      // The call is shown where its record completes (as Wireshark does).
      const rest = s.send('client', data.subarray(8 * MSS));
      call = rest[rest.length - 1]!;
    } else {
      s.send('client', data);
    }
    c.advance(0.001);
    const r = s.send('server', ok(0x3000 + i));
    if (i === 10) reply = r[0]!;
    c.advance(0.01);
  }
  return { capture: c, zero, open, call, reply };
}

describe('zero window', () => {
  it('the server stops reading for 3 s during a WRITE: which side, how long, the call delayed', async () => {
    const g = zeroWindowWrites(3);
    const r = await reportOf(g.capture);
    const zw = ofKind(r, 'network-health');
    expect(zw).toHaveLength(1);
    const f = zw[0]!;
    expect(f.severity).toBe('warning');
    expect(f.title).toBe('Zero window: the server 192.0.2.20 stopped reading for 3 s in 1 episode (longest 3 s)');
    expect(f.explanation).toContain('nfsd threads busy or storage too slow');
    expect(f.metrics).toMatchObject({ episodes: 1, serverEpisodes: 1, clientEpisodes: 0, callsDuring: 1 });
    expect(f.metrics['zeroWindowSeconds'] as number).toBeCloseTo(3, 4);
    expect(frames(f)).toEqual([g.zero, g.open, g.call, g.reply]);
    expect(f.explanation).toContain('WRITE xid 0x0000300a waited meanwhile and took 3 s');
    // rpc.time starts where the call is complete, after the window reopened: no slow call by that measure.
    expect(ofKind(r, 'slow-ops')).toEqual([]);
  });

  it('the clean counterpart: a 50 ms zero window is not reported', async () => {
    const r = await reportOf(zeroWindowWrites(0.05).capture);
    expect(r.findings).toEqual([]);
  });
});

/** 50 READs of 64 KiB; in `lossy` of them a server segment arrives late (lost before the capture point, then resent). */
function lossyReads(lossy: number, reorder = false): Capture {
  const c = new Capture();
  const s = new TcpSession(c, CLIENT, SERVER).handshake();
  for (let i = 0; i < 50; i++) {
    s.send('client', readCall(0x4000 + i, i * 65536, 65536));
    c.advance(0.002);
    const reply = readReply(0x4000 + i, 65536);
    const n = Math.ceil(reply.length / MSS);
    const order = [...Array(n).keys()];
    if (i < lossy) {
      // Segment 3 late: right after segment 4 (reordering), or after the whole reply (a retransmission).
      order.splice(3, 1);
      order.splice(reorder ? 4 : n - 1, 0, 3);
    }
    // A resend comes after the sender's retransmission timeout; a reordered segment right away.
    s.send('server', reply, { order, ...(i < lossy && !reorder ? { delays: { 3: 0.2 } } : {}) });
    c.advance(0.01);
  }
  return c;
}

describe('loss and reordering', () => {
  it('30 of 2,300 server segments resent: packet loss from the server', async () => {
    const r = await reportOf(lossyReads(30));
    expect(r.tcp.events['retransmission']).toBe(30);
    const nh = ofKind(r, 'network-health');
    expect(nh.map((f) => f.title)).toEqual(['Packet loss between 192.0.2.10 and 192.0.2.20: 30 segments resent (1.3% from the server)']);
    expect(nh[0]!.metrics).toMatchObject({ retransmissions: 30, serverRetransmissions: 30, clientRetransmissions: 0, serverDataSegments: 2300, connections: 1 });
    // 30 of 50 READs took 200 ms: the median, so no outliers, and under the data median floor.
    expect(ofKind(r, 'slow-ops')).toEqual([]);
  });

  it('one resend in 2,300 segments is a healthy link: no network finding, the 200 ms READ only a note', async () => {
    const r = await reportOf(lossyReads(1));
    expect(r.tcp.events['retransmission']).toBe(1);
    expect(r.findings.map((f) => [f.kind, f.severity, f.metrics['worstCause']])).toEqual([['slow-ops', 'info', 'retransmissions']]);
    expect(r.findings[0]!.explanation).toContain('TCP resent 1 reply segment: each lost packet cost a retransmission timeout');
    expect(r.verdict.status).toBe('no-problems');
  });

  it('segments swapped in flight: reordering, not loss', async () => {
    const r = await reportOf(lossyReads(30, true));
    expect(r.tcp.events['out-of-order']).toBe(30);
    expect(r.tcp.events['retransmission']).toBeUndefined();
    const nh = ofKind(r, 'network-health');
    expect(nh.map((f) => f.title)).toEqual(['Reordering between 192.0.2.10 and 192.0.2.20: 30 segments out of order (1.3%)']);
  });

  it('captures/lossy-read-cut.pcap: the server-to-client loss (tshark: 15 retransmissions, 9 lost segments)', async () => {
    const r = await reportOf(join(CAPTURES, 'lossy-read-cut.pcap'));
    const nh = ofKind(r, 'network-health');
    expect(nh).toHaveLength(1);
    const f = nh[0]!;
    expect(f.title).toMatch(/^Packet loss between 10\.99\.0\.2 and 10\.99\.0\.1: 15 segments resent \(/);
    // tshark -r captures/lossy-read-cut.pcap -Y tcp.analysis.retransmission: 15 frames, 10 of them 2049 → client (188 191 193 217 218 223 225 273 376 405 …).
    expect(f.metrics).toMatchObject({ retransmissions: 15, lostSegments: 9 });
    // The evidence is the loss, not the reordering: tshark -Y 'tcp.analysis.retransmission || tcp.analysis.lost_segment'
    // → 188 191 193 217 218 223 (retransmissions) 224 (lost) … 461 (the last, a retransmission).
    expect(frames(f)).toEqual([188, 191, 193, 217, 218, 223, 461]);
    expect(f.evidence[6]!.what).toBe('server retransmission');
  });
});

describe('slow calls: absolute floors, outliers, slow medians', () => {
  it('a GETATTR of 1.5 s among fast ones: over the metadata floor, explained as server latency', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x5000, 20);
    const [[call, reply]] = getattrs(s, 0x5100, 1, 1.5);
    const r = await reportOf(c);
    const slow = ofKind(r, 'slow-ops');
    expect(slow).toHaveLength(1);
    expect(slow[0]!.title).toBe(`GETATTR xid 0x00005100 took 1.5 s (frame ${call}): server latency`);
    expect(slow[0]!.explanation).toContain('TCP shows no loss, stall or zero window: the time was spent in the server');
    expect(frames(slow[0]!)).toEqual([call, reply]);
  });

  it('READs whose median is 3 s: the operation is slow as a rule', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    reads(s, 0x6000, 8, 4096, 3);
    const r = await reportOf(c);
    const slow = ofKind(r, 'slow-ops');
    expect(slow.map((f) => f.title)).toEqual(['READ is slow on 192.0.2.20:2049: median 3 s over 8 calls']);
    expect(slow[0]!.metrics).toMatchObject({ calls: 8, slowCalls: 8, causes: ['server ×8'] });
  });

  it('a GETATTR waiting across 120 s without any frame: the capture paused (or its clock stepped), a warning of low confidence, not an error', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x5000, 20);
    const [[call, reply]] = getattrs(s, 0x5100, 1, 120);
    const r = await reportOf(c);
    const slow = ofKind(r, 'slow-ops');
    expect(slow.map((f) => [f.severity, f.title, f.confidence, f.metrics['worstCause']])).toEqual([
      ['warning', `GETATTR xid 0x00005100 took 120 s (frame ${call}): capture pause or clock step`, 'low', 'capture-pause'],
    ]);
    expect(slow[0]!.explanation).toContain('no frame at all was captured for 120 s of it, on any connection');
    // The pause runs from the server's ACK of the call to the reply (each frame listed once).
    expect(frames(slow[0]!)).toEqual([call, call! + 1, reply]);
    expect(slow[0]!.evidence[1]!.what).toBe('the last frame before the capture goes silent');
  });

  it('the same wait with a TCP keepalive every 50 s, or with another connection busy: server latency, an error', async () => {
    const keepalive = new Capture();
    const s = new TcpSession(keepalive, CLIENT, SERVER).handshake();
    getattrs(s, 0x5000, 20);
    const [call] = s.send('client', getattrCall(0x5100));
    for (let i = 0; i < 2; i++) {
      keepalive.advance(50);
      s.ack('client');
    }
    keepalive.advance(20);
    s.send('server', okReply(0x5100));
    const busy = new Capture();
    const a = new TcpSession(busy, CLIENT, SERVER).handshake();
    const b = new TcpSession(busy, { addr: '192.0.2.11', port: 802 }, SERVER).handshake();
    getattrs(a, 0x5000, 20);
    const [call2] = a.send('client', getattrCall(0x5100));
    getattrs(b, 0x7000, 4, 0.001, 30);
    a.send('server', okReply(0x5100));
    for (const [capture, at] of [[keepalive, call], [busy, call2]] as const) {
      const slow = ofKind(await reportOf(capture), 'slow-ops');
      expect(slow.map((f) => [f.severity, f.metrics['worstCause'], f.metrics['worstFrame']])).toEqual([['error', 'server', at]]);
    }
  });

  it('a silence of 120 s ended by a TCP timer (a keep-alive; a SYN: a reconnect after its backoff) was lived, not lost: server latency', async () => {
    for (const end of ['keep-alive', 'syn'] as const) {
      const c = new Capture();
      const s = new TcpSession(c, CLIENT, SERVER).handshake();
      getattrs(s, 0x5000, 20);
      const [call] = s.send('client', getattrCall(0x5100));
      c.advance(120);
      if (end === 'keep-alive') s.keepAlive('client');
      else new TcpSession(c, { addr: CLIENT.addr, port: 802 }, SERVER).handshake();
      c.advance(1);
      s.send('server', okReply(0x5100));
      const r = await reportOf(c);
      expect(r.tcp.events['keep-alive'] ?? 0).toBe(end === 'keep-alive' ? 1 : 0);
      const slow = ofKind(r, 'slow-ops');
      expect(slow.map((f) => [f.severity, f.metrics['worstCause'], f.metrics['worstFrame']])).toEqual([['error', 'server', call]]);
    }
  });

  it('a pause of 70 s in a 100 s wait: below the default capturePauseSeconds (90), a pause at 60', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x5000, 20);
    s.send('client', getattrCall(0x5100));
    c.advance(30);
    s.ack('client');
    c.advance(70);
    s.send('server', okReply(0x5100));
    const cause = (r: Report): unknown[] => ofKind(r, 'slow-ops').map((f) => f.metrics['worstCause']);
    expect(cause(await reportOf(c))).toEqual(['server']);
    expect(cause(await reportOf(c, { detectorOptions: { capturePauseSeconds: 60 } }))).toEqual(['capture-pause']);
  });

  it('options: a higher metadata floor and factor keep the 1.5 s GETATTR quiet', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x5000, 20);
    getattrs(s, 0x5100, 1, 1.5);
    const r = await reportOf(c, { detectorOptions: { slowMetadataSeconds: 2, slowOpsFactor: 100000 } });
    expect(ofKind(r, 'slow-ops')).toEqual([]);
  });
});
