/**
 * Benchmark captures, written straight to disk through one reusable buffer
 * (a multi-GB file needs no more memory than a small one). Four workloads:
 *
 *  - `read`: NFSv3 clients reading 1 MiB at a time over TCP, the READ
 *    replies cut into MSS-sized Ethernet segments (1448 bytes: frames of at
 *    most 1514 bytes) and ACKed every second segment, as a bulk read on a
 *    LAN looks;
 *  - `read-tso`: the same READs captured on the client with GRO: 64 KB
 *    frames (45 × 1448 bytes of payload), one ACK each;
 *  - `write-tso`: NFSv3 WRITEs of 1 MiB captured on the client with TSO:
 *    64 KB frames out, ACKs and small WRITE replies back;
 *  - `meta`: a metadata-heavy mix of small calls on 16 connections, NFSv3
 *    (GETATTR, LOOKUP, ACCESS, READDIRPLUS, SETATTR, CREATE, REMOVE, FSSTAT,
 *    4 KB READ/WRITE, COMMIT) and NFSv4.1 COMPOUNDs (SEQUENCE + PUTFH +
 *    GETATTR / LOOKUP / ACCESS / READ), in batches of 1-4 calls in flight,
 *    replies 50 µs - 2 ms later, frames of at most 1514 bytes.
 *
 * Everything is deterministic: the same workload and size give the same bytes.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fattr3, makeFh, NF3DIR, postOpAttr, readdirplusOk, sattrMode, wcc } from '../test/gen/nfs3.js';
import {
  compoundArgs,
  compoundRes,
  createSessionArgs,
  createSessionRes,
  exchangeIdArgs,
  exchangeIdRes,
  getattrArgs,
  getattrRes,
  getfhArgs,
  getfhRes,
  lookupArgs,
  OP,
  putfhArgs,
  readArgs,
  readRes,
  sequenceArgs,
  sequenceRes,
  stateid4,
  statusRes,
} from '../test/gen/nfs4.js';
import {
  NFS_PROGRAM,
  NFSPROC3_READ,
  nfs3ReadArgs,
  nfs3ReadResultHead,
  recordMark,
  rpcAcceptedReply,
  rpcCall,
  XdrWriter,
} from '../test/gen/rpc.js';
import { rng } from '../test/gen/random.js';
import { writeReplayFile } from '../test/gen/replay.js';

export type Workload = 'read' | 'read-tso' | 'write-tso' | 'meta' | 'replay';
export const WORKLOADS: readonly Workload[] = ['read', 'read-tso', 'write-tso', 'meta', 'replay'];
/** Workloads made by a generator, whose captures lose nothing (no gaps, every call answered). */
export const GENERATED: readonly Workload[] = ['read', 'read-tso', 'write-tso', 'meta'];

/**
 * The bundled real captures (captures/) the `replay` workload is made of:
 * the classic pcap files of Ethernet frames carrying NFS over TCP or UDP,
 * whole (NFS over RDMA, the snaplen-cut capture and the other file formats
 * left out).
 */
export const REPLAY_SOURCES: readonly string[] = [
  'linux-v3-basic-head.pcap',
  'linux-v3-nfsacl-cut.pcap',
  'linux-v42-basic-head.pcap',
  'lossy-read-cut.pcap',
  'nfsv3-basic-head.pcap',
  'nfsv3-errors.pcap',
  'nfsv3-nanosec.pcap',
  'nfsv3-stale-cut.pcap',
  'nfsv4-errors.pcap',
  'nfsv4-grace-restart.pcap',
  'nfsv40-pynfs-state-errors-cut.pcap',
  'nfsv41-pynfs-errors.pcap',
  'nfsv41-pynfs-head.pcap',
  'nfsv41-pynfs-mid.pcap',
  'nfsv41-pynfs-tail.pcap',
  'unanswered-read-tail.pcap',
];

export interface GenerateOptions {
  /** TCP payload bytes per segment of bulk data (default: 1448, or 65160 for the -tso workloads). */
  mss?: number;
  /** Where the `replay` workload's sources are (default: the repository's captures/). */
  capturesDir?: string;
}

export interface GenerateResult {
  bytes: number;
  frames: number;
  /** RPC calls written, each answered. */
  calls: number;
}

