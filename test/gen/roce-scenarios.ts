/**
 * NFS-over-RDMA conversations for the tests, each built on a RoceSession
 * (roce.ts) with the frame of every call and reply known by construction:
 * what the real captures lack (multi-packet SENDs, RDMA_MSGP / RDMA_DONE /
 * RDMA_ERROR, PSN gaps, NAKs and retransmissions, snaplen cuts, RoCEv1, no
 * CM exchange, position-zero read chunks, credits, NFSv4).
 */
import { writePcap } from './capture-writer.js';
import { fattr3, makeFh, NF3DIR, postOpAttr, readdirplusOk } from './nfs3.js';
import {
  CB_OP,
  OP,
  cbCompoundArgs,
  cbSequenceArgs,
  cbSequenceRes,
  compoundArgs,
  compoundRes,
  getattrArgs,
  getattrRes,
  putfhArgs,
  readArgs,
  readRes,
  sequenceArgs,
  sequenceRes,
  statusRes,
  stateid4,
  writeArgs,
  writeRes,
} from './nfs4.js';
import { nfs3ReadArgs, nfs3ReadResultHead, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { RoceSession, rpcRdmaHeader, type Segment, type SessionOptions, type Side } from './roce.js';

export const NFS = 100003;
export const LINKTYPE_ETHERNET = 1;

/** Where a call and its reply are (frames as a reader numbers them), by construction. */
export interface ExpectedCall {
  xid: number;
  procedure: number;
  frame: number;
  replyFrame: number | null;
}

export interface Scenario {
  pcap: Buffer;
  session: RoceSession;
  calls: ExpectedCall[];
  /** Named frames the tests look at. */
  frames: Record<string, number>;
}

const CRED = { machine: 'rdma-client', uid: 0, gid: 0 };
/** AUTH_SYS with 16 groups and a long machine name: a call too long for one 256-byte packet. */
const BIG_CRED = { machine: `client-${'with-a-rather-long-host-name-'.repeat(4)}example.com`, uid: 1000, gid: 1000, gids: Array.from({ length: 16 }, (_, i) => 100 + i) };

export function getattrCall(xid: number, fh: Buffer, cred: typeof CRED | typeof BIG_CRED = CRED): Buffer {
  return rpcCall({ xid, prog: NFS, vers: 3, proc: 1, cred }, new XdrWriter().opaque(fh).bytes());
}

export function getattrReply(xid: number, status = 0): Buffer {
  const w = new XdrWriter().u32(status);
  if (status === 0) fattr3(w);
  return rpcAcceptedReply(xid, w.bytes());
}

/** WRITE3args up to the data length word (the data follows, inline or in a read chunk). */
function writeArgsHead(fh: Buffer, offset: number, count: number): Buffer {
  return new XdrWriter().opaque(fh).u64(offset).u32(count).u32(0).u32(count).bytes();
}

function writeReply(xid: number, count: number): Buffer {
  const w = new XdrWriter().u32(0).bool(false);
  postOpAttr(w);
  w.u32(count).u32(0).fixed(Buffer.alloc(8, 1));
  return rpcAcceptedReply(xid, w.bytes());
}

/** A SEND carrying an RPC-over-RDMA header and, for RDMA_MSG, the RPC message. */
function rdmaSend(s: RoceSession, from: Side, header: Buffer, rpc: Buffer = Buffer.alloc(0), invalidate?: number): number[] {
  return s.send(from, Buffer.concat([header, rpc]), invalidate !== undefined ? { invalidate } : {});
}

const last = (frames: number[]): number => frames[frames.length - 1]!;

function finish(s: RoceSession, calls: ExpectedCall[], frames: Record<string, number>): Scenario {
  const fix = (n: number): number => s.captured(n);
  return {
    pcap: writePcap(s.capture(), { linkType: LINKTYPE_ETHERNET, nanosecond: true }),
    session: s,
    calls: calls.map((c) => ({ ...c, frame: fix(c.frame), replyFrame: c.replyFrame === null ? null : fix(c.replyFrame) })),
    frames: Object.fromEntries(Object.entries(frames).map(([k, v]) => [k, fix(v)])),
  };
}

/**
 * Path MTU 256: a GETATTR call with large credentials, a READDIRPLUS reply
 * and an inline 600-byte WRITE each take several packets (SEND First /
 * Middle / Last); the message is complete, and shown, in its Last packet.
 */
export function multiPacketSends(o: SessionOptions = {}, connect = true): Scenario {
  const s = new RoceSession({ mtu: 256, ...o });
  const fh = makeFh(1);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  if (connect) frames['request'] = s.connect();
  // 1: GETATTR, call in 2 packets.
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x101, proc: 0 }), getattrCall(0x101, fh, BIG_CRED));
  s.ack('server');
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x101, proc: 0, credits: 32 }), getattrReply(0x101));
  s.ack('client');
  calls.push({ xid: 0x101, procedure: 1, frame: last(c1), replyFrame: last(r1) });
  frames['firstCallFirst'] = c1[0]!;
  // 2: READDIRPLUS with a reply of several packets.
  const c2 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x102, proc: 0 }), rpcCall({ xid: 0x102, prog: NFS, vers: 3, proc: 17, cred: CRED }, new XdrWriter().opaque(fh).u64(0).fixed(Buffer.alloc(8)).u32(4096).u32(8192).bytes()));
  const entries: [string, Buffer][] = ['alpha', 'beta', 'gamma', 'delta'].map((n, i) => [n, makeFh(10 + i)]);
  const r2 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x102, proc: 0 }), rpcAcceptedReply(0x102, readdirplusOk(true, entries)));
  calls.push({ xid: 0x102, procedure: 17, frame: last(c2), replyFrame: last(r2) });
  frames['readdirReplyPackets'] = r2.length;
  // 3: WRITE of 600 bytes inline.
  const data = Buffer.alloc(600, 0x5a);
  const c3 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x103, proc: 0 }), rpcCall({ xid: 0x103, prog: NFS, vers: 3, proc: 7, cred: CRED }, Buffer.concat([writeArgsHead(fh, 0, 600), data])));
  const r3 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x103, proc: 0 }), writeReply(0x103, 600));
  s.ack('client');
  calls.push({ xid: 0x103, procedure: 7, frame: last(c3), replyFrame: last(r3) });
  if (connect) frames['disconnect'] = s.disconnect();
  return finish(s, calls, frames);
}

