/**
 * Generates conversations as capture frames: a TCP connection between a
 * client and a server (handshake, data in chosen segment sizes and orders,
 * ACKs, FIN/RST) and UDP datagrams, over Ethernet/IPv4, with timestamps a
 * test controls. The frames feed writePcap. Used to build incidents no real
 * capture holds.
 */
import type { PcapPacket } from './capture-writer.js';
import { ETHERTYPE_IPV4, ethernet, ipv4 } from './packets.js';
import { ACK, FIN, PSH, RST, SYN, tcpSegment, udpDatagram } from './tcp.js';

export interface Host {
  addr: string;
  port: number;
}

/** Frames in capture order, with a clock in nanoseconds. */
export class Capture {
  readonly frames: PcapPacket[] = [];
  /** Current time, ns since the epoch (as a bigint-free pair: seconds and nanoseconds). */
  private sec: number;
  private nsec = 0;

  constructor(startSec = 1_763_779_858) {
    this.sec = startSec;
  }

  /** Moves the clock forward (backward for a negative number: a clock stepped back). */
  advance(seconds: number): this {
    const total = this.nsec + Math.round(seconds * 1e9);
    const whole = Math.floor(total / 1e9);
    this.sec += whole;
    this.nsec = total - whole * 1e9;
    return this;
  }

  /** The current time, seconds since the epoch. */
  now(): number {
    return this.sec + this.nsec / 1e9;
  }

  /** Appends a frame at the current time (and advances 1 µs); returns its frame number. */
  push(data: Buffer, snap?: number): number {
    const cut = snap !== undefined && snap < data.length ? data.subarray(0, snap) : data;
    this.frames.push({ tsSec: this.sec, tsNsec: this.nsec, data: cut, origLen: data.length });
    this.advance(1e-6);
    return this.frames.length;
  }

  udp(from: Host, to: Host, payload: Buffer): number {
    return this.push(ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: from.addr, dst: to.addr, protocol: 17 }, udpDatagram(from.port, to.port, payload))));
  }
}

export type Side = 'client' | 'server';

export interface SendOptions {
  /** Segment payload sizes (the last segment takes the rest); default one segment, or MSS-sized ones. */
  sizes?: number[];
  /** Emission order of the segments (indices into the segmentation); default in order. */
  order?: number[];
  /** Captured bytes per frame (a snaplen); default all. */
  snap?: number;
  /** Segments (indices) the capture never sees. */
  drop?: number[];
  /** The receiver ACKs everything after the last segment. Default true. */
  ack?: boolean;
  /** Seconds to wait before emitting a segment (by index into the segmentation): a late retransmission. */
  delays?: Record<number, number>;
}

/** One TCP connection within a Capture. */
export class TcpSession {
  private seq: Record<Side, number> = { client: 1000, server: 500_000 };

  constructor(
    readonly capture: Capture,
    readonly client: Host,
    readonly server: Host,
    private readonly mss = 1448,
  ) {}

  /** Window each side advertises (raw field). */
  readonly window: Record<Side, number> = { client: 65535, server: 65535 };

  private frame(from: Side, flags: number, payload: Buffer = Buffer.alloc(0), seq?: number, snap?: number, ack?: number): number {
    const [src, dst] = from === 'client' ? [this.client, this.server] : [this.server, this.client];
    const other: Side = from === 'client' ? 'server' : 'client';
    const l4 = tcpSegment({ srcPort: src.port, dstPort: dst.port, seq: seq ?? this.seq[from], ack: ack ?? this.seq[other], flags, window: this.window[from] }, payload);
    return this.capture.push(ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: src.addr, dst: dst.addr, protocol: 6 }, l4)), snap);
  }

  handshake(): this {
    this.frame('client', SYN);
    this.seq.client++;
    this.frame('server', SYN | ACK, undefined, this.seq.server);
    this.seq.server++;
    this.frame('client', ACK);
    return this;
  }

  /** Sends bytes from one side; returns the frame numbers of the segments in segment order (-1 if dropped). */
  send(from: Side, bytes: Buffer, options: SendOptions = {}): number[] {
    const sizes = options.sizes ?? [];
    const segments: [number, number][] = [];
    let at = 0;
    for (const size of sizes) {
      if (at >= bytes.length) break;
      segments.push([at, Math.min(bytes.length, at + size)]);
      at += size;
    }
    while (at < bytes.length) {
      const end = Math.min(bytes.length, at + (sizes.length > 0 ? bytes.length : this.mss));
      segments.push([at, end]);
      at = end;
    }
    const base = this.seq[from];
    const order = options.order ?? segments.map((_, i) => i);
    const frames: number[] = segments.map(() => -1);
    for (const i of order) {
      if (options.drop?.includes(i)) continue;
      const delay = options.delays?.[i];
      if (delay !== undefined) this.capture.advance(delay);
      const [s, e] = segments[i]!;
      frames[i] = this.frame(from, ACK | PSH, bytes.subarray(s, e), (base + s) >>> 0, options.snap);
    }
    this.seq[from] = (base + bytes.length) >>> 0;
    if (options.ack !== false) this.frame(from === 'client' ? 'server' : 'client', ACK);
    return frames;
  }

  /** A pure ACK from one side (of everything the other sent, or of the sequence number given). */
  ack(from: Side, ackNumber?: number): number {
    return this.frame(from, ACK, undefined, undefined, undefined, ackNumber);
  }

  /** A TCP keep-alive from one side: no data, one below its next sequence number (tcp.analysis.keep_alive). */
  keepAlive(from: Side): number {
    return this.frame(from, ACK, undefined, (this.seq[from] - 1) >>> 0);
  }

  /** The next sequence number of a side (what its peer ACKs when it has everything). */
  nextSeq(side: Side): number {
    return this.seq[side];
  }

  /** `from` advertises a zero window (its application stopped reading): a pure ACK with window 0. */
  zeroWindow(from: Side): number {
    this.window[from] = 0;
    return this.frame(from, ACK);
  }

  /** `from` opens its window again (a window update). */
  openWindow(from: Side, window = 65535): number {
    this.window[from] = window;
    return this.frame(from, ACK);
  }

  fin(from: Side): number {
    const n = this.frame(from, FIN | ACK);
    this.seq[from]++;
    return n;
  }

  rst(from: Side): number {
    return this.frame(from, RST | ACK);
  }
}
