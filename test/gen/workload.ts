/**
 * NFSv3 traffic for the detector tests: calls and replies as record-marked
 * RPC messages over a TcpSession, with the clock advanced between them, so
 * that a test builds an incident (a stall, a lost direction, a reset) around
 * an otherwise ordinary workload and a clean counterpart of it.
 */
import { NFS_PROGRAM, NFSPROC3_READ, XdrWriter, nfs3ReadArgs, nfs3ReadResultHead, recordMark, rpcAcceptedReply, rpcCall } from './rpc.js';
import type { TcpSession } from './session.js';

export const FH = Buffer.alloc(32, 0xfe);
const CRED = { machine: 'client', uid: 0, gid: 0 };

export const NFSPROC3_GETATTR = 1;
export const NFSPROC3_LOOKUP = 3;

/** A GETATTR3 call (record-marked). */
export function getattrCall(xid: number): Buffer {
  return recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_GETATTR, cred: CRED }, new XdrWriter().opaque(FH).bytes()));
}

/** A successful reply with `size` bytes of results (record-marked). */
export function okReply(xid: number, size = 88): Buffer {
  const results = Buffer.alloc(size, 0);
  return recordMark(rpcAcceptedReply(xid, results));
}

/** A READ3 call (record-marked). */
export function readCall(xid: number, offset: number, count: number): Buffer {
  return recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: CRED }, nfs3ReadArgs(FH, offset, count)));
}

/** A successful READ3 reply carrying `count` bytes (record-marked). */
export function readReply(xid: number, count: number): Buffer {
  const head = nfs3ReadResultHead(count, false, 1 << 30);
  return recordMark(rpcAcceptedReply(xid, Buffer.concat([head, Buffer.alloc((count + 3) & ~3, 0x5a)])));
}

/** GETATTR calls answered after `latency` seconds, one every `every` seconds; returns [call, reply] frames. */
export function getattrs(s: TcpSession, firstXid: number, n: number, latency = 0.0005, every = 0.01): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const [call] = s.send('client', getattrCall(firstXid + i));
    s.capture.advance(latency);
    const [reply] = s.send('server', okReply(firstXid + i));
    out.push([call!, reply!]);
    s.capture.advance(every);
  }
  return out;
}

/** READ calls of `count` bytes answered after `latency` seconds each; returns [call, last reply segment] frames. */
export function reads(s: TcpSession, firstXid: number, n: number, count: number, latency: number, every = 0.01): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const [call] = s.send('client', readCall(firstXid + i, i * count, count));
    s.capture.advance(latency);
    const frames = s.send('server', readReply(firstXid + i, count));
    out.push([call!, frames[frames.length - 1]!]);
    s.capture.advance(every);
  }
  return out;
}
