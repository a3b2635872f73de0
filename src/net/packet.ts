/**
 * The contract between the link/IP layers and the transport layer: one
 * decoded IP packet carrying a transport-layer payload.
 *
 * The network decoder reuses a single IpPacket object and mutates it per
 * frame (no per-packet allocation on the hot path); a consumer copies what it
 * keeps beyond the call.
 */
import type { Frame } from '../capture/frame.js';
import { ipv4TextOf } from './ipv4.js';
import { ipv6TextOf } from './ipv6.js';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/**
 * Not an IP protocol: the network layer's mark for a RoCEv1 packet (a GRH
 * with next header 0x1B, the InfiniBand BTH), delivered like an IP packet
 * with the GIDs as addresses.
 */
export const IPPROTO_IB_BTH = 0x1b;

/** IANA's UDP port for RoCEv2. */
export const ROCE_V2_PORT = 4791;

const NO_BYTES = Buffer.alloc(0);

/**
 * One IP packet's transport-layer bytes and addresses. The addresses are
 * numbers on the per-packet path (the TCP layer finds a connection by them);
 * `src`/`dst` give the text, built (or found in a small cache) on demand.
 */
export class IpPacket {
  /** 4 or 6. */
  ipVersion = 0;
  /** Transport protocol number (IPPROTO_*), after IPv6 extension headers. */
  protocol = 0;
  /**
   * The captured transport-layer bytes (header + payload) are
   * `buf[l4Start, l4End)`: the frame's buffer, or for a reassembled
   * fragmented datagram a fresh one. Valid during the call only.
   */
  buf: Buffer = NO_BYTES;
  l4Start = 0;
  l4End = 0;
  /**
   * Length of the transport-layer bytes as the IP header states it. Larger
   * than `l4End - l4Start` when the snaplen cut the packet: the difference
   * is the number of bytes missing at the end.
   */
  l4WireLength = 0;
  /**
   * Source and destination addresses as 32-bit words, most significant
   * first: an IPv6 address fills all four, an IPv4 address is the last one
   * (the others 0).
   */
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** IPv4's identification field; -1 for IPv6 and RoCE (a copy of a packet carries its original's). */
  ipId = -1;
  /** The frame that carried it (for a reassembled datagram: the last fragment's frame). */
  frame: Frame;
  /** True when this packet is a datagram reassembled from IP fragments. */
  reassembled = false;

  constructor(frame: Frame) {
    this.frame = frame;
  }

  /** Source address in canonical text form (dotted quad; RFC 5952 for IPv6). */
  get src(): string {
    return this.ipVersion === 6 ? ipv6TextOf(this.src0, this.src1, this.src2, this.src3) : ipv4TextOf(this.src3);
  }

  /** Destination address in canonical text form. */
  get dst(): string {
    return this.ipVersion === 6 ? ipv6TextOf(this.dst0, this.dst1, this.dst2, this.dst3) : ipv4TextOf(this.dst3);
  }

  /** The captured transport-layer bytes as a view (allocates: not for the per-packet path). */
  get l4(): Buffer {
    return this.buf.subarray(this.l4Start, this.l4End);
  }

  /** Sets the addresses from their text (tests and tools; the decoders set the words). */
  setAddresses(src: string, dst: string): this {
    const s = addressWords(src);
    const d = addressWords(dst);
    this.ipVersion = s.version;
    [this.src0, this.src1, this.src2, this.src3] = s.words;
    [this.dst0, this.dst1, this.dst2, this.dst3] = d.words;
    return this;
  }

  /** Points the packet at `l4` (whole): captured bytes, wire length `wireLength`. */
  setL4(l4: Buffer, wireLength = l4.length): this {
    this.buf = l4;
    this.l4Start = 0;
    this.l4End = l4.length;
    this.l4WireLength = wireLength;
    return this;
  }
}

/** The words of an address written as text (dotted quad or IPv6). */
export function addressWords(text: string): { version: 4 | 6; words: [number, number, number, number] } {
  if (!text.includes(':')) {
    const parts = text.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${text}`);
    return { version: 4, words: [0, 0, 0, ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0] };
  }
  let t = text;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dotted) {
    const v4 = addressWords(dotted[1]!).words[3];
    tail.push(v4 >>> 16, v4 & 0xffff);
    t = t.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, rest] = t.includes('::') ? t.split('::') : [t, undefined];
  const hs = head ? head.split(':') : [];
  const rs = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest !== undefined ? 8 - hs.length - rs.length : 0;
  const groups = [...hs, ...Array<string>(fill).fill('0'), ...rs].map((g) => parseInt(g, 16));
  if (tail.length === 2) groups.splice(6, 2, tail[0]!, tail[1]!);
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`not an IPv6 address: ${text}`);
  const w = (i: number): number => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return { version: 6, words: [w(0), w(2), w(4), w(6)] };
}

/** Counters the network layer keeps; all of them are reported, none silently dropped. */
export interface NetStats {
  /** Frames per link type number. */
  linkTypes: Map<number, number>;
  /** Frames that carried IPv4 / IPv6. */
  ipv4: number;
  ipv6: number;
  /** Frames that were not IP (ARP, LLDP, …): counted, not an error. */
  nonIp: number;
  /** RoCEv1 frames (InfiniBand over Ethernet, ethertype 0x8915): not IP, decoded. */
  roceV1: number;
  /** Frames of a link type nfsight cannot decode. */
  unknownLinkType: number;
  /** Frames whose link or IP header was cut by the snaplen or malformed. */
  malformed: number;
  /** IP fragments seen, datagrams reassembled, fragments dropped (timeout, overlap, memory bound). */
  fragments: number;
  reassembled: number;
  fragmentsDropped: number;
  /** IP packets whose transport protocol is neither TCP nor UDP. */
  otherProtocol: number;
}

export function newNetStats(): NetStats {
  return {
    linkTypes: new Map(),
    ipv4: 0,
    ipv6: 0,
    nonIp: 0,
    roceV1: 0,
    unknownLinkType: 0,
    malformed: 0,
    fragments: 0,
    reassembled: 0,
    fragmentsDropped: 0,
    otherProtocol: 0,
  };
}
