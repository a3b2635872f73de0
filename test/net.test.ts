import { describe, expect, it } from 'vitest';
import type { Diagnostic, Frame } from '../src/capture/frame.js';
import { NetDecoder, type NetDecoderOptions } from '../src/net/decoder.js';
import { FragmentReassembler, newIpScratch } from '../src/net/fragments.js';
import { ipv4Text } from '../src/net/ipv4.js';
import { formatIpv6, ipv6Text } from '../src/net/ipv6.js';
import { newNetStats, type IpPacket } from '../src/net/packet.js';
import {
  AF_INET,
  AF_INET6_BSD,
  AF_INET6_DARWIN,
  AF_INET6_FREEBSD,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPV4_FLAG_MF,
  IPV6_EXT_AH,
  IPV6_EXT_DSTOPTS,
  IPV6_EXT_ESP,
  IPV6_EXT_FRAGMENT,
  IPV6_EXT_HOPOPTS,
  IPV6_EXT_MOBILITY,
  IPV6_EXT_ROUTING,
  IPV6_NO_NEXT_HEADER,
  TPID_8021AD,
  TPID_8021Q,
  TPID_QINQ_OLD,
  ethernet,
  fragmentHeaderBody,
  fragmentIpv4,
  fragmentIpv6,
  ipv4,
  ipv4Checksum,
  ipv6,
  loopLink,
  makeFrame,
  nullLink,
  parseIpv6,
  patternBytes,
  sll,
  sll2,
} from './gen/packets.js';
import { rng as prng } from './gen/random.js';

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;

const LT_NULL = 0;
const LT_ETHERNET = 1;
const LT_RAW_12 = 12;
const LT_RAW_14 = 14;
const LT_RAW = 101;
const LT_LOOP = 108;
const LT_SLL = 113;
const LT_IPV4 = 228;
const LT_IPV6 = 229;
const LT_SLL2 = 276;

const V4A = '192.0.2.10';
const V4B = '198.51.100.20';
const V6A = '2001:db8::10';
const V6B = '2001:db8:0:1::20';

interface Harness {
  dec: NetDecoder;
  diags: Diagnostic[];
}

function harness(options?: NetDecoderOptions): Harness {
  const diags: Diagnostic[] = [];
  const dec = new NetDecoder({ report: (d) => diags.push(d) }, (i) => `capture-${i}.pcap`, options);
  return { dec, diags };
}

/** Decodes and snapshots the reused packet (so several results can be compared). */
interface PacketSnapshot {
  ipVersion: number;
  src: string;
  dst: string;
  protocol: number;
  l4: Buffer;
  l4WireLength: number;
  reassembled: boolean;
  frameNumber: number;
}

function snap(p: IpPacket | null): PacketSnapshot | null {
  if (p === null) return null;
  return {
    ipVersion: p.ipVersion,
    src: p.src,
    dst: p.dst,
    protocol: p.protocol,
    l4: Buffer.from(p.l4),
    l4WireLength: p.l4WireLength,
    reassembled: p.reassembled,
    frameNumber: p.frame.number,
  };
}

function decodeOne(linkType: number, data: Buffer, opts: Parameters<typeof makeFrame>[2] = {}) {
  const h = harness();
  const pkt = snap(h.dec.decode(makeFrame(linkType, data, opts)));
  return { ...h, pkt };
}

const payload20 = patternBytes(20, 7);
const v4tcp = () => ipv4({ src: V4A, dst: V4B, protocol: TCP, id: 0x1234 }, payload20);
const v6udp = () => ipv6({ src: V6A, dst: V6B, nextHeader: UDP }, payload20);

function expectV4(pkt: ReturnType<typeof snap>, l4 = payload20, protocol = TCP) {
  expect(pkt).not.toBeNull();
  expect(pkt!.ipVersion).toBe(4);
  expect(pkt!.src).toBe(V4A);
  expect(pkt!.dst).toBe(V4B);
  expect(pkt!.protocol).toBe(protocol);
  expect(pkt!.l4.equals(l4)).toBe(true);
  expect(pkt!.l4WireLength).toBe(l4.length);
}

function expectV6(pkt: ReturnType<typeof snap>, l4 = payload20, protocol = UDP) {
  expect(pkt).not.toBeNull();
  expect(pkt!.ipVersion).toBe(6);
  expect(pkt!.src).toBe(V6A);
  expect(pkt!.dst).toBe('2001:db8:0:1::20');
  expect(pkt!.protocol).toBe(protocol);
  expect(pkt!.l4.equals(l4)).toBe(true);
  expect(pkt!.l4WireLength).toBe(l4.length);
}

// ===================================================================== link

