/**
 * The RDMA wire decoders on real packets of the bundled RDMA captures, with
 * the values tshark 4.0.17 dissects there (`tshark -2 -r captures/X -Y
 * frame.number==N -V`, quoted per test), and on hand-made bytes laid out as
 * RFC 8166 / RFC 8797 / IBTA Vol. 1 say, including cut and impossible ones.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERR_CHUNK,
  ERR_VERS,
  RDMA_ERROR,
  RDMA_MSG,
  RDMA_NOMSG,
  decodeRpcRdmaCmPrivate,
  decodeRpcRdmaHeader,
  readChunks,
} from '../decoders/rpcrdma.js';
import { nfs3Decoder } from '../decoders/nfs3.js';
import { nfs4Decoder } from '../decoders/nfs4.js';
import { XdrReader } from '../decoders/xdr.js';
import { readCaptureFile } from '../src/capture/source.js';
import { AETH_ACK, AETH_NAK, aethKind, decodeBth, nakName, newBthPacket, opcodeName, pathMtuBytes } from '../src/transport/ib-bth.js';
import { decodeCmMad, rejectReasonName, serviceIdPort } from '../src/transport/ib-cm.js';
import { OP, compoundRes, getattrRes, readRes } from './gen/nfs4.js';
import { bthPacket, rpcRdmaHeader } from './gen/roce.js';
import { nfs3ReadResultHead, XdrWriter } from './gen/rpc.js';
import { CAPTURES } from './helpers.js';

/** Ethernet + IPv4 + UDP in front of the BTH in these captures. */
const BTH_AT = 42;

async function frames(name: string, numbers: number[]): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  const want = new Set(numbers);
  await readCaptureFile(join(CAPTURES, name), 0, (f) => {
    if (want.has(f.number)) out.set(f.number, Buffer.from(f.data));
  }, { report: () => undefined });
  return out;
}

