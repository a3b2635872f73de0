/**
 * A "wide" capture (issue 16): many clients, many servers, many files, for
 * long. 3,000 NFSv3 client connections to 2,000 servers; calls of 11
 * procedures on files drawn from a large space per server (so the files
 * seen keep growing with the capture), some answered with errors, a few
 * never answered; 13.5 ms between calls on average, so 300 MB (about
 * 318,000 calls) span 72 minutes.
 * Streamed to a file frame by frame (the benchmark's writer): any size
 * takes no more memory to write than a small one.
 *
 * What the analysis keeps per client, server, file and connection must not
 * grow with such a capture's length: `npm run bench:hostile` (shape `wide`)
 * measures peak RSS at two sizes.
 */
import type { PcapStream } from '../../bench/generate.js';
import { fattr3, NF3DIR, postOpAttr, readdirplusOk, sattrMode, wcc } from './nfs3.js';
import { rng } from './random.js';
import { NFS_PROGRAM, nfs3ReadArgs, nfs3ReadResultHead, recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { withPcapFile, type HostileCounts } from './hostile.js';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const EMPTY = Buffer.alloc(0);
const NFS_PORT = 2049;
const MSS = 1448;
const CRED = { machine: 'node', uid: 1000, gid: 1000 };

export interface WideShape {
  /** Client connections (default 3,000), each to server (i mod servers). */
  connections?: number;
  /** Servers (default 2,000). */
  servers?: number;
  /** Files per server the calls pick from (default 100,000). */
  filesPerServer?: number;
  /** Stop once this many bytes are written. */
  targetBytes: number;
  /** One call in this many is never answered (default 500). */
  unansweredEvery?: number;
}

/** A file handle naming server `s`, file `f` (28 bytes, unique per pair). */
export function wideFh(s: number, f: number): Buffer {
  const b = Buffer.alloc(28, 0x11);
  b.writeUInt32BE(0x57494445, 0); // "WIDE"
  b.writeUInt32BE(s, 4);
  b.writeUInt32BE(f, 8);
  return b;
}

interface Conn {
  client: number;
  server: number;
  port: number;
  cseq: number;
  sseq: number;
}

function send(out: PcapStream, c: Conn, fromClient: boolean, bytes: Buffer): void {
  for (let sent = 0; sent < bytes.length; ) {
    const n = Math.min(MSS, bytes.length - sent);
    const last = sent + n === bytes.length;
    const flags = ACK | (last ? PSH : 0);
    if (fromClient) {
      out.tcp(c.client, c.server, c.port, NFS_PORT, c.cseq, c.sseq, flags, bytes, sent, sent + n);
      c.cseq = (c.cseq + n) >>> 0;
    } else {
      out.tcp(c.server, c.client, NFS_PORT, c.port, c.sseq, c.cseq, flags, bytes, sent, sent + n);
      c.sseq = (c.sseq + n) >>> 0;
    }
    sent += n;
  }
}

/** Writes the wide shape into a pcap file. */
export function writeWideFile(path: string, shape: WideShape): HostileCounts {
  return withPcapFile(path, (out) => writeWide(out, shape));
}

function writeWide(out: PcapStream, shape: WideShape): HostileCounts {
  const n = shape.connections ?? 3000;
  const servers = shape.servers ?? 2000;
  const files = shape.filesPerServer ?? 100_000;
  const unansweredEvery = shape.unansweredEvery ?? 500;
  const random = rng(16);
  const conns: Conn[] = [];
  for (let i = 0; i < n; i++) {
    const c: Conn = {
      client: (0x0a080000 + 1 + i) >>> 0,
      server: (0x0a090000 + 1 + (i % servers)) >>> 0,
      port: 700 + (i % 300),
      cseq: (i * 2_654_435_761) >>> 0,
      sseq: (i * 40_503 + 12_345) >>> 0,
    };
    out.tcp(c.client, c.server, c.port, NFS_PORT, c.cseq, 0, SYN, EMPTY);
    out.tcp(c.server, c.client, NFS_PORT, c.port, c.sseq, c.cseq + 1, SYN | ACK, EMPTY);
    c.cseq = (c.cseq + 1) >>> 0;
    c.sseq = (c.sseq + 1) >>> 0;
    out.tcp(c.client, c.server, c.port, NFS_PORT, c.cseq, c.sseq, ACK, EMPTY);
    conns.push(c);
  }
  const data4k = Buffer.alloc(4096, 0x33);
  let xid = 0x60000000;
  let calls = 0;
  while (out.bytes < shape.targetBytes) {
    const i = Math.floor(random() * n);
    const c = conns[i]!;
    const s = i % servers;
    const fh = wideFh(s, Math.floor(random() * files));
    const dir = wideFh(s, 0);
    const name = `f${Math.floor(random() * files)}`;
    const r = random();
    // An error for about one call in 12: the procedure's own error reply.
    const fail = random() < 1 / 12;
    let proc: number;
    let args: Buffer;
    let res: Buffer;
    if (r < 0.3) {
      proc = 1; // GETATTR
      args = new XdrWriter().opaque(fh).bytes();
      res = fail ? new XdrWriter().u32(70).bytes() : fattr3(new XdrWriter().u32(0)).bytes(); // NFS3ERR_STALE
    } else if (r < 0.48) {
      proc = 3; // LOOKUP
      args = new XdrWriter().opaque(dir).string(name).bytes();
      res = fail ? postOpAttr(new XdrWriter().u32(2), true, NF3DIR).bytes() : postOpAttr(postOpAttr(new XdrWriter().u32(0).opaque(fh)), true, NF3DIR).bytes();
    } else if (r < 0.62) {
      proc = 4; // ACCESS
      args = new XdrWriter().opaque(fh).u32(0x1f).bytes();
      res = fail ? postOpAttr(new XdrWriter().u32(13), false).bytes() : postOpAttr(new XdrWriter().u32(0)).u32(0x1f).bytes();
    } else if (r < 0.72) {
      proc = 6; // READ
      args = nfs3ReadArgs(fh, 0, 4096);
      res = fail ? postOpAttr(new XdrWriter().u32(5), false).bytes() : Buffer.concat([nfs3ReadResultHead(4096, true, 4096), data4k]);
    } else if (r < 0.8) {
      proc = 7; // WRITE
      args = Buffer.concat([new XdrWriter().opaque(fh).u64(0).u32(1024).u32(2).u32(1024).bytes(), data4k.subarray(0, 1024)]);
      res = fail ? wcc(new XdrWriter().u32(28)).bytes() : wcc(new XdrWriter().u32(0)).u32(1024).u32(2).fixed(Buffer.alloc(8, 1)).bytes(); // NFS3ERR_NOSPC
    } else if (r < 0.85) {
      proc = 2; // SETATTR
      args = sattrMode(new XdrWriter().opaque(fh)).bool(false).bytes();
      res = wcc(new XdrWriter().u32(fail ? 1 : 0)).bytes(); // NFS3ERR_PERM
    } else if (r < 0.89) {
      proc = 8; // CREATE
      args = sattrMode(new XdrWriter().opaque(dir).string(name).u32(0)).bytes();
      res = fail ? wcc(new XdrWriter().u32(17)).bytes() : wcc(fattr3(new XdrWriter().u32(0).bool(true).opaque(fh).bool(true))).bytes(); // NFS3ERR_EXIST
    } else if (r < 0.93) {
      proc = 12; // REMOVE
      args = new XdrWriter().opaque(dir).string(name).bytes();
      res = wcc(new XdrWriter().u32(fail ? 2 : 0)).bytes();
    } else if (r < 0.96) {
      proc = 17; // READDIRPLUS
      args = new XdrWriter().opaque(dir).u64(0).fixed(Buffer.alloc(8)).u32(4096).u32(8192).bytes();
      res = readdirplusOk(true, [[name, fh]]);
    } else if (r < 0.98) {
      proc = 18; // FSSTAT
      args = new XdrWriter().opaque(dir).bytes();
      res = postOpAttr(new XdrWriter().u32(0), true, NF3DIR).u64(1 << 40).u64(1 << 39).u64(1 << 39).u64(1e6).u64(5e5).u64(5e5).u32(0).bytes();
    } else {
      proc = 21; // COMMIT
      args = new XdrWriter().opaque(fh).u64(0).u32(0).bytes();
      res = wcc(new XdrWriter().u32(0)).fixed(Buffer.alloc(8, 1)).bytes();
    }
    const x = xid++ >>> 0;
    send(out, c, true, recordMark(rpcCall({ xid: x, prog: NFS_PROGRAM, vers: 3, proc, cred: CRED }, args)));
    calls++;
    out.advance(Math.floor(random() * 27_000));
    if (calls % unansweredEvery === 0) {
      // Never answered: the server only acknowledges.
      out.tcp(c.server, c.client, NFS_PORT, c.port, c.sseq, c.cseq, ACK, EMPTY);
      continue;
    }
    send(out, c, false, recordMark(rpcAcceptedReply(x, res)));
    // The client acknowledges the reply.
    out.tcp(c.client, c.server, c.port, NFS_PORT, c.cseq, c.sseq, ACK, EMPTY);
  }
  out.flush();
  return { frames: out.frames, bytes: out.bytes + 24, tcpConnections: n, calls };
}
