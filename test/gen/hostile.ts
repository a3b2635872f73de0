/**
 * Hostile capture shapes for the memory budget (issue 16): what a port scan,
 * a SYN flood, a client hammering a dead server or a corrupt stream leave in
 * a tcpdump file. Streamed to a file frame by frame (the benchmark's
 * writer, 7 µs between frames), so the full-size shapes (over a million
 * frames) take no more memory to write than the scaled-down ones.
 *
 *  - connections: N TCP connections to port 2049, each a handshake (SYN,
 *    SYN/ACK) then one 100-byte segment (an NFSv3 GETATTR call in its record
 *    mark) far ahead of its sequence number: out-of-order data never filled.
 *  - calls: one connection carrying M NFSv3 GETATTR calls, never answered
 *    (the server only ACKs).
 *  - hugeRecord: two more connections, one whose first record mark claims a
 *    2 GiB record (0xffffffff), one sending the first 1 MiB of a record whose
 *    first fragment claims 16 MiB, never finished.
 *
 * Combined, the call connection is interleaved with the others so that all
 * that state is live at once.
 */
import { closeSync, openSync } from 'node:fs';
import { PcapStream } from '../../bench/generate.js';
import { NFS_PROGRAM, nfs3Fattr, recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { seededMix } from '../../src/fnv.js';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const EMPTY = Buffer.alloc(0);
const NFSPROC3_GETATTR = 1;
const SERVER = 0x0a000001; // 10.0.0.1
const NFS_PORT = 2049;
/** How far ahead of its sequence number the lone segment of each connection is. */
export const HOSTILE_AHEAD = 1_000_000;
/** Bytes of the record that claims 16 MiB and is never finished. */
export const HOSTILE_PARTIAL_BYTES = 1 << 20;

export interface HostileShape {
  /** Connections with one segment far ahead of its sequence (0: none). */
  connections: number;
  /** GETATTR calls never answered on one connection (0: no such connection). */
  calls: number;
  /** The two connections whose record marks claim 2 GiB and 16 MiB. */
  hugeRecord: boolean;
}

/** What the generator wrote, for the tests to check the report against. */
export interface HostileCounts {
  frames: number;
  bytes: number;
  /** TCP connections (4-tuples). */
  tcpConnections: number;
  /** Calls the capture holds whole (one per connection of the first kind, plus the unanswered ones). */
  calls: number;
}

/** An NFSv3 GETATTR call in its record mark, padded (machine name) to `size` bytes with the mark. */
export function getattrCall(xid: number, fhSeed: number, size = 100): Buffer {
  const fh = Buffer.alloc(32);
  fh.writeUInt32BE(fhSeed >>> 0, 0);
  const args = new XdrWriter().opaque(fh).bytes();
  const bare = recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_GETATTR, cred: { machine: '' } }, args));
  // Each 4 bytes of machine name add 4 bytes; the name's length is a multiple of 4.
  const pad = Math.max(0, size - bare.length) & ~3;
  return recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_GETATTR, cred: { machine: 'h'.repeat(pad) } }, args));
}

/** Client i of the connection shape: 4096 addresses (10.1.0.0/20), ports from 10000 up. */
function clientOf(i: number): [number, number] {
  return [(0x0a010000 + (i & 0xfff)) >>> 0, 10000 + (i >>> 12)];
}

/** Runs `write` on a new pcap file at `path`, closing it whatever happens; returns what `write` returns. */
export function withPcapFile<T>(path: string, write: (out: PcapStream) => T): T {
  const fd = openSync(path, 'w');
  try {
    return write(new PcapStream(fd));
  } finally {
    closeSync(fd);
  }
}

/** Writes the shape into a pcap file. */
export function writeHostileFile(path: string, shape: HostileShape): HostileCounts {
  return withPcapFile(path, (out) => writeHostile(out, shape));
}