describe('link layers', () => {
  it('Ethernet IPv4 and IPv6', () => {
    const a = decodeOne(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV4 }, v4tcp()));
    expectV4(a.pkt);
    expect(a.pkt!.reassembled).toBe(false);
    expect(a.dec.stats.ipv4).toBe(1);
    expect(a.dec.stats.linkTypes.get(LT_ETHERNET)).toBe(1);
    const b = decodeOne(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV6 }, v6udp()));
    expectV6(b.pkt);
    expect(b.dec.stats.ipv6).toBe(1);
    expect(b.diags).toEqual([]);
  });

  it('Ethernet non-IP (ARP, 802.3 length field) is counted, not an error', () => {
    const h = harness();
    const arp = ethernet({ ethertype: ETHERTYPE_ARP }, Buffer.alloc(28));
    expect(h.dec.decode(makeFrame(LT_ETHERNET, arp))).toBeNull();
    // 802.3: the type field is a length (46), followed by LLC.
    const llc = ethernet({ ethertype: 46 }, Buffer.concat([Buffer.from([0x42, 0x42, 0x03]), Buffer.alloc(43)]));
    expect(h.dec.decode(makeFrame(LT_ETHERNET, llc))).toBeNull();
    // Even an 802.3 frame whose LLC bytes look like IPv4 stays non-IP.
    expect(h.dec.decode(makeFrame(LT_ETHERNET, ethernet({ ethertype: 1500 }, v4tcp())))).toBeNull();
    expect(h.dec.stats.nonIp).toBe(3);
    expect(h.dec.stats.malformed).toBe(0);
    expect(h.diags).toEqual([]);
  });

  it('802.1Q, 802.1ad and 0x9100 tags, stacked', () => {
    const cases = [
      [{ tpid: TPID_8021Q, vid: 10 }],
      [{ tpid: TPID_8021AD, vid: 100 }, { tpid: TPID_8021Q, vid: 10 }],
      [{ tpid: TPID_QINQ_OLD, vid: 7 }, { tpid: TPID_8021Q, vid: 8 }, { tpid: TPID_8021Q, vid: 9 }],
      [{ tpid: TPID_8021AD, vid: 4095 }],
    ];
    for (const vlans of cases) {
      expectV4(decodeOne(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV4, vlans }, v4tcp())).pkt);
      expectV6(decodeOne(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV6, vlans }, v6udp())).pkt);
    }
    const arp = decodeOne(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_ARP, vlans: cases[1] }, Buffer.alloc(28)));
    expect(arp.pkt).toBeNull();
    expect(arp.dec.stats.nonIp).toBe(1);
  });

  it('cut link headers are malformed', () => {
    const h = harness();
    expect(h.dec.decode(makeFrame(LT_ETHERNET, Buffer.alloc(13)))).toBeNull();
    // A VLAN tag with its inner type missing.
    const tagged = ethernet({ ethertype: ETHERTYPE_IPV4, vlans: [{ tpid: TPID_8021Q, vid: 1 }] }, Buffer.alloc(0));
    expect(h.dec.decode(makeFrame(LT_ETHERNET, tagged.subarray(0, 16), { number: 2 }))).toBeNull();
    expect(h.dec.decode(makeFrame(LT_SLL, Buffer.alloc(15), { number: 3 }))).toBeNull();
    expect(h.dec.decode(makeFrame(LT_SLL2, Buffer.alloc(19), { number: 4 }))).toBeNull();
    expect(h.dec.decode(makeFrame(LT_NULL, Buffer.alloc(3), { number: 5 }))).toBeNull();
    expect(h.dec.decode(makeFrame(LT_LOOP, Buffer.alloc(2), { number: 6 }))).toBeNull();
    expect(h.dec.decode(makeFrame(LT_RAW, Buffer.alloc(0), { number: 7 }))).toBeNull();
    expect(h.dec.stats.malformed).toBe(7);
    expect(h.diags.map((d) => d.frame)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(h.diags.every((d) => d.code === 'malformed-ip' && d.file === 'capture-0.pcap')).toBe(true);
  });

  it('Linux cooked SLL and SLL2', () => {
    expectV4(decodeOne(LT_SLL, sll(ETHERTYPE_IPV4, v4tcp())).pkt);
    expectV6(decodeOne(LT_SLL, sll(ETHERTYPE_IPV6, v6udp())).pkt);
    expectV4(decodeOne(LT_SLL2, sll2(ETHERTYPE_IPV4, v4tcp())).pkt);
    expectV6(decodeOne(LT_SLL2, sll2(ETHERTYPE_IPV6, v6udp())).pkt);
    const a = decodeOne(LT_SLL, sll(ETHERTYPE_ARP, Buffer.alloc(28)));
    expect(a.pkt).toBeNull();
    expect(a.dec.stats.nonIp).toBe(1);
    const b = decodeOne(LT_SLL2, sll2(ETHERTYPE_ARP, Buffer.alloc(28)));
    expect(b.pkt).toBeNull();
    expect(b.dec.stats.nonIp).toBe(1);
    // A VLAN tag the kernel left in the cooked header.
    const vlan = Buffer.concat([Buffer.from([0x00, 0x05, 0x08, 0x00]), v4tcp()]);
    expectV4(decodeOne(LT_SLL, sll(TPID_8021Q, vlan)).pkt);
  });

  it('raw IP link types: the version nibble decides, 228/229 are fixed', () => {
    for (const lt of [LT_RAW, LT_RAW_12, LT_RAW_14]) {
      expectV4(decodeOne(lt, v4tcp()).pkt);
      expectV6(decodeOne(lt, v6udp()).pkt);
      const bad = decodeOne(lt, Buffer.from([0x50, 1, 2, 3]));
      expect(bad.pkt).toBeNull();
      expect(bad.dec.stats.malformed).toBe(1);
    }
    expectV4(decodeOne(LT_IPV4, v4tcp()).pkt);
    expectV6(decodeOne(LT_IPV6, v6udp()).pkt);
    const wrong4 = decodeOne(LT_IPV4, v6udp());
    expect(wrong4.pkt).toBeNull();
    expect(wrong4.dec.stats.malformed).toBe(1);
    const wrong6 = decodeOne(LT_IPV6, v4tcp());
    expect(wrong6.pkt).toBeNull();
    expect(wrong6.dec.stats.malformed).toBe(1);
  });

  it('BSD NULL in either byte order, all AF_INET6 values', () => {
    for (const le of [true, false]) {
      expectV4(decodeOne(LT_NULL, nullLink(AF_INET, v4tcp(), le)).pkt);
      for (const af of [AF_INET6_BSD, AF_INET6_FREEBSD, AF_INET6_DARWIN]) {
        expectV6(decodeOne(LT_NULL, nullLink(af, v6udp(), le)).pkt);
      }
      const other = decodeOne(LT_NULL, nullLink(7, Buffer.alloc(30), le));
      expect(other.pkt).toBeNull();
      expect(other.dec.stats.nonIp).toBe(1);
    }
  });

  it('LOOP: family in network byte order only', () => {
    expectV4(decodeOne(LT_LOOP, loopLink(AF_INET, v4tcp())).pkt);
    expectV6(decodeOne(LT_LOOP, loopLink(AF_INET6_BSD, v6udp())).pkt);
    // Little-endian AF_INET is 0x02000000 read in network order: not IP.
    const le = decodeOne(LT_LOOP, nullLink(AF_INET, v4tcp(), true));
    expect(le.pkt).toBeNull();
    expect(le.dec.stats.nonIp).toBe(1);
  });

  it('unknown link type: one diagnostic per link type per run, every frame counted', () => {
    const h = harness();
    h.dec.decode(makeFrame(147, v4tcp(), { number: 5, fileIndex: 1 }));
    h.dec.decode(makeFrame(147, v4tcp(), { number: 6, fileIndex: 1 }));
    h.dec.decode(makeFrame(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV4 }, v4tcp()), { number: 7 }));
    h.dec.decode(makeFrame(148, v4tcp(), { number: 8, fileIndex: 2 }));
    h.dec.decode(makeFrame(147, v4tcp(), { number: 9, fileIndex: 2 }));
    expect(h.dec.stats.unknownLinkType).toBe(4);
    expect(h.dec.stats.ipv4).toBe(1);
    expect(h.diags).toHaveLength(2);
    expect(h.diags[0]).toMatchObject({ severity: 'warning', code: 'unknown-linktype', file: 'capture-1.pcap', frame: 5 });
    expect(h.diags[0]!.message).toContain('147');
    expect(h.diags[1]).toMatchObject({ severity: 'warning', code: 'unknown-linktype', file: 'capture-2.pcap', frame: 8 });
    expect(h.dec.stats.linkTypes).toEqual(
      new Map([
        [147, 3],
        [LT_ETHERNET, 1],
        [148, 1],
      ]),
    );
  });

  it('returns the same reused packet object every time', () => {
    const h = harness();
    const p1 = h.dec.decode(makeFrame(LT_RAW, v4tcp()));
    const p2 = h.dec.decode(makeFrame(LT_RAW, v6udp()));
    expect(p1).not.toBeNull();
    expect(p1).toBe(p2);
    expect(p2!.ipVersion).toBe(6);
  });
});

