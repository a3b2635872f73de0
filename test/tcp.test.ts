import { describe, expect, it } from 'vitest';
import { snapshotFrameRef, type FrameRef } from '../src/capture/frame.js';
import type { IpPacket } from '../src/net/packet.js';
import type {
  StreamConsumer,
  StreamControl,
  StreamEndReason,
  TcpConnection,
  TcpEvent,
  TcpEventKind,
  TransportHandler,
  UdpDatagram,
} from '../src/transport/stream.js';
import { TcpHeader, TCP_ACK, TCP_SYN } from '../src/transport/tcp-header.js';
import { TcpReassembler, type TcpOptions } from '../src/transport/tcp-reassembly.js';
import { Transport } from '../src/transport/transport.js';
import { udpDatagramLength } from '../src/transport/udp.js';
import {
  ACK, FIN, IPPROTO_UDP, PSH, PacketFeeder, RST, SYN, ipPacket, tcpSegment, udpDatagram,
} from './gen/tcp.js';
import { rng as mulberry32 } from './gen/random.js';

// ---------------------------------------------------------------------------
// Recording handler

type Call =
  | { t: 'data'; off: number; bytes: Buffer; frame: number }
  | { t: 'gap'; off: number; len: number; frame: number }
  | { t: 'end'; reason: StreamEndReason; frame: number | undefined };

/** Records one direction, and checks the contract on every call. */
class StreamRec implements StreamConsumer {
  calls: Call[] = [];
  violations: string[] = [];
  pos = 0;
  ended = 0;
  /** When set, in-order data must be a view of this packet's bytes (no copy). */
  zeroCopyOf: IpPacket | undefined;
  zeroCopyViews = 0;

  data(buf: Buffer, start: number, end: number, offset: number, at: FrameRef): void {
    const bytes = buf.subarray(start, end);
    if (this.ended) this.violations.push(`data after end at ${offset}`);
    if (offset !== this.pos) this.violations.push(`data at ${offset}, expected ${this.pos}`);
    if (bytes.length === 0) this.violations.push(`empty data at ${offset}`);
    const last = this.calls[this.calls.length - 1];
    if (last?.t === 'data' && last.frame === at.number) this.violations.push(`two data calls for frame ${at.number}`);
    if (this.zeroCopyOf && buf === this.zeroCopyOf.buf) this.zeroCopyViews++;
    this.calls.push({ t: 'data', off: offset, bytes: Buffer.from(bytes), frame: at.number });
    this.pos = offset + bytes.length;
  }

  gap(length: number, offset: number, at: FrameRef): void {
    if (this.ended) this.violations.push(`gap after end at ${offset}`);
    if (offset !== this.pos) this.violations.push(`gap at ${offset}, expected ${this.pos}`);
    if (!(length > 0)) this.violations.push(`bad gap length ${length}`);
    this.calls.push({ t: 'gap', off: offset, len: length, frame: at.number });
    this.pos = offset + length;
  }

  end(reason: StreamEndReason, at: FrameRef | undefined): void {
    if (this.ended) this.violations.push(`second end (${reason})`);
    this.ended++;
    this.calls.push({ t: 'end', reason, frame: at?.number });
  }

  /** Data as latin1 text, gaps as `[gap N]`. */
  get text(): string {
    return this.calls
      .map((c) => (c.t === 'data' ? c.bytes.toString('latin1') : c.t === 'gap' ? `[gap ${c.len}]` : ''))
      .join('');
  }

  get bytes(): Buffer {
    return Buffer.concat(this.calls.flatMap((c) => (c.t === 'data' ? [c.bytes] : [])));
  }

  get endReason(): StreamEndReason | undefined {
    const e = this.calls.find((c) => c.t === 'end');
    return e?.t === 'end' ? e.reason : undefined;
  }

  /** Compact call list: "d0+5@1" = data at 0, 5 bytes, frame 1; "g5+5@3"; "end:fin". */
  get shape(): string[] {
    return this.calls.map((c) =>
      c.t === 'data' ? `d${c.off}+${c.bytes.length}@${c.frame}` : c.t === 'gap' ? `g${c.off}+${c.len}@${c.frame}` : `end:${c.reason}`,
    );
  }
}

class Recorder implements TransportHandler {
  conns: { conn: TcpConnection; streams: [StreamRec, StreamRec]; control: StreamControl }[] = [];
  events: TcpEvent[] = [];
  datagrams: (Omit<UdpDatagram, 'payload' | 'at'> & { payload: Buffer; at: FrameRef })[] = [];

  openConnection(conn: TcpConnection, control: StreamControl): [StreamConsumer, StreamConsumer] {
    const streams: [StreamRec, StreamRec] = [new StreamRec(), new StreamRec()];
    this.conns.push({ conn, streams, control });
    return streams;
  }

  datagram(d: UdpDatagram): void {
    this.datagrams.push({ src: d.src, dst: d.dst, wireLength: d.wireLength, payload: Buffer.from(d.payload), at: snapshotFrameRef(d.at) });
  }

  tcpEvent(e: TcpEvent): void {
    this.events.push(e);
  }

  stream(conn: number, dir: 0 | 1): StreamRec {
    return this.conns[conn]!.streams[dir];
  }

  ev(kind: TcpEventKind): { conn: number; dir: number; bytes: number; offset: number; frame: number }[] {
    return this.events
      .filter((e) => e.kind === kind)
      .map((e) => ({ conn: e.conn.id, dir: e.direction, bytes: e.bytes, offset: e.offset, frame: e.at.number }));
  }

  get violations(): string[] {
    return this.conns.flatMap((c) => [...c.streams[0].violations, ...c.streams[1].violations]);
  }
}

// ---------------------------------------------------------------------------
// A client/server session fed through one reused frame / packet / buffer

const CLI = '10.0.0.1';
const SRV = '10.0.0.2';
const CPORT = 871;
const SPORT = 2049;
const C0 = 1000; // client ISN
const S0 = 5000; // server ISN

interface SendOpts {
  ack?: number;
  window?: number;
  /** Captured payload bytes (the snaplen cut the rest). */
  capture?: number;
  /** Captured l4 bytes (may cut the header). */
  snapL4?: number;
  cport?: number;
}

class Session {
  rec = new Recorder();
  tcp: TcpReassembler;
  feeder: PacketFeeder;

  constructor(opts?: Partial<TcpOptions>) {
    this.tcp = new TcpReassembler(this.rec, opts);
    this.feeder = new PacketFeeder((p) => this.tcp.segment(p));
  }

  send(fromClient: boolean, seq: number, flags: number, payload: Buffer | string, o: SendOpts = {}): number {
    const cport = o.cport ?? CPORT;
    const l4 = tcpSegment(
      {
        srcPort: fromClient ? cport : SPORT,
        dstPort: fromClient ? SPORT : cport,
        seq: seq >>> 0,
        ack: o.ack === undefined ? 0 : o.ack >>> 0,
        flags: o.ack === undefined ? flags : flags | ACK,
        window: o.window,
      },
      payload,
    );
    const snap = o.snapL4 ?? (o.capture !== undefined ? 20 + o.capture : undefined);
    return this.feeder.feed(l4, { src: fromClient ? CLI : SRV, dst: fromClient ? SRV : CLI, snap });
  }

  c(seq: number, flags: number, payload: Buffer | string = '', o: SendOpts = {}): number {
    return this.send(true, seq, flags, payload, o);
  }