const ETH_IP = 14 + 20;
const RECORD_HEADER = 16;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
/** Payload of a 64 KB TSO/GRO frame: 45 Ethernet segments (IP total length 65212). */
export const TSO_MSS = 45 * 1448;
/** Ethernet MSS: frames of 1514 bytes. */
export const ETHERNET_MSS = 1448;

/** Writes classic pcap (Ethernet, IPv4, TCP), 7 µs between frames, to a file through one reusable buffer. */
export class PcapStream {
  private readonly buf = Buffer.alloc(8 << 20);
  private pos = 0;
  /** Bytes written after the 24-byte file header. */
  bytes = 0;
  frames = 0;
  private tsUsec = 0;

  /**
   * With `tcpTimestamps`, every TCP header carries the timestamps option
   * (12 bytes, as Linux sends it), so an MSS of 1448 makes 1514-byte frames.
   */
  constructor(
    private readonly fd: number,
    private readonly tcpTimestamps = false,
  ) {
    this.buf.writeUInt32LE(0xa1b2c3d4, 0);
    this.buf.writeUInt16LE(2, 4);
    this.buf.writeUInt16LE(4, 6);
    this.buf.writeUInt32LE(262144, 16);
    this.buf.writeUInt32LE(1, 20); // Ethernet
    this.pos = 24;
  }

  /** Moves the clock on (a server's think time) beyond the 7 µs between frames. */
  advance(usec: number): void {
    this.tsUsec += usec;
  }

  /** One Ethernet/IPv4/TCP frame carrying payload[from, to). */
  tcp(src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer, from = 0, to = payload.length): void {
    const len = to - from;
    const tcpLen = this.tcpTimestamps ? 32 : 20;
    const frameLen = ETH_IP + tcpLen + len;
    if (this.pos + RECORD_HEADER + frameLen > this.buf.length) this.flush();
    const b = this.buf;
    let o = this.pos;
    this.tsUsec += 7;
    b.writeUInt32LE(1_763_779_858 + Math.floor(this.tsUsec / 1e6), o);
    b.writeUInt32LE(this.tsUsec % 1e6, o + 4);
    b.writeUInt32LE(frameLen, o + 8);
    b.writeUInt32LE(frameLen, o + 12);
    o += RECORD_HEADER;
    // Ethernet: locally administered MACs derived from the addresses.
    b.writeUInt32BE(0x02000000 | (dst & 0xffff), o);
    b.writeUInt16BE(0, o + 4);
    b.writeUInt32BE(0x02000000 | (src & 0xffff), o + 6);
    b.writeUInt16BE(0, o + 10);
    b.writeUInt16BE(0x0800, o + 12);
    o += 14;
    b[o] = 0x45;
    b[o + 1] = 0;
    b.writeUInt16BE(20 + tcpLen + len, o + 2);
    b.writeUInt32BE(0x40000000, o + 4); // id 0, DF
    b[o + 8] = 64;
    b[o + 9] = 6;
    b.writeUInt16BE(0, o + 10);
    b.writeUInt32BE(src >>> 0, o + 12);
    b.writeUInt32BE(dst >>> 0, o + 16);
    o += 20;
    b.writeUInt16BE(sport, o);
    b.writeUInt16BE(dport, o + 2);
    b.writeUInt32BE(seq >>> 0, o + 4);
    b.writeUInt32BE(ack >>> 0, o + 8);
    b[o + 12] = (tcpLen / 4) << 4;
    b[o + 13] = flags;
    b.writeUInt16BE(0xffff, o + 14);
    b.writeUInt32BE(0, o + 16);
    if (this.tcpTimestamps) {
      // NOP, NOP, timestamps (kind 8, length 10): TSval in milliseconds, TSecr 0.
      b.writeUInt32BE(0x0101080a, o + 20);
      b.writeUInt32BE(Math.floor(this.tsUsec / 1000) >>> 0, o + 24);
      b.writeUInt32BE(0, o + 28);
    }
    o += tcpLen;
    payload.copy(b, o, from, to);
    this.pos = o + len;
    this.bytes += RECORD_HEADER + frameLen;
    this.frames++;
  }