// ===================================================================== IPv4

describe('IPv4', () => {
  it('skips options (IHL > 5), up to the 60-byte maximum', () => {
    for (const optLen of [4, 12, 40]) {
      const options = Buffer.alloc(optLen, 0x01); // NOPs
      const r = decodeOne(LT_RAW, ipv4({ src: V4A, dst: V4B, protocol: TCP, options }, payload20));
      expectV4(r.pkt);
    }
  });

  it('builder: the header checksum verifies (sums to zero), with and without options', () => {
    for (const options of [undefined, Buffer.from([0x94, 0x04, 0, 0]), Buffer.alloc(7, 1)]) {
      const p = ipv4({ src: V4A, dst: V4B, protocol: TCP, id: 0xbeef, options }, payload20);
      const headerLen = (p[0]! & 0x0f) * 4;
      expect(p.readUInt16BE(10)).not.toBe(0);
      expect(ipv4Checksum(p.subarray(0, headerLen))).toBe(0);
    }
    // Known vector (Wikipedia "IPv4 header checksum"): 0xb861.
    const hdr = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    expect(ipv4Checksum(hdr)).toBe(0xb861);
  });

  it('trims Ethernet padding beyond the total length', () => {
    const small = patternBytes(6, 3);
    const ip = ipv4({ src: V4A, dst: V4B, protocol: UDP }, small); // 26 bytes
    const frame = Buffer.concat([ethernet({ ethertype: ETHERTYPE_IPV4 }, ip), Buffer.alloc(20, 0xee)]); // 60
    const r = decodeOne(LT_ETHERNET, frame);
    expectV4(r.pkt, small, UDP);
  });

  it('snaplen truncation: l4 is what was captured, l4WireLength what the header says', () => {
    const big = patternBytes(1400, 1);
    const full = ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: V4A, dst: V4B, protocol: TCP }, big));
    const r = decodeOne(LT_ETHERNET, full.subarray(0, 96), { origLen: full.length });
    expect(r.pkt).not.toBeNull();
    expect(r.pkt!.l4.length).toBe(96 - 14 - 20);
    expect(r.pkt!.l4WireLength).toBe(1400);
    expect(r.pkt!.l4.equals(big.subarray(0, 62))).toBe(true);
    expect(r.dec.stats.malformed).toBe(0);
  });

  it('a header cut by the snaplen is malformed', () => {
    const full = ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: V4A, dst: V4B, protocol: TCP, options: Buffer.alloc(8, 1) }, payload20));
    for (const cut of [14, 20, 33, 14 + 27]) {
      const r = decodeOne(LT_ETHERNET, full.subarray(0, cut), { origLen: full.length });
      expect(r.pkt).toBeNull();
      expect(r.dec.stats.malformed).toBe(1);
      expect(r.dec.stats.ipv4).toBe(0);
    }
  });

  it('header checks: version, IHL < 5, total length < header length', () => {
    const bad = [
      ipv4({ src: V4A, dst: V4B, protocol: TCP, versionOverride: 5 }, payload20),
      ipv4({ src: V4A, dst: V4B, protocol: TCP, ihlOverride: 4 }, payload20),
      ipv4({ src: V4A, dst: V4B, protocol: TCP, totalLengthOverride: 19 }, payload20),
      ipv4({ src: V4A, dst: V4B, protocol: TCP, options: Buffer.alloc(4, 1), totalLengthOverride: 22 }, payload20),
    ];
    const h = harness();
    bad.forEach((b, i) => expect(h.dec.decode(makeFrame(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV4 }, b), { number: i + 1 }))).toBeNull());
    expect(h.dec.stats.malformed).toBe(4);
    expect(h.diags).toHaveLength(4);
    expect(h.diags[2]).toMatchObject({ code: 'malformed-ip', file: 'capture-0.pcap', frame: 3 });
    expect(h.diags[2]!.message).toMatch(/total length/);
  });

  it('total length equal to the header length: empty transport bytes', () => {
    const r = decodeOne(LT_RAW, ipv4({ src: V4A, dst: V4B, protocol: TCP }, Buffer.alloc(0)));
    expectV4(r.pkt, Buffer.alloc(0));
  });

  it('total length 0 (TSO on the sender) takes the frame as the packet', () => {
    const big = patternBytes(3000);
    const ip = ipv4({ src: V4A, dst: V4B, protocol: TCP, totalLengthOverride: 0 }, big);
    expectV4(decodeOne(LT_RAW, ip).pkt, big);
    // ... and cut by the snaplen: the wire length comes from the frame.
    const r = decodeOne(LT_RAW, ip.subarray(0, 120), { origLen: ip.length });
    expect(r.pkt!.l4.length).toBe(100);
    expect(r.pkt!.l4WireLength).toBe(3000);
  });

  it('protocols other than TCP/UDP are counted and not returned', () => {
    const r = decodeOne(LT_RAW, ipv4({ src: V4A, dst: V4B, protocol: ICMP }, payload20));
    expect(r.pkt).toBeNull();
    expect(r.dec.stats.otherProtocol).toBe(1);
    expect(r.dec.stats.ipv4).toBe(1);
    expect(r.dec.stats.malformed).toBe(0);
  });

  it('address text: cache agrees with plain formatting', () => {
    const r = prng(42);
    const b = Buffer.alloc(4);
    for (let i = 0; i < 20000; i++) {
      // Few distinct high bytes: many repeats and collisions.
      const a = [Math.floor(r() * 3) * 100, Math.floor(r() * 256), Math.floor(r() * 4), Math.floor(r() * 256)];
      b.set(a);
      expect(ipv4Text(b, 0)).toBe(a.join('.'));
    }
  });
});

