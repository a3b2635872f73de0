/**
 * TCP segments placed by hand: each segment says which stream bytes it
 * carries, what it acknowledges, when it was captured and on which
 * interface, and frames are written in the order they are scripted. For
 * captures whose file order, timestamps and sequence order disagree
 * (merged captures from two interfaces, reordering, capture loss, late
 * retransmissions), which TcpSession's in-order model cannot make.
 */
import type { EpbBlock } from './capture-writer.js';
import { ETHERTYPE_IPV4, ethernet, ipv4 } from './packets.js';
import type { Host, Side } from './session.js';
import { ACK, FIN, PSH, SYN, tcpSegment } from './tcp.js';

/** Frames of several scripted connections, in file order. */
export class ScriptedCapture {
  readonly blocks: EpbBlock[] = [];

  constructor(readonly baseSec: number) {}

  /** Appends a frame captured `at` seconds after baseSec on interface `iface`; returns its frame number. */
  push(data: Buffer, at: number, iface: number): number {
    const ns = Math.round(at * 1e9);
    this.blocks.push({ type: 'epb', iface, tsSec: this.baseSec + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data });
    return this.blocks.length;
  }
}

/** One connection: both directions' byte streams, sent as the script says. */
export class TcpScript {
  /** The bytes each side sends, in stream order. */
  readonly stream: Record<Side, Buffer[]> = { client: [], server: [] };
  private readonly isn: Record<Side, number>;
  /** Stream bytes each side has acknowledged of the other's (what its segments carry as ACK). */
  private readonly acked: Record<Side, number> = { client: 0, server: 0 };

  constructor(
    readonly capture: ScriptedCapture,
    readonly client: Host,
    readonly server: Host,
    isnClient = 1000,
    isnServer = 700_000,
  ) {
    this.isn = { client: isnClient, server: isnServer };
  }

  /** Appends bytes to a side's stream; returns their stream offset. */
  write(from: Side, bytes: Buffer): number {
    const at = this.length(from);
    this.stream[from].push(bytes);
    return at;
  }

  length(from: Side): number {
    return this.stream[from].reduce((n, b) => n + b.length, 0);
  }

  private bytes(from: Side, start: number, end: number): Buffer {
    return Buffer.concat(this.stream[from]).subarray(start, end);
  }

  private frame(from: Side, flags: number, seq: number, payload: Buffer, at: number, iface: number): number {
    const [src, dst] = from === 'client' ? [this.client, this.server] : [this.server, this.client];
    const other: Side = from === 'client' ? 'server' : 'client';
    // A SYN without ACK acknowledges nothing (its ACK field is 0).
    const ack = flags === SYN ? 0 : (this.isn[other] + 1 + this.acked[from]) >>> 0;
    const l4 = tcpSegment({ srcPort: src.port, dstPort: dst.port, seq: seq >>> 0, ack, flags }, payload);
    return this.capture.push(ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: src.addr, dst: dst.addr, protocol: 6 }, l4)), at, iface);
  }

  /** SYN, SYN/ACK, ACK at `at` (+1 µs each) on `iface`. */
  handshake(at: number, iface = 0): this {
    this.frame('client', SYN, this.isn.client, Buffer.alloc(0), at, iface);
    this.frame('server', SYN | ACK, this.isn.server, Buffer.alloc(0), at + 1e-6, iface);
    this.frame('client', ACK, this.isn.client + 1, Buffer.alloc(0), at + 2e-6, iface);
    return this;
  }

  /** A segment from `from` carrying its stream bytes [start, end); returns its frame number. */
  segment(from: Side, start: number, end: number, at: number, iface = 0): number {
    return this.frame(from, ACK | PSH, this.isn[from] + 1 + start, this.bytes(from, start, end), at, iface);
  }

  /** A pure ACK from `from` acknowledging the peer's stream up to `upTo` bytes (default: all the peer wrote). */
  ack(from: Side, at: number, iface = 0, upTo?: number): number {
    const other: Side = from === 'client' ? 'server' : 'client';
    this.acked[from] = upTo ?? this.length(other);
    return this.frame(from, ACK, this.isn[from] + 1 + this.length(from), Buffer.alloc(0), at, iface);
  }

  /** Sets what `from`'s later segments acknowledge of the peer's stream (default: all the peer wrote). */
  acknowledge(from: Side, upTo?: number): this {
    const other: Side = from === 'client' ? 'server' : 'client';
    this.acked[from] = upTo ?? this.length(other);
    return this;
  }

  /** FIN from `from` after all it wrote. */
  fin(from: Side, at: number, iface = 0): number {
    return this.frame(from, FIN | ACK, this.isn[from] + 1 + this.length(from), Buffer.alloc(0), at, iface);
  }
}