  s(seq: number, flags: number, payload: Buffer | string = '', o: SendOpts = {}): number {
    return this.send(false, seq, flags, payload, o);
  }

  /** SYN, SYN/ACK, ACK: client data starts at C0+1, server data at S0+1. */
  handshake(): void {
    this.c(C0, SYN);
    this.s(S0, SYN, '', { ack: C0 + 1 });
    this.c(C0 + 1, 0, '', { ack: S0 + 1 });
  }

  get client(): StreamRec {
    return this.rec.stream(0, 0);
  }

  get server(): StreamRec {
    return this.rec.stream(0, 1);
  }
}

// ---------------------------------------------------------------------------

describe('TCP header', () => {
  it('parses fields and skips options', () => {
    const b = tcpSegment(
      { srcPort: 0xfedc, dstPort: 2049, seq: 0xfffffffe, ack: 0x80000001, flags: SYN | ACK, window: 1234, options: Buffer.from([2, 4, 5, 0xb4, 4, 2]) },
      'xyz',
    );
    const h = new TcpHeader();
    expect(h.parse(b)).toBe(true);
    expect(h).toMatchObject({ srcPort: 0xfedc, dstPort: 2049, seq: 0xfffffffe, ack: 0x80000001, headerLen: 28, flags: TCP_SYN | TCP_ACK, window: 1234 });
    expect(b.subarray(h.headerLen).toString()).toBe('xyz');
    expect(h.parse(b.subarray(0, 27))).toBe(false); // options cut
    expect(h.parse(b.subarray(0, 19))).toBe(false);
    const bad = Buffer.from(b);
    bad[12] = 4 << 4; // data offset below 5 words
    expect(h.parse(bad)).toBe(false);
  });

  it('UDP length checks', () => {
    const d = udpDatagram(1, 2, 'abcd');
    expect(udpDatagramLength(d, 12, 4)).toBe(12);
    expect(udpDatagramLength(d, 20, 4)).toBe(12); // IP payload has padding
    expect(udpDatagramLength(d, 10, 4)).toBe(-1); // UDP claims more than IP
    expect(udpDatagramLength(d.subarray(0, 7), 12, 4)).toBe(-1);
    const jumbo = Buffer.from(d);
    jumbo.writeUInt16BE(0, 4);
    expect(udpDatagramLength(jumbo, 12, 6)).toBe(12);
    expect(udpDatagramLength(jumbo, 12, 4)).toBe(-1);
  });
});

describe('TCP reassembly: closed connections remembered', () => {
  it('beyond closedLingerSec: a SYN on the 4-tuple 120 s after its RST is a port reuse, a segment without SYN a straggler only within the linger', () => {
    const t = new Session({ closedLingerSec: 60 });
    t.handshake();
    t.s(S0 + 1, RST); // 4
    t.feeder.tsSec += 120;
    // Another connection opens and closes meanwhile (a close is when the remembered ones could be let go).
    t.c(C0, PSH, 'x', { cport: 900 }); // 5
    t.s(S0, RST, '', { cport: 900 }); // 6
    expect(t.tcp.closedRemembered).toBe(2);
    t.c(C0 + 9000, SYN); // 7
    expect(t.rec.conns.length).toBe(3);
    expect(t.rec.ev('port-reuse')).toEqual([{ conn: 2, dir: 0, bytes: 0, offset: -1, frame: 7 }]);
    expect(t.tcp.closedRemembered).toBe(1);
    t.s(S0 + 7000, RST); // 8: closes the third
    t.feeder.tsSec += 30;
    t.c(C0 + 9001, PSH, 'late'); // 9: 30 s after: a straggler of the third
    expect(t.rec.conns.length).toBe(3);
    t.feeder.tsSec += 31;
    t.c(C0 + 9001, PSH, 'later'); // 10: 61 s after: a new connection, mid-stream
    expect(t.rec.conns.length).toBe(4);
  });
});

describe('TCP reassembly: in order', () => {
  it('handshake, data both ways, FIN both ways + final ACK frees the connection', () => {
    const t = new Session();
    t.handshake(); // frames 1-3
    t.c(C0 + 1, PSH, 'hello ', { ack: S0 + 1 }); // 4
    t.c(C0 + 7, PSH, 'world', { ack: S0 + 1 }); // 5
    t.s(S0 + 1, PSH, 'reply', { ack: C0 + 12 }); // 6
    t.c(C0 + 12, FIN, '', { ack: S0 + 6 }); // 7
    expect(t.client.endReason).toBe('fin');
    expect(t.tcp.openConnections).toBe(1);
    t.s(S0 + 6, FIN, '', { ack: C0 + 13 }); // 8
    expect(t.server.endReason).toBe('fin');
    expect(t.tcp.openConnections).toBe(1);
    t.c(C0 + 13, 0, '', { ack: S0 + 7 }); // 9: final ACK
    expect(t.tcp.openConnections).toBe(0);

    const { conn } = t.rec.conns[0]!;
    expect(conn).toMatchObject({ id: 0, a: { addr: CLI, port: CPORT }, b: { addr: SRV, port: SPORT }, midstream: false });
    expect(conn.firstFrame.number).toBe(1);
    expect(t.client.shape).toEqual(['d0+6@4', 'd6+5@5', 'end:fin']);
    expect(t.client.text).toBe('hello world');
    expect(t.server.shape).toEqual(['d0+5@6', 'end:fin']);
    // No analysis event; the FIN of each side (at its stream offset) and the connection's end.
    expect(t.rec.events.map((e) => [e.kind, e.direction, e.at.number, e.offset])).toEqual([
      ['connection-start', 0, 1, -1],
      ['fin', 0, 7, 11],
      ['fin', 1, 8, 5],
      ['connection-end', 0, 9, -1],
    ]);
    // Segments per direction: SYN, ACK, 2 data, FIN, final ACK from the client; SYN/ACK, data, FIN from the server.
    expect(conn.segments).toEqual([6, 3]);
    expect(conn.dataSegments).toEqual([2, 1]);
    expect(t.rec.violations).toEqual([]);
    expect(t.tcp.stats).toMatchObject({
      connections: 1, segments: 9, payloadBytes: 16, deliveredBytes: 16, gapBytes: 0,
      retransmittedBytes: 0, outOfOrderSegments: 0, malformed: 0, maxBufferedBytes: 0,
    });
    // Stragglers of the closed connection do not open a new one.
    t.s(S0 + 6, FIN, '', { ack: C0 + 13 });
    expect(t.rec.conns.length).toBe(1);
    expect(t.tcp.stats.ignoredSegments).toBe(1);
  });

  it('hands in-order payload over as a view of the packet, not a copy', () => {
    const t = new Session();
    t.handshake();
    t.client.zeroCopyOf = t.feeder.pkt;
    for (let i = 0; i < 10; i++) t.c(C0 + 1 + i * 3, 0, 'abc', { ack: S0 + 1 });
    expect(t.client.zeroCopyViews).toBe(10);
    expect(t.client.text).toBe('abc'.repeat(10));
  });

  it('delivers SYN payload (TCP Fast Open) after the SYN sequence number', () => {
    const t = new Session();
    t.c(C0, SYN, 'early');
    t.c(C0 + 6, 0, 'late');
    expect(t.client.shape).toEqual(['d0+5@1', 'd5+4@2']);
  });
});