// ===================================================================== IPv4 fragments

/** Decodes fragment packets (raw IP) in the given order; returns the snapshot of every result. */
function feed(dec: NetDecoder, packets: Buffer[], order: number[], t0 = 1_700_000_000, dt = 0) {
  return order.map((idx, n) =>
    snap(dec.decode(makeFrame(LT_RAW, packets[idx]!, { number: n + 1, tsSec: t0 + n * dt }))),
  );
}

describe('IPv4 fragments', () => {
  const data = patternBytes(3000, 5);
  const frags = () => fragmentIpv4({ src: V4A, dst: V4B, protocol: UDP, id: 777 }, data, [1480, 1480]);

  it('builder makes 3 fragments with MF and offsets', () => {
    const f = frags();
    expect(f).toHaveLength(3);
    expect(f.map((p) => p.readUInt16BE(6))).toEqual([0x2000, 0x2000 | 185, 370]);
  });

  it('in order: completes on the last fragment, with that fragment\'s frame', () => {
    const h = harness();
    const res = feed(h.dec, frags(), [0, 1, 2]);
    expect(res[0]).toBeNull();
    expect(res[1]).toBeNull();
    expectV4(res[2]!, data, UDP);
    expect(res[2]!.reassembled).toBe(true);
    expect(res[2]!.frameNumber).toBe(3);
    expect(h.dec.stats).toMatchObject({ ipv4: 3, fragments: 3, reassembled: 1, fragmentsDropped: 0 });
  });

  it('out of order (last first, first last)', () => {
    for (const order of [
      [2, 0, 1],
      [1, 2, 0],
      [2, 1, 0],
    ]) {
      const h = harness();
      const res = feed(h.dec, frags(), order);
      expect(res.slice(0, 2)).toEqual([null, null]);
      expectV4(res[2]!, data, UDP);
      expect(h.dec.stats.reassembled).toBe(1);
    }
  });

  it('duplicates are dropped and counted; the datagram still completes once', () => {
    const h = harness();
    const res = feed(h.dec, frags(), [0, 0, 1, 1, 2, 2]);
    expect(res.filter((r) => r !== null)).toHaveLength(1);
    expectV4(res[4]!, data, UDP);
    // The late duplicate of the last fragment starts a new datagram that never completes.
    expect(h.dec.stats).toMatchObject({ fragments: 6, reassembled: 1, fragmentsDropped: 2 });
    h.dec.finish();
    expect(h.dec.stats.fragmentsDropped).toBe(3);
  });

  it('overlaps: the first-arrived bytes win', () => {
    const a = Buffer.alloc(16, 0xaa);
    const b = Buffer.alloc(24, 0xbb); // offset 8..32: overlaps a's second half
    const c = Buffer.alloc(8, 0xcc); // offset 32..40, final
    const base = { src: V4A, dst: V4B, protocol: UDP, id: 9 };
    const p = [
      ipv4({ ...base, flags: IPV4_FLAG_MF, fragOffset: 0 }, a),
      ipv4({ ...base, flags: IPV4_FLAG_MF, fragOffset: 8 }, b),
      ipv4({ ...base, flags: 0, fragOffset: 32 }, c),
    ];
    const h = harness();
    const res = feed(h.dec, p, [0, 1, 2]);
    const expected = Buffer.concat([Buffer.alloc(16, 0xaa), Buffer.alloc(16, 0xbb), Buffer.alloc(8, 0xcc)]);
    expect(res[2]!.l4.equals(expected)).toBe(true);
    expect(h.dec.stats).toMatchObject({ fragments: 3, reassembled: 1, fragmentsDropped: 0 });

    // A later fragment spanning a gap and both neighbours only fills the gap.
    const h2 = harness();
    const q = [
      ipv4({ ...base, flags: IPV4_FLAG_MF, fragOffset: 0 }, Buffer.alloc(8, 1)),
      ipv4({ ...base, flags: 0, fragOffset: 16 }, Buffer.alloc(8, 3)),
      ipv4({ ...base, flags: IPV4_FLAG_MF, fragOffset: 0 }, Buffer.alloc(24, 2)),
    ];
    const res2 = feed(h2.dec, q, [0, 1, 2]);
    expect(res2[2]!.l4.equals(Buffer.concat([Buffer.alloc(8, 1), Buffer.alloc(8, 2), Buffer.alloc(8, 3)]))).toBe(true);
  });

  it('inconsistent final fragments: the first length wins, no crash', () => {
    const base = { src: V4A, dst: V4B, protocol: UDP, id: 10 };
    const p = [
      ipv4({ ...base, flags: 0, fragOffset: 16 }, Buffer.alloc(8, 3)), // says total 24
      ipv4({ ...base, flags: 0, fragOffset: 8 }, Buffer.alloc(8, 9)), // says total 16: conflicting
      ipv4({ ...base, flags: IPV4_FLAG_MF, fragOffset: 0 }, Buffer.alloc(40, 1)), // runs past 24: trimmed
      ipv4({ ...base, flags: IPV4_FLAG_MF, fragOffset: 32 }, Buffer.alloc(8, 1)), // wholly past the end
    ];
    const h = harness();
    const res = feed(h.dec, p, [0, 1, 3, 2]);
    expect(res[3]!.l4.equals(Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(8, 3)]))).toBe(true);
    expect(h.dec.stats).toMatchObject({ fragments: 4, reassembled: 1, fragmentsDropped: 2 });
  });

  it('fragment bytes are copied: reusing the frame buffer does not corrupt the datagram', () => {
    const h = harness();
    const f = frags();
    const shared = Buffer.alloc(1600);
    let out: ReturnType<typeof snap> = null;
    f.forEach((p, i) => {
      p.copy(shared);
      out = snap(h.dec.decode(makeFrame(LT_RAW, shared.subarray(0, p.length), { number: i + 1 })));
      shared.fill(0xff);
    });
    expectV4(out, data, UDP);
  });

  it('different ids, protocols or addresses are different datagrams', () => {
    const h = harness();
    const mk = (id: number, protocol: number, src: string) =>
      fragmentIpv4({ src, dst: V4B, protocol, id }, data, [1480, 1480]);
    const a = mk(1, UDP, V4A);
    const b = mk(2, UDP, V4A);
    const c = mk(1, TCP, V4A);
    const d = mk(1, UDP, '192.0.2.11');
    const seq = [a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1], d[2], c[2], b[2], a[2]].map((x) => x!);
    const res = feed(h.dec, seq, seq.map((_, i) => i));
    expect(res.slice(0, 8).every((r) => r === null)).toBe(true);
    expect(res.slice(8).map((r) => [r!.src, r!.protocol])).toEqual([
      ['192.0.2.11', UDP],
      [V4A, TCP],
      [V4A, UDP],
      [V4A, UDP],
    ]);
    expect(res.slice(8).every((r) => r!.l4.equals(data))).toBe(true);
    expect(h.dec.stats.reassembled).toBe(4);
  });

  it('a reassembled datagram of another protocol is counted as such', () => {
    const h = harness();
    const f = fragmentIpv4({ src: V4A, dst: V4B, protocol: ICMP, id: 3 }, data, [1480]);
    expect(feed(h.dec, f, [0, 1])).toEqual([null, null]);
    expect(h.dec.stats).toMatchObject({ reassembled: 1, otherProtocol: 1 });
  });

  it('timeout: 30 s of capture time after the first fragment', () => {
    // Completes at exactly 30 s.
    const ok = harness();
    const r1 = feed(ok.dec, frags(), [0, 1, 2], 1000, 15);
    expectV4(r1[2]!, data, UDP);

    // One nanosecond later it has timed out: the late fragments start a new datagram.
    const late = harness();
    const f = frags();
    expect(late.dec.decode(makeFrame(LT_RAW, f[0]!, { tsSec: 1000, tsNsec: 0 }))).toBeNull();
    expect(late.dec.decode(makeFrame(LT_RAW, f[1]!, { tsSec: 1010 }))).toBeNull();
    expect(late.dec.decode(makeFrame(LT_RAW, f[2]!, { tsSec: 1030, tsNsec: 1 }))).toBeNull();
    expect(late.dec.stats).toMatchObject({ fragments: 3, reassembled: 0, fragmentsDropped: 2 });
    late.dec.finish();
    expect(late.dec.stats.fragmentsDropped).toBe(3);

    // Any later frame (not a fragment) expires the waiting datagram.
    const idle = harness();
    idle.dec.decode(makeFrame(LT_RAW, f[0]!, { tsSec: 2000 }));
    idle.dec.decode(makeFrame(LT_RAW, f[1]!, { tsSec: 2001 }));
    expectV4(snap(idle.dec.decode(makeFrame(LT_RAW, v4tcp(), { tsSec: 2029 }))));
    expect(idle.dec.stats.fragmentsDropped).toBe(0);
    idle.dec.decode(makeFrame(LT_RAW, v4tcp(), { tsSec: 2031 }));
    expect(idle.dec.stats.fragmentsDropped).toBe(2);
    expect(idle.dec.decode(makeFrame(LT_RAW, f[2]!, { tsSec: 2032 }))).toBeNull();
  });

  it('memory bound: at most 64 datagrams in progress, the oldest evicted', () => {
    const h = harness();
    const all = Array.from({ length: 65 }, (_, id) => fragmentIpv4({ src: V4A, dst: V4B, protocol: UDP, id }, data, [1480, 1480]));
    all.forEach((f, i) => expect(h.dec.decode(makeFrame(LT_RAW, f[0]!, { tsSec: 10 + i * 0.01 }))).toBeNull());
    expect(h.dec.stats.fragmentsDropped).toBe(1); // datagram 0 evicted
    // Datagram 1 can still complete (it needs no new entry, so nothing is evicted)…
    const res = feed(h.dec, all[1]!, [1, 2], 11);
    expectV4(res[1]!, data, UDP);
    // …datagram 0 cannot any more: its late fragments start a new one (room for it
    // since datagram 1 completed), which never completes.
    expect(feed(h.dec, all[0]!, [1, 2], 11)).toEqual([null, null]);
    expect(h.dec.stats.fragmentsDropped).toBe(1);
    h.dec.finish();
    // All fragments accounted for: reassembled (3) + dropped.
    expect(h.dec.stats.fragments).toBe(65 + 4);
    expect(h.dec.stats.fragmentsDropped).toBe(65 + 4 - 3);
  });

  it('memory bound: stored bytes (small limit through the options)', () => {
    const h = harness({ reassembly: { maxBytes: 4000 } });
    const a = fragmentIpv4({ src: V4A, dst: V4B, protocol: UDP, id: 1 }, data, [1480, 1480]);
    const b = fragmentIpv4({ src: V4A, dst: V4B, protocol: UDP, id: 2 }, data, [1480, 1480]);
    feed(h.dec, [a[0]!, a[1]!, b[0]!, b[1]!], [0, 1, 2]); // 4440 bytes > 4000: a evicted
    expect(h.dec.stats.fragmentsDropped).toBe(2);
    const res = feed(h.dec, [b[1]!, b[2]!], [0, 1]);
    expectV4(res[1]!, data, UDP);
    expect(h.dec.stats.fragmentsDropped).toBe(2);
  });

  it('the reassembler enforces its byte bound directly, dropping a datagram alone over it', () => {
    const stats = newNetStats();
    const r = new FragmentReassembler(stats, { maxBytes: 100, maxDatagrams: 2, timeoutSec: 5 });
    const s = newIpScratch();
    const add = (key: string, off: number, more: boolean, len: number, now = 0) => {
      s.fragOffset = off;
      s.fragMore = more;
      s.fragNextHeader = UDP;
      return r.add(key, s, Buffer.alloc(len, 1), len, now);
    };
    expect(add('a', 0, true, 64)).toBeNull();
    expect(add('b', 0, true, 32)).toBeNull();
    expect(r.bytesHeld).toBe(96);
    expect(add('c', 0, true, 8)).toBeNull(); // third datagram: 'a' evicted by count
    expect(r.pending).toBe(2);
    expect(r.bytesHeld).toBe(40);
    expect(add('b', 32, true, 64)).toBeNull(); // 104 > 100: 'c' evicted by bytes
    expect(r.pending).toBe(1);
    expect(r.bytesHeld).toBe(96);
    expect(add('b', 96, true, 16)).toBeNull(); // 'b' alone over the bound: dropped
    expect(r.pending).toBe(0);
    expect(r.bytesHeld).toBe(0);
    expect(stats.fragmentsDropped).toBe(1 + 1 + 3);
    // Timeout, strictly after 5 s.
    expect(add('d', 0, true, 8, 100)).toBeNull();
    expect(r.nextDeadline).toBe(105);
    r.expire(105);
    expect(r.pending).toBe(1);
    r.expire(105.5);
    expect(r.pending).toBe(0);
    expect(r.nextDeadline).toBe(Infinity);
  });

  it('a fragment cut by the snaplen is dropped', () => {
    const h = harness();
    const f = frags();
    h.dec.decode(makeFrame(LT_RAW, f[0]!, { number: 1 }));
    h.dec.decode(makeFrame(LT_RAW, f[1]!.subarray(0, 200), { number: 2, origLen: f[1]!.length }));
    expect(h.dec.decode(makeFrame(LT_RAW, f[2]!, { number: 3 }))).toBeNull();
    expect(h.dec.stats).toMatchObject({ fragments: 3, reassembled: 0, fragmentsDropped: 1, malformed: 0 });
    h.dec.finish();
    expect(h.dec.stats.fragmentsDropped).toBe(3);
  });

  it('a fragment reaching past 65535 bytes is dropped', () => {
    const h = harness();
    const p = ipv4({ src: V4A, dst: V4B, protocol: UDP, id: 5, flags: 0, fragOffset: 65528 }, Buffer.alloc(100));
    expect(h.dec.decode(makeFrame(LT_RAW, p))).toBeNull();
    expect(h.dec.stats).toMatchObject({ fragments: 1, fragmentsDropped: 1 });
  });
});

