/**
 * TCP reassembly at its edges, each a case that mutation testing showed
 * unguarded: connections that share an address or a port, Ethernet padding,
 * data after a FIN, the reasons and frames streams end with, the buffer
 * bounds exactly at their limits, the idle and closed-connection bounds,
 * unacknowledged bytes with retransmissions and ACKs that go backwards,
 * segments inside buffered ones, refused connections.
 */
import { describe, expect, it } from 'vitest';
import type { FrameRef } from '../src/capture/frame.js';
import type { StreamConsumer, StreamEndReason, TcpConnection, TcpEvent, TransportHandler } from '../src/transport/stream.js';
import { Transport, type TransportOptions } from '../src/transport/transport.js';
import { ACK, FIN, PSH, RST, SYN, PacketFeeder, tcpSegment } from './gen/tcp.js';

/** One direction as a list: "d<offset>+<length>@<frame>", "g<offset>+<length>@<frame>", "end:<reason>@<frame>". */
class Direction implements StreamConsumer {
  readonly log: string[] = [];
  data(_buf: Buffer, start: number, end: number, offset: number, at: FrameRef): void {
    this.log.push(`d${offset}+${end - start}@${at.number}`);
  }
  gap(length: number, offset: number, at: FrameRef): void {
    this.log.push(`g${offset}+${length}@${at.number}`);
  }
  end(reason: StreamEndReason, at: FrameRef | undefined): void {
    this.log.push(`end:${reason}@${at?.number ?? '-'}`);
  }
}

class Handler implements TransportHandler {
  readonly conns: { info: TcpConnection; dirs: [Direction, Direction] }[] = [];
  readonly events: TcpEvent[] = [];
  openConnection(info: TcpConnection): [StreamConsumer, StreamConsumer] {
    const dirs: [Direction, Direction] = [new Direction(), new Direction()];
    this.conns.push({ info, dirs });
    return dirs;
  }
  datagram(): void {}
  tcpEvent(e: TcpEvent): void {
    this.events.push(e);
  }
  /** Events of a kind as [connection, direction, frame, bytes]. */
  ev(kind: string): [number, number, number, number][] {
    return this.events.filter((e) => e.kind === kind).map((e) => [e.conn.id, e.direction, e.at.number, e.bytes]);
  }
}

interface Host {
  addr: string;
  port: number;
}

class Wire {
  readonly h = new Handler();
  readonly tr: Transport;
  readonly feeder: PacketFeeder;

  constructor(opts?: TransportOptions) {
    this.tr = new Transport(this.h, opts);
    this.feeder = new PacketFeeder((p) => this.tr.packet(p));
  }

  /** One segment; `pad` bytes of link padding beyond the IP length are captured too. Returns its frame number. */
  seg(from: Host, to: Host, seq: number, flags: number, payload = 0, o: { ack?: number; pad?: number; snap?: number } = {}): number {
    const l4 = tcpSegment({ srcPort: from.port, dstPort: to.port, seq, ack: o.ack ?? 0, flags: o.ack === undefined ? flags : flags | ACK }, Buffer.alloc(payload, 0x61));
    const wire = Buffer.concat([l4, Buffer.alloc(o.pad ?? 0, 0xee)]);
    return this.feeder.feed(wire, { src: from.addr, dst: to.addr, wireLength: l4.length, ...(o.snap !== undefined ? { snap: o.snap } : {}) });
  }

  log(conn: number, dir: 0 | 1): string[] {
    return this.h.conns[conn]!.dirs[dir].log;
  }
}

const C: Host = { addr: '10.0.0.1', port: 801 };
const S: Host = { addr: '10.0.0.2', port: 2049 };