describe('TCP reassembly: out of order and retransmissions', () => {
  it('buffers a segment ahead of a hole, copies it, and delivers it when the hole fills', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa'); // 4
    t.c(C0 + 11, 0, 'ccccc'); // 5: ahead
    expect(t.client.text).toBe('aaaaa');
    expect(t.tcp.stats.bufferedBytes).toBe(5);
    t.c(C0 + 6, 0, 'bbbbb'); // 6: fills
    expect(t.client.shape).toEqual(['d0+5@4', 'd5+5@6', 'd10+5@5']);
    expect(t.client.text).toBe('aaaaabbbbbccccc');
    // Wireshark's view: frame 5 skips [5,10) ("previous segment not captured"),
    // frame 6 fills it right after (within 3 ms): out-of-order.
    expect(t.rec.ev('lost-segment')).toEqual([{ conn: 0, dir: 0, bytes: 5, offset: 5, frame: 5 }]);
    expect(t.rec.ev('out-of-order')).toEqual([{ conn: 0, dir: 0, bytes: 5, offset: 5, frame: 6 }]);
    // Reassembly's view: one segment had to wait for the hole.
    expect(t.tcp.stats).toMatchObject({ outOfOrderSegments: 1, maxBufferedBytes: 5, bufferedBytes: 0, deliveredBytes: 15 });
    expect(t.rec.violations).toEqual([]);
  });

  it('delivers a full retransmission once and reports it', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'abcdef');
    t.c(C0 + 1, 0, 'abcdef'); // 5
    t.c(C0 + 7, 0, 'gh');
    expect(t.client.text).toBe('abcdefgh');
    expect(t.rec.ev('retransmission')).toEqual([{ conn: 0, dir: 0, bytes: 6, offset: 0, frame: 5 }]);
    expect(t.tcp.stats.retransmittedBytes).toBe(6);
  });

  it('delivers only the new suffix of a partially overlapping segment', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, '0123456789'); // 4
    t.c(C0 + 6, 0, '56789ABCDE'); // 5
    expect(t.client.shape).toEqual(['d0+10@4', 'd10+5@5']);
    expect(t.client.text).toBe('0123456789ABCDE');
    expect(t.tcp.stats.retransmittedBytes).toBe(5);
    // For Wireshark a segment starting below the highest sequence number seen,
    // less than 3 ms after it (no handshake RTT here), is out-of-order.
    expect(t.rec.ev('out-of-order')).toEqual([{ conn: 0, dir: 0, bytes: 10, offset: 5, frame: 5 }]);
    expect(t.rec.ev('retransmission')).toEqual([]);
  });

  it('resolves overlaps among buffered segments, and drops exact duplicates of buffered ones', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 11, 0, 'ABCDEFGHIJ'); // 4: [10,20)
    t.c(C0 + 16, 0, 'FGHIJKLMNO'); // 5: [15,25)
    t.c(C0 + 11, 0, 'ABCDEFGHIJ'); // 6: duplicate of a buffered one
    expect(t.tcp.stats.bufferedBytes).toBe(20);
    expect(t.tcp.stats.outOfOrderSegments).toBe(2);
    t.c(C0 + 1, 0, '0123456789'); // 7: [0,10)
    expect(t.client.text).toBe('0123456789ABCDEFGHIJKLMNO');
    expect(t.client.shape).toEqual(['d0+10@7', 'd10+10@4', 'd20+5@5']);
    // Bytes held twice: all of frame 6, and the 5 bytes of frame 5 that frame 4 covered.
    expect(t.tcp.stats.retransmittedBytes).toBe(15);
    // Wireshark: frame 4 skips [0,10); 5, 6 and 7 start below the highest
    // sequence number seen, within 3 ms of it: out-of-order.
    expect(t.rec.ev('lost-segment').map((e) => e.frame)).toEqual([4]);
    expect(t.rec.ev('out-of-order').map((e) => e.frame)).toEqual([5, 6, 7]);
    expect(t.rec.ev('retransmission')).toEqual([]);
    expect(t.tcp.stats.bufferedBytes).toBe(0);
    expect(t.rec.violations).toEqual([]);
  });
});

