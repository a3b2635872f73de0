/**
 * A capture calling many distinct operations (the session 34 memory
 * audit): RPC calls to random programs, versions and procedures, and NFSv3
 * calls with procedure numbers past COMMIT, each (program, version,
 * procedure) a new one, every one answered (some 2 s late: `slowEvery`):
 * SUCCESS with no results, or an RPC-level error (PROC_UNAVAIL,
 * PROG_UNAVAIL, SYSTEM_ERR). Among them a
 * few ordinary NFSv3 GETATTR calls, answered; and, after them, NFSv4.0
 * COMPOUNDs (`compounds`) each of PUTROOTFH and an op number nfsight does
 * not know (OP_<n>, a new one each), answered NFS4ERR_OP_ILLEGAL by the
 * ILLEGAL op: as many NFSv4 op rows. Streamed to a file frame by
 * frame (the benchmark's writer), over one TCP connection to port 2049,
 * `spacingUsec` between calls.
 *
 * Combination i of `operations` (from `first`, so that two captures can
 * call disjoint sets):
 *  - i mod 3 = 0: program 0x20000000 + i, version 1, procedure i mod 7;
 *  - i mod 3 = 1: NFS (100003) version 3, procedure 22 + i;
 *  - i mod 3 = 2: program 0x30000000 + ⌊i / 256⌋, version 1 + (i mod 256), procedure 0.
 */
import { getattrCall, withPcapFile } from './hostile.js';
import { compoundArgs, compoundRes, OP, putrootfhArgs, rawOp, statusRes } from './nfs4.js';
import { NFS_PROGRAM, nfs3Fattr, recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';

const ACK = 0x10;
const PSH = 0x08;
const SYN = 0x02;
const EMPTY = Buffer.alloc(0);
const SERVER = 0x0a000001; // 10.0.0.1
const CLIENT = 0x0a050001; // 10.5.0.1
const NFS_PORT = 2049;
const CLIENT_PORT = 1001;
/** The first op number of the COMPOUNDs' unknown ops, and their reply's status. */
const UNKNOWN_OP = 100_000;
const NFS4ERR_OP_ILLEGAL = 10044;
/** The accept_stat of the error replies, in turn. */
const ERROR_STATS = [3, 1, 5]; // PROC_UNAVAIL, PROG_UNAVAIL, SYSTEM_ERR

export interface OperationFloodShape {
  /** Distinct (program, version, procedure) combinations called. */
  operations: number;
  /** The first combination's number (default 0): captures from different `first` call disjoint sets. */
  first?: number;
  /** Calls of each combination (default 1), round by round: every combination once, then again. */
  rounds?: number;
  /** Every n-th combination is answered with an error (default 2; 0: none). */
  errorEvery?: number;
  /** NFSv3 GETATTR calls (answered NFS3_OK): half before the flood, half after (default 0). */
  getattrs?: number;
  /** Microseconds between calls (default 1,000). */
  spacingUsec?: number;
  /** Every n-th combination is answered 2 s after its call, a slow call (default 0: none). */
  slowEvery?: number;
  /** NFSv4.0 COMPOUNDs of PUTROOTFH and op 100,000 + k (k from 0), last (default 0). */
  compounds?: number;
}

export interface OperationFloodCounts {
  frames: number;
  bytes: number;
  calls: number;
  /** Calls answered with an error (RPC-level, or NFS4ERR_OP_ILLEGAL). */
  errors: number;
  /** Distinct (program, version, procedure) called, GETATTR included. */
  operations: number;
}

/** Program, version and procedure of combination i. */
export function floodOperation(i: number): { program: number; version: number; procedure: number } {
  switch (i % 3) {
    case 0:
      return { program: (0x20000000 + i) >>> 0, version: 1, procedure: i % 7 };
    case 1:
      return { program: NFS_PROGRAM, version: 3, procedure: 22 + i };
    default:
      return { program: (0x30000000 + Math.floor(i / 256)) >>> 0, version: 1 + (i % 256), procedure: 0 };
  }
}

/** Writes the shape into a pcap file. */
export function writeOperationFloodFile(path: string, shape: OperationFloodShape): OperationFloodCounts {
  return withPcapFile(path, (out) => {
    let cseq = 5_000;
    let sseq = 60_000;
    out.tcp(CLIENT, SERVER, CLIENT_PORT, NFS_PORT, cseq, 0, SYN, EMPTY);
    out.tcp(SERVER, CLIENT, NFS_PORT, CLIENT_PORT, sseq, cseq + 1, SYN | ACK, EMPTY);
    cseq += 1;
    sseq += 1;
    out.tcp(CLIENT, SERVER, CLIENT_PORT, NFS_PORT, cseq, sseq, ACK, EMPTY);
    let xid = 0x51000000 + (shape.first ?? 0);
    let calls = 0;
    let errors = 0;
    const spacing = shape.spacingUsec ?? 1_000;
    const exchange = (call: Buffer, reply: Buffer, delayUsec = 0): void => {
      out.advance(spacing);
      out.tcp(CLIENT, SERVER, CLIENT_PORT, NFS_PORT, cseq, sseq, ACK | PSH, call);
      cseq = (cseq + call.length) >>> 0;
      out.advance(delayUsec);
      out.tcp(SERVER, CLIENT, NFS_PORT, CLIENT_PORT, sseq, cseq, ACK | PSH, reply);
      sseq = (sseq + reply.length) >>> 0;
      calls++;
    };
    const getattr = (n: number): void => {
      for (let k = 0; k < n; k++) {
        const x = xid++ >>> 0;
        exchange(getattrCall(x, k), recordMark(rpcAcceptedReply(x, new XdrWriter().u32(0).raw(nfs3Fattr(4096, k + 1)).bytes())));
      }
    };
    const getattrs = shape.getattrs ?? 0;
    getattr(Math.ceil(getattrs / 2));
    const errorEvery = shape.errorEvery ?? 2;
    const first = shape.first ?? 0;
    for (let round = 0; round < (shape.rounds ?? 1); round++) {
      for (let i = first; i < first + shape.operations; i++) {
        const { program, version, procedure } = floodOperation(i);
        const failing = errorEvery > 0 && i % errorEvery === 0;
        const slow = (shape.slowEvery ?? 0) > 0 && i % shape.slowEvery! === 0;
        const x = xid++ >>> 0;
        const call = recordMark(rpcCall({ xid: x, prog: program, vers: version, proc: procedure }, EMPTY));
        const reply = recordMark(rpcAcceptedReply(x, EMPTY, failing ? ERROR_STATS[i % ERROR_STATS.length]! : 0));
        exchange(call, reply, slow ? 2_000_000 : 0);
        if (failing) errors++;
      }
    }
    getattr(Math.floor(getattrs / 2));
    for (let k = 0; k < (shape.compounds ?? 0); k++) {
      const x = xid++ >>> 0;
      const call = recordMark(rpcCall({ xid: x, prog: NFS_PROGRAM, vers: 4, proc: 1 }, compoundArgs('', 0, [putrootfhArgs(), rawOp(UNKNOWN_OP + k)])));
      const res = compoundRes(NFS4ERR_OP_ILLEGAL, '', [statusRes(OP.PUTROOTFH, 0), statusRes(OP.ILLEGAL, NFS4ERR_OP_ILLEGAL)]);
      exchange(call, recordMark(rpcAcceptedReply(x, res)));
      errors++;
    }
    out.flush();
    return { frames: out.frames, bytes: out.bytes + 24, calls, errors, operations: shape.operations + (getattrs > 0 ? 1 : 0) };
  });
}