// ===================================================================== IPv6

describe('IPv6', () => {
  const exts: { name: string; ext: { type: number; body: Buffer } }[] = [
    { name: 'hop-by-hop', ext: { type: IPV6_EXT_HOPOPTS, body: Buffer.from([0x01, 0x02, 0, 0, 0, 0]) } },
    { name: 'routing', ext: { type: IPV6_EXT_ROUTING, body: Buffer.concat([Buffer.from([4, 0]), Buffer.alloc(20)]) } },
    { name: 'destination options', ext: { type: IPV6_EXT_DSTOPTS, body: Buffer.alloc(14) } },
    { name: 'AH', ext: { type: IPV6_EXT_AH, body: Buffer.alloc(22, 0x5a) } },
    { name: 'mobility', ext: { type: IPV6_EXT_MOBILITY, body: Buffer.alloc(6) } },
    { name: 'atomic fragment', ext: { type: IPV6_EXT_FRAGMENT, body: fragmentHeaderBody(0, false, 99) } },
  ];

  for (const { name, ext } of exts) {
    it(`walks past ${name}`, () => {
      const r = decodeOne(LT_RAW, ipv6({ src: V6A, dst: V6B, nextHeader: UDP, extHeaders: [ext] }, payload20));
      expectV6(r.pkt);
      expect(r.pkt!.reassembled).toBe(false);
      expect(r.dec.stats.fragments).toBe(0);
    });
  }

  it('AH length is in 4-byte units (+2)', () => {
    const p = ipv6({ src: V6A, dst: V6B, nextHeader: TCP, extHeaders: [exts[3]!.ext] }, payload20);
    expect(p[41]).toBe(24 / 4 - 2); // 24-byte AH
    expectV6(decodeOne(LT_RAW, p).pkt, payload20, TCP);
  });

  it('walks a chain of all of them', () => {
    const chain = exts.map((e) => e.ext);
    const r = decodeOne(LT_RAW, ipv6({ src: V6A, dst: V6B, nextHeader: TCP, extHeaders: chain }, payload20));
    expectV6(r.pkt, payload20, TCP);
  });

  it('ESP and no-next-header end decoding: other protocol', () => {
    const h = harness();
    h.dec.decode(makeFrame(LT_RAW, ipv6({ src: V6A, dst: V6B, nextHeader: IPV6_EXT_ESP }, payload20)));
    h.dec.decode(
      makeFrame(LT_RAW, ipv6({ src: V6A, dst: V6B, nextHeader: IPV6_NO_NEXT_HEADER, extHeaders: [exts[4]!.ext] }, Buffer.alloc(0))),
    );
    h.dec.decode(makeFrame(LT_RAW, ipv6({ src: V6A, dst: V6B, nextHeader: ICMPV6 }, payload20)));
    expect(h.dec.stats).toMatchObject({ ipv6: 3, otherProtocol: 3, malformed: 0 });
  });

  it('extension headers cut short or longer than the payload are malformed', () => {
    const h = harness();
    const p = ipv6({ src: V6A, dst: V6B, nextHeader: UDP, extHeaders: [exts[1]!.ext] }, payload20);
    // Cut by the snaplen inside the routing header.
    h.dec.decode(makeFrame(LT_RAW, p.subarray(0, 50), { origLen: p.length }));
    // Payload length says the routing header runs past the payload.
    const q = Buffer.from(p);
    q.writeUInt16BE(16, 4);
    h.dec.decode(makeFrame(LT_RAW, q));
    // Fixed header cut.
    h.dec.decode(makeFrame(LT_RAW, p.subarray(0, 39)));
    expect(h.dec.stats.malformed).toBe(3);
    expect(h.dec.stats.ipv6).toBe(0);
    expect(h.diags.map((d) => d.message)).toEqual([
      expect.stringMatching(/cut short/),
      expect.stringMatching(/longer than the payload/),
      expect.stringMatching(/cut short/),
    ]);
  });

  it('a wrong version in an IPv6 frame is malformed', () => {
    const r = decodeOne(LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV6 }, ipv6({ src: V6A, dst: V6B, nextHeader: UDP, versionOverride: 4 }, payload20)));
    expect(r.pkt).toBeNull();
    expect(r.dec.stats.malformed).toBe(1);
    expect(r.diags[0]!.message).toMatch(/version/);
  });

  it('payload length 0 with a jumbo option is malformed; without one, the frame is the packet', () => {
    const jumboOpt = Buffer.from([0xc2, 4, 0, 1, 0, 0]); // Jumbo Payload, 65536
    const j = ipv6({ src: V6A, dst: V6B, nextHeader: UDP, payloadLengthOverride: 0, extHeaders: [{ type: IPV6_EXT_HOPOPTS, body: jumboOpt }] }, payload20);
    const r = decodeOne(LT_RAW, j);
    expect(r.pkt).toBeNull();
    expect(r.dec.stats.malformed).toBe(1);
    expect(r.diags[0]!.message).toMatch(/jumbo/i);

    const big = patternBytes(5000);
    const gso = ipv6({ src: V6A, dst: V6B, nextHeader: TCP, payloadLengthOverride: 0 }, big);
    expectV6(decodeOne(LT_RAW, gso).pkt, big, TCP);
  });

  it('trims Ethernet padding and reports snaplen truncation', () => {
    const two = Buffer.from([1, 2]);
    const frame = Buffer.concat([ethernet({ ethertype: ETHERTYPE_IPV6 }, ipv6({ src: V6A, dst: V6B, nextHeader: UDP }, two)), Buffer.alloc(4)]);
    expectV6(decodeOne(LT_ETHERNET, frame).pkt, two);

    const big = patternBytes(1200);
    const full = ethernet({ ethertype: ETHERTYPE_IPV6 }, ipv6({ src: V6A, dst: V6B, nextHeader: TCP, extHeaders: [exts[2]!.ext] }, big));
    const r = decodeOne(LT_ETHERNET, full.subarray(0, 128), { origLen: full.length });
    expect(r.pkt!.l4.length).toBe(128 - 14 - 40 - 16);
    expect(r.pkt!.l4WireLength).toBe(1200);
    expect(r.pkt!.l4.equals(big.subarray(0, 58))).toBe(true);
  });
});