describe('TCP reassembly: gaps', () => {
  /** Client bytes [0,5) in frame 4 and [10,15) in frame 5 ([5,10) never captured); frame 6: the server ACKs all 15. */
  function holeAckedPast(): Session {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa');
    t.c(C0 + 11, 0, 'ccccc');
    t.s(S0 + 1, 0, '', { ack: C0 + 16 });
    return t;
  }

  it('declares a hole the peer ACKed beyond lost when asked, dated by the ACK', () => {
    const t = holeAckedPast();
    // A late segment may still fill the hole: nothing declared yet.
    expect(t.client.shape).toEqual(['d0+5@4']);
    expect(t.rec.ev('gap')).toEqual([]);
    t.s(S0 + 1, 0, '', { ack: C0 + 26 }); // 7: an ACK beyond everything seen (the tail was lost too)
    t.c(C0 + 26, 0, 'ddd'); // 8: waits behind the holes
    expect(t.client.shape).toEqual(['d0+5@4']);
    t.rec.conns[0]!.control.releaseAcknowledged(0);
    // Released: each hole a gap dated by the first ACK past it; the bytes behind keep their frames.
    expect(t.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5', 'g15+10@6', 'd25+3@8']);
    expect(t.rec.ev('gap')).toEqual([
      { conn: 0, dir: 0, bytes: 5, offset: 5, frame: 6 },
      { conn: 0, dir: 0, bytes: 10, offset: 15, frame: 6 },
    ]);
    expect(t.tcp.stats.gapBytes).toBe(15);
    // The late retransmission of lost bytes is not delivered after the fact.
    t.c(C0 + 6, 0, 'bbbbb');
    expect(t.client.text).toBe('aaaaa[gap 5]ccccc[gap 10]ddd');
    expect(t.tcp.stats.retransmittedBytes).toBe(5);
    // Releasing again (nothing acknowledged beyond) changes nothing; the other direction has nothing to release.
    t.rec.conns[0]!.control.releaseAcknowledged(0);
    t.rec.conns[0]!.control.releaseAcknowledged(1);
    expect(t.client.text).toBe('aaaaa[gap 5]ccccc[gap 10]ddd');
    expect(t.rec.violations).toEqual([]);
  });

  it('delivers a hole the peer ACKed beyond when a late segment fills it (spurious retransmission, merged capture)', () => {
    const t = holeAckedPast();
    t.c(C0 + 6, 0, 'bbbbb'); // 7: fills the hole
    expect(t.client.shape).toEqual(['d0+5@4', 'd5+5@7', 'd10+5@5']);
    expect(t.rec.ev('gap')).toEqual([]);
    // Nothing is left to release.
    t.rec.conns[0]!.control.releaseAcknowledged(0);
    expect(t.client.text).toBe('aaaaabbbbbccccc');
    expect(t.rec.violations).toEqual([]);
  });

  it('awaits an ACKed hole only so long: bytes waiting behind it, or capture time since the ACK', () => {
    // Bytes: more than ackedHoleWaitBytes arrived behind the hole after the ACK.
    const t = new Session({ ackedHoleWaitBytes: 8 });
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa'); // 4
    t.c(C0 + 11, 0, 'ccccc'); // 5: 5 bytes wait ([5,10) never captured)
    t.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 6: the server got everything
    t.c(C0 + 16, 0, 'ddddd'); // 7: 5 bytes more since the ACK
    expect(t.client.shape).toEqual(['d0+5@4']);
    t.c(C0 + 21, 0, 'eeeee'); // 8: 10 bytes more
    expect(t.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5', 'd15+5@7', 'd20+5@8']);
    // Time: a segment of the connection more than ackedHoleWaitSec after the first ACK past the hole.
    const u = new Session({ ackedHoleWaitSec: 2 });
    u.handshake();
    u.c(C0 + 1, 0, 'aaaaa'); // 4
    u.c(C0 + 11, 0, 'ccccc'); // 5
    u.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 6
    u.feeder.tsSec += 1;
    u.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 7: 1 s later, still waiting
    expect(u.client.shape).toEqual(['d0+5@4']);
    u.feeder.tsSec += 2;
    u.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 8: 3 s after the ACK
    expect(u.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5']);
    expect(t.rec.violations.concat(u.rec.violations)).toEqual([]);
  });

  it('awaits an ACKed hole exactly up to its bounds: at ackedHoleWaitBytes or ackedHoleWaitSec it waits, one byte or one nanosecond more and it gives up', () => {
    const t = new Session({ ackedHoleWaitBytes: 10 });
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa'); // 4
    t.c(C0 + 11, 0, 'ccccc'); // 5: 5 bytes wait before the ACK
    t.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 6
    t.c(C0 + 16, 0, 'ddddd'); // 7
    t.c(C0 + 21, 0, 'eeeee'); // 8: exactly 10 bytes more since the ACK
    expect(t.client.shape).toEqual(['d0+5@4']);
    t.c(C0 + 26, 0, 'f'); // 9: 11
    expect(t.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5', 'd15+5@7', 'd20+5@8', 'd25+1@9']);
    const u = new Session({ ackedHoleWaitSec: 2 });
    u.handshake();
    u.c(C0 + 1, 0, 'aaaaa'); // 4
    u.c(C0 + 11, 0, 'ccccc'); // 5
    u.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 6
    u.feeder.tsSec += 2;
    u.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 7: exactly 2 s after the ACK
    expect(u.client.shape).toEqual(['d0+5@4']);
    u.feeder.tsNsec += 1;
    u.s(S0 + 1, 0, '', { ack: C0 + 16 }); // 8
    expect(u.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5']);
    expect(t.rec.violations.concat(u.rec.violations)).toEqual([]);
  });

  it('a hole of one byte at the very start of a stream, ACKed: the gap is dated by the ACK', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 2, 0, 'b'); // 4: byte 0 was never captured
    t.s(S0 + 1, 0, '', { ack: C0 + 2 }); // 5: the server got byte 0
    t.c(C0 + 3, FIN); // 6: nothing can fill it now
    expect(t.client.shape).toEqual(['g0+1@5', 'd1+1@4', 'end:fin']);
    expect(t.rec.violations).toEqual([]);
  });

  it('forgets an ACKed hole a late segment filled: a later hole is awaited from its own ACK', () => {
    const t = new Session({ ackedHoleWaitBytes: 8 });
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa'); // 4
    t.s(S0 + 1, 0, '', { ack: C0 + 11 }); // 5: ACK past [5, 10) while nothing waits behind it
    t.c(C0 + 6, 0, 'bbbbb'); // 6: the late segment fills the hole, exactly up to the ACK
    t.c(C0 + 16, 0, 'ddddd'); // 7: a new hole [10, 15), 5 bytes wait
    t.s(S0 + 1, 0, '', { ack: C0 + 21 }); // 8: ACK past it; its wait counts from the 5 bytes waiting now
    t.c(C0 + 21, 0, 'eeeee'); // 9: 5 bytes more since that ACK (10 since the first one)
    expect(t.client.shape).toEqual(['d0+5@4', 'd5+5@6']);
    t.c(C0 + 11, 0, 'ccccc'); // 10: fills the second hole
    expect(t.client.shape).toEqual(['d0+5@4', 'd5+5@6', 'd10+5@10', 'd15+5@7', 'd20+5@9']);
    expect(t.rec.ev('gap')).toEqual([]);
    // A late segment filling only part of a hole does not end its wait: the rest is still given up in time, dated by the ACK.
    const u = new Session({ ackedHoleWaitSec: 2 });
    u.handshake();
    u.c(C0 + 1, 0, 'aaaaa'); // 4
    u.c(C0 + 16, 0, 'ddddd'); // 5: [5, 15) not yet seen
    u.s(S0 + 1, 0, '', { ack: C0 + 21 }); // 6
    u.c(C0 + 6, 0, 'bbbbb'); // 7: fills [5, 10)
    u.feeder.tsSec += 3;
    u.s(S0 + 1, 0, '', { ack: C0 + 21 }); // 8
    expect(u.client.shape).toEqual(['d0+5@4', 'd5+5@7', 'g10+5@6', 'd15+5@5']);
    expect(t.rec.violations.concat(u.rec.violations)).toEqual([]);
  });

  it("declares an ACKed hole lost at the connection end and at the sender's FIN", () => {
    const t = holeAckedPast();
    t.s(S0 + 1, 0, 'reply', { ack: C0 + 16 }); // 7: server data does not release the client's hole
    expect(t.client.shape).toEqual(['d0+5@4']);
    t.c(C0 + 16, FIN, '', { ack: S0 + 6 }); // 8
    expect(t.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5', 'end:fin']);
    const u = holeAckedPast();
    u.tcp.finish();
    expect(u.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5', 'end:capture-end']);
    expect(t.rec.violations.concat(u.rec.violations)).toEqual([]);
  });

  it('declares the first hole lost when the per-direction buffer overflows', () => {
    const t = new Session({ maxBufferedPerDirection: 100 });
    t.handshake();
    t.c(C0 + 1, 0, 'x'.repeat(10)); // 4: [0,10)
    t.c(C0 + 21, 0, 'a'.repeat(40)); // 5: [20,60)
    t.c(C0 + 61, 0, 'b'.repeat(40)); // 6: [60,100)
    expect(t.client.pos).toBe(10);
    t.c(C0 + 101, 0, 'c'.repeat(40)); // 7: [100,140) → 120 buffered > 100
    expect(t.client.shape).toEqual(['d0+10@4', 'g10+10@7', 'd20+40@5', 'd60+40@6', 'd100+40@7']);
    expect(t.tcp.stats).toMatchObject({ maxBufferedBytes: 120, bufferedBytes: 0, gapBytes: 10 });
    expect(t.rec.ev('gap')).toEqual([{ conn: 0, dir: 0, bytes: 10, offset: 10, frame: 7 }]);
  });

  it('respects the overall buffer bound across connections', () => {
    const t = new Session({ maxBufferedTotal: 100 });
    t.c(C0, SYN, '', { cport: 1 });
    t.c(C0, SYN, '', { cport: 2 });
    t.c(C0 + 11, 0, 'a'.repeat(60), { cport: 1 }); // conn 0 buffers 60
    t.c(C0 + 11, 0, 'b'.repeat(60), { cport: 2 }); // conn 1: 120 total → conn 1 gives up its hole
    expect(t.rec.stream(0, 0).text).toBe('');
    expect(t.rec.stream(1, 0).text).toBe(`[gap 10]${'b'.repeat(60)}`);
    expect(t.tcp.stats.bufferedBytes).toBe(60);
    t.tcp.finish();
    expect(t.rec.stream(0, 0).text).toBe(`[gap 10]${'a'.repeat(60)}`);
  });

  it('declares holes lost at FIN', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa'); // 4
    t.c(C0 + 11, FIN, 'ccccc'); // 5: FIN after a hole
    expect(t.client.shape).toEqual(['d0+5@4', 'g5+5@5', 'd10+5@5', 'end:fin']);
    // A bare FIN ahead of the data: the bytes before it are lost.
    t.s(S0 + 1, 0, 'xy'); // 6
    t.s(S0 + 7, FIN, ''); // 7
    expect(t.server.shape).toEqual(['d0+2@6', 'g2+4@7', 'end:fin']);
    expect(t.rec.violations).toEqual([]);
  });

  it('declares holes lost at the end of the capture', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'aaaaa'); // 4
    t.c(C0 + 11, 0, 'ccccc'); // 5
    t.c(C0 + 21, 0, 'eeeee'); // 6
    t.tcp.finish();
    expect(t.client.shape).toEqual(['d0+5@4', 'g5+5@6', 'd10+5@5', 'g15+5@6', 'd20+5@6', 'end:capture-end']);
    expect(t.server.shape).toEqual(['end:capture-end']);
    expect(t.tcp.openConnections).toBe(0);
    expect(t.tcp.stats.gapBytes).toBe(10);
  });
});

describe('TCP reassembly: snaplen truncation', () => {
  it('delivers the captured part, then the rest as a gap; never joins across it', () => {
    const t = new Session();
    t.handshake();
    const p = Buffer.from('0123456789'.repeat(10));
    t.c(C0 + 1, 0, p, { capture: 30 }); // 4: 100 bytes on the wire, 30 captured
    t.c(C0 + 101, 0, 'next'); // 5
    expect(t.client.shape).toEqual(['d0+30@4', 'g30+70@4', 'd100+4@5']);
    expect(t.client.bytes.toString()).toBe(p.subarray(0, 30).toString() + 'next');
    expect(t.rec.ev('snaplen-gap')).toEqual([{ conn: 0, dir: 0, bytes: 70, offset: 30, frame: 4 }]);
    expect(t.tcp.stats).toMatchObject({ payloadBytes: 104, deliveredBytes: 34, gapBytes: 70 });
  });

  it('a segment with the header but no payload captured is all gap; a cut header is malformed', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'abcdefgh', { capture: 0 }); // 4
    t.c(C0 + 9, 0, 'ij', { snapL4: 12 }); // header cut: malformed, ignored
    t.c(C0 + 9, 0, 'ij'); // 6
    expect(t.client.shape).toEqual(['g0+8@4', 'd8+2@6']);
    expect(t.tcp.stats.malformed).toBe(1);
  });

  it('handles truncated segments that were buffered out of order', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 11, 0, 'ABCDEFGHIJ', { capture: 4 }); // 4: [10,20), 4 captured
    t.c(C0 + 21, 0, 'KL'); // 5
    t.c(C0 + 1, 0, '0123456789'); // 6
    expect(t.client.shape).toEqual(['d0+10@6', 'd10+4@4', 'g14+6@6', 'd20+2@5']);
    expect(t.client.text).toBe('0123456789ABCD[gap 6]KL');
    // A full copy arriving later is a retransmission, not delivered again.
    t.c(C0 + 11, 0, 'ABCDEFGHIJ');
    expect(t.tcp.stats.retransmittedBytes).toBe(10);
    expect(t.rec.violations).toEqual([]);
  });

  it('prefers a better-captured copy over a truncated buffered one', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 11, 0, 'ABCDEFGHIJ', { capture: 2 }); // 4
    t.c(C0 + 11, 0, 'ABCDEFGHIJ'); // 5: same segment, fully captured
    t.c(C0 + 1, 0, '0123456789'); // 6
    // The first (truncated) copy is delivered first; the full copy supplies nothing
    // new before the truncated one's gap is declared (bytes are never joined across it).
    expect(t.client.text).toBe('0123456789AB[gap 8]');
    expect(t.client.shape).toEqual(['d0+10@6', 'd10+2@4', 'g12+8@6']);
    expect(t.tcp.stats.retransmittedBytes).toBe(10);
  });
});