describe('BTH and extension headers (IBTA Vol. 1 ch. 9)', () => {
  it('real packets of nfs-rdma-v3.pcap as tshark dissects them', async () => {
    const f = await frames('nfs-rdma-v3.pcap', [19, 88, 104, 2352]);
    const b = newBthPacket();
    // 88: "RDMA WRITE First (6)", QP 0x000011, PSN 1118292, RETH VA 0x5c31daab83bb8000,
    // Remote Key 0x0000086f, DMA Length 16384; Data (1024 bytes).
    const w = f.get(88)!;
    expect(decodeBth(w, BTH_AT, w.length - BTH_AT, b)).toBe(true);
    expect([opcodeName(b.opcode), b.destQp, b.psn, b.ackRequest]).toEqual(['RC RDMA WRITE First', 0x11, 1118292, false]);
    expect([b.hasReth, b.vaHi, b.vaLo, b.rkey, b.dmaLength]).toEqual([true, 0x5c31daab, 0x83bb8000, 0x86f, 16384]);
    expect([b.payloadLength, b.payloadCaptured, b.padCount]).toEqual([1024, 1024, 0]);
    // 104: "SEND Only with Invalidate (23)", PSN 1118308, Acknowledge Request True, IETH RKey 0000086f.
    const s = f.get(104)!;
    expect(decodeBth(s, BTH_AT, s.length - BTH_AT, b)).toBe(true);
    expect([opcodeName(b.opcode), b.psn, b.ackRequest, b.hasIeth, b.invalidateRkey, b.hasReth]).toEqual(['RC SEND Only with Invalidate', 1118308, true, true, 0x86f, false]);
    expect(b.payloadLength).toBe(s.length - BTH_AT - 12 - 4 - 4);
    // 19: "Acknowledge (17)", PSN 16058122, AETH syndrome 31 (ACK, credit count 31), MSN 1.
    const a = f.get(19)!;
    expect(decodeBth(a, BTH_AT, a.length - BTH_AT, b)).toBe(true);
    expect([b.syndrome, b.msn, aethKind(b.syndrome) === AETH_ACK, b.payloadLength]).toEqual([31, 1, true, 0]);
    // 2352: "RDMA Read Request", PSN 1120366, RETH rkey 0x584, DMA length 20480.
    const r = f.get(2352)!;
    expect(decodeBth(r, BTH_AT, r.length - BTH_AT, b)).toBe(true);
    expect([opcodeName(b.opcode), b.psn, b.rkey, b.dmaLength, b.payloadLength]).toEqual(['RC RDMA READ Request', 1120366, 0x584, 20480, 0]);
  });

  it('pad count, snaplen cuts, cut headers and undefined opcodes', () => {
    const b = newBthPacket();
    // 5 payload bytes: 3 bytes of pad (pad count 3), then the ICRC.
    const p = bthPacket({ opcode: 0x04, destQp: 7, psn: 0xabcdef, payload: Buffer.from('hello') });
    expect(decodeBth(p, 0, p.length, b)).toBe(true);
    expect([b.padCount, b.payloadLength, b.psn, b.destQp]).toEqual([3, 5, 0xabcdef, 7]);
    // Cut after 14 bytes: the payload length comes from the wire length.
    expect(decodeBth(p.subarray(0, 14), 0, p.length, b)).toBe(true);
    expect([b.payloadLength, b.payloadCaptured]).toEqual([5, 2]);
    // A RETH cut short, a BTH cut short, an undefined RC opcode (0x15), RD.
    const w = bthPacket({ opcode: 0x0a, destQp: 1, psn: 1, reth: { va: 1n, rkey: 2, length: 3 }, payload: Buffer.alloc(3) });
    expect(decodeBth(w.subarray(0, 20), 0, w.length, b)).toBe(false);
    expect(b.reason).toBe('InfiniBand extension header cut short');
    expect(decodeBth(w.subarray(0, 8), 0, w.length, b)).toBe(false);
    expect(decodeBth(bthPacket({ opcode: 0x15, destQp: 1, psn: 1 }), 0, 16, b)).toBe(false);
    expect(b.reason).toBe('undefined InfiniBand opcode 0x15');
    // Headers longer than the wire length says the packet is.
    expect(decodeBth(w, 0, 20, b)).toBe(false);
  });

  it('AETH syndromes and path MTU codes', () => {
    expect(aethKind(0x60)).toBe(AETH_NAK);
    expect([nakName(0x60), nakName(0x62), nakName(0x6f)]).toEqual(['PSN Sequence Error', 'Remote Access Error', 'NAK code 15']);
    expect([1, 2, 3, 4, 5, 0, 6].map(pathMtuBytes)).toEqual([256, 512, 1024, 2048, 4096, 0, 0]);
  });
});