describe('IPv6 fragments', () => {
  const data = patternBytes(4000, 11);

  it('in order and out of order', () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ]) {
      const h = harness();
      const f = fragmentIpv6({ src: V6A, dst: V6B, nextHeader: UDP, id: 0xdeadbeef }, data, [1448, 1448]);
      expect(f).toHaveLength(3);
      const res = feed(h.dec, f, order);
      expect(res.slice(0, 2)).toEqual([null, null]);
      expectV6(res[2]!, data);
      expect(res[2]!.reassembled).toBe(true);
      expect(res[2]!.frameNumber).toBe(3);
      expect(h.dec.stats).toMatchObject({ ipv6: 3, fragments: 3, reassembled: 1, fragmentsDropped: 0 });
    }
  });

  it('with unfragmentable headers before, and extension headers inside the fragmentable part', () => {
    const dst = Buffer.alloc(8);
    dst[0] = TCP; // destination options: next header TCP, length 0 (8 bytes)
    const inner = Buffer.concat([dst, data]);
    const f = fragmentIpv6(
      {
        src: V6A,
        dst: V6B,
        nextHeader: IPV6_EXT_DSTOPTS,
        id: 5,
        extHeaders: [{ type: IPV6_EXT_HOPOPTS, body: Buffer.alloc(6) }, { type: IPV6_EXT_ROUTING, body: Buffer.alloc(6) }],
      },
      inner,
      [1000, 1000, 1000],
    );
    const h = harness();
    const res = feed(h.dec, f, [3, 0, 2, 1]);
    expectV6(res[3]!, data, TCP);
    expect(res[3]!.reassembled).toBe(true);
  });

  it('IPv4 and IPv6 fragments with the same id do not mix; same id, other source neither', () => {
    const h = harness();
    const a = fragmentIpv6({ src: V6A, dst: V6B, nextHeader: UDP, id: 1 }, data, [2000]);
    const b = fragmentIpv6({ src: '2001:db8::11', dst: V6B, nextHeader: UDP, id: 1 }, data, [2000]);
    const c = fragmentIpv4({ src: V4A, dst: V4B, protocol: UDP, id: 1 }, data, [2000]);
    const res = feed(h.dec, [a[0]!, b[0]!, c[0]!, c[1]!, b[1]!, a[1]!], [0, 1, 2, 3, 4, 5]);
    expect(res.map((r) => r?.src ?? null)).toEqual([null, null, null, V4A, '2001:db8::11', V6A]);
    expect(h.dec.stats.reassembled).toBe(3);
  });

  it('a nested fragment header inside a reassembled datagram is malformed', () => {
    const inner = Buffer.concat([Buffer.from([UDP, 0]), fragmentHeaderBody(8, true, 1), data]);
    const f = fragmentIpv6({ src: V6A, dst: V6B, nextHeader: IPV6_EXT_FRAGMENT, id: 2 }, inner, [2000]);
    const h = harness();
    expect(feed(h.dec, f, [0, 1])).toEqual([null, null]);
    expect(h.dec.stats).toMatchObject({ reassembled: 1, malformed: 1 });
  });
});