  flush(): void {
    writeSync(this.fd, this.buf, 0, this.pos);
    this.pos = 0;
  }
}

const SERVER = 0x0a000001; // 10.0.0.1
const NFS_PORT = 2049;
const EMPTY = Buffer.alloc(0);

/** One client's TCP connection to the server. */
class Conn {
  /** Next sequence numbers of the client and the server. */
  cseq: number;
  sseq: number;
  xid: number;

  constructor(private readonly out: PcapStream, readonly client: number, readonly port: number, i: number, firstXid: number) {
    this.cseq = 1000 + i * 7919;
    this.sseq = 0xfff00000 + i * 104729;
    this.xid = firstXid;
    out.tcp(client, SERVER, port, NFS_PORT, this.cseq, 0, TCP_SYN, EMPTY);
    out.tcp(SERVER, client, NFS_PORT, port, this.sseq, this.cseq + 1, TCP_SYN | TCP_ACK, EMPTY);
    this.cseq += 1;
    this.sseq += 1;
    out.tcp(client, SERVER, port, NFS_PORT, this.cseq, this.sseq, TCP_ACK, EMPTY);
  }

  /**
   * The client (or the server) sends `bytes` cut into `mss`-sized segments;
   * the receiver ACKs every `ackEvery`-th segment, and the last one unless
   * `ackLast` is false (a call the reply will acknowledge).
   */
  send(fromClient: boolean, bytes: Buffer, mss: number, ackEvery: number, ackLast = true): void {
    const out = this.out;
    let sent = 0;
    let segs = 0;
    while (sent < bytes.length) {
      const n = Math.min(mss, bytes.length - sent);
      const last = sent + n === bytes.length;
      if (fromClient) out.tcp(this.client, SERVER, this.port, NFS_PORT, this.cseq, this.sseq, TCP_ACK | (last ? TCP_PSH : 0), bytes, sent, sent + n);
      else out.tcp(SERVER, this.client, NFS_PORT, this.port, this.sseq, this.cseq, TCP_ACK | (last ? TCP_PSH : 0), bytes, sent, sent + n);
      if (fromClient) this.cseq = (this.cseq + n) >>> 0;
      else this.sseq = (this.sseq + n) >>> 0;
      sent += n;
      if (++segs % ackEvery === 0 || (last && ackLast)) this.ack(!fromClient);
    }
  }

  /** A bare ACK from the client (or the server) for everything received. */
  ack(fromClient: boolean): void {
    if (fromClient) this.out.tcp(this.client, SERVER, this.port, NFS_PORT, this.cseq, this.sseq, TCP_ACK, EMPTY);
    else this.out.tcp(SERVER, this.client, NFS_PORT, this.port, this.sseq, this.cseq, TCP_ACK, EMPTY);
  }
}

const CRED = { machine: 'bench', uid: 1000, gid: 1000 };

/** A record-marked message whose xid is patched in per use (at byte 4). */
function withXid(template: Buffer, xid: number): Buffer {
  template.writeUInt32BE(xid >>> 0, 4);
  return template;
}

function call(proc: number, args: Buffer, vers = 3): Buffer {
  return recordMark(rpcCall({ xid: 0, prog: NFS_PROGRAM, vers, proc, cred: CRED }, args));
}

function reply(results: Buffer): Buffer {
  return recordMark(rpcAcceptedReply(0, results));
}