/**
 * RDMA_MSGP (align/thresh, then the RPC message), RDMA_DONE, and calls
 * answered with RDMA_ERROR: ERR_CHUNK (a READ whose write chunk the server
 * would not use) and ERR_VERS (versions 1–1).
 */
export function msgpDoneError(): Scenario {
  const s = new RoceSession();
  const fh = makeFh(2);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x201, proc: 2, align: 4096, thresh: 1024 }), getattrCall(0x201, fh));
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x201, proc: 0 }), getattrReply(0x201));
  calls.push({ xid: 0x201, procedure: 1, frame: last(c1), replyFrame: last(r1) });
  frames['done'] = last(rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x201, proc: 3 })));
  const chunk: Segment[] = [{ handle: 0x77, length: 8192, offset: 0x7000_0000_0000n }];
  const c2 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x202, proc: 0, writeList: [chunk] }), rpcCall({ xid: 0x202, prog: NFS, vers: 3, proc: 6, cred: CRED }, nfs3ReadArgs(fh, 0, 8192)));
  frames['errChunk'] = last(rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x202, proc: 4, error: { code: 2 } })));
  // Answered, at the transport: the RDMA_ERROR is the call's answer.
  calls.push({ xid: 0x202, procedure: 6, frame: last(c2), replyFrame: frames['errChunk'] });
  const c3 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x203, proc: 0 }), getattrCall(0x203, fh));
  frames['errVers'] = last(rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x203, proc: 4, error: { code: 1, low: 1, high: 1 } })));
  calls.push({ xid: 0x203, procedure: 1, frame: last(c3), replyFrame: frames['errVers'] });
  s.ack('client');
  return finish(s, calls, frames);
}