describe('TCP reassembly: connections told apart', () => {
  it('by address and port, whichever side is lower; the same port both sides; loopback', () => {
    const w = new Wire();
    const S3: Host = { addr: '10.0.0.3', port: 2049 };
    const C2: Host = { addr: '10.0.0.1', port: 802 };
    w.seg(C, S, 100, PSH, 5); // 1: conn 0
    w.seg(C, S3, 200, PSH, 6); // 2: conn 1: the same low address, another high one
    w.seg(C2, S, 300, PSH, 7); // 3: conn 2: another port
    w.seg(S3, C, 900, PSH, 8); // 4: conn 1, the other way
    w.seg(S, C, 800, PSH, 9); // 5: conn 0, the other way
    const same1: Host = { addr: '10.0.0.5', port: 2049 };
    const same2: Host = { addr: '10.0.0.6', port: 2049 };
    w.seg(same1, same2, 10, PSH, 3); // 6: conn 3: port 2049 both sides
    w.seg(same2, same1, 20, PSH, 4); // 7
    const lo1: Host = { addr: '127.0.0.1', port: 2049 };
    const lo2: Host = { addr: '127.0.0.1', port: 700 };
    w.seg(lo1, lo2, 30, PSH, 2); // 8: conn 4: loopback, the higher port first
    w.seg(lo2, lo1, 40, PSH, 1); // 9
    w.seg(lo1, lo2, 32, PSH, 2); // 10
    expect(w.h.conns.map((c) => `${c.info.a.addr}:${c.info.a.port}>${c.info.b.addr}:${c.info.b.port}`)).toEqual([
      '10.0.0.1:801>10.0.0.2:2049',
      '10.0.0.1:801>10.0.0.3:2049',
      '10.0.0.1:802>10.0.0.2:2049',
      '10.0.0.5:2049>10.0.0.6:2049',
      '127.0.0.1:2049>127.0.0.1:700',
    ]);
    expect([0, 1, 2, 3, 4].map((c) => [w.log(c, 0), w.log(c, 1)])).toEqual([
      [['d0+5@1'], ['d0+9@5']],
      [['d0+6@2'], ['d0+8@4']],
      [['d0+7@3'], []],
      [['d0+3@6'], ['d0+4@7']],
      [['d0+2@8', 'd2+2@10'], ['d0+1@9']],
    ]);
  });

  it('a first segment that is neither SYN nor ACK starts a mid-stream connection', () => {
    const w = new Wire();
    w.seg(C, S, 100, PSH, 5);
    w.seg({ ...C, port: 900 }, S, 7, SYN);
    expect(w.h.conns.map((c) => c.info.midstream)).toEqual([true, false]);
  });
});

describe('TCP reassembly: what a segment holds', () => {
  it('link padding beyond the IP length is not data; a snaplen cut is a gap', () => {
    const w = new Wire();
    w.seg(C, S, 100, PSH, 5, { pad: 6 });
    w.seg(C, S, 105, PSH, 0, { pad: 6 }); // an empty segment with padding: nothing
    w.seg(C, S, 105, PSH, 10, { snap: 20 + 4 });
    expect(w.log(0, 0)).toEqual(['d0+5@1', 'd5+4@3', 'g9+6@3']);
  });

  it('after a FIN: a retransmission of data before it is counted, data beyond it ignored', () => {
    const w = new Wire();
    w.seg(C, S, 100, PSH | FIN, 10); // 1: 10 bytes and the FIN
    w.seg(C, S, 100, PSH, 10); // 2: the same bytes again
    w.seg(C, S, 105, PSH, 8); // 3: 5 old bytes, 3 beyond the FIN
    w.seg(C, S, 111, PSH, 4); // 4: all beyond the FIN
    expect(w.log(0, 0)).toEqual(['d0+10@1', 'end:fin@1']);
    expect([w.tr.stats.tcp.retransmittedBytes, w.tr.stats.tcp.ignoredSegments]).toEqual([15, 1]);
  });

  it('a segment inside one already buffered is a retransmission; one reaching beyond it is buffered', () => {
    const w = new Wire();
    w.seg(C, S, 100, PSH, 10); // [0, 10)
    w.seg(C, S, 120, PSH, 20); // [20, 40) buffered
    w.seg(C, S, 125, PSH, 10); // [25, 35): inside it
    w.seg(C, S, 120, PSH, 20); // the same again
    expect([w.tr.stats.tcp.outOfOrderSegments, w.tr.stats.tcp.retransmittedBytes, w.tr.stats.tcp.bufferedBytes]).toEqual([1, 30, 20]);
    w.seg(C, S, 130, PSH, 20); // [30, 50): beyond it
    expect([w.tr.stats.tcp.outOfOrderSegments, w.tr.stats.tcp.bufferedBytes, w.tr.stats.tcp.maxBufferedBytes]).toEqual([2, 40, 40]);
    w.seg(C, S, 110, PSH, 10); // fills the hole
    expect(w.log(0, 0)).toEqual(['d0+10@1', 'd10+10@6', 'd20+20@2', 'd40+10@5']);
    // The high-water mark stays when the buffer empties.
    expect([w.tr.stats.tcp.bufferedBytes, w.tr.stats.tcp.maxBufferedBytes, w.tr.stats.tcp.retransmittedBytes]).toEqual([0, 40, 40]);
  });

  it('a segment overlapping what was passed, cut by the snaplen: the new part delivered, the cut part a gap', () => {
    const w = new Wire();
    w.seg(C, S, 100, PSH, 10); // [0, 10)
    w.seg(C, S, 105, PSH, 20, { snap: 20 + 3 }); // [5, 25), only [5, 8) captured: all of it old or cut
    expect(w.log(0, 0)).toEqual(['d0+10@1', 'g10+15@2']);
  });
});

