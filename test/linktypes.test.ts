/**
 * Each link type and file format, end to end: a generated capture of one
 * TCP connection (handshake, a request, a reply cut by the snaplen, FIN)
 * goes through analyze(), and the report must show the same connection,
 * stream bytes and gap whatever the framing around it.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { writePcap, writePcapng } from './gen/capture-writer.js';
import {
  AF_INET,
  AF_INET6_BSD,
  AF_INET6_DARWIN,
  AF_INET6_FREEBSD,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  TPID_8021AD,
  TPID_8021Q,
  TPID_QINQ_OLD,
  ethernet,
  ipv4,
  ipv6,
  loopLink,
  nullLink,
  sll,
  sll2,
} from './gen/packets.js';
import { ACK, FIN, PSH, SYN, tcpSegment } from './gen/tcp.js';
import { tempDir, writeTemp } from './helpers.js';

const REQUEST = Buffer.from('request bytes: 0123456789');
const REPLY = Buffer.alloc(1000, 0x42);
/** The snaplen keeps this many bytes of the reply segment's frame. */
const REPLY_CAPTURED = 300;

type Wrap = (ip: Buffer, v6: boolean) => Buffer;

interface Packet {
  data: Buffer;
  origLen: number;
}

/** One connection client:40000 → server:2049 as IP packets, each wrapped in its link header. */
function connection(v6: boolean, wrap: Wrap): Packet[] {
  const [c, s] = v6 ? ['2001:db8::1', '2001:db8::2'] : ['192.0.2.1', '192.0.2.2'];
  const ip = (from: string, to: string, l4: Buffer): Buffer =>
    v6 ? ipv6({ src: from, dst: to, nextHeader: 6 }, l4) : ipv4({ src: from, dst: to, protocol: 6 }, l4);
  const cs = (seq: number, ack: number, flags: number, payload?: Buffer) =>
    wrap(ip(c, s, tcpSegment({ srcPort: 40000, dstPort: 2049, seq, ack, flags }, payload)), v6);
  const sc = (seq: number, ack: number, flags: number, payload?: Buffer) =>
    wrap(ip(s, c, tcpSegment({ srcPort: 2049, dstPort: 40000, seq, ack, flags }, payload)), v6);
  const frames = [
    cs(100, 0, SYN),
    sc(5000, 101, SYN | ACK),
    cs(101, 5001, ACK),
    cs(101, 5001, ACK | PSH, REQUEST),
    sc(5001, 101 + REQUEST.length, ACK | PSH, REPLY),
    cs(101 + REQUEST.length, 5001 + REPLY.length, ACK | FIN),
    sc(5001 + REPLY.length, 102 + REQUEST.length, ACK | FIN),
    cs(102 + REQUEST.length, 5002 + REPLY.length, ACK),
  ];
  return frames.map((data, i) => {
    // The reply frame is cut: its captured part ends REPLY_CAPTURED bytes into the frame.
    if (i === 4) return { data: data.subarray(0, data.length - REPLY.length + REPLY_CAPTURED), origLen: data.length };
    return { data, origLen: data.length };
  });
}

const LINKS: { name: string; linkType: number; v6: boolean; wrap: Wrap }[] = [
  { name: 'Ethernet, IPv4', linkType: 1, v6: false, wrap: (p) => ethernet({ ethertype: ETHERTYPE_IPV4 }, p) },
  { name: 'Ethernet, IPv6', linkType: 1, v6: true, wrap: (p) => ethernet({ ethertype: ETHERTYPE_IPV6 }, p) },
  {
    name: 'Ethernet with 802.1Q',
    linkType: 1,
    v6: false,
    wrap: (p) => ethernet({ ethertype: ETHERTYPE_IPV4, vlans: [{ tpid: TPID_8021Q, vid: 42 }] }, p),
  },
  {
    name: 'Ethernet with 802.1ad + 802.1Q (QinQ)',
    linkType: 1,
    v6: true,
    wrap: (p) => ethernet({ ethertype: ETHERTYPE_IPV6, vlans: [{ tpid: TPID_8021AD, vid: 100 }, { tpid: TPID_8021Q, vid: 7 }] }, p),
  },
  {
    name: 'Ethernet with the old 0x9100 QinQ tag',
    linkType: 1,
    v6: false,
    wrap: (p) => ethernet({ ethertype: ETHERTYPE_IPV4, vlans: [{ tpid: TPID_QINQ_OLD, vid: 5 }, { tpid: TPID_8021Q, vid: 6 }] }, p),
  },
  { name: 'Linux SLL', linkType: 113, v6: false, wrap: (p) => sll(ETHERTYPE_IPV4, p) },
  { name: 'Linux SLL2', linkType: 276, v6: true, wrap: (p) => sll2(ETHERTYPE_IPV6, p) },
  { name: 'raw IP (101)', linkType: 101, v6: false, wrap: (p) => p },
  { name: 'raw IP (101), IPv6', linkType: 101, v6: true, wrap: (p) => p },
  { name: 'raw IP (12)', linkType: 12, v6: false, wrap: (p) => p },
  { name: 'raw IP (14)', linkType: 14, v6: true, wrap: (p) => p },
  { name: 'raw IPv4 (228)', linkType: 228, v6: false, wrap: (p) => p },
  { name: 'raw IPv6 (229)', linkType: 229, v6: true, wrap: (p) => p },
  { name: 'BSD NULL, little-endian', linkType: 0, v6: false, wrap: (p) => nullLink(AF_INET, p, true) },
  { name: 'BSD NULL, big-endian, IPv6 (24)', linkType: 0, v6: true, wrap: (p) => nullLink(AF_INET6_BSD, p, false) },
  { name: 'BSD NULL, IPv6 (28)', linkType: 0, v6: true, wrap: (p) => nullLink(AF_INET6_FREEBSD, p) },
  { name: 'OpenBSD LOOP, IPv6 (30)', linkType: 108, v6: true, wrap: (p) => loopLink(AF_INET6_DARWIN, p) },
  { name: 'OpenBSD LOOP, IPv4', linkType: 108, v6: false, wrap: (p) => loopLink(AF_INET, p) },
];