describe('CM MADs on QP1 (IBTA Vol. 1 ch. 12, Annex A11)', () => {
  it('ConnectRequest and ConnectReply of nfs-rdma-v3.pcap', async () => {
    const f = await frames('nfs-rdma-v3.pcap', [15, 16]);
    const b = newBthPacket();
    // 15: Local Communication ID 0x59d6d31d, ServiceID prefix 0000000001 protocol 0x06 port 0x4e51,
    // Local QPN 0x000011, Responder Resources 0x80, Starting PSN 0x111041, Path Packet Payload MTU 3,
    // IP CM source port 0x8018, 10.97.0.2 → 10.97.0.1, consumer private data f6ab0e18 01 01 03 03.
    const q = f.get(15)!;
    decodeBth(q, BTH_AT, q.length - BTH_AT, b);
    expect([b.hasDeth, b.srcQp, b.destQp]).toEqual([true, 1, 1]);
    const req = decodeCmMad(q.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured));
    expect(req).toMatchObject({
      kind: 'REQ',
      localCommId: 0x59d6d31d,
      port: 20049,
      localQpn: 0x11,
      responderResources: 0x80,
      startingPsn: 0x111041,
      pathMtu: 3,
      transportType: 0,
      ipCm: { ipVersion: 4, sourcePort: 0x8018, source: '10.97.0.2', destination: '10.97.0.1' },
      rpcRdma: { version: 1, remoteInvalidate: true, inlineSend: 4096, inlineRecv: 4096 },
    });
    // 16: Local Communication ID 0x69d4f07a, Remote 0x59d6d31d, Local QPN 0x000011, Starting PSN 0xf5070a,
    // Initiator Depth 0x80, PrivateData f6ab0e18 01 00 03 03.
    const p = f.get(16)!;
    decodeBth(p, BTH_AT, p.length - BTH_AT, b);
    expect(decodeCmMad(p.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured))).toMatchObject({
      kind: 'REP',
      localCommId: 0x69d4f07a,
      remoteCommId: 0x59d6d31d,
      localQpn: 0x11,
      startingPsn: 0xf5070a,
      initiatorDepth: 0x80,
      rpcRdma: { remoteInvalidate: false, inlineSend: 4096 },
    });
  });

  it('the ConnectReject of nfs-rdma-refused.pcap', async () => {
    const f = await frames('nfs-rdma-refused.pcap', [4]);
    const b = newBthPacket();
    // 4: Local Communication ID 0, Remote 0x30b825a3, Message REJected 0x0, Reason 0x0008.
    const j = f.get(4)!;
    decodeBth(j, BTH_AT, j.length - BTH_AT, b);
    const rej = decodeCmMad(j.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured));
    expect(rej).toEqual({ kind: 'REJ', localCommId: 0, remoteCommId: 0x30b825a3, messageRejected: 0, reason: 8 });
    expect(rejectReasonName(8)).toBe('Invalid Service ID');
  });

  it('service ids, other classes and cut MADs', () => {
    expect(serviceIdPort(0, 0x01064e51)).toBe(20049);
    expect(serviceIdPort(0, 0x013f0801)).toBe(0x0801);
    expect(serviceIdPort(1, 0x01064e51)).toBe(-1);
    expect(serviceIdPort(0, 0x02064e51)).toBe(-1);
    const sa = Buffer.alloc(256);
    sa[1] = 0x03; // subnet administration, not CM
    expect(decodeCmMad(sa)).toBeUndefined();
    expect(decodeCmMad(Buffer.alloc(20))).toBeUndefined();
    const cut = Buffer.alloc(24 + 40);
    cut[1] = 0x07;
    cut.writeUInt16BE(0x0010, 16);
    expect(decodeCmMad(cut)).toBeUndefined();
  });
});

