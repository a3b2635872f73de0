/**
 * IPv6 header and extension-header decoding (RFC 8200) into the shared
 * IpPacket, and the RFC 5952 text form of IPv6 addresses.
 */
import { u32be as u32 } from '../capture/bytes.js';
import type { IpPacket } from './packet.js';
import { IpOutcome, type IpScratch } from './fragments.js';

export const IPV6_VERSION = 6;
export const IPV6_HEADER_LEN = 40;

// Next-header values that are extension headers (IANA "IPv6 Extension Header Types").
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_HIP = 139;
export const IPPROTO_SHIM6 = 140;
export const IPPROTO_EXPERIMENT_1 = 253;
export const IPPROTO_EXPERIMENT_2 = 254;

const OFF_PAYLOAD_LENGTH = 4;
const OFF_NEXT_HEADER = 6;
const OFF_SRC = 8;
const OFF_DST = 24;

/** Every extension header starts with next header, then a length byte. */
const EXT_MIN_LEN = 2;
/** Generic extension headers count length in 8-byte units, not counting the first 8. */
const EXT_UNIT = 8;
/** AH counts in 4-byte units, not counting the first two (RFC 4302). */
const AH_UNIT = 4;
const AH_EXTRA_UNITS = 2;
const FRAGMENT_HEADER_LEN = 8;
/** Fragment offset (already in bytes: 13 bits << 3) and the M flag. */
const FRAGMENT_OFFSET_MASK = 0xfff8;
const FRAGMENT_M_FLAG = 0x0001;

const OPT_PAD1 = 0;
const OPT_JUMBO = 0xc2;

/**
 * Decodes the IPv6 header at `off` (of a frame captured up to `end` of
 * `data`) and its extension headers up to the
 * transport header (or a fragment header). `wireLength` is how many bytes
 * the frame had on the wire from `off` on. Fills `pkt` (not frame /
 * reassembled); for a fragment, `pkt.l4` is the fragment's data and the
 * fragment fields of `scratch` are set.
 *
 * ESP and "no next header" end the walk: they are delivered with that
 * protocol number (the caller counts them as other protocols).
 */
export function decodeIpv6(data: Buffer, off: number, end: number, wireLength: number, pkt: IpPacket, scratch: IpScratch): IpOutcome {
  if (end - off < IPV6_HEADER_LEN) return malformed(scratch, 'IPv6 header cut short');
  if (data[off]! >> 4 !== IPV6_VERSION) return malformed(scratch, 'IPv6 header with a version other than 6');
  let payloadLength = (data[off + OFF_PAYLOAD_LENGTH]! << 8) | data[off + OFF_PAYLOAD_LENGTH + 1]!;
  const nextHeader = data[off + OFF_NEXT_HEADER]!;
  const start = off + IPV6_HEADER_LEN;
  if (payloadLength === 0) {
    if (nextHeader === IPPROTO_HOPOPTS && hasJumboOption(data, start, end)) {
      return malformed(scratch, 'IPv6 jumbogram (not supported)');
    }
    // Zero without a jumbo option is what a capture on the sender shows for
    // a GSO/BIG TCP super-packet: the frame itself is the packet.
    payloadLength = Math.max(0, wireLength - IPV6_HEADER_LEN);
  }
  pkt.ipVersion = IPV6_VERSION;
  pkt.ipId = -1;
  pkt.src0 = u32(data, off + OFF_SRC);
  pkt.src1 = u32(data, off + OFF_SRC + 4);
  pkt.src2 = u32(data, off + OFF_SRC + 8);
  pkt.src3 = u32(data, off + OFF_SRC + 12);
  pkt.dst0 = u32(data, off + OFF_DST);
  pkt.dst1 = u32(data, off + OFF_DST + 4);
  pkt.dst2 = u32(data, off + OFF_DST + 8);
  pkt.dst3 = u32(data, off + OFF_DST + 12);
  return walkIpv6Headers(data, start, start + payloadLength, end, nextHeader, pkt, scratch);
}

/**
 * Follows the extension-header chain from `pos` (header type `nextHeader`)
 * in a payload that ends at `wireEnd` on the wire (the capture may stop
 * earlier, at `dataEnd`: snaplen). Sets pkt.protocol, pkt.l4 and pkt.l4WireLength. Also used on a
 * reassembled fragmentable part, which may start with more extension headers.
 *
 * An atomic fragment (offset 0, no more fragments; RFC 6946) is not a
 * fragment: the walk goes on past it.
 */