// ===================================================================== RFC 5952

describe('IPv6 text (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: leftmost
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single 0 is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // longest run
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0:0:0:0204:61ff:fe9d:f156', 'fe80::204:61ff:fe9d:f156'],
    ['0:0:0:0:0:1:0:0', '::1:0:0'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['0:0:0:0:1:ffff:c000:201', '::1:ffff:c000:201'], // not IPv4-mapped
    ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    ['2001:db8:aaaa:bbbb:cccc:dddd:0:0', '2001:db8:aaaa:bbbb:cccc:dddd::'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
  ];
  for (const [input, want] of cases) {
    it(`${input} -> ${want}`, () => {
      const b = parseIpv6(input);
      expect(formatIpv6(b, 0)).toBe(want);
      expect(ipv6Text(b, 0)).toBe(want);
      const padded = Buffer.concat([Buffer.alloc(3), b]);
      expect(formatIpv6(padded, 3)).toBe(want);
    });
  }

  it('the decoder uses the canonical form', () => {
    const r = decodeOne(LT_RAW, ipv6({ src: '2001:DB8:0:0:1:0:0:1', dst: '::ffff:10.0.0.1', nextHeader: UDP }, payload20));
    expect(r.pkt!.src).toBe('2001:db8::1:0:0:1');
    expect(r.pkt!.dst).toBe('::ffff:10.0.0.1');
  });

  it('the text cache agrees with formatting (many addresses, collisions)', () => {
    const r = prng(7);
    const b = Buffer.alloc(16);
    for (let i = 0; i < 5000; i++) {
      b.fill(0);
      // Mostly zero groups so that compression varies, few distinct values so entries repeat.
      for (let g = 0; g < 8; g++) if (r() < 0.4) b.writeUInt16BE(Math.floor(r() * 4) * 0x1001, g * 2);
      expect(ipv6Text(b, 0)).toBe(formatIpv6(b, 0));
    }
  });
});

