/**
 * Writes a byte-heavy benchmark capture: NFSv3 clients reading 1 MiB at a
 * time over TCP, the READ replies cut into MSS-sized Ethernet segments and
 * acknowledged every second segment, as a bulk read on a LAN looks.
 *
 * Streams to disk through one reusable buffer: generating a multi-GB file
 * needs no more memory than a small one.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  NFS_PROGRAM,
  NFSPROC3_READ,
  nfs3ReadArgs,
  nfs3ReadResultHead,
  recordMark,
  rpcAcceptedReply,
  rpcCall,
} from '../test/gen/rpc.js';

export interface GenerateOptions {
  /** TCP payload bytes per segment (1448 on Ethernet, 8948 with jumbo frames). */
  mss?: number;
  /** Concurrent client connections, interleaved READ by READ. */
  connections?: number;
  /** Bytes per READ. */
  readSize?: number;
}

export interface GenerateResult {
  bytes: number;
  frames: number;
  reads: number;
}

const ETH_IP_TCP = 14 + 20 + 20;
const RECORD_HEADER = 16;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;

/** Writes classic pcap (Ethernet, IPv4, TCP), 7 µs between frames, to a file through one reusable buffer. */
export class PcapStream {
  private readonly buf = Buffer.alloc(8 << 20);
  private pos = 0;
  bytes = 0;
  frames = 0;
  private tsUsec = 0;

  constructor(private readonly fd: number) {
    this.buf.writeUInt32LE(0xa1b2c3d4, 0);
    this.buf.writeUInt16LE(2, 4);
    this.buf.writeUInt16LE(4, 6);
    this.buf.writeUInt32LE(262144, 16);
    this.buf.writeUInt32LE(1, 20); // Ethernet
    this.pos = 24;
  }

  /** One Ethernet/IPv4/TCP frame carrying payload[from, to). */
  tcp(src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer, from = 0, to = payload.length): void {
    const len = to - from;
    const frameLen = ETH_IP_TCP + len;
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
    b.writeUInt16BE(20 + 20 + len, o + 2);
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
    b[o + 12] = 0x50;
    b[o + 13] = flags;
    b.writeUInt16BE(0xffff, o + 14);
    b.writeUInt32BE(0, o + 16);
    o += 20;
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

interface Conn {
  client: number;
  port: number;
  /** Next sequence numbers of the client and the server. */
  cseq: number;
  sseq: number;
  xid: number;
  offset: number;
}

const SERVER = 0x0a000001; // 10.0.0.1
const NFS_PORT = 2049;
const EMPTY = Buffer.alloc(0);

export function generateReadCapture(path: string, targetBytes: number, options: GenerateOptions = {}): GenerateResult {
  const mss = options.mss ?? 1448;
  const readSize = options.readSize ?? 1 << 20;
  const nconn = options.connections ?? 4;
  const fd = openSync(path, 'w');
  const out = new PcapStream(fd);
  const data = Buffer.alloc(readSize, 0x5a);
  const fh = Buffer.alloc(32, 0xab);
  const fileSize = 1 << 40;
  const conns: Conn[] = [];
  for (let i = 0; i < nconn; i++) {
    const c: Conn = { client: 0x0a000010 + i, port: 700 + i, cseq: 1000 + i * 7919, sseq: 0xfff00000 + i * 104729, xid: 0x10000000 * (i + 1), offset: 0 };
    out.tcp(c.client, SERVER, c.port, NFS_PORT, c.cseq, 0, TCP_SYN, EMPTY);
    out.tcp(SERVER, c.client, NFS_PORT, c.port, c.sseq, c.cseq + 1, TCP_SYN | TCP_ACK, EMPTY);
    c.cseq += 1;
    c.sseq += 1;
    out.tcp(c.client, SERVER, c.port, NFS_PORT, c.cseq, c.sseq, TCP_ACK, EMPTY);
    conns.push(c);
  }
  let reads = 0;
  while (out.bytes < targetBytes) {
    for (const c of conns) {
      const call = recordMark(
        rpcCall({ xid: c.xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: { machine: 'bench', uid: 0, gid: 0 } }, nfs3ReadArgs(fh, c.offset, readSize)),
      );
      out.tcp(c.client, SERVER, c.port, NFS_PORT, c.cseq, c.sseq, TCP_ACK | TCP_PSH, call);
      c.cseq += call.length;
      // The reply record: RPC header and READ3res head, then the data, sent as one byte stream.
      const head = rpcAcceptedReply(c.xid, nfs3ReadResultHead(readSize, false, fileSize));
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x80000000 | (head.length + readSize)) >>> 0, 0);
      const prefix = Buffer.concat([mark, head]);
      const total = prefix.length + readSize;
      let sent = 0;
      let segs = 0;
      while (sent < total) {
        const n = Math.min(mss, total - sent);
        if (sent < prefix.length) {
          // The first segment carries the header and the start of the data.
          const firstData = n - prefix.length;
          out.tcp(SERVER, c.client, NFS_PORT, c.port, c.sseq, c.cseq, TCP_ACK, Buffer.concat([prefix, data.subarray(0, firstData)]));
        } else {
          const from = sent - prefix.length;
          out.tcp(SERVER, c.client, NFS_PORT, c.port, c.sseq, c.cseq, TCP_ACK, data, from, from + n);
        }
        c.sseq += n;
        sent += n;
        if (++segs % 2 === 0 || sent === total) out.tcp(c.client, SERVER, c.port, NFS_PORT, c.cseq, c.sseq, TCP_ACK, EMPTY);
      }
      c.xid++;
      c.offset += readSize;
      reads++;
    }
  }
  out.flush();
  closeSync(fd);
  return { bytes: out.bytes + 24, frames: out.frames, reads };
}