/** What the report must say of the connection, whatever the link layer. */
function expectConnection(report: Awaited<ReturnType<typeof analyze>>, connections = 1): void {
  expect(report.tcp.connections).toBe(connections);
  // Request bytes, and the reply's captured part; the rest of the reply is a gap.
  expect(report.tcp.deliveredBytes).toBe(connections * (REQUEST.length + REPLY_CAPTURED));
  expect(report.tcp.gapBytes).toBe(connections * (REPLY.length - REPLY_CAPTURED));
  expect(report.capture.framesCutBySnaplen).toBe(connections);
  expect(report.skipped.frames).toBe(0);
  expect(report.diagnostics.items).toEqual([]);
}

describe('every link type, end to end', () => {
  for (const link of LINKS) {
    it(link.name, async () => {
      const packets = connection(link.v6, link.wrap).map((p, i) => ({ tsSec: 1_763_779_858, tsNsec: i * 1000, ...p }));
      const file = writeTemp(tempDir(), 'link.pcap', writePcap(packets, { linkType: link.linkType, snaplen: 65535 }));
      const report = await analyze(file);
      expectConnection(report);
      expect(Object.values(report.capture.linkTypes)).toEqual([8]);
      expect(report.network[link.v6 ? 'ipv6' : 'ipv4']).toBe(8);
    });
  }

  it('pcapng with several interfaces of different link types in one file', async () => {
    const eth = connection(false, (p) => ethernet({ ethertype: ETHERTYPE_IPV4 }, p));
    const cooked = connection(true, (p) => sll2(ETHERTYPE_IPV6, p));
    const blocks = eth.flatMap((p, i) => [
      { type: 'epb' as const, iface: 0, tsSec: 1_763_779_858, tsNsec: i * 2000, data: p.data, origLen: p.origLen },
      { type: 'epb' as const, iface: 1, tsSec: 1_763_779_858, tsNsec: i * 2000 + 1000, data: cooked[i]!.data, origLen: cooked[i]!.origLen },
    ]);
    const file = writeTemp(
      tempDir(),
      'multi.pcapng',
      writePcapng([{ interfaces: [{ linkType: 1 }, { linkType: 276, tsresol: 9 }], blocks: [{ type: 'nrb' }, ...blocks, { type: 'isb' }] }]),
    );
    const report = await analyze(file);
    expectConnection(report, 2);
    expect(report.capture.linkTypes).toEqual({ 'Ethernet (1)': 8, 'Linux cooked v2 (SLL2) (276)': 8 });
    expect(report.capture.frames).toBe(16);
  });

  it('an unknown link type: one warning naming the file and first frame, its frames counted as skipped', async () => {
    const packets = connection(false, (p) => p).map((p, i) => ({ tsSec: 1, tsNsec: i, ...p }));
    const file = writeTemp(tempDir(), 'weird.pcap', writePcap(packets, { linkType: 147 }));
    const report = await analyze(file);
    expect(report.capture.frames).toBe(8);
    expect(report.network.unknownLinkType).toBe(8);
    expect(report.skipped.frames).toBe(8);
    expect(report.tcp.connections).toBe(0);
    expect(report.diagnostics.items).toHaveLength(1);
    expect(report.diagnostics.items[0]).toMatchObject({ severity: 'warning', code: 'unknown-linktype', file, frame: 1 });
    expect(report.diagnostics.items[0]!.message).toContain('147');
  });
});