/**
 * Loss, as a capture at the server sees it:
 * - the capture misses call 0x302 (the server got it: it answers it and
 *   acknowledges beyond): a PSN gap of one packet, the reply an orphan;
 * - the network loses call 0x304: the server NAKs (PSN sequence error) and
 *   the client goes back and sends 0x304 and 0x305 again: 0x305's first copy
 *   was held and is delivered, its second copy is a retransmission;
 * - an RNR NAK and a Remote Access Error NAK.
 */
export function lossAndNaks(): Scenario {
  const s = new RoceSession();
  const fh = makeFh(3);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const getattr = (xid: number): number[] => rdmaSend(s, 'client', rpcRdmaHeader({ xid, proc: 0 }), getattrCall(xid, fh));
  const reply = (xid: number): number[] => rdmaSend(s, 'server', rpcRdmaHeader({ xid, proc: 0 }), getattrReply(xid));
  const c1 = getattr(0x301);
  const r1 = reply(0x301);
  calls.push({ xid: 0x301, procedure: 1, frame: last(c1), replyFrame: last(r1) });
  const c2 = getattr(0x302);
  s.dropped.add(c2[0]!);
  const c3 = getattr(0x303);
  frames['gapAck'] = s.ack('server');
  const r2 = reply(0x302);
  const r3 = reply(0x303);
  frames['orphanReply'] = last(r2);
  calls.push({ xid: 0x303, procedure: 1, frame: last(c3), replyFrame: last(r3) });
  // Network loss of 0x304: the capture (at the server) never sees its first copy.
  const c4 = getattr(0x304);
  s.dropped.add(c4[0]!);
  const c5 = getattr(0x305);
  frames['nak'] = s.nak('server', s.psn.client - 2);
  const [c4again, c5again] = s.resend([c4[0]!, c5[0]!]);
  frames['retransmission'] = c5again!;
  s.ack('server');
  const r4 = reply(0x304);
  const r5 = reply(0x305);
  calls.push({ xid: 0x304, procedure: 1, frame: c4again!, replyFrame: last(r4) });
  calls.push({ xid: 0x305, procedure: 1, frame: last(c5), replyFrame: last(r5) });
  frames['rnr'] = s.rnrNak('client', s.psn.server);
  frames['accessError'] = s.nak('client', s.psn.server, 2);
  return finish(s, calls, frames);
}

/**
 * An NFSv3 READ of 4 KiB through a write chunk (RDMA WRITE, then the reply
 * as SEND with Invalidate) and a 4 KiB WRITE through a read chunk (the
 * server pulls it with RDMA READ), captured with `snaplen` (headers of the
 * data packets only; the reply SEND cut too when it is short enough).
 */
export function chunkedReadWrite(o: SessionOptions = {}): Scenario {
  const s = new RoceSession(o);
  const fh = makeFh(4);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const seg: Segment = { handle: 0x501, length: 4096, offset: 0x5555_0000_1000n };
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x401, proc: 0, writeList: [[seg]] }), rpcCall({ xid: 0x401, prog: NFS, vers: 3, proc: 6, cred: CRED }, nfs3ReadArgs(fh, 0, 4096)));
  s.ack('server');
  const w = s.write('server', 0x501, 0x5555_0000_1000n, Buffer.alloc(4096, 0xab));
  frames['firstWrite'] = w[0]!;
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x401, proc: 0, writeList: [[seg]] }), rpcAcceptedReply(0x401, nfs3ReadResultHead(4096, false, 100_000)), 0x501);
  s.ack('client');
  calls.push({ xid: 0x401, procedure: 6, frame: last(c1), replyFrame: last(r1) });
  // WRITE: the data (4 KiB) in a read chunk at the position after its length word.
  const rpc = rpcCall({ xid: 0x402, prog: NFS, vers: 3, proc: 7, cred: CRED }, writeArgsHead(fh, 0, 4096));
  const c2 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x402, proc: 0, readList: [{ position: rpc.length, handle: 0x602, length: 4096, offset: 0x6666_0000_2000n }] }), rpc);
  const [readReq, responses] = s.read('server', 0x602, 0x6666_0000_2000n, Buffer.alloc(4096, 0xcd));
  frames['readRequest'] = readReq;
  const r2 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x402, proc: 0 }), writeReply(0x402, 4096));
  s.ack('client');
  calls.push({ xid: 0x402, procedure: 7, frame: last(responses), replyFrame: last(r2) });
  frames['writeSend'] = last(c2);
  return finish(s, calls, frames);
}