describe('RPC-over-RDMA version 1 headers (RFC 8166 §4)', () => {
  it('real headers of nfs-rdma-v3.pcap as tshark dissects them', async () => {
    const f = await frames('nfs-rdma-v3.pcap', [59, 2349]);
    const b = newBthPacket();
    // 2349: XID 0x7531daab, Version 1, Flow Control 128, RDMA_MSG, Read chunk position 112,
    // handle 0x00000584, length 131072, offset 0x7531daab849cf000; no write list, no reply chunk.
    const c = f.get(2349)!;
    decodeBth(c, BTH_AT, c.length - BTH_AT, b);
    const send = c.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured);
    const h = decodeRpcRdmaHeader(send);
    expect(h).toMatchObject({ status: 'ok', xid: 0x7531daab, version: 1, credits: 128, proc: RDMA_MSG, writeList: [], replyChunk: null, bodyOffset: 52 });
    expect(h.readList).toEqual([{ position: 112, handle: 0x584, length: 131072, offsetHi: 0x7531daab, offsetLo: 0x849cf000 }]);
    // The inline RPC message follows: its xid is the header's.
    expect(send.readUInt32BE(h.bodyOffset)).toBe(0x7531daab);
    // 59: RDMA_NOMSG, Flow Control 64, reply chunk of 3 segments: 0xc78/124, 0xbe5/620, 0xa40/0.
    const n = f.get(59)!;
    decodeBth(n, BTH_AT, n.length - BTH_AT, b);
    const nomsg = decodeRpcRdmaHeader(n.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured));
    expect(nomsg).toMatchObject({ proc: RDMA_NOMSG, credits: 64 });
    expect(nomsg.replyChunk!.map((s) => [s.handle, s.length])).toEqual([
      [0xc78, 124],
      [0xbe5, 620],
      [0xa40, 0],
    ]);
  });

  it('read chunks group segments by position; RDMA_ERROR; cut and impossible headers', () => {
    const seg = (position: number, handle: number) => ({ position, handle, length: 10, offset: 0n });
    const h = decodeRpcRdmaHeader(rpcRdmaHeader({ xid: 1, proc: 0, readList: [seg(0, 1), seg(0, 2), seg(96, 3)] }));
    expect(readChunks(h.readList).map((c) => [c.position, c.segments.map((s) => s.handle)])).toEqual([
      [0, [1, 2]],
      [96, [3]],
    ]);
    expect(decodeRpcRdmaHeader(rpcRdmaHeader({ xid: 2, proc: RDMA_ERROR, error: { code: ERR_VERS, low: 1, high: 1 } }))).toMatchObject({ status: 'ok', error: { code: ERR_VERS, versLow: 1, versHigh: 1 } });
    expect(decodeRpcRdmaHeader(rpcRdmaHeader({ xid: 2, proc: RDMA_ERROR, error: { code: ERR_CHUNK } }))).toMatchObject({ status: 'ok', error: { code: ERR_CHUNK } });
    expect(decodeRpcRdmaHeader(rpcRdmaHeader({ xid: 3, proc: 2, align: 4096, thresh: 1024 }))).toMatchObject({ status: 'ok', align: 4096, thresh: 1024, bodyOffset: 36 });
    // Captured bytes end inside the lists (the message is longer): truncated; the message itself ends there: malformed.
    const full = rpcRdmaHeader({ xid: 4, proc: 0, writeList: [[{ handle: 1, length: 2, offset: 3n }]] });
    expect(decodeRpcRdmaHeader(full.subarray(0, 30), full.length).status).toBe('truncated');
    expect(decodeRpcRdmaHeader(full.subarray(0, 30)).status).toBe('malformed');
    const v2 = Buffer.from(full);
    v2.writeUInt32BE(2, 4);
    expect(decodeRpcRdmaHeader(v2)).toMatchObject({ status: 'malformed', reason: 'RPC-over-RDMA version 2' });
    const badProc = Buffer.from(full);
    badProc.writeUInt32BE(9, 12);
    expect(decodeRpcRdmaHeader(badProc).status).toBe('malformed');
    const badList = Buffer.from(full);
    badList.writeUInt32BE(7, 16);
    expect(decodeRpcRdmaHeader(badList)).toMatchObject({ status: 'malformed', reason: 'list discriminator 7' });
    // A segment count no message could hold is refused before any allocation.
    const huge = Buffer.from(full);
    huge.writeUInt32BE(0xffffffff, 24);
    expect(decodeRpcRdmaHeader(huge).status).toBe('malformed');
  });

  it('RFC 8797 private data', () => {
    expect(decodeRpcRdmaCmPrivate(Buffer.from('f6ab0e1801010303', 'hex'))).toEqual({ version: 1, remoteInvalidate: true, inlineSend: 4096, inlineRecv: 4096 });
    expect(decodeRpcRdmaCmPrivate(Buffer.from('f6ab0e180100ff00', 'hex'))).toEqual({ version: 1, remoteInvalidate: false, inlineSend: 256 * 1024, inlineRecv: 1024 });
    expect(decodeRpcRdmaCmPrivate(Buffer.from('0000000001010303', 'hex'))).toBeUndefined();
    expect(decodeRpcRdmaCmPrivate(Buffer.from('f6ab0e18', 'hex'))).toBeUndefined();
  });

  it('fuzz: never throws on random bytes', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    const b = newBthPacket();
    for (let i = 0; i < 3000; i++) {
      const n = rand() % 96;
      const buf = Buffer.from(Array.from({ length: n }, rand));
      // Plausible-looking starts make the deeper paths run.
      if (n >= 16 && i % 2 === 0) buf.writeUInt32BE(1, 4);
      if (n >= 16 && i % 3 === 0) buf.writeUInt32BE(i % 5, 12);
      expect(() => decodeRpcRdmaHeader(buf, n + (i % 7))).not.toThrow();
      expect(() => decodeBth(buf, 0, n + (i % 9), b)).not.toThrow();
      const mad = Buffer.concat([Buffer.from([1, 7, 2, 3]), buf]);
      if (mad.length > 18) mad.writeUInt16BE(0x10 + (i % 8), 16);
      expect(() => decodeCmMad(mad)).not.toThrow();
    }
  });
});