/** Bulk data: READs (replies) or WRITEs (calls) of 1 MiB on 4 connections. */
function bulk(out: PcapStream, target: number, write: boolean, mss: number): number {
  const size = 1 << 20;
  const data = Buffer.alloc(size, 0x5a);
  const fh = Buffer.alloc(32, 0xab);
  const conns = Array.from({ length: 4 }, (_, i) => new Conn(out, 0x0a000010 + i, 700 + i, i, 0x10000000 * (i + 1)));
  const offsets = conns.map(() => 0);
  // Segments per ACK: every second Ethernet segment; one per TSO/GRO frame.
  const ackEvery = mss > ETHERNET_MSS ? 1 : 2;
  let calls = 0;
  while (out.bytes < target) {
    conns.forEach((c, i) => {
      const offset = offsets[i]!;
      if (!write) {
        const callMsg = recordMark(rpcCall({ xid: c.xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: { machine: 'bench', uid: 0, gid: 0 } }, nfs3ReadArgs(fh, offset, size)));
        c.send(true, callMsg, mss, Infinity, false);
        // The reply record: RPC header and READ3res head, then the data, sent as one byte stream.
        const head = rpcAcceptedReply(c.xid, nfs3ReadResultHead(size, false, 1 << 40));
        const mark = Buffer.alloc(4);
        mark.writeUInt32BE((0x80000000 | (head.length + size)) >>> 0, 0);
        c.send(false, Buffer.concat([mark, head, data]), mss, ackEvery);
      } else {
        const args = new XdrWriter().opaque(fh).u64(offset).u32(size).u32(0).u32(size).bytes(); // UNSTABLE
        const msg = rpcCall({ xid: c.xid, prog: NFS_PROGRAM, vers: 3, proc: 7, cred: CRED }, args);
        const mark = Buffer.alloc(4);
        mark.writeUInt32BE((0x80000000 | (msg.length + size)) >>> 0, 0);
        c.send(true, Buffer.concat([mark, msg, data]), mss, ackEvery);
        const res = wcc(new XdrWriter().u32(0)).u32(size).u32(0).fixed(Buffer.alloc(8, 1)).bytes();
        c.send(false, withXid(reply(res), c.xid), mss, 1);
      }
      c.xid++;
      offsets[i] = offset + size;
      calls++;
    });
  }
  return calls;
}

interface Op {
  weight: number;
  call: Buffer;
  reply: Buffer;
  /** NFSv4.1: where SEQUENCE's sequenceid and slotid sit in the call and the reply. */
  seqAt?: [number, number];
}

/** The NFSv3 part of the metadata mix. */
function v3Ops(): Op[] {
  const fh = makeFh(1);
  const dir = makeFh(2, 32);
  const attr = (): XdrWriter => fattr3(new XdrWriter().u32(0));
  const postOk = (): XdrWriter => fattr3(new XdrWriter().u32(0).bool(true));
  const entries: [string, Buffer][] = Array.from({ length: 20 }, (_, i) => [`file-${i}.dat`, makeFh(100 + i)]);
  const access = (): Buffer => postOk().u32(0x1f).bytes();
  const read4k = Buffer.concat([nfs3ReadResultHead(4096, false, 1 << 20), Buffer.alloc(4096, 0x33)]);
  const write4kArgs = Buffer.concat([new XdrWriter().opaque(fh).u64(8192).u32(4096).u32(2).u32(4096).bytes(), Buffer.alloc(4096, 0x44)]);
  const dirop = (name: string): Buffer => new XdrWriter().opaque(dir).string(name).bytes();
  return [
    { weight: 30, call: call(1, new XdrWriter().opaque(fh).bytes()), reply: reply(attr().bytes()) },
    { weight: 18, call: call(3, dirop('file-7.dat')), reply: reply(postOpAttr(postOpAttr(new XdrWriter().u32(0).opaque(fh)), true, NF3DIR).bytes()) },
    { weight: 14, call: call(4, new XdrWriter().opaque(fh).u32(0x1f).bytes()), reply: reply(access()) },
    { weight: 5, call: call(17, new XdrWriter().opaque(dir).u64(0).fixed(Buffer.alloc(8)).u32(4096).u32(32768).bytes()), reply: reply(readdirplusOk(true, entries)) },
    { weight: 5, call: call(2, sattrMode(new XdrWriter().opaque(fh)).bool(false).bytes()), reply: reply(wcc(new XdrWriter().u32(0)).bytes()) },
    { weight: 3, call: call(8, sattrMode(new XdrWriter().opaque(dir).string('new.dat').u32(0)).bytes()), reply: reply(wcc(fattr3(new XdrWriter().u32(0).bool(true).opaque(fh).bool(true))).bytes()) },
    { weight: 3, call: call(12, dirop('old.dat')), reply: reply(wcc(new XdrWriter().u32(0)).bytes()) },
    { weight: 2, call: call(18, new XdrWriter().opaque(fh).bytes()), reply: reply(postOk().u64(1 << 40).u64(1 << 39).u64(1 << 39).u64(1e6).u64(5e5).u64(5e5).u32(0).bytes()) },
    { weight: 8, call: call(6, nfs3ReadArgs(fh, 4096, 4096)), reply: reply(read4k) },
    { weight: 6, call: call(7, write4kArgs), reply: reply(wcc(new XdrWriter().u32(0)).u32(4096).u32(0).fixed(Buffer.alloc(8, 1)).bytes()) },
    { weight: 3, call: call(21, new XdrWriter().opaque(fh).u64(0).u32(0).bytes()), reply: reply(wcc(new XdrWriter().u32(0)).fixed(Buffer.alloc(8, 1)).bytes()) },
  ];
}