describe('TCP reassembly: sequence numbers', () => {
  it('wraps around 2^32, with out-of-order segments around the wrap', () => {
    const t = new Session();
    const isn = 0xfffffff0;
    t.c(isn, SYN); // data starts at 0xfffffff1
    t.s(S0, SYN, '', { ack: isn + 1 });
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
    const seg = (from: number, to: number): void => {
      t.c((isn + 1 + from) >>> 0, 0, data.subarray(from, to), { ack: S0 + 1 });
    };
    seg(20, 36); // ahead, past the wrap
    seg(10, 20); // crosses the wrap (0xfffffffb + 10), still ahead
    seg(0, 10); // fills
    expect(t.client.text).toBe(data.toString());
    expect(t.client.shape).toEqual(['d0+10@5', 'd10+10@4', 'd20+16@3']);
    // ACK after the wrap is understood: it covers everything, no gap and no unacked data.
    t.s(S0 + 1, 0, '', { ack: (isn + 1 + 36) >>> 0 });
    t.tcp.finish();
    expect(t.rec.ev('gap')).toEqual([]);
    expect(t.rec.ev('unacked-data')).toEqual([]);
  });

  it('counts stream offsets beyond 2^32', () => {
    const t = new Session();
    const x = 0x7000_0000;
    t.c(x, 0, 'ab'); // mid-stream, offset 0
    let seq = x + 2;
    for (let i = 0; i < 5; i++) {
      seq = (seq + 2 ** 30) >>> 0;
      t.s(S0, 0, '', { ack: seq }); // each ACK jumps 1 GiB beyond: lost
    }
    t.c(seq, 0, 'cd');
    t.rec.conns[0]!.control.releaseAcknowledged(0);
    expect(t.client.shape).toEqual(['d0+2@1', `g2+${5 * 2 ** 30}@2`, `d${2 + 5 * 2 ** 30}+2@7`]);
    const last = t.client.calls[t.client.calls.length - 1]!;
    expect(last).toMatchObject({ t: 'data', off: 2 + 5 * 2 ** 30 });
    expect(2 + 5 * 2 ** 30).toBeGreaterThan(2 ** 32);
    expect(t.rec.violations).toEqual([]);
  });

  it('starts a mid-stream capture at the first segment of each direction', () => {
    const t = new Session();
    t.s(777777, PSH, 'server first', { ack: 123456 });
    t.c(123456, PSH, 'client', { ack: 777789 });
    t.s(777789, PSH, '!', { ack: 123462 });
    const { conn } = t.rec.conns[0]!;
    // Side A is the sender of the first segment.
    expect(conn).toMatchObject({ a: { addr: SRV, port: SPORT }, b: { addr: CLI, port: CPORT }, midstream: true });
    expect(t.rec.stream(0, 0).shape).toEqual(['d0+12@1', 'd12+1@3']);
    expect(t.rec.stream(0, 1).shape).toEqual(['d0+6@2']);
  });

  it('a SYN/ACK seen first names its receiver side A', () => {
    const t = new Session();
    t.s(S0, SYN, '', { ack: C0 + 1 });
    t.c(C0 + 1, 0, 'req', { ack: S0 + 1 });
    const { conn } = t.rec.conns[0]!;
    expect(conn).toMatchObject({ a: { addr: CLI, port: CPORT }, midstream: true });
    expect(t.client.shape).toEqual(['d0+3@2']);
  });
});