/*
 * A reduced reply (RFC 8166): the responder RDMA-wrote a DDP-eligible item
 * (RFC 8267: READ data, a READLINK's link) into the call's write chunk; the
 * inline reply keeps the item's length word and leaves out its bytes and XDR
 * padding. Write chunks carry no XDR position: the decoders take them, in
 * write-list order, where they meet such an item.
 */
describe('reduced replies: DDP-eligible items in write chunks (RFC 8166, RFC 8267)', () => {
  const reduced = (b: Buffer, writeChunks: number[]): XdrReader =>
    new XdrReader({ length: b.length, head: b, tail: Buffer.alloc(0), tailOffset: b.length, missing: 0, writeChunks });

  it('NFSv3 READ: the data length (4097) is inline, its 4097 bytes and 3 of padding are not', () => {
    const res = nfs3ReadResultHead(4097, true, 8193);
    const d = nfs3Decoder.decodeReply(reduced(res, [4097]), 3, 6, undefined);
    expect(d.status).toBe('NFS3_OK');
    expect(d.readBytes).toBe(4097);
    expect(d.results).toMatchObject({ count: 4097, eof: true, dataLength: 4097 });
    expect(d.stop).toBeUndefined();
    // The same bytes as a whole (unreduced) message stop: the data is not there.
    expect(nfs3Decoder.decodeReply(XdrReader.over(res), 3, 6, undefined).stop?.reason).toBe('malformed');
  });

  it('NFSv4 COMPOUND READ, GETATTR, READ: each READ takes the next chunk; the ops between decode in place', () => {
    const reducedRead = (n: number): Buffer => new XdrWriter().u32(OP.READ).u32(0).bool(false).u32(n).bytes();
    const res = compoundRes(0, 't', [reducedRead(1000), getattrRes({ size: 70000, fileid: 9 }), reducedRead(2)]);
    const d = nfs4Decoder.decodeReply(reduced(res, [1000, 2]), 4, 1, undefined);
    expect(d.opStatus).toEqual(['NFS4_OK', 'NFS4_OK', 'NFS4_OK']);
    const ops = (d.results as { ops: { op: string; result: Record<string, unknown> }[] }).ops;
    expect(ops.map((o) => o.result)).toEqual([{ eof: false, count: 1000 }, { attrs: { size: 70000, fileid: 9 } }, { eof: false, count: 2 }]);
    expect(d.readBytes).toBe(1002);
    expect(d.stop).toBeUndefined();
  });

  it('a write chunk returned empty (the data came inline after all), and READLINK links in chunks or inline', () => {
    // RFC 8166: an unused write chunk comes back with length 0; the 8 bytes of data are inline.
    const inline = readRes(true, Buffer.from('12345678'));
    const after = getattrRes({ size: 8 });
    const d = nfs4Decoder.decodeReply(reduced(compoundRes(0, '', [inline, after]), [0]), 4, 1, undefined);
    expect(d.opStatus).toEqual(['NFS4_OK', 'NFS4_OK']);
    expect(d.readBytes).toBe(8);
    // READLINK: the link in the chunk is not kept, its length is.
    const link = new XdrWriter().u32(27).u32(0).u32(11).bytes();
    const v4 = nfs4Decoder.decodeReply(reduced(compoundRes(0, '', [link, after]), [11]), 4, 1, undefined);
    expect((v4.results as { ops: { result: unknown }[] }).ops.map((o) => o.result)).toEqual([{ linkLength: 11 }, { attrs: { size: 8 } }]);
    const v3 = new XdrWriter().u32(0).bool(false).string('/etc/motd').bytes();
    expect(nfs3Decoder.decodeReply(reduced(v3, []), 3, 5, undefined).results).toEqual({ data: '/etc/motd' });
    expect(nfs3Decoder.decodeReply(reduced(new XdrWriter().u32(0).bool(false).u32(9).bytes(), [9]), 3, 5, undefined).results).toMatchObject({ dataLength: 9 });
  });
});