function writeHostile(out: PcapStream, shape: HostileShape): HostileCounts {
  let tcpConnections = 0;
  let calls = 0;

  // The call connection: set up first, then its calls interleaved with the rest.
  const caller = 0x0a020001; // 10.2.0.1
  const callerPort = 900;
  let cseq = 7_000_000;
  const sseq = 90_000_000;
  let xid = 0x20000000;
  if (shape.calls > 0) {
    tcpConnections++;
    out.tcp(caller, SERVER, callerPort, NFS_PORT, cseq, 0, SYN, EMPTY);
    out.tcp(SERVER, caller, NFS_PORT, callerPort, sseq, cseq + 1, SYN | ACK, EMPTY);
    cseq += 1;
    out.tcp(caller, SERVER, callerPort, NFS_PORT, cseq, sseq + 1, ACK, EMPTY);
  }
  let callsSent = 0;
  const sendCall = (): void => {
    const c = getattrCall(xid++, callsSent);
    out.tcp(caller, SERVER, callerPort, NFS_PORT, cseq, sseq + 1, ACK | PSH, c);
    cseq += c.length;
    callsSent++;
    calls++;
    // The server acknowledges every 8th call, and never answers.
    if (callsSent % 8 === 0) {
      out.tcp(SERVER, caller, NFS_PORT, callerPort, sseq + 1, cseq, ACK, EMPTY);
    }
  };

  const n = shape.connections;
  for (let i = 0; i < n; i++) {
    const [client, port] = clientOf(i);
    const isn = (i * 2_654_435_761) >>> 0;
    const sisn = (i * 40_503 + 12_345) >>> 0;
    out.tcp(client, SERVER, port, NFS_PORT, isn, 0, SYN, EMPTY);
    out.tcp(SERVER, client, NFS_PORT, port, sisn, isn + 1, SYN | ACK, EMPTY);
    out.tcp(client, SERVER, port, NFS_PORT, isn + 1 + HOSTILE_AHEAD, sisn + 1, ACK | PSH, getattrCall(0x10000000 + i, i));
    tcpConnections++;
    calls++;
    // Spread the calls over the connections.
    const due = shape.calls === 0 ? 0 : Math.floor(((i + 1) * shape.calls) / n);
    while (callsSent < due) sendCall();
  }
  while (callsSent < shape.calls) sendCall();

  if (shape.hugeRecord) {
    const data = Buffer.alloc(8192, 0x5a);
    // A record mark claiming 2 GiB, then bytes that never add up to it.
    const a = 0x0a030001;
    let seq = 1_000;
    out.tcp(a, SERVER, 901, NFS_PORT, seq, 0, SYN, EMPTY);
    out.tcp(SERVER, a, NFS_PORT, 901, 5_000, seq + 1, SYN | ACK, EMPTY);
    seq += 1;
    const claim = Buffer.alloc(4);
    claim.writeUInt32BE(0xffffffff, 0);
    const first = Buffer.concat([claim, getattrCall(0x30000000, 1).subarray(4), data.subarray(0, 1024)]);
    out.tcp(a, SERVER, 901, NFS_PORT, seq, 5_001, ACK | PSH, first);
    seq += first.length;
    for (let k = 0; k < 16; k++) {
      out.tcp(a, SERVER, 901, NFS_PORT, seq, 5_001, ACK, data);
      seq += data.length;
    }
    tcpConnections++;
    // A first fragment claiming 16 MiB (the largest believed), 1 MiB of it sent.
    const b = 0x0a030002;
    seq = 2_000;
    out.tcp(b, SERVER, 902, NFS_PORT, seq, 0, SYN, EMPTY);
    out.tcp(SERVER, b, NFS_PORT, 902, 6_000, seq + 1, SYN | ACK, EMPTY);
    seq += 1;
    const head = getattrCall(0x30000001, 2);
    head.writeUInt32BE(16 * 1024 * 1024, 0); // not the last fragment
    let sent = 0;
    let payload = Buffer.concat([head, data.subarray(0, 8192 - head.length)]);
    while (sent < HOSTILE_PARTIAL_BYTES) {
      out.tcp(b, SERVER, 902, NFS_PORT, seq, 6_001, ACK, payload);
      seq += payload.length;
      sent += payload.length;
      payload = data;
    }
    tcpConnections++;
  }
  out.flush();
  return { frames: out.frames, bytes: out.bytes + 24, tcpConnections, calls };
}