describe('TCP reassembly: connection life', () => {
  it('RST ends both streams, flushing buffered data; stragglers are ignored', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, 'ab', { ack: S0 + 1 }); // 4
    t.c(C0 + 5, 0, 'ef', { ack: S0 + 1 }); // 5: buffered
    t.s(S0 + 1, RST, '', { ack: C0 + 3 }); // 6
    expect(t.client.shape).toEqual(['d0+2@4', 'g2+2@6', 'd4+2@5', 'end:rst']);
    expect(t.server.shape).toEqual(['end:rst']);
    expect(t.rec.ev('rst')).toEqual([{ conn: 0, dir: 1, bytes: 0, offset: -1, frame: 6 }]);
    expect(t.rec.ev('refused')).toEqual([]);
    // Unacked data: server acked 2 of the client's 6 bytes.
    expect(t.rec.ev('unacked-data')).toEqual([{ conn: 0, dir: 0, bytes: 4, offset: 2, frame: 6 }]);
    expect(t.tcp.openConnections).toBe(0);
    t.c(C0 + 7, 0, 'gh', { ack: S0 + 1 }); // in flight
    expect(t.rec.conns.length).toBe(1);
    expect(t.tcp.stats.ignoredSegments).toBe(1);
    // The RST closed the connection once; a straggling RST counts as an RST (tshark's tcp.flags.reset) and closes nothing.
    t.c(C0 + 9, RST); // 8
    expect(t.rec.ev('rst-close')).toEqual([{ conn: 0, dir: 1, bytes: 0, offset: -1, frame: 6 }]);
    expect(t.rec.ev('rst')).toEqual([
      { conn: 0, dir: 1, bytes: 0, offset: -1, frame: 6 },
      { conn: 0, dir: 0, bytes: 0, offset: -1, frame: 8 },
    ]);
    expect(t.rec.conns.length).toBe(1);
    expect(t.tcp.stats.ignoredSegments).toBe(2);
  });

  it('reports a SYN answered by RST as refused', () => {
    const t = new Session();
    t.c(C0, SYN);
    t.s(0, RST, '', { ack: C0 + 1 });
    expect(t.rec.ev('refused')).toEqual([{ conn: 0, dir: 1, bytes: 0, offset: -1, frame: 2 }]);
    expect(t.rec.ev('rst').length).toBe(1);
    expect(t.client.endReason).toBe('rst');
    expect(t.server.endReason).toBe('rst');
    expect(t.rec.ev('unacked-data')).toEqual([]);
    // An RST later in an established connection is not a refusal.
    const u = new Session();
    u.handshake();
    u.s(S0 + 1, RST);
    expect(u.rec.ev('refused')).toEqual([]);
    // Nor is an RST on a connection whose start was not captured (no SYN either way).
    const v = new Session();
    v.c(C0 + 1, 0, 'ab', { ack: S0 + 1 });
    v.s(S0 + 1, RST, '', { ack: C0 + 3 });
    expect(v.rec.ev('refused')).toEqual([]);
    expect(v.rec.ev('rst-close')).toEqual([{ conn: 0, dir: 1, bytes: 0, offset: -1, frame: 2 }]);
  });

  it('a new SYN after FIN both ways is a new connection (port reuse)', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, FIN, '', { ack: S0 + 1 });
    t.s(S0 + 1, FIN, '', { ack: C0 + 2 });
    // Final ACK not captured; the 4-tuple is reused.
    t.c(90000, SYN); // 6
    t.s(70000, SYN, '', { ack: 90001 });
    t.c(90001, 0, 'new', { ack: 70001 });
    expect(t.rec.conns.length).toBe(2);
    expect(t.rec.conns[1]!.conn).toMatchObject({ id: 1, midstream: false, a: { addr: CLI, port: CPORT } });
    expect(t.rec.stream(1, 0).text).toBe('new');
    expect(t.rec.stream(0, 0).shape).toEqual(['end:fin']);
    expect(t.rec.ev('port-reuse')).toEqual([{ conn: 1, dir: 0, bytes: 0, offset: -1, frame: 6 }]);
  });

  it('a SYN with a different ISN on a live connection ends it as reused; a retransmitted SYN does not', () => {
    const t = new Session();
    t.c(C0, SYN);
    t.c(C0, SYN); // retransmitted SYN: same connection
    t.s(S0, SYN, '', { ack: C0 + 1 });
    t.c(C0 + 1, 0, 'old', { ack: S0 + 1 });
    expect(t.rec.conns.length).toBe(1);
    t.c(C0 + 100000, SYN); // 5: client restarted
    t.c(C0 + 100001, 0, 'fresh');
    expect(t.rec.conns.length).toBe(2);
    expect(t.rec.stream(0, 0).shape).toEqual(['d0+3@4', 'end:reused']);
    expect(t.rec.stream(0, 1).shape).toEqual(['end:reused']);
    expect(t.rec.stream(1, 0).text).toBe('fresh');
    expect(t.rec.ev('port-reuse')).toEqual([{ conn: 1, dir: 0, bytes: 0, offset: -1, frame: 5 }]);
  });

  it('a new SYN after an RST (state freed) is reported as port reuse', () => {
    const t = new Session();
    t.handshake();
    t.s(S0 + 1, RST);
    t.c(C0 + 5000, SYN); // 5
    expect(t.rec.conns.length).toBe(2);
    expect(t.rec.ev('port-reuse')).toEqual([{ conn: 1, dir: 0, bytes: 0, offset: -1, frame: 5 }]);
  });

  it('ends idle connections when too many are open, as the capture end would (not evicted: nothing is dropped)', () => {
    const t = new Session({ maxOpenConnections: 3, idleTimeoutSec: 600 });
    for (let p = 1; p <= 3; p++) t.c(C0, SYN, '', { cport: p });
    t.feeder.tsSec += 300;
    t.c(C0 + 1, 0, 'busy', { cport: 3 }); // conn 2 stays active
    t.feeder.tsSec += 400;
    t.c(C0, SYN, '', { cport: 4 }); // 4th: conns 0 and 1 idle for 700 s
    expect(t.rec.stream(0, 0).endReason).toBe('idle');
    expect(t.rec.stream(1, 1).endReason).toBe('idle');
    expect(t.rec.stream(2, 0).endReason).toBeUndefined();
    expect(t.tcp.openConnections).toBe(2);
    expect(t.tcp.stats.idleEnded).toBe(2);
    expect(t.tcp.stats.evicted).toBe(0);
    // Not remembered as closed: a segment of one of them starts a new connection.
    t.c(C0 + 1, 0, 'again', { cport: 1 });
    expect(t.rec.conns.length).toBe(5);
  });
});

