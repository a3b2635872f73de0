/**
 * Builders for transport-layer tests: raw TCP/UDP headers, and IpPacket-shaped
 * objects to feed the reassembler directly (without the network decoder).
 */
import { newFrame, type CaptureFrame, type FrameRef } from '../../src/capture/frame.js';
import { IPPROTO_TCP, IPPROTO_UDP, IpPacket } from '../../src/net/packet.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export interface TcpSegmentSpec {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  /** Raw option bytes; padded with NOPs (1) to a multiple of 4. */
  options?: Buffer | Uint8Array;
}

/** A TCP header + payload; the checksum is left 0. */
export function tcpSegment(spec: TcpSegmentSpec, payload: Buffer | Uint8Array | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
  const opts = spec.options ? Buffer.from(spec.options) : Buffer.alloc(0);
  const optLen = (opts.length + 3) & ~3;
  const hl = 20 + optLen;
  const b = Buffer.alloc(hl + body.length);
  b.writeUInt16BE(spec.srcPort & 0xffff, 0);
  b.writeUInt16BE(spec.dstPort & 0xffff, 2);
  b.writeUInt32BE(spec.seq >>> 0, 4);
  b.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  b[12] = (hl / 4) << 4;
  b[13] = spec.flags & 0xff;
  b.writeUInt16BE((spec.window ?? 65535) & 0xffff, 14);
  opts.copy(b, 20);
  b.fill(1, 20 + opts.length, hl);
  body.copy(b, hl);
  return b;
}

/** A UDP header + payload; the checksum is left 0. */
export function udpDatagram(srcPort: number, dstPort: number, payload: Buffer | Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
  const b = Buffer.alloc(8 + body.length);
  b.writeUInt16BE(srcPort, 0);
  b.writeUInt16BE(dstPort, 2);
  b.writeUInt16BE((8 + body.length) & 0xffff, 4);
  body.copy(b, 8);
  return b;
}

export interface PacketSpec {
  src: string;
  dst: string;
  /** IPPROTO_TCP unless given. */
  protocol?: number;
  /** l4WireLength; the l4 length unless given (larger = cut by the snaplen). */
  wireLength?: number;
  /** Keep only this many l4 bytes (the rest is "cut by the snaplen"; wireLength stays the full length). */
  snap?: number;
  number?: number;
  tsSec?: number;
  tsNsec?: number;
  ipVersion?: number;
}

/** A standalone IpPacket-shaped object around `l4` (fresh frame, fresh buffers). */
export function ipPacket(l4: Buffer, spec: PacketSpec): IpPacket {
  const captured = spec.snap !== undefined ? l4.subarray(0, spec.snap) : l4;
  const frame = newFrame(0).setBytes(captured);
  frame.number = spec.number ?? 1;
  frame.tsSec = spec.tsSec ?? 0;
  frame.tsNsec = spec.tsNsec ?? 0;
  frame.linkType = 1;
  const pkt = new IpPacket(frame).setAddresses(spec.src, spec.dst).setL4(captured, spec.wireLength ?? l4.length);
  if (spec.ipVersion !== undefined) pkt.ipVersion = spec.ipVersion;
  pkt.protocol = spec.protocol ?? IPPROTO_TCP;
  return pkt;
}

/**
 * Feeds packets the way the real pipeline does: ONE Frame object and ONE
 * IpPacket object mutated per packet, l4 bytes in ONE scratch buffer that is
 * overwritten with junk after each call — so a consumer (or the reassembler)
 * that keeps a view or a frame reference instead of copying gets caught.
 */
export class PacketFeeder {
  readonly frame: CaptureFrame;
  readonly pkt: IpPacket;
  private scratch = Buffer.alloc(65536 + 64);
  number = 0;
  /** Capture time of the next packet (seconds); advanced by `step` per packet. */
  tsSec = 1_700_000_000;
  tsNsec = 0;

  constructor(private readonly sink: (pkt: IpPacket) => void) {
    this.frame = newFrame(0);
    this.frame.linkType = 1;
    this.pkt = new IpPacket(this.frame);
  }

  /** Feeds `l4` (copied into the scratch buffer); returns the frame number used. */
  feed(l4: Buffer, spec: Omit<PacketSpec, 'number' | 'tsSec' | 'tsNsec'>): number {
    const captured = spec.snap !== undefined ? Math.min(spec.snap, l4.length) : l4.length;
    if (this.scratch.length < captured) this.scratch = Buffer.alloc(captured);
    l4.copy(this.scratch, 0, 0, captured);
    const f = this.frame;
    f.number = ++this.number;
    f.tsSec = this.tsSec;
    f.tsNsec = this.tsNsec;
    f.buf = this.scratch;
    f.start = 0;
    f.end = captured;
    f.origLen = l4.length;
    const p = this.pkt;
    p.setAddresses(spec.src, spec.dst);
    if (spec.ipVersion !== undefined) p.ipVersion = spec.ipVersion;
    p.protocol = spec.protocol ?? IPPROTO_TCP;
    p.buf = this.scratch;
    p.l4Start = 0;
    p.l4End = captured;
    p.l4WireLength = spec.wireLength ?? l4.length;
    this.sink(p);
    // Clobber everything the packet pointed at.
    this.scratch.fill(0xee, 0, captured);
    f.number = -1;
    f.tsSec = -1;
    return this.number;
  }
}

export { IPPROTO_TCP, IPPROTO_UDP };
export type { FrameRef };