/**
 * A call too big for inline sent as RDMA_NOMSG in a position-zero read
 * chunk (the server pulls the whole RPC message with RDMA READ), answered
 * inline; then a READDIRPLUS answered in the reply chunk (RDMA_NOMSG).
 */
export function positionZeroAndReplyChunk(): Scenario {
  const s = new RoceSession({ mtu: 1024 });
  const fh = makeFh(5);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const message = rpcCall({ xid: 0x501, prog: NFS, vers: 3, proc: 7, cred: CRED }, Buffer.concat([writeArgsHead(fh, 0, 3000), Buffer.alloc(3000, 7)]));
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x501, proc: 1, readList: [{ position: 0, handle: 0x700, length: message.length, offset: 0x7777_0000_0000n }] }));
  const [, responses] = s.read('server', 0x700, 0x7777_0000_0000n, message);
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x501, proc: 0 }), writeReply(0x501, 3000));
  calls.push({ xid: 0x501, procedure: 7, frame: last(responses), replyFrame: last(r1) });
  frames['nomsgCall'] = last(c1);
  // READDIRPLUS: the reply written into the reply chunk, then an RDMA_NOMSG.
  const replyChunk: Segment[] = [{ handle: 0x800, length: 8192, offset: 0x8888_0000_0000n }];
  const c2 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x502, proc: 0, replyChunk }), rpcCall({ xid: 0x502, prog: NFS, vers: 3, proc: 17, cred: CRED }, new XdrWriter().opaque(fh).u64(0).fixed(Buffer.alloc(8)).u32(4096).u32(8192).bytes()));
  const entries: [string, Buffer][] = Array.from({ length: 12 }, (_, i) => [`file-${i}`, makeFh(20 + i)]);
  const reply = rpcAcceptedReply(0x502, readdirplusOk(true, entries));
  s.write('server', 0x800, 0x8888_0000_0000n, reply);
  const r2 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x502, proc: 1, replyChunk: [{ ...replyChunk[0]!, length: reply.length }] }));
  calls.push({ xid: 0x502, procedure: 17, frame: last(c2), replyFrame: last(r2) });
  frames['readdirEntries'] = entries.length + 0;
  return finish(s, calls, frames);
}

/**
 * Credits: the server grants 2; the client then has 2 calls outstanding
 * (exhausted), and sends a third (beyond the credits).
 */
export function credits(): Scenario {
  const s = new RoceSession();
  const fh = makeFh(6);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const c0 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x600, proc: 0, credits: 8 }), getattrCall(0x600, fh));
  const r0 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x600, proc: 0, credits: 2 }), getattrReply(0x600));
  calls.push({ xid: 0x600, procedure: 1, frame: last(c0), replyFrame: last(r0) });
  const sent = [0x601, 0x602, 0x603].map((xid) => [xid, last(rdmaSend(s, 'client', rpcRdmaHeader({ xid, proc: 0, credits: 8 }), getattrCall(xid, fh)))] as const);
  frames['exhausted'] = sent[1]![1];
  frames['exceeded'] = sent[2]![1];
  for (const [xid, frame] of sent) calls.push({ xid, procedure: 1, frame, replyFrame: last(rdmaSend(s, 'server', rpcRdmaHeader({ xid, proc: 0, credits: 2 }), getattrReply(xid))) });
  return finish(s, calls, frames);
}

/**
 * Two ConnectRequests to port 20049 rejected: Consumer Reject (28), then No
 * QP available (1); then a request the CM sends 4 times that nobody answers,
 * and one sent once (the capture may just have ended: no finding).
 */
