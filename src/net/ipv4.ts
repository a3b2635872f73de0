/**
 * IPv4 header decoding (RFC 791) into the shared IpPacket.
 *
 * The header checksum is not verified: captures taken on the sending host
 * show checksums the NIC fills in later (offload), so a bad checksum is
 * normal there and says nothing about the packet.
 */
import { u16be as u16, u32be as u32 } from '../capture/bytes.js';
import type { IpPacket } from './packet.js';
import { IpOutcome, type IpScratch } from './fragments.js';

export const IPV4_VERSION = 4;
export const IPV4_MIN_HEADER_LEN = 20;

const OFF_VERSION_IHL = 0;
const OFF_TOTAL_LENGTH = 2;
const OFF_ID = 4;
const OFF_FLAGS_FRAGMENT = 6;
const OFF_PROTOCOL = 9;
const OFF_SRC = 12;
const OFF_DST = 16;

/** More-fragments flag in the flags/fragment-offset word. */
const FLAG_MF = 0x2000;
/** Fragment offset, in 8-byte units, in the same word. */
const FRAGMENT_OFFSET_MASK = 0x1fff;
const FRAGMENT_UNIT = 8;

/**
 * Decodes the IPv4 header at `off` of a frame captured up to `end` of `data`.
 * `wireLength` is how many bytes the frame had on the wire from `off` on (more than captured when the snaplen cut it).
 * Fills `pkt` (ipVersion, src, dst, protocol, l4, l4WireLength; not frame /
 * reassembled) and, for a fragment, the fragment fields of `scratch`.
 */
export function decodeIpv4(data: Buffer, off: number, end: number, wireLength: number, pkt: IpPacket, scratch: IpScratch): IpOutcome {
  const captured = end - off;
  if (captured < IPV4_MIN_HEADER_LEN) return malformed(scratch, 'IPv4 header cut short');
  const versionIhl = data[off + OFF_VERSION_IHL]!;
  if (versionIhl >> 4 !== IPV4_VERSION) return malformed(scratch, 'IPv4 header with a version other than 4');
  const headerLen = (versionIhl & 0x0f) * 4;
  if (headerLen < IPV4_MIN_HEADER_LEN) return malformed(scratch, 'IPv4 header length below 20 bytes');
  if (headerLen > captured) return malformed(scratch, 'IPv4 header options cut short');

  let totalLength = u16(data, off + OFF_TOTAL_LENGTH);
  // Zero is what a capture on the sender shows for a TSO/GSO super-packet
  // (the NIC writes the real lengths); the frame itself is then the packet.
  if (totalLength === 0) totalLength = wireLength;
  if (totalLength < headerLen) return malformed(scratch, 'IPv4 total length smaller than its header');

  pkt.ipVersion = IPV4_VERSION;
  pkt.ipId = u16(data, off + OFF_ID);
  pkt.src0 = pkt.src1 = pkt.src2 = 0;
  pkt.src3 = u32(data, off + OFF_SRC);
  pkt.dst0 = pkt.dst1 = pkt.dst2 = 0;
  pkt.dst3 = u32(data, off + OFF_DST);
  pkt.protocol = data[off + OFF_PROTOCOL]!;
  // Bytes past the total length are link padding (Ethernet minimum frame
  // size); bytes missing before it were cut by the snaplen.
  const l4End = off + totalLength < end ? off + totalLength : end;
  pkt.buf = data;
  pkt.l4Start = off + headerLen;
  pkt.l4End = l4End;
  pkt.l4WireLength = totalLength - headerLen;

  const flagsFragment = u16(data, off + OFF_FLAGS_FRAGMENT);
  if ((flagsFragment & (FLAG_MF | FRAGMENT_OFFSET_MASK)) === 0) return IpOutcome.DELIVER;
  scratch.fragId = u16(data, off + OFF_ID);
  scratch.fragOffset = (flagsFragment & FRAGMENT_OFFSET_MASK) * FRAGMENT_UNIT;
  scratch.fragMore = (flagsFragment & FLAG_MF) !== 0;
  scratch.fragNextHeader = pkt.protocol;
  return IpOutcome.FRAGMENT;
}

function malformed(scratch: IpScratch, reason: string): IpOutcome {
  scratch.reason = reason;
  return IpOutcome.MALFORMED;
}

// Dotted-quad text, cached: a capture's packets use few addresses, and
// re-building the string whenever one is needed (a new connection, a UDP
// datagram) would allocate. Two-way set-associative, so two busy addresses that hash alike
// do not evict each other on every packet; a miss just rebuilds the string.
const DECIMAL: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
const SET_BITS = 9;
const WAYS = 2;
const cacheKeys = new Uint32Array(WAYS << SET_BITS);
const cacheTexts: (string | undefined)[] = new Array<string | undefined>(WAYS << SET_BITS).fill(undefined);
/** Per set: the way used last (the other one is replaced on a miss). */
const cacheRecent = new Uint8Array(1 << SET_BITS);

/** The dotted-quad text of the 4 bytes at `off`. */
export function ipv4Text(data: Buffer, off: number): string {
  return ipv4TextOf(u32(data, off));
}

/** The dotted-quad text of an address held as an unsigned 32-bit number. */
export function ipv4TextOf(addr: number): string {
  const set = Math.imul(addr, 0x9e3779b1) >>> (32 - SET_BITS);
  const base = set * WAYS;
  for (let way = 0; way < WAYS; way++) {
    const cached = cacheTexts[base + way];
    if (cached !== undefined && cacheKeys[base + way] === addr) {
      cacheRecent[set] = way;
      return cached;
    }
  }
  const text = DECIMAL[addr >>> 24] + '.' + DECIMAL[(addr >>> 16) & 0xff] + '.' + DECIMAL[(addr >>> 8) & 0xff] + '.' + DECIMAL[addr & 0xff];
  const way = cacheRecent[set]! ^ 1;
  cacheKeys[base + way] = addr;
  cacheTexts[base + way] = text;
  cacheRecent[set] = way;
  return text;
}
