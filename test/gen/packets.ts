/**
 * Packet builders for tests: link layers, IPv4, IPv6 (with extension
 * headers) and fragmentation. Addresses as text; every builder returns a
 * fresh Buffer. Transport headers are not built here (see tcp.ts).
 */
import { newFrame, type Frame } from '../../src/capture/frame.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;
export const TPID_QINQ_OLD = 0x9100;

export const AF_INET = 2;
export const AF_INET6_BSD = 24;
export const AF_INET6_FREEBSD = 28;
export const AF_INET6_DARWIN = 30;

/** IPv4 flags (the 3-bit field): DF and MF. */
export const IPV4_FLAG_DF = 0b010;
export const IPV4_FLAG_MF = 0b001;

// ---------------------------------------------------------------- addresses

export function parseMac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC ${text}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function parseIpv4(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new Error(`bad IPv4 address ${text}`);
  }
  return Buffer.from(parts);
}

/** Parses any valid IPv6 text (with "::" and a trailing dotted quad). */
export function parseIpv6(text: string): Buffer {
  let tail4: Buffer | null = null;
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = parseIpv4(s.slice(lastColon + 1));
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${text}`);
  const toGroups = (h: string): number[] => (h === '' ? [] : h.split(':').map((g) => parseInt(g, 16)));
  const head = toGroups(halves[0]!);
  const tail = halves.length === 2 ? toGroups(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    throw new Error(`bad IPv6 address ${text}`);
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (tail4) tail4.copy(out, 12);
  return out;
}

// ---------------------------------------------------------------- link layers

export interface VlanTag {
  tpid: number;
  vid: number;
  /** Priority code point, 0..7. */
  pcp?: number;
}

export interface EthernetOptions {
  src?: string;
  dst?: string;
  ethertype: number;
  /** Outermost first. */
  vlans?: VlanTag[];
}

export function ethernet(opts: EthernetOptions, payload: Buffer): Buffer {
  const vlans = opts.vlans ?? [];
  const header = Buffer.alloc(14 + vlans.length * 4);
  parseMac(opts.dst ?? '02:00:00:00:00:02').copy(header, 0);
  parseMac(opts.src ?? '02:00:00:00:00:01').copy(header, 6);
  let pos = 12;
  for (const v of vlans) {
    header.writeUInt16BE(v.tpid, pos);
    header.writeUInt16BE((((v.pcp ?? 0) & 7) << 13) | (v.vid & 0x0fff), pos + 2);
    pos += 4;
  }
  header.writeUInt16BE(opts.ethertype, pos);
  return Buffer.concat([header, payload]);
}

/** Linux cooked capture v1: 16-byte header, protocol at offset 14. */
export function sll(protocol: number, payload: Buffer, packetType = 0): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(packetType, 0);
  header.writeUInt16BE(1, 2); // ARPHRD_ETHER
  header.writeUInt16BE(6, 4); // address length
  parseMac('02:00:00:00:00:01').copy(header, 6);
  header.writeUInt16BE(protocol, 14);
  return Buffer.concat([header, payload]);
}

/** Linux cooked capture v2: 20-byte header, protocol at offset 0. */
export function sll2(protocol: number, payload: Buffer, interfaceIndex = 1): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(protocol, 0);
  header.writeUInt32BE(interfaceIndex, 4);
  header.writeUInt16BE(1, 8); // ARPHRD_ETHER
  header[10] = 0; // packet type: to us
  header[11] = 6; // address length
  parseMac('02:00:00:00:00:01').copy(header, 12);
  return Buffer.concat([header, payload]);
}

/** BSD NULL: 4-byte address family in the writer's byte order. */
export function nullLink(family: number, payload: Buffer, littleEndian = true): Buffer {
  const header = Buffer.alloc(4);
  if (littleEndian) header.writeUInt32LE(family, 0);
  else header.writeUInt32BE(family, 0);
  return Buffer.concat([header, payload]);
}

/** OpenBSD LOOP: 4-byte address family in network byte order. */
export function loopLink(family: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(family, 0);
  return Buffer.concat([header, payload]);
}

// ---------------------------------------------------------------- IPv4

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  id?: number;
  ttl?: number;
  /** Raw option bytes; padded with zeros (End of Options) to a multiple of 4. */
  options?: Buffer;
  /** The 3-bit flags field (IPV4_FLAG_DF | IPV4_FLAG_MF). Default DF unless fragmented. */
  flags?: number;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Written instead of the computed total length. */
  totalLengthOverride?: number;
  /** Written instead of the version nibble (4). */
  versionOverride?: number;
  /** Written instead of the computed IHL (header length / 4). */
  ihlOverride?: number;
}

export function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < header.length; i += 2) sum += header.readUInt16BE(i);
  if (header.length % 2 === 1) sum += header[header.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ipv4(opts: Ipv4Options, payload: Buffer): Buffer {
  let options = opts.options ?? Buffer.alloc(0);
  if (options.length % 4 !== 0) options = Buffer.concat([options, Buffer.alloc(4 - (options.length % 4))]);
  const headerLen = 20 + options.length;
  const header = Buffer.alloc(headerLen);
  const ihl = opts.ihlOverride ?? headerLen / 4;
  header[0] = ((opts.versionOverride ?? 4) << 4) | (ihl & 0x0f);
  header[1] = 0; // DSCP/ECN
  header.writeUInt16BE(opts.totalLengthOverride ?? headerLen + payload.length, 2);
  header.writeUInt16BE(opts.id ?? 0, 4);
  const fragOffset = opts.fragOffset ?? 0;
  if (fragOffset % 8 !== 0) throw new Error('IPv4 fragment offset must be a multiple of 8');
  const flags = opts.flags ?? (fragOffset === 0 ? IPV4_FLAG_DF : 0);
  header.writeUInt16BE(((flags & 7) << 13) | (fragOffset / 8), 6);
  header[8] = opts.ttl ?? 64;
  header[9] = opts.protocol;
  parseIpv4(opts.src).copy(header, 12);
  parseIpv4(opts.dst).copy(header, 16);
  options.copy(header, 20);
  header.writeUInt16BE(ipv4Checksum(header), 10);
  return Buffer.concat([header, payload]);
}

/**
 * Splits `payload` (the transport bytes of one datagram) into IPv4
 * fragments: `sizes` are the data sizes of the fragments in order (each but
 * the last a multiple of 8); the rest of the payload, if any, goes into one
 * more final fragment. Returns the fragment packets in datagram order.
 */
export function fragmentIpv4(
  opts: Omit<Ipv4Options, 'flags' | 'fragOffset' | 'totalLengthOverride'> & { id: number },
  payload: Buffer,
  sizes: number[],
): Buffer[] {
  return splitRanges(payload.length, sizes).map(({ start, end }) =>
    ipv4({ ...opts, flags: end < payload.length ? IPV4_FLAG_MF : 0, fragOffset: start }, payload.subarray(start, end)),
  );
}

function splitRanges(length: number, sizes: number[]): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  let pos = 0;
  for (const size of sizes) {
    if (pos >= length) break;
    const end = Math.min(length, pos + size);
    if (end < length && (end - pos) % 8 !== 0) throw new Error('non-final fragment sizes must be multiples of 8');
    ranges.push({ start: pos, end });
    pos = end;
  }
  if (pos < length) ranges.push({ start: pos, end: length });
  return ranges;
}

// ---------------------------------------------------------------- IPv6

export const IPV6_EXT_HOPOPTS = 0;
export const IPV6_EXT_ROUTING = 43;
export const IPV6_EXT_FRAGMENT = 44;
export const IPV6_EXT_ESP = 50;
export const IPV6_EXT_AH = 51;
export const IPV6_NO_NEXT_HEADER = 59;
export const IPV6_EXT_DSTOPTS = 60;
export const IPV6_EXT_MOBILITY = 135;

export interface Ipv6ExtHeader {
  type: number;
  /**
   * The header's bytes after the next-header and length bytes. Padded with
   * zeros to the header's unit (8 bytes; AH: 4 bytes with the total a
   * multiple of 8 too). For a fragment header (44): the 6 bytes after the
   * next-header and reserved bytes (offset/flags, identification); see
   * fragmentHeaderBody.
   */
  body: Buffer;
}

export interface Ipv6Options {
  src: string;
  dst: string;
  /** Protocol of the payload after the extension headers. */
  nextHeader: number;
  /** In order, the first follows the fixed header. */
  extHeaders?: Ipv6ExtHeader[];
  hopLimit?: number;
  /** Written instead of the computed payload length. */
  payloadLengthOverride?: number;
  versionOverride?: number;
}

/**
 * Body of a fragment header: the 6 bytes after next header and reserved
 * (offset/flags word, identification). `offset` in bytes, a multiple of 8.
 */
export function fragmentHeaderBody(offset: number, more: boolean, id: number): Buffer {
  const body = Buffer.alloc(6);
  body.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 0);
  body.writeUInt32BE(id >>> 0, 2);
  return body;
}

function encodeExtHeader(ext: Ipv6ExtHeader, next: number): Buffer {
  if (ext.type === IPV6_EXT_FRAGMENT) {
    if (ext.body.length !== 6) throw new Error('fragment header body must be 6 bytes');
    return Buffer.concat([Buffer.from([next, 0]), ext.body]);
  }
  const isAh = ext.type === IPV6_EXT_AH;
  let total = 2 + ext.body.length;
  total = Math.ceil(total / 8) * 8;
  const out = Buffer.alloc(Math.max(total, 8));
  out[0] = next;
  out[1] = isAh ? out.length / 4 - 2 : out.length / 8 - 1;
  ext.body.copy(out, 2);
  return out;
}

export function ipv6(opts: Ipv6Options, payload: Buffer): Buffer {
  const exts = opts.extHeaders ?? [];
  const encoded: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? exts[i + 1]!.type : opts.nextHeader;
    encoded.push(encodeExtHeader(exts[i]!, next));
  }
  const body = Buffer.concat([...encoded, payload]);
  const header = Buffer.alloc(40);
  header.writeUInt32BE(((opts.versionOverride ?? 6) << 28) >>> 0, 0);
  header.writeUInt16BE(opts.payloadLengthOverride ?? body.length, 4);
  header[6] = exts.length > 0 ? exts[0]!.type : opts.nextHeader;
  header[7] = opts.hopLimit ?? 64;
  parseIpv6(opts.src).copy(header, 8);
  parseIpv6(opts.dst).copy(header, 24);
  return Buffer.concat([header, body]);
}

/**
 * Splits `payload` (the fragmentable part: transport bytes, possibly after
 * extension headers the caller encoded) into IPv6 fragments with a fragment
 * header after `opts.extHeaders` (the unfragmentable part). `opts.nextHeader`
 * is the protocol of the fragmentable part. Returns the packets in order.
 */
export function fragmentIpv6(opts: Ipv6Options & { id: number }, payload: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (const { start, end } of splitRanges(payload.length, sizes)) {
    const more = end < payload.length;
    const frag: Ipv6ExtHeader = { type: IPV6_EXT_FRAGMENT, body: fragmentHeaderBody(start, more, opts.id) };
    out.push(ipv6({ ...opts, extHeaders: [...(opts.extHeaders ?? []), frag] }, payload.subarray(start, end)));
  }
  return out;
}

// ---------------------------------------------------------------- frames

export interface FrameOptions {
  number?: number;
  fileIndex?: number;
  tsSec?: number;
  tsNsec?: number;
  /** Wire length; defaults to the data length (no snaplen cut). */
  origLen?: number;
}

/** A Frame as a reader would emit it (a fresh object, unlike the readers' reused one). */
export function makeFrame(linkType: number, data: Buffer, opts: FrameOptions = {}): Frame {
  const f = newFrame(opts.fileIndex ?? 0);
  f.linkType = linkType;
  f.setBytes(data, opts.origLen ?? data.length);
  f.number = opts.number ?? 1;
  f.tsSec = opts.tsSec ?? 1_700_000_000;
  f.tsNsec = opts.tsNsec ?? 0;
  return f;
}

/** Deterministic payload bytes: 0, 1, 2, … (mod 251, so no period of 256 hides misplaced fragments). */
export function patternBytes(length: number, seed = 0): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i + seed) % 251;
  return out;
}