export function rejected(): Scenario {
  const s = new RoceSession({ step: 0.5 });
  const [req1, rej1] = s.rejectedConnect(28);
  const [req2, rej2] = s.rejectedConnect(1);
  const silent = s.unansweredConnect(4);
  const once = s.unansweredConnect(1);
  return finish(s, [], { req1, rej1, req2, rej2, silentFirst: silent[0]!, silentLast: silent[3]!, once: once[0]! });
}

/**
 * NFSv4.1 over RDMA: SEQUENCE, PUTFH, READ of 2 KiB whose data comes
 * through a write chunk, as Linux sends it.
 */
export function nfs4Read(): Scenario {
  const s = new RoceSession();
  const fh = makeFh(7);
  const sessionid = Buffer.alloc(16, 0x44);
  const calls: ExpectedCall[] = [];
  s.connect();
  const seg: Segment = { handle: 0x901, length: 2048, offset: 0x9999_0000_0000n };
  const args = compoundArgs('', 1, [sequenceArgs(sessionid, 1, 0, 0, false), putfhArgs(fh), readArgs(stateid4(1, 0x22), 0, 2048)]);
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x701, proc: 0, writeList: [[seg]] }), rpcCall({ xid: 0x701, prog: NFS, vers: 4, proc: 1, cred: CRED }, args));
  s.write('server', 0x901, 0x9999_0000_0000n, Buffer.alloc(2048, 0x31));
  // The reduced reply: the READ's data length ends it, its 2 KiB went by RDMA WRITE.
  const full = readRes(true, Buffer.alloc(2048, 0x31));
  const reduced = full.subarray(0, full.length - 2048);
  const res = compoundRes(0, '', [sequenceRes(sessionid, 1, 0, 63, 63, 0), statusRes(OP.PUTFH, 0), reduced]);
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x701, proc: 0, writeList: [[seg]] }), rpcAcceptedReply(0x701, res), 0x901);
  calls.push({ xid: 0x701, procedure: 1, frame: last(c1), replyFrame: last(r1) });
  return finish(s, calls, {});
}

/**
 * NFSv4.1 over RDMA: SEQUENCE, PUTFH, READ, GETATTR, the READ's 3001 bytes
 * through a write chunk (the client offers 4096, the server returns the
 * chunk with the 3001 it wrote). The reply is reduced (RFC 8166, RFC 8267):
 * the READ's data length stays inline, its bytes and their XDR padding are
 * left out, and the GETATTR follows at once.
 */
export function nfs4ReadThenGetattr(): Scenario {
  const s = new RoceSession();
  const fh = makeFh(9);
  const sessionid = Buffer.alloc(16, 0x66);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const offered: Segment = { handle: 0xb01, length: 4096, offset: 0xbbbb_0000_0000n };
  const args = compoundArgs('', 1, [sequenceArgs(sessionid, 3, 0, 0, false), putfhArgs(fh), readArgs(stateid4(1, 0x44), 8192, 4096), getattrArgs([4, 20])]);
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0xb01, proc: 0, writeList: [[offered]] }), rpcCall({ xid: 0xb01, prog: NFS, vers: 4, proc: 1, cred: CRED }, args));
  s.ack('server');
  frames['firstWrite'] = s.write('server', 0xb01, 0xbbbb_0000_0000n, Buffer.alloc(3001, 0x52))[0]!;
  const full = readRes(true, Buffer.alloc(3001, 0x52));
  // READ4resok reduced: opcode, status, eof, the length word; 3001 bytes + 3 of padding left out.
  const reducedRead = full.subarray(0, full.length - 3004);
  const res = compoundRes(0, '', [sequenceRes(sessionid, 3, 0, 63, 63, 0), statusRes(OP.PUTFH, 0), reducedRead, getattrRes({ size: 11193, fileid: 0x1234 })]);
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0xb01, proc: 0, writeList: [[{ ...offered, length: 3001 }]] }), rpcAcceptedReply(0xb01, res), 0xb01);
  s.ack('client');
  calls.push({ xid: 0xb01, procedure: 1, frame: last(c1), replyFrame: last(r1) });
  return finish(s, calls, frames);
}