export interface LiveShape {
  /** NFS client connections, all open at once (10.4.0.0/16, one per client address). */
  connections: number;
  /** GETATTR calls each connection makes and gets answered. */
  answered: number;
  /** GETATTR calls each connection then makes that are still outstanding at the end. */
  outstanding: number;
  /**
   * Then the first connection's last call is answered (the one transaction a
   * listener sees before the end: scripts/heap-per-connection.mjs measures
   * the heap there).
   */
  lastAnswered?: boolean;
  /**
   * Every client uses the same xids (round r: 0x40000000 + r), as many
   * hosts replaying one trace, or clients that all start counting from the
   * same value, do: tables looked up by xid then see one xid shared by
   * every connection. Otherwise each client's xids are its own.
   */
  sharedXids?: boolean;
  /**
   * Xids picked to share one chain of the call index had its hash no seed
   * (seededMix with seed 0, the first direction, 65,536 chains): what a
   * capture made against a known hash function looks like. Round r of
   * client i uses the (r × connections + i)-th of them.
   */
  craftedXids?: boolean;
}

/** The first `n` xids that seededMix(0, xid, 0) puts in chain 0 of 65,536 (found by trying them in turn). */
export function craftedXids(n: number): Uint32Array {
  const out = new Uint32Array(n);
  let k = 0;
  for (let x = 1; k < n; x++) if ((seededMix(0, x, 0) & 0xffff) === 0) out[k++] = x;
  return out;
}

/**
 * A large cluster's mounts: every connection set up, then calls made round
 * by round across all connections (so all are live at once), the first
 * `answered` of each answered at once, the last `outstanding` never.
 * A call's reply follows it before the next client's call.
 */
export function writeLiveFile(path: string, shape: LiveShape): HostileCounts {
  const fd = openSync(path, 'w');
  try {
    const out = new PcapStream(fd);
    const n = shape.connections;
    const cseq = new Float64Array(n);
    const sseq = new Float64Array(n);
    const client = (i: number): number => (0x0a040000 + 1 + i) >>> 0;
    const port = (i: number): number => 700 + (i % 300);
    for (let i = 0; i < n; i++) {
      cseq[i] = (i * 2_654_435_761) >>> 0;
      sseq[i] = (i * 40_503 + 12_345) >>> 0;
      out.tcp(client(i), SERVER, port(i), NFS_PORT, cseq[i]!, 0, SYN, EMPTY);
      out.tcp(SERVER, client(i), NFS_PORT, port(i), sseq[i]!, cseq[i]! + 1, SYN | ACK, EMPTY);
      cseq[i]! += 1;
      sseq[i]! += 1;
      out.tcp(client(i), SERVER, port(i), NFS_PORT, cseq[i]!, sseq[i]!, ACK, EMPTY);
    }
    const reply = (xid: number): Buffer => recordMark(rpcAcceptedReply(xid, new XdrWriter().u32(0).raw(nfs3Fattr(4096, xid)).bytes()));
    let calls = 0;
    const crafted = shape.craftedXids === true ? craftedXids(n * (shape.answered + shape.outstanding)) : undefined;
    for (let r = 0; r < shape.answered + shape.outstanding; r++) {
      for (let i = 0; i < n; i++) {
        const xid = crafted !== undefined ? crafted[r * n + i]! : (0x40000000 + (shape.sharedXids === true ? 0 : i * 4096) + r) >>> 0;
        const c = getattrCall(xid, i);
        out.tcp(client(i), SERVER, port(i), NFS_PORT, cseq[i]!, sseq[i]!, ACK | PSH, c);
        cseq[i]! += c.length;
        calls++;
        if (r < shape.answered) {
          const a = reply(xid);
          out.tcp(SERVER, client(i), NFS_PORT, port(i), sseq[i]!, cseq[i]!, ACK | PSH, a);
          sseq[i]! += a.length;
        }
      }
    }
    const rounds = shape.answered + shape.outstanding;
    if (shape.lastAnswered === true && n > 0 && rounds > 0) {
      const a = reply((0x40000000 + rounds - 1) >>> 0);
      out.tcp(SERVER, client(0), NFS_PORT, port(0), sseq[0]!, cseq[0]!, ACK | PSH, a);
    }
    out.flush();
    return { frames: out.frames, bytes: out.bytes + 24, tcpConnections: n, calls };
  } finally {
    closeSync(fd);
  }
}