describe('TCP reassembly: events', () => {
  it('zero window', () => {
    const t = new Session();
    t.c(C0, SYN, '', { window: 0 }); // a SYN's window does not count
    t.s(S0, SYN, '', { ack: C0 + 1 });
    t.c(C0 + 1, 0, 'abcd', { ack: S0 + 1 });
    t.s(S0 + 1, 0, '', { ack: C0 + 5, window: 0 }); // 4
    expect(t.rec.ev('zero-window')).toEqual([{ conn: 0, dir: 1, bytes: 0, offset: 0, frame: 4 }]);
    t.s(S0 + 1, 0, '', { ack: C0 + 5, window: 0 }); // 5: still closed
    t.c(C0 + 5, 0, '', { ack: S0 + 1 }); // 6: the client's window was never closed
    expect(t.rec.ev('window-reopened')).toEqual([]);
    t.s(S0 + 1, 0, '', { ack: C0 + 5, window: 512 }); // 7: the server reads again
    expect(t.rec.ev('window-reopened')).toEqual([{ conn: 0, dir: 1, bytes: 0, offset: -1, frame: 7 }]);
  });

  it('dup ack: a pure ACK repeating the previous ACK number and window', () => {
    const t = new Session();
    t.handshake(); // frame 3: client ACK
    t.c(C0 + 1, 0, 'a'.repeat(10), { ack: S0 + 1 }); // 4
    t.c(C0 + 21, 0, 'c'.repeat(10), { ack: S0 + 1 }); // 5 ([10,20) lost on the way)
    t.s(S0 + 1, 0, '', { ack: C0 + 11 }); // 6: new ACK
    t.s(S0 + 1, 0, '', { ack: C0 + 11 }); // 7: dup
    t.s(S0 + 1, 0, '', { ack: C0 + 11 }); // 8: dup
    t.s(S0 + 1, 0, '', { ack: C0 + 11, window: 1000 }); // 9: window update, not a dup
    expect(t.rec.ev('dup-ack')).toEqual([
      { conn: 0, dir: 1, bytes: 0, offset: 10, frame: 7 },
      { conn: 0, dir: 1, bytes: 0, offset: 10, frame: 8 },
    ]);
    // Like Wireshark, whether data is outstanding does not matter: the client
    // repeating its last segment's ACK (frame 5) and window is a dup too.
    t.c(C0 + 31, 0, '', { ack: S0 + 1 }); // 10
    t.c(C0 + 31, 0, '', { ack: S0 + 1, window: 999 }); // 11: window changed
    expect(t.rec.ev('dup-ack').map((e) => [e.frame, e.dir, e.offset])).toEqual([[7, 1, 10], [8, 1, 10], [10, 0, 0]]);
  });

  it('unacked data at the end of the capture', () => {
    const t = new Session();
    t.handshake();
    t.c(C0 + 1, 0, '0123456789', { ack: S0 + 1 });
    t.s(S0 + 1, 0, 'resp', { ack: C0 + 5 }); // acks 4 bytes; its own 4 bytes never acked
    t.tcp.finish();
    expect(t.rec.ev('unacked-data')).toEqual([
      { conn: 0, dir: 0, bytes: 6, offset: 4, frame: 5 },
      { conn: 0, dir: 1, bytes: 4, offset: 0, frame: 5 },
    ]);
    // A one-way capture (the peer never ACKs, no handshake) says nothing.
    const u = new Session();
    u.c(C0 + 1, 0, 'abc');
    u.tcp.finish();
    expect(u.rec.ev('unacked-data')).toEqual([]);
    expect(u.client.endReason).toBe('capture-end');
  });
});