/**
 * NFSv4.1: a WRITE of 3001 bytes (not a multiple of 4: the chunk carries no
 * XDR padding) through a read chunk, with a GETATTR after it in the same
 * COMPOUND; then the server's CB_COMPOUND (CB_SEQUENCE) on the same
 * connection (the backchannel, RFC 8167), and the client's reply.
 */
export function nfs4WriteAndCallback(): Scenario {
  const s = new RoceSession();
  const fh = makeFh(8);
  const sessionid = Buffer.alloc(16, 0x55);
  const calls: ExpectedCall[] = [];
  const frames: Record<string, number> = {};
  s.connect();
  const data = Buffer.alloc(3001, 0x41);
  const write = writeArgs(stateid4(1, 0x33), 0, 2, data);
  // The reduced WRITE op: everything but the data and its padding.
  const reducedWrite = write.subarray(0, write.length - 3004);
  const getattr = getattrArgs([4, 20]);
  const inline = rpcCall({ xid: 0x801, prog: NFS, vers: 4, proc: 1, cred: CRED }, compoundArgs('', 1, [sequenceArgs(sessionid, 2, 0, 0, false), putfhArgs(fh), reducedWrite, getattr]));
  // The data belongs after the WRITE's data length word, before the GETATTR.
  const position = inline.length - getattr.length;
  const c1 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x801, proc: 0, readList: [{ position, handle: 0xa01, length: data.length, offset: 0xaaaa_0000_0000n }] }), inline);
  const [, responses] = s.read('server', 0xa01, 0xaaaa_0000_0000n, data);
  const res = compoundRes(0, '', [sequenceRes(sessionid, 2, 0, 63, 63, 0), statusRes(OP.PUTFH, 0), writeRes(3001, 2, Buffer.alloc(8, 9)), getattrRes({ size: 3001, fileid: 77 })]);
  const r1 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x801, proc: 0 }), rpcAcceptedReply(0x801, res));
  calls.push({ xid: 0x801, procedure: 1, frame: last(responses), replyFrame: last(r1) });
  frames['writeSend'] = last(c1);
  // The backchannel: a call from the server.
  const cb = rpcCall({ xid: 0x901, prog: 0x40000000, vers: 1, proc: 1 }, cbCompoundArgs('', 1, 0, [cbSequenceArgs(sessionid, 1, 0, 0, false)]));
  const c2 = rdmaSend(s, 'server', rpcRdmaHeader({ xid: 0x901, proc: 0 }), cb);
  const r2 = rdmaSend(s, 'client', rpcRdmaHeader({ xid: 0x901, proc: 0 }), rpcAcceptedReply(0x901, Buffer.concat([new XdrWriter().u32(0).string('').u32(1).bytes(), cbSequenceRes(sessionid, 1, 0, 0, 0)])));
  calls.push({ xid: 0x901, procedure: 1, frame: last(c2), replyFrame: last(r2) });
  return finish(s, calls, frames);
}

/** Every scenario, for the fuzz test and the generator's self-check. */
export function allScenarios(): Record<string, Scenario> {
  return {
    multiPacketSends: multiPacketSends(),
    multiPacketSendsV1: multiPacketSends({ v1: true }),
    multiPacketSendsNoCm: multiPacketSends({}, false),
    msgpDoneError: msgpDoneError(),
    lossAndNaks: lossAndNaks(),
    chunkedReadWrite: chunkedReadWrite(),
    chunkedReadWriteSnaplen: chunkedReadWrite({ snaplen: 160 }),
    positionZeroAndReplyChunk: positionZeroAndReplyChunk(),
    credits: credits(),
    rejected: rejected(),
    nfs4Read: nfs4Read(),
    nfs4ReadThenGetattr: nfs4ReadThenGetattr(),
    nfs4WriteAndCallback: nfs4WriteAndCallback(),
  };
}

export { CB_OP, NF3DIR };
