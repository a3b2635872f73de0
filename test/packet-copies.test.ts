/**
 * Packets the capture holds twice (tcpdump -i any over a bond, a bridge or
 * a VLAN; a mirror port): each read once, and said so; a sender's own
 * retransmission stays one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Report } from '../src/report/model.js';
import { writePcap } from './gen/capture-writer.js';
import { ETHERTYPE_IPV4, ethernet, ipv4 } from './gen/packets.js';
import { tcpSegment } from './gen/tcp.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { getattrCall, getattrs, okReply } from './gen/workload.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };

/**
 * Every record of a little-endian classic pcap followed by a copy of it,
 * `delayUs` later (at most half way to the next record, so time never goes
 * backwards); `relink` may change the copy's link header (another interface).
 */
function everyPacketTwice(file: string, delayUs: number, relink?: (data: Buffer) => void): { path: string; records: number } {
  const bytes = readFileSync(file);
  const recs: { sec: number; usec: number; data: Buffer; orig: number }[] = [];
  for (let o = 24; o + 16 <= bytes.length; ) {
    const incl = bytes.readUInt32LE(o + 8);
    recs.push({ sec: bytes.readUInt32LE(o), usec: bytes.readUInt32LE(o + 4), orig: bytes.readUInt32LE(o + 12), data: bytes.subarray(o + 16, o + 16 + incl) });
    o += 16 + incl;
  }
  const header = (sec: number, usec: number, r: { data: Buffer; orig: number }): Buffer => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(sec, 0);
    h.writeUInt32LE(usec, 4);
    h.writeUInt32LE(r.data.length, 8);
    h.writeUInt32LE(r.orig, 12);
    return h;
  };
  const parts: Buffer[] = [bytes.subarray(0, 24)];
  recs.forEach((r, i) => {
    const t = r.sec * 1e6 + r.usec;
    const next = i + 1 < recs.length ? recs[i + 1]!.sec * 1e6 + recs[i + 1]!.usec : t + 2 * delayUs;
    const u = t + Math.min(delayUs, Math.floor((next - t) / 2));
    const copy = Buffer.from(r.data);
    relink?.(copy);
    parts.push(header(r.sec, r.usec, r), r.data, header(Math.floor(u / 1e6), u % 1e6, r), copy);
  });
  return { path: writeTemp(tempDir(), 'twice.pcap', Buffer.concat(parts)), records: recs.length };
}

/** What must not change when every packet is read once; frame n of the doubled file is frame 2n − 1 there. */
function figures(r: Report, doubled = false): unknown {
  const frame = (n: number): number => (doubled ? (n + 1) / 2 : n);
  const plain = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(plain);
    if (x === null || typeof x !== 'object') return x;
    return Object.fromEntries(
      Object.entries(x)
        .filter(([k]) => k !== 'file')
        .map(([k, v]) => [k, /frame$/i.test(k) && typeof v === 'number' ? frame(v) : plain(v)]),
    );
  };
  const findings = r.findings.filter((f) => f.kind !== 'capture-quality').map((f) => [f.kind, f.title.replace(/frame (\d+)/g, (_, n: string) => `frame ${frame(Number(n))}`)]);
  return plain({ rpc: r.rpc, tcp: r.tcp, operations: r.operations, findings });
}

describe('every packet captured twice', () => {
  for (const [name, relink] of [
    ['linux-v3-basic-head.pcap', undefined],
    // SLL2 (tcpdump -i any): the copy comes from another interface index (bytes 4-7).
    ['nfsv4-any-sll2-head.pcap', (d: Buffer) => d.writeUInt32BE(d.readUInt32BE(4) + 1, 4)],
  ] as const) {
    it(`${name}: the report of the capture as taken once, and one finding saying why`, async () => {
      const file = join(CAPTURES, name);
      const twice = everyPacketTwice(file, 3, relink);
      const once = readable(await analyze(file));
      const r = readable(await analyze(twice.path));
      expect(figures(r, true)).toEqual(figures(once));
      expect(r.capture.frames).toBe(2 * twice.records);
      expect(r.network.packetCopies).toBe(twice.records);
      const copies = r.findings.filter((f) => f.kind === 'capture-quality');
      expect(copies.map((f) => [f.severity, f.title])).toEqual([['warning', `${twice.records} packets were captured twice: each read once`]]);
      expect(copies[0]!.evidence.map((e) => [e.frame, e.what])).toEqual([
        [1, 'a packet'],
        [2, 'the same packet again (the first copy)'],
        [2 * twice.records, 'the last copy'],
      ]);
      expect(once.network.packetCopies).toBeUndefined();
    });
  }
});

describe('a sender resending a segment is not a copy', () => {
  /** A GETATTR call sent twice, `gapUs` apart, with these IPv4 identifications. */
  function callTwice(gapUs: number, ids: [number, number]): Capture {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER).handshake();
    getattrs(s, 0x100, 3);
    const call = getattrCall(0x200);
    const seq = s.nextSeq('client');
    const segment = (id: number): Buffer =>
      ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: CLIENT.addr, dst: SERVER.addr, protocol: 6, id }, tcpSegment({ srcPort: CLIENT.port, dstPort: SERVER.port, seq, ack: s.nextSeq('server'), flags: 0x18 }, call)));
    c.push(segment(ids[0]));
    c.advance(gapUs / 1e6 - 1e-6);
    c.push(segment(ids[1]));
    // The session's own bookkeeping: the call sent (not captured again), then the reply.
    s.send('client', call, { drop: [0], ack: false });
    c.advance(0.001);
    s.send('server', okReply(0x200));
    return c;
  }
  const run = async (c: Capture): Promise<Report> => readable(await analyze(writeTemp(tempDir(), 'gen.pcap', writePcap(c.frames, { linkType: 1 }))));

  it('a new IPv4 identification, 10 µs later: a retransmission (as tshark says)', async () => {
    const r = await run(callTwice(10, [7, 8]));
    expect(r.network.packetCopies).toBeUndefined();
    expect(r.tcp.events['retransmission']).toBe(1);
  });

  it('identification 0 (RFC 6864), 100 µs later: a retransmission; 10 µs later: a copy', async () => {
    const late = await run(callTwice(100, [0, 0]));
    expect([late.network.packetCopies, late.tcp.events['retransmission']]).toEqual([undefined, 1]);
    const soon = await run(callTwice(10, [0, 0]));
    expect([soon.network.packetCopies, soon.tcp.events['retransmission']]).toEqual([1, undefined]);
  });

  it('the same identification 150 µs later: a copy; 300 µs later: a retransmission', async () => {
    expect((await run(callTwice(150, [9, 9]))).network.packetCopies).toBe(1);
    expect((await run(callTwice(300, [9, 9]))).network.packetCopies).toBeUndefined();
  });
});