// ===================================================================== diagnostics

describe('diagnostics', () => {
  it('malformed packets: the first 20 are reported, all counted', () => {
    const h = harness();
    for (let i = 1; i <= 25; i++) h.dec.decode(makeFrame(LT_ETHERNET, Buffer.alloc(10), { number: i, fileIndex: 3 }));
    expect(h.dec.stats.malformed).toBe(25);
    expect(h.diags).toHaveLength(20);
    expect(h.diags.map((d) => d.frame)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(h.diags.every((d) => d.code === 'malformed-ip' && d.severity === 'warning' && d.file === 'capture-3.pcap')).toBe(true);
  });
});

// ===================================================================== robustness

describe('robustness', () => {
  const linkTypes = [LT_NULL, LT_ETHERNET, LT_RAW_12, LT_RAW_14, LT_RAW, LT_LOOP, LT_SLL, LT_IPV4, LT_IPV6, LT_SLL2, 999];

  function check(dec: NetDecoder, frame: Frame): void {
    const p = dec.decode(frame);
    if (p !== null) {
      expect(p.ipVersion === 4 || p.ipVersion === 6).toBe(true);
      expect(p.protocol === TCP || p.protocol === UDP).toBe(true);
      expect(p.l4.length).toBeLessThanOrEqual(p.l4WireLength);
      expect(p.l4WireLength).toBeGreaterThanOrEqual(0);
    }
  }

  function accounted(dec: NetDecoder, frames: number): void {
    let sum = 0;
    for (const n of dec.stats.linkTypes.values()) sum += n;
    expect(sum).toBe(frames);
  }

  it('fuzz: random buffers of random lengths never throw, and every frame is counted under its link type', () => {
    const r = prng(1234);
    for (const lt of linkTypes) {
      const h = harness();
      for (let i = 0; i < 1500; i++) {
        const len = Math.floor(r() * 120);
        const data = Buffer.alloc(len);
        for (let j = 0; j < len; j++) data[j] = Math.floor(r() * 256);
        // Nudge some towards plausible headers so the deeper code runs.
        if (len > 0 && r() < 0.5) data[0] = r() < 0.5 ? 0x45 + Math.floor(r() * 11) : 0x60;
        const origLen = len + (r() < 0.3 ? Math.floor(r() * 2000) : 0);
        expect(() => check(h.dec, makeFrame(lt, data, { number: i + 1, origLen, tsSec: 1000 + i }))).not.toThrow();
      }
      accounted(h.dec, 1500);
      expect(() => h.dec.finish()).not.toThrow();
    }
  });

  it('fuzz: mutated and cut valid packets never throw, every frame is counted, no more fragments dropped than seen', () => {
    const r = prng(99);
    const seeds: [number, Buffer][] = [
      [LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV4, vlans: [{ tpid: TPID_8021AD, vid: 3 }] }, ipv4({ src: V4A, dst: V4B, protocol: TCP, options: Buffer.alloc(8, 1) }, payload20))],
      [LT_ETHERNET, ethernet({ ethertype: ETHERTYPE_IPV6 }, ipv6({ src: V6A, dst: V6B, nextHeader: UDP, extHeaders: exts6() }, payload20))],
      [LT_SLL, sll(ETHERTYPE_IPV6, fragmentIpv6({ src: V6A, dst: V6B, nextHeader: UDP, id: 4 }, patternBytes(200), [64])[0]!)],
      [LT_SLL2, sll2(ETHERTYPE_IPV4, fragmentIpv4({ src: V4A, dst: V4B, protocol: UDP, id: 4 }, patternBytes(200), [64])[1]!)],
      [LT_NULL, nullLink(AF_INET6_DARWIN, ipv6({ src: V6A, dst: V6B, nextHeader: IPV6_EXT_HOPOPTS, payloadLengthOverride: 0, extHeaders: [] }, Buffer.from([UDP, 0, 0xc2, 4, 0, 1, 0, 0])))],
      [LT_LOOP, loopLink(AF_INET, v4tcp())],
      [LT_RAW, fragmentIpv4({ src: V4A, dst: V4B, protocol: TCP, id: 8 }, patternBytes(100), [48])[0]!],
    ];
    for (const [lt, pkt] of seeds) {
      const h = harness({ reassembly: { maxDatagrams: 4, maxBytes: 2000 } });
      for (let i = 0; i < 3000; i++) {
        const data = Buffer.from(pkt);
        const flips = 1 + Math.floor(r() * 4);
        for (let k = 0; k < flips; k++) data[Math.floor(r() * data.length)] = Math.floor(r() * 256);
        const cut = r() < 0.3 ? Math.floor(r() * data.length) : data.length;
        const frame = makeFrame(lt, data.subarray(0, cut), { number: i + 1, origLen: data.length, tsSec: 1000 + Math.floor(i / 10) });
        expect(() => check(h.dec, frame)).not.toThrow();
      }
      accounted(h.dec, 3000);
      h.dec.finish();
      const s = h.dec.stats;
      expect(s.fragments).toBeGreaterThanOrEqual(s.fragmentsDropped);
    }
  });
});

function exts6() {
  return [
    { type: IPV6_EXT_HOPOPTS, body: Buffer.alloc(6) },
    { type: IPV6_EXT_DSTOPTS, body: Buffer.alloc(6) },
    { type: IPV6_EXT_AH, body: Buffer.alloc(14) },
  ];
}