/** The session id of the NFSv4.1 client on connection `i`. */
function sessionOf(i: number): Buffer {
  const id = Buffer.alloc(16, 0x5e);
  id.writeUInt32BE(i, 12);
  return id;
}

/** Bytes before SEQUENCE's sequenceid in a COMPOUND call / reply (record mark included). */
function sequenceOffsets(callMsg: Buffer, args: Buffer, tag: string): [number, number] {
  const header = callMsg.length - 4 - args.length;
  const tagLen = 4 + ((Buffer.byteLength(tag) + 3) & ~3);
  const inCall = 4 + header + tagLen + 4 + 4 + 4 + 16;
  const inReply = 4 + 24 + 4 + tagLen + 4 + 4 + 4 + 16;
  return [inCall, inReply];
}

/** The NFSv4.1 part of the metadata mix (each COMPOUND starts with SEQUENCE). */
function v41Ops(): Op[] {
  const fh = makeFh(3, 40);
  const attrs = { type: 1, change: 7n, size: 4096, fileid: 42, mode: 0o644 };
  const seqArgs = sequenceArgs(sessionOf(0), 1, 0, 15, false);
  const seqRes = sequenceRes(sessionOf(0), 1, 0, 15, 15, 0);
  const op = (weight: number, tag: string, ops: Buffer[], results: Buffer[]): Op => {
    const args = compoundArgs(tag, 1, [seqArgs, ...ops]);
    const c = call(1, args, 4);
    return { weight, call: c, reply: reply(compoundRes(0, tag, [seqRes, ...results])), seqAt: sequenceOffsets(c, args, tag) };
  };
  return [
    op(30, 'getattr', [putfhArgs(fh), getattrArgs([1, 3, 4, 20, 33])], [statusRes(OP.PUTFH, 0), getattrRes(attrs)]),
    op(18, 'lookup', [putfhArgs(fh), lookupArgs('file-3.dat'), getfhArgs(), getattrArgs([1, 3, 4, 20, 33])], [statusRes(OP.PUTFH, 0), statusRes(OP.LOOKUP, 0), getfhRes(makeFh(4, 40)), getattrRes(attrs)]),
    op(14, 'access', [putfhArgs(fh), new XdrWriter().u32(OP.ACCESS).u32(0x1f).bytes()], [statusRes(OP.PUTFH, 0), new XdrWriter().u32(OP.ACCESS).u32(0).u32(0x1f).u32(0x1f).bytes()]),
    op(8, 'read', [putfhArgs(fh), readArgs(stateid4(1, 7), 0, 4096)], [statusRes(OP.PUTFH, 0), readRes(false, Buffer.alloc(4096, 0x77))]),
  ];
}

/** NFSv4.1 session setup on a connection: EXCHANGE_ID and CREATE_SESSION (2 calls). */
function v41Setup(c: Conn, clientid: bigint, session: Buffer): number {
  const fore = { maxRequestSize: 1 << 20, maxResponseSize: 1 << 20, maxRequests: 16 };
  const pairs: [Buffer, Buffer][] = [
    [call(1, compoundArgs('exchange_id', 1, [exchangeIdArgs(Buffer.alloc(8, 1), `bench-client-${c.port}`, 0)]), 4), reply(compoundRes(0, 'exchange_id', [exchangeIdRes(clientid, 1, 0x10001, 'bench-server', 'bench')]))],
    [call(1, compoundArgs('create_session', 1, [createSessionArgs(clientid, 1, 0, fore, fore, 0x40000000)]), 4), reply(compoundRes(0, 'create_session', [createSessionRes(session, 1, 0, fore, fore)]))],
  ];
  for (const [q, r] of pairs) {
    c.send(true, withXid(q, c.xid), ETHERNET_MSS, 2, false);
    c.send(false, withXid(r, c.xid), ETHERNET_MSS, 2);
    c.xid++;
  }
  return pairs.length;
}