describe('TCP reassembly: the out-of-order buffer bounds, exactly', () => {
  /** Buffers `n` bytes ahead of a 10-byte hole on one connection (port `port`); returns the gaps so far. */
  function fill(w: Wire, port: number, n: number): void {
    const c = { ...C, port };
    w.seg(c, S, 100, PSH, 10);
    w.seg(c, S, 120, PSH, n);
  }

  it('per direction: at the bound the hole is awaited, one byte over it is given up', () => {
    const at = new Wire({ maxBufferedPerDirection: 50 });
    fill(at, 801, 50);
    expect(at.log(0, 0)).toEqual(['d0+10@1']);
    const over = new Wire({ maxBufferedPerDirection: 50 });
    fill(over, 801, 51);
    expect(over.log(0, 0)).toEqual(['d0+10@1', 'g10+10@2', 'd20+51@2']);
  });

  it('over all connections likewise', () => {
    const at = new Wire({ maxBufferedTotal: 60 });
    fill(at, 801, 30);
    fill(at, 802, 30);
    expect([at.log(0, 0), at.log(1, 0)]).toEqual([['d0+10@1'], ['d0+10@3']]);
    const over = new Wire({ maxBufferedTotal: 60 });
    fill(over, 801, 30);
    fill(over, 802, 31);
    expect([over.log(0, 0), over.log(1, 0)]).toEqual([['d0+10@1'], ['d0+10@3', 'g10+10@4', 'd20+31@4']]);
  });

  it('bytes delivered from the buffer no longer count against it', () => {
    const w = new Wire({ maxBufferedPerDirection: 50 });
    fill(w, 801, 40);
    w.seg(C, S, 110, PSH, 10); // fills the hole: 40 buffered bytes delivered
    w.seg(C, S, 180, PSH, 40); // 40 more ahead of a new hole: within the bound again
    expect(w.log(0, 0)).toEqual(['d0+10@1', 'd10+10@3', 'd20+40@2']);
    expect(w.tr.stats.tcp.bufferedBytes).toBe(40);
  });
});

