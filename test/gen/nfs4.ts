/**
 * Builders of NFSv4 COMPOUND arguments and results (RFC 7531, RFC 8881,
 * RFC 7863) and of the callback program's CB_COMPOUND, for tests: each op
 * builder returns the op's bytes including its opcode (arguments) or its
 * opcode and status (results).
 */
import { XdrWriter } from './rpc.js';

export const OP = {
  ACCESS: 3, CLOSE: 4, COMMIT: 5, CREATE: 6, GETATTR: 9, GETFH: 10, LOCK: 12, LOOKUP: 15, OPEN: 18,
  PUTFH: 22, PUTROOTFH: 24, READ: 25, READDIR: 26, REMOVE: 28, RENAME: 29, RESTOREFH: 31, SAVEFH: 32,
  SETATTR: 34, SETCLIENTID: 35, WRITE: 38, EXCHANGE_ID: 42, CREATE_SESSION: 43, SEQUENCE: 53, ILLEGAL: 10044,
} as const;

export interface Stateid4 {
  seqid: number;
  /** 12 bytes. */
  other: Buffer;
}

export const stateid4 = (seqid: number, fill: number): Stateid4 => ({ seqid, other: Buffer.alloc(12, fill) });

function sid(w: XdrWriter, s: Stateid4): XdrWriter {
  return w.u32(s.seqid).fixed(s.other);
}

const op = (n: number): XdrWriter => new XdrWriter().u32(n);

/** COMPOUND4args. */
export function compoundArgs(tag: string, minorVersion: number, ops: Buffer[]): Buffer {
  return Buffer.concat([new XdrWriter().string(tag).u32(minorVersion).u32(ops.length).bytes(), ...ops]);
}

/** COMPOUND4res. */
export function compoundRes(status: number, tag: string, results: Buffer[]): Buffer {
  return Buffer.concat([new XdrWriter().u32(status).string(tag).u32(results.length).bytes(), ...results]);
}

/** Common attributes for a fattr4, encoded in bitmap order. */
export interface Attrs {
  type?: number;
  change?: bigint;
  size?: number;
  rdattrError?: number;
  fileid?: number;
  mode?: number;
  owner?: string;
  ownerGroup?: string;
  timeModify?: [number, number];
}

export function fattr4(w: XdrWriter, a: Attrs): XdrWriter {
  const bits: number[] = [];
  const v = new XdrWriter();
  if (a.type !== undefined) (bits.push(1), v.u32(a.type));
  if (a.change !== undefined) (bits.push(3), v.u64(a.change));
  if (a.size !== undefined) (bits.push(4), v.u64(a.size));
  if (a.rdattrError !== undefined) (bits.push(11), v.u32(a.rdattrError));
  if (a.fileid !== undefined) (bits.push(20), v.u64(a.fileid));
  if (a.mode !== undefined) (bits.push(33), v.u32(a.mode));
  if (a.owner !== undefined) (bits.push(36), v.string(a.owner));
  if (a.ownerGroup !== undefined) (bits.push(37), v.string(a.ownerGroup));
  if (a.timeModify !== undefined) (bits.push(53), v.u64(a.timeModify[0]).u32(a.timeModify[1]));
  bitmap4(w, bits);
  return w.opaque(v.bytes());
}

export function bitmap4(w: XdrWriter, bits: number[]): XdrWriter {
  const words: number[] = [];
  for (const b of bits) {
    while (words.length <= b >> 5) words.push(0);
    words[b >> 5] = (words[b >> 5]! | (1 << (b & 31))) >>> 0;
  }
  w.u32(words.length);
  for (const x of words) w.u32(x);
  return w;
}

// --- arguments -----------------------------------------------------------

export const sequenceArgs = (sessionid: Buffer, sequenceid: number, slotid: number, highest: number, cachethis: boolean): Buffer =>
  op(OP.SEQUENCE).fixed(sessionid).u32(sequenceid).u32(slotid).u32(highest).bool(cachethis).bytes();
export const putfhArgs = (fh: Buffer): Buffer => op(OP.PUTFH).opaque(fh).bytes();
export const putrootfhArgs = (): Buffer => op(OP.PUTROOTFH).bytes();
export const getfhArgs = (): Buffer => op(OP.GETFH).bytes();
export const savefhArgs = (): Buffer => op(OP.SAVEFH).bytes();
export const lookupArgs = (name: string): Buffer => op(OP.LOOKUP).string(name).bytes();
export const getattrArgs = (bits: number[]): Buffer => bitmap4(op(OP.GETATTR), bits).bytes();
export const readArgs = (s: Stateid4, offset: number, count: number): Buffer => sid(op(OP.READ), s).u64(offset).u32(count).bytes();
export const writeArgs = (s: Stateid4, offset: number, stable: number, data: Buffer): Buffer =>
  sid(op(OP.WRITE), s).u64(offset).u32(stable).opaque(data).bytes();
/** Any opcode with raw argument bytes (for unknown ops). */
export const rawOp = (n: number, body: Buffer = Buffer.alloc(0)): Buffer => op(n).raw(body).bytes();

export function exchangeIdArgs(verifier: Buffer, owner: string, flags: number): Buffer {
  const w = op(OP.EXCHANGE_ID).fixed(verifier).string(owner).u32(flags).u32(0); // SP4_NONE
  return w.u32(1).string('kernel.org').string('Linux 6.1').u64(1700000000).u32(5).bytes();
}