describe('Transport', () => {
  it('dispatches UDP datagrams with their wire length, and TCP to the reassembler', () => {
    const rec = new Recorder();
    const tr = new Transport(rec);
    const d = udpDatagram(1023, 2049, 'rpc call bytes');
    tr.packet(ipPacket(d, { src: '192.168.1.1', dst: '192.168.1.2', protocol: IPPROTO_UDP, number: 7 }));
    // Cut by the snaplen: 4 payload bytes captured, 14 on the wire.
    tr.packet(ipPacket(d, { src: 'fe80::1', dst: 'fe80::2', protocol: IPPROTO_UDP, number: 8, snap: 12 }));
    // Malformed: header cut; length larger than the IP payload.
    tr.packet(ipPacket(d, { src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO_UDP, snap: 6, wireLength: 22 }));
    tr.packet(ipPacket(d, { src: '10.0.0.1', dst: '10.0.0.2', protocol: IPPROTO_UDP, wireLength: 20 }));
    tr.packet(ipPacket(Buffer.alloc(8), { src: '10.0.0.1', dst: '10.0.0.2', protocol: 1 }));
    tr.packet(ipPacket(tcpSegment({ srcPort: 5, dstPort: 6, seq: 1, flags: 0 }, 'tcp!'), { src: '10.0.0.1', dst: '10.0.0.2', number: 9 }));
    tr.packet(ipPacket(Buffer.alloc(10), { src: '10.0.0.1', dst: '10.0.0.2' })); // TCP header cut
    tr.finish();

    expect(rec.datagrams).toEqual([
      { src: { addr: '192.168.1.1', port: 1023 }, dst: { addr: '192.168.1.2', port: 2049 }, wireLength: 14, payload: Buffer.from('rpc call bytes'), at: { fileIndex: 0, number: 7, tsSec: 0, tsNsec: 0 } },
      { src: { addr: 'fe80::1', port: 1023 }, dst: { addr: 'fe80::2', port: 2049 }, wireLength: 14, payload: Buffer.from('rpc '), at: { fileIndex: 0, number: 8, tsSec: 0, tsNsec: 0 } },
    ]);
    expect(rec.stream(0, 0).shape).toEqual(['d0+4@9', 'end:capture-end']);
    expect(tr.stats).toMatchObject({ udpDatagrams: 2, udpPayloadBytes: 28, udpMalformed: 2, otherProtocol: 1 });
    expect(tr.stats.tcp).toMatchObject({ malformed: 1, segments: 1, connections: 1 });
  });

  it('counts malformed TCP headers without throwing', () => {
    const rec = new Recorder();
    const tr = new Transport(rec);
    const good = tcpSegment({ srcPort: 1, dstPort: 2, seq: 1, flags: 0 }, 'abc');
    const shortOff = Buffer.from(good);
    shortOff[12] = 0x40; // data offset 4 words
    const bigOff = Buffer.from(good);
    bigOff[12] = 0xf0; // 60-byte header in a 23-byte packet
    const cases: IpPacket[] = [
      ipPacket(Buffer.alloc(0), { src: '10.0.0.1', dst: '10.0.0.2' }),
      ipPacket(good.subarray(0, 19), { src: '10.0.0.1', dst: '10.0.0.2' }),
      ipPacket(shortOff, { src: '10.0.0.1', dst: '10.0.0.2' }),
      ipPacket(bigOff, { src: '10.0.0.1', dst: '10.0.0.2' }),
      ipPacket(good, { src: '10.0.0.1', dst: '10.0.0.2', wireLength: 12 }), // IP says less than the header
    ];
    for (const p of cases) expect(() => tr.packet(p)).not.toThrow();
    expect(tr.stats.tcp.malformed).toBe(5);
    expect(tr.stats.tcp.segments).toBe(0);
    expect(rec.conns.length).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// Randomized


interface Seg {
  from: number;
  to: number;
}

/** Cuts [0, n) into random segments, then adds retransmissions with other boundaries, then shuffles within a window. */
function scrambled(rnd: () => number, n: number, window: number): Seg[] {
  const segs: Seg[] = [];
  for (let from = 0; from < n; ) {
    const to = Math.min(n, from + 1 + Math.floor(rnd() * 1500));
    segs.push({ from, to });
    // Sometimes a retransmission that overlaps differently (repacketized).
    if (rnd() < 0.15) {
      const a = Math.max(0, from - Math.floor(rnd() * 300));
      const b = Math.min(n, to + Math.floor(rnd() * 300));
      segs.push({ from: a, to: b });
    }
    if (rnd() < 0.1) segs.push({ from, to }); // exact duplicate
    from = to;
  }
  // Local shuffle: swap each segment with one up to `window` positions later.
  for (let i = 0; i < segs.length; i++) {
    const j = Math.min(segs.length - 1, i + Math.floor(rnd() * window));
    [segs[i], segs[j]] = [segs[j]!, segs[i]!];
  }
  return segs;
}

describe('TCP reassembly: randomized', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`delivers exactly the original bytes once, in order (seed ${seed})`, () => {
      const rnd = mulberry32(seed);
      const n = 20_000 + Math.floor(rnd() * 80_000);
      const stream = Buffer.alloc(n);
      for (let i = 0; i < n; i++) stream[i] = Math.floor(rnd() * 256);
      // Half of the seeds start just below 2^32 so the stream wraps.
      const isn = seed % 2 === 0 ? (0x100000000 - 1 - Math.floor(rnd() * n)) >>> 0 : Math.floor(rnd() * 2 ** 32) >>> 0;
      const t = new Session();
      t.c(isn, SYN);
      t.s(S0, SYN, '', { ack: isn + 1 });
      const segs = scrambled(rnd, n, 8);
      // The server ACKs what it holds contiguously (as a real receiver would), which must never cause a gap.
      const have = new Uint8Array(n);
      let contiguous = 0;
      for (const s of segs) {
        t.c((isn + 1 + s.from) >>> 0, 0, stream.subarray(s.from, s.to), { ack: S0 + 1 });
        have.fill(1, s.from, s.to);
        while (contiguous < n && have[contiguous]) contiguous++;
        if (rnd() < 0.3) t.s(S0 + 1, 0, '', { ack: (isn + 1 + contiguous) >>> 0 });
      }
      t.c((isn + 1 + n) >>> 0, FIN, '', { ack: S0 + 1 });
      const c = t.client;
      expect(c.violations).toEqual([]);
      expect(c.calls.filter((x) => x.t === 'gap')).toEqual([]);
      expect(c.bytes.equals(stream)).toBe(true);
      expect(c.endReason).toBe('fin');
      const st = t.tcp.stats;
      const sent = segs.reduce((a, s) => a + s.to - s.from, 0);
      expect(st.deliveredBytes).toBe(n);
      expect(st.payloadBytes).toBe(sent);
      expect(st.retransmittedBytes).toBe(sent - n);
      expect(st.bufferedBytes).toBe(0);
    });
  }

  for (const seed of [11, 12, 13, 14]) {
    it(`with snaplen cuts, data bytes are right and data + gaps cover the stream exactly (seed ${seed})`, () => {
      const rnd = mulberry32(seed);
      const n = 30_000;
      const stream = Buffer.alloc(n);
      for (let i = 0; i < n; i++) stream[i] = Math.floor(rnd() * 256);
      const isn = (0xffffffff - 5000) >>> 0;
      const t = new Session({ maxBufferedPerDirection: 8000 });
      t.c(isn, SYN);
      // Per frame: the stream range its captured bytes cover.
      const capturedBy = new Map<number, { from: number; to: number }>();
      for (const s of scrambled(rnd, n, 6)) {
        const len = s.to - s.from;
        const capture = rnd() < 0.3 ? Math.floor(rnd() * len) : undefined;
        const frame = t.c((isn + 1 + s.from) >>> 0, 0, stream.subarray(s.from, s.to), { capture });
        capturedBy.set(frame, { from: s.from, to: s.from + (capture ?? len) });
      }
      t.tcp.finish();
      const c = t.client;
      expect(c.violations).toEqual([]);
      let covered = 0;
      for (const call of c.calls) {
        if (call.t === 'data') {
          expect(call.bytes.equals(stream.subarray(call.off, call.off + call.bytes.length))).toBe(true);
          covered += call.bytes.length;
        } else if (call.t === 'gap') covered += call.len;
      }
      expect(covered).toBe(n);
      expect(c.pos).toBe(n);
      expect(t.tcp.stats.deliveredBytes + t.tcp.stats.gapBytes).toBe(n);
      // Each data call holds bytes its frame captured, so it never spans a gap.
      let gaps = 0;
      for (const call of c.calls) {
        if (call.t === 'gap') gaps++;
        if (call.t !== 'data') continue;
        const seg = capturedBy.get(call.frame)!;
        expect(call.off).toBeGreaterThanOrEqual(seg.from);
        expect(call.off + call.bytes.length).toBeLessThanOrEqual(seg.to);
      }
      expect(gaps).toBeGreaterThan(0);
    });
  }

  it('fuzz: random garbage never throws, and every stream still ends exactly once', () => {
    const rnd = mulberry32(99);
    const rec = new Recorder();
    const tr = new Transport(rec, { maxBufferedPerDirection: 10_000, maxBufferedTotal: 50_000, maxOpenConnections: 20, idleTimeoutSec: 5 });
    const feeder = new PacketFeeder((p) => tr.packet(p));
    const addrs = ['10.0.0.1', '10.0.0.2', 'fe80::1'];
    const ports = [1, 2, 2049];
    for (let i = 0; i < 20_000; i++) {
      let l4: Buffer;
      if (rnd() < 0.7) {
        // A plausible header with random fields, flags and options length.
        const payload = Buffer.alloc(Math.floor(rnd() * 200));
        for (let k = 0; k < payload.length; k++) payload[k] = Math.floor(rnd() * 256);
        l4 = tcpSegment(
          {
            srcPort: ports[Math.floor(rnd() * 3)]!,
            dstPort: ports[Math.floor(rnd() * 3)]!,
            seq: rnd() < 0.5 ? Math.floor(rnd() * 3000) : Math.floor(rnd() * 2 ** 32),
            ack: rnd() < 0.5 ? Math.floor(rnd() * 3000) : Math.floor(rnd() * 2 ** 32),
            flags: Math.floor(rnd() * 256),
            window: Math.floor(rnd() * 3),
            options: Buffer.alloc(Math.floor(rnd() * 12)),
          },
          payload,
        );
        if (rnd() < 0.1) l4[12] = Math.floor(rnd() * 256);
      } else {
        l4 = Buffer.alloc(Math.floor(rnd() * 80));
        for (let k = 0; k < l4.length; k++) l4[k] = Math.floor(rnd() * 256);
      }
      const wireLength = rnd() < 0.8 ? l4.length : Math.floor(rnd() * 400);
      const snap = rnd() < 0.2 ? Math.floor(rnd() * (l4.length + 1)) : undefined;
      if (rnd() < 0.05) feeder.tsSec += Math.floor(rnd() * 10);
      expect(() =>
        feeder.feed(l4, {
          src: addrs[Math.floor(rnd() * 3)]!,
          dst: addrs[Math.floor(rnd() * 3)]!,
          protocol: rnd() < 0.9 ? 6 : 17,
          wireLength,
          snap,
        }),
      ).not.toThrow();
    }
    expect(() => tr.finish()).not.toThrow();
    expect(rec.violations).toEqual([]);
    expect(rec.conns.length).toBeGreaterThan(10);
    for (const c of rec.conns) {
      expect(c.streams[0].ended).toBe(1);
      expect(c.streams[1].ended).toBe(1);
    }
    const st = tr.stats.tcp;
    expect(st.malformed).toBeGreaterThan(0);
    expect(st.bufferedBytes).toBe(0);
    expect(st.maxBufferedBytes).toBeLessThanOrEqual(50_000 + 65_535);
  });
});