describe('TCP reassembly: how and when streams end', () => {
  it('the reason and frame of each end: FIN both ways, RST, reuse, the end of the capture', () => {
    const w = new Wire();
    w.seg(C, S, 100, SYN); // 1
    w.seg(S, C, 500, SYN, 0, { ack: 101 }); // 2
    w.seg(C, S, 101, FIN, 0, { ack: 501 }); // 3
    w.seg(S, C, 501, FIN, 0, { ack: 102 }); // 4
    w.seg(C, S, 102, 0, 0, { ack: 502 }); // 5: both FINs acknowledged
    const c2: Host = { ...C, port: 802 };
    w.seg(c2, S, 10, PSH, 3); // 6
    w.seg(S, c2, 20, RST); // 7
    const c3: Host = { ...C, port: 803 };
    w.seg(c3, S, 30, SYN); // 8
    w.seg(c3, S, 31, PSH, 2, { ack: 1 }); // 9
    w.seg(c3, S, 77, SYN); // 10: a new SYN, another ISN: the port reused
    const c4: Host = { ...C, port: 804 };
    w.seg(c4, S, 40, PSH, 2); // 11
    w.seg(c4, S, 50, PSH, 2); // 12: ahead of a hole
    w.tr.finish();
    expect(w.h.conns.map((c) => [c.dirs[0].log, c.dirs[1].log])).toEqual([
      [['end:fin@3'], ['end:fin@4']],
      [['d0+3@6', 'end:rst@7'], ['end:rst@7']],
      [['d0+2@9', 'end:reused@10'], ['end:reused@10']],
      [['end:capture-end@12'], ['end:capture-end@12']], // the new connection on port 803
      [['d0+2@11', 'g2+8@12', 'd10+2@12', 'end:capture-end@12'], ['end:capture-end@12']],
    ]);
  });

  it('a connection idle exactly the timeout stays; one second more and it is ended when the table is full', () => {
    const run = (idle: number): string[] => {
      const w = new Wire({ maxOpenConnections: 1, idleTimeoutSec: 100 });
      w.seg(C, S, 100, PSH, 1);
      w.feeder.tsSec += idle;
      w.seg({ ...C, port: 802 }, S, 100, PSH, 1);
      return w.log(0, 0);
    };
    expect(run(100)).toEqual(['d0+1@1']);
    expect(run(101)).toEqual(['d0+1@1', 'end:idle@2']);
  });

  it('stragglers of a closed connection are ignored for closedLingerSec, and only while it is remembered', () => {
    const run = (remembered: number, later: number): number => {
      const w = new Wire({ maxClosedRemembered: remembered, closedLingerSec: 60 });
      w.seg(C, S, 100, PSH, 1);
      w.seg(S, C, 500, RST);
      w.seg({ ...C, port: 802 }, S, 100, PSH, 1);
      w.seg(S, { ...C, port: 802 }, 500, RST);
      w.feeder.tsSec += later;
      w.seg(C, S, 101, PSH, 1); // a straggler of the first connection
      return w.h.conns.length;
    };
    expect([run(2, 60), run(2, 61), run(1, 60)]).toEqual([2, 3, 3]);
  });
});

describe('TCP reassembly: events at the edges', () => {
  it('refused: a RST answering a SYN, not a RST after a handshake, nor one from the SYN sender', () => {
    const w = new Wire();
    w.seg(C, S, 100, SYN); // 1
    w.seg(S, C, 0, RST, 0, { ack: 101 }); // 2: refused
    const c2: Host = { ...C, port: 802 };
    w.seg(c2, S, 100, SYN); // 3
    w.seg(S, c2, 500, SYN, 0, { ack: 101 }); // 4
    w.seg(S, c2, 501, RST); // 5: after the SYN/ACK
    const c3: Host = { ...C, port: 803 };
    w.seg(c3, S, 100, SYN); // 6
    w.seg(c3, S, 101, RST); // 7: the client gives up
    expect(w.h.ev('refused')).toEqual([[0, 1, 2, 0]]);
  });

  it('unacknowledged bytes at the end: up to the highest byte sent, from the highest ACK', () => {
    const w = new Wire();
    w.seg(C, S, 100, SYN); // 1
    w.seg(S, C, 500, SYN, 0, { ack: 101 }); // 2
    w.seg(C, S, 101, PSH, 100, { ack: 501 }); // 3: [0, 100)
    w.seg(S, C, 501, 0, 0, { ack: 161 }); // 4: 60 acknowledged
    w.seg(S, C, 501, 0, 0, { ack: 131 }); // 5: an older ACK, late
    w.seg(C, S, 101, PSH, 50, { ack: 501 }); // 6: a retransmission of [0, 50)
    w.tr.finish();
    expect(w.h.ev('unacked-data')).toEqual([[0, 0, 6, 40]]);
  });
});