export function walkIpv6Headers(
  data: Buffer,
  pos: number,
  wireEnd: number,
  dataEnd: number,
  nextHeader: number,
  pkt: IpPacket,
  scratch: IpScratch,
): IpOutcome {
  const capturedEnd = Math.min(wireEnd, dataEnd);
  // Every iteration consumes at least 8 bytes, so the loop is bounded.
  for (;;) {
    let len: number;
    switch (nextHeader) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
      case IPPROTO_MOBILITY:
      case IPPROTO_HIP:
      case IPPROTO_SHIM6:
      case IPPROTO_EXPERIMENT_1:
      case IPPROTO_EXPERIMENT_2:
        if (pos + EXT_MIN_LEN > capturedEnd) return malformed(scratch, 'IPv6 extension header cut short');
        len = (data[pos + 1]! + 1) * EXT_UNIT;
        break;
      case IPPROTO_AH:
        if (pos + EXT_MIN_LEN > capturedEnd) return malformed(scratch, 'IPv6 authentication header cut short');
        len = (data[pos + 1]! + AH_EXTRA_UNITS) * AH_UNIT;
        break;
      case IPPROTO_FRAGMENT: {
        if (pos + FRAGMENT_HEADER_LEN > capturedEnd) return malformed(scratch, 'IPv6 fragment header cut short');
        const offsetFlags = data.readUInt16BE(pos + 2);
        const fragNext = data[pos]!;
        const fragOffset = offsetFlags & FRAGMENT_OFFSET_MASK;
        const more = (offsetFlags & FRAGMENT_M_FLAG) !== 0;
        if (fragOffset === 0 && !more) {
          nextHeader = fragNext;
          pos += FRAGMENT_HEADER_LEN;
          continue;
        }
        scratch.fragId = data.readUInt32BE(pos + 4);
        scratch.fragOffset = fragOffset;
        scratch.fragMore = more;
        scratch.fragNextHeader = fragNext;
        setPayload(data, pos + FRAGMENT_HEADER_LEN, wireEnd, capturedEnd, fragNext, pkt);
        return IpOutcome.FRAGMENT;
      }
      default:
        // Transport protocols, ESP (encrypted: nothing more to read) and
        // "no next header" all end the chain.
        setPayload(data, pos, wireEnd, capturedEnd, nextHeader, pkt);
        return IpOutcome.DELIVER;
    }
    if (pos + len > wireEnd) return malformed(scratch, 'IPv6 extension header longer than the payload');
    if (pos + len > capturedEnd) return malformed(scratch, 'IPv6 extension header cut short');
    nextHeader = data[pos]!;
    pos += len;
  }
}

function setPayload(data: Buffer, pos: number, wireEnd: number, capturedEnd: number, protocol: number, pkt: IpPacket): void {
  pkt.protocol = protocol;
  // Bytes past wireEnd are link padding, excluded; capturedEnd < wireEnd is
  // the snaplen cut.
  pkt.buf = data;
  pkt.l4Start = pos;
  pkt.l4End = capturedEnd > pos ? capturedEnd : pos;
  pkt.l4WireLength = wireEnd - pos;
}

/** Whether the hop-by-hop header at `pos` (as far as captured) holds a Jumbo Payload option. */
function hasJumboOption(data: Buffer, pos: number, dataEnd: number): boolean {
  if (pos + EXT_MIN_LEN > dataEnd) return false;
  const end = Math.min(pos + (data[pos + 1]! + 1) * EXT_UNIT, dataEnd);
  let opt = pos + EXT_MIN_LEN;
  while (opt < end) {
    const type = data[opt]!;
    if (type === OPT_JUMBO) return true;
    if (type === OPT_PAD1) {
      opt += 1;
      continue;
    }
    if (opt + 1 >= end) return false;
    opt += 2 + data[opt + 1]!;
  }
  return false;
}

function malformed(scratch: IpScratch, reason: string): IpOutcome {
  scratch.reason = reason;
  return IpOutcome.MALFORMED;
}

/**
 * RFC 5952 text of the 16 bytes at `off`: lowercase hex without leading
 * zeros, the longest run of two or more zero groups (the leftmost on a tie)
 * as "::", and IPv4-mapped addresses as ::ffff:a.b.c.d.
 */
export function formatIpv6(data: Buffer, off: number): string {
  return formatIpv6Words(u32(data, off), u32(data, off + 4), u32(data, off + 8), u32(data, off + 12));
}

/** formatIpv6 of an address held as four 32-bit words, most significant first. */
export function formatIpv6Words(w0: number, w1: number, w2: number, w3: number): string {
  const groups: number[] = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];

  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${w3 >>> 24}.${(w3 >>> 16) & 0xff}.${(w3 >>> 8) & 0xff}.${w3 & 0xff}`;
  }

  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups.slice(bestStart + bestLen).map(hex).join(':');
  return head + '::' + tail;
}

function hex(group: number): string {
  return group.toString(16);
}

// Cache of address texts, as for IPv4: formatting allocates, and a capture
// uses few addresses. Two-way set-associative on the 16 bytes (kept as 4
// words per entry), so two busy addresses that hash alike do not thrash.
const SET_BITS = 7;
const WAYS = 2;
const WORDS = 4;
const cacheWords = new Uint32Array((WAYS << SET_BITS) * WORDS);
const cacheTexts: (string | undefined)[] = new Array<string | undefined>(WAYS << SET_BITS).fill(undefined);
/** Per set: the way used last (the other one is replaced on a miss). */
const cacheRecent = new Uint8Array(1 << SET_BITS);

/** Cached formatIpv6. */
export function ipv6Text(data: Buffer, off: number): string {
  return ipv6TextOf(u32(data, off), u32(data, off + 4), u32(data, off + 8), u32(data, off + 12));
}

/** Cached formatIpv6Words. */
export function ipv6TextOf(w0: number, w1: number, w2: number, w3: number): string {
  const set = Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x27d4eb2f), 0x9e3779b1) >>> (32 - SET_BITS);
  const base = set * WAYS;
  for (let way = 0; way < WAYS; way++) {
    const at = (base + way) * WORDS;
    const cached = cacheTexts[base + way];
    if (cached !== undefined && cacheWords[at] === w0 && cacheWords[at + 1] === w1 && cacheWords[at + 2] === w2 && cacheWords[at + 3] === w3) {
      cacheRecent[set] = way;
      return cached;
    }
  }
  const text = formatIpv6Words(w0, w1, w2, w3);
  const way = cacheRecent[set]! ^ 1;
  const at = (base + way) * WORDS;
  cacheWords[at] = w0;
  cacheWords[at + 1] = w1;
  cacheWords[at + 2] = w2;
  cacheWords[at + 3] = w3;
  cacheTexts[base + way] = text;
  cacheRecent[set] = way;
  return text;
}