export interface ChannelAttrs {
  maxRequestSize: number;
  maxResponseSize: number;
  maxRequests: number;
}

function channel(w: XdrWriter, c: ChannelAttrs): XdrWriter {
  return w.u32(0).u32(c.maxRequestSize).u32(c.maxResponseSize).u32(4096).u32(16).u32(c.maxRequests).u32(0);
}

export function createSessionArgs(clientid: bigint, sequence: number, flags: number, fore: ChannelAttrs, back: ChannelAttrs, cbProgram: number): Buffer {
  const w = op(OP.CREATE_SESSION).u64(clientid).u32(sequence).u32(flags);
  channel(w, fore);
  channel(w, back);
  // One AUTH_SYS callback security parameter.
  return w.u32(cbProgram).u32(1).u32(1).u32(7).string('client').u32(0).u32(0).u32(0).bytes();
}

export function createSessionRes(sessionid: Buffer, sequence: number, flags: number, fore: ChannelAttrs, back: ChannelAttrs): Buffer {
  const w = op(OP.CREATE_SESSION).u32(0).fixed(sessionid).u32(sequence).u32(flags);
  channel(w, fore);
  return channel(w, back).bytes();
}

/** OPEN, CLAIM_NULL with OPEN4_CREATE/UNCHECKED4 (mode), or CLAIM_PREVIOUS when `name` is undefined. */
export function openArgs(seqid: number, access: number, deny: number, clientid: bigint, owner: Buffer, name: string | undefined, mode?: number): Buffer {
  const w = op(OP.OPEN).u32(seqid).u32(access).u32(deny).u64(clientid).opaque(owner);
  if (mode !== undefined) fattr4(w.u32(1).u32(0), { mode });
  else w.u32(0);
  if (name !== undefined) w.u32(0).string(name);
  else w.u32(1).u32(1); // CLAIM_PREVIOUS, OPEN_DELEGATE_READ
  return w.bytes();
}

// --- results -------------------------------------------------------------

export const statusRes = (opnum: number, status: number): Buffer => op(opnum).u32(status).bytes();
export const sequenceRes = (sessionid: Buffer, sequenceid: number, slotid: number, highest: number, target: number, flags: number): Buffer =>
  op(OP.SEQUENCE).u32(0).fixed(sessionid).u32(sequenceid).u32(slotid).u32(highest).u32(target).u32(flags).bytes();
export const getfhRes = (fh: Buffer): Buffer => op(OP.GETFH).u32(0).opaque(fh).bytes();
export const getattrRes = (a: Attrs): Buffer => fattr4(op(OP.GETATTR).u32(0), a).bytes();
export const readRes = (eof: boolean, data: Buffer): Buffer => op(OP.READ).u32(0).bool(eof).opaque(data).bytes();
export const writeRes = (count: number, committed: number, verifier: Buffer): Buffer =>
  op(OP.WRITE).u32(0).u32(count).u32(committed).fixed(verifier).bytes();

export function exchangeIdRes(clientid: bigint, sequenceid: number, flags: number, majorId: string, scope: string): Buffer {
  return op(OP.EXCHANGE_ID).u32(0).u64(clientid).u32(sequenceid).u32(flags).u32(0).u64(7).string(majorId).string(scope).u32(0).bytes();
}

/** OPEN4resok with a READ delegation. */
export function openRes(s: Stateid4, rflags: number, deleg: Stateid4): Buffer {
  const w = sid(op(OP.OPEN).u32(0), s).bool(true).u64(1).u64(2).u32(rflags);
  bitmap4(w, []);
  w.u32(1); // OPEN_DELEGATE_READ
  sid(w, deleg).bool(false);
  return w.u32(0).u32(0).u32(0x1f).string('EVERYONE@').bytes();
}

/** LOCK denied by a conflicting lock. */
export function lockDeniedRes(offset: number, length: number, locktype: number, clientid: bigint, owner: Buffer): Buffer {
  return op(OP.LOCK).u32(10010).u64(offset).u64(length).u32(locktype).u64(clientid).opaque(owner).bytes();
}

// --- callbacks -----------------------------------------------------------

export const CB_OP = { CB_RECALL: 4, CB_SEQUENCE: 11 } as const;

export function cbCompoundArgs(tag: string, minorVersion: number, callbackIdent: number, ops: Buffer[]): Buffer {
  return Buffer.concat([new XdrWriter().string(tag).u32(minorVersion).u32(callbackIdent).u32(ops.length).bytes(), ...ops]);
}

export const cbSequenceArgs = (sessionid: Buffer, sequenceid: number, slotid: number, highest: number, cachethis: boolean): Buffer =>
  op(CB_OP.CB_SEQUENCE).fixed(sessionid).u32(sequenceid).u32(slotid).u32(highest).bool(cachethis).u32(0).bytes();
export const cbRecallArgs = (s: Stateid4, truncate: boolean, fh: Buffer): Buffer => sid(op(CB_OP.CB_RECALL), s).bool(truncate).opaque(fh).bytes();
export const cbSequenceRes = (sessionid: Buffer, sequenceid: number, slotid: number, highest: number, target: number): Buffer =>
  op(CB_OP.CB_SEQUENCE).u32(0).fixed(sessionid).u32(sequenceid).u32(slotid).u32(highest).u32(target).bytes();