/** The metadata-heavy mix. */
function metadata(out: PcapStream, target: number): number {
  const random = rng(2049);
  const v3 = v3Ops();
  const v41 = v41Ops();
  const pick = (ops: Op[]): Op => {
    const total = ops.reduce((s, o) => s + o.weight, 0);
    let r = random() * total;
    for (const o of ops) if ((r -= o.weight) < 0) return o;
    return ops[0]!;
  };
  // 12 NFSv3 clients and 4 NFSv4.1 clients (one session each, 16 slots).
  const conns = Array.from({ length: 16 }, (_, i) => new Conn(out, 0x0a000100 + i, 800 + i, i, 0x01000000 * (i + 1)));
  const isV41 = (i: number): boolean => i >= 12;
  const slotSeq = conns.map(() => new Array<number>(16).fill(1));
  const sessions = conns.map((_, i) => sessionOf(i));
  let calls = 0;
  conns.forEach((c, i) => {
    if (isV41(i)) calls += v41Setup(c, BigInt(0x1000 + i), sessions[i]!);
  });
  const batch: [Op, number, number][] = [];
  while (out.bytes < target) {
    const i = Math.floor(random() * conns.length);
    const c = conns[i]!;
    const n = 1 + Math.floor(random() * 4);
    batch.length = 0;
    for (let k = 0; k < n; k++) {
      const o = pick(isV41(i) ? v41 : v3);
      const slot = k;
      const seq = slotSeq[i]![slot]!++;
      if (o.seqAt) {
        sessions[i]!.copy(o.call, o.seqAt[0] - 16);
        o.call.writeUInt32BE(seq, o.seqAt[0]);
        o.call.writeUInt32BE(slot, o.seqAt[0] + 4);
      }
      c.send(true, withXid(o.call, c.xid), ETHERNET_MSS, 2, false);
      batch.push([o, c.xid, seq]);
      c.xid++;
      calls++;
    }
    out.advance(50 + Math.floor(random() * 2000));
    batch.forEach(([o, xid, seq], slot) => {
      if (o.seqAt) {
        sessions[i]!.copy(o.reply, o.seqAt[1] - 16);
        o.reply.writeUInt32BE(seq, o.seqAt[1]);
        o.reply.writeUInt32BE(slot, o.seqAt[1] + 4);
      }
      c.send(false, withXid(o.reply, xid), ETHERNET_MSS, 2);
    });
    out.advance(10 + Math.floor(random() * 200));
  }
  return calls;
}

export function generateCapture(path: string, targetBytes: number, workload: Workload, options: GenerateOptions = {}): GenerateResult {
  if (workload === 'replay') {
    // captures/ of the repository: two levels up from dist/bench/generate.js, one from bench/generate.ts.
    const dir = options.capturesDir ?? [fileURLToPath(new URL('../../captures/', import.meta.url)), fileURLToPath(new URL('../captures/', import.meta.url))].find((d) => existsSync(join(d, REPLAY_SOURCES[0]!)))!;
    const sources = REPLAY_SOURCES.map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
    const r = writeReplayFile(path, sources, { targetBytes });
    // Its calls are its sources': not counted by the writer.
    return { bytes: r.bytes, frames: r.frames, calls: 0 };
  }
  const fd = openSync(path, 'w');
  const out = new PcapStream(fd, true);
  let calls: number;
  switch (workload) {
    case 'read':
      calls = bulk(out, targetBytes, false, options.mss ?? ETHERNET_MSS);
      break;
    case 'read-tso':
      calls = bulk(out, targetBytes, false, options.mss ?? TSO_MSS);
      break;
    case 'write-tso':
      calls = bulk(out, targetBytes, true, options.mss ?? TSO_MSS);
      break;
    case 'meta':
      calls = metadata(out, targetBytes);
      break;
  }
  out.flush();
  closeSync(fd);
  return { bytes: out.bytes + 24, frames: out.frames, calls };
}
