/**
 * NFSv4 (program 100003 version 4): NULL and COMPOUND, minor versions 0-2
 * (RFC 7530/7531, RFC 8881, RFC 7862/7863) and the xattr ops (RFC 8276).
 *
 * COMPOUND4args is a tag, a minor version and the ops with their
 * arguments; COMPOUND4res the status, the tag and the results of the ops
 * the server ran (it stops at the first that fails). Every op's arguments
 * and results are decoded or skipped by their XDR layout; an op number
 * nfsight does not know ends the decoding (stop 'unknown-op'): what follows
 * cannot be delimited. Bulk data (WRITE's, READ's) is skipped, not read, so
 * decoding goes on in the kept tail of a large message.
 *
 * A minor version nfsight does not know (a client probing, pynfs) is decoded
 * with the layouts of the latest one, as Wireshark does: the ops are the
 * same numbers; `args.unknownMinorVersion` says so.
 */
import type { DecodedCall, DecodedReply, DecodeStop, ProgramDecoder } from './decoded.js';
import { OP_NUMBERS, OPS, type OpDef } from './nfs4-ops.js';
import { nfs4StatusName } from './nfs4-status.js';
import type { XdrReader } from './xdr.js';
import { statuslessReply, stopOf, undecodableReply } from './decode-util.js';

export const PROG_NFS = 100003;
const PROC_NULL = 0;
const PROC_COMPOUND = 1;
const MAX_MINOR_VERSION = 2;
/** Bound of the tag (utf8str_cs); RFC-wise unbounded, in practice short. */
const TAG_LIMIT = 65536;

const OP_PUTFH = 22;
const OP_PUTPUBFH = 23;
const OP_PUTROOTFH = 24;
const OP_SAVEFH = 32;
const OP_RESTOREFH = 31;
const OP_GETFH = 10;
const OP_READ = 25;
const OP_WRITE = 38;
const OP_COMMIT = 5;
const OP_READ_PLUS = 68;
const OP_LOOKUP = 15;
const OP_LOOKUPP = 16;
const OP_OPEN = 18;
const OP_CREATE = 6;
const OP_OPENATTR = 19;

/**
 * Wireshark's significance tiers (packet-nfs.c nfsv4_operation_tiers, with
 * SEQUENCE in tier 4 as tshark 4.0 has it): the main op is the
 * first op of the most significant tier present. Ops not listed are tier 1.
 */
const TIERS: Record<number, number> = {
  3: 2, // ACCESS
  17: 2, // NVERIFY
  9: 3, // GETATTR
  23: 3, // PUTPUBFH
  24: 3, // PUTROOTFH
  10: 4, // GETFH
  22: 4, // PUTFH
  31: 4, // RESTOREFH
  32: 4, // SAVEFH
  53: 4, // SEQUENCE
};

/** An op's name; `OP_<n>` for a number nfsight does not know. */
export function nfs4OpName(op: number): string {
  return OPS[op]?.name ?? `OP_${op}`;
}

/** The op number of a name as `nfs4OpName` gives it. */
export function nfs4OpNumber(name: string): number | undefined {
  const known = OP_NUMBERS.get(name);
  if (known !== undefined) return known;
  const m = /^OP_(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Index of the main op among `ops` (numbers), -1 when there is none. */
export function mainOpIndex(ops: readonly number[]): number {
  let best = -1;
  let bestTier = Infinity;
  ops.forEach((op, i) => {
    const tier = TIERS[op] ?? 1;
    if (tier < bestTier) {
      bestTier = tier;
      best = i;
    }
  });
  return best;
}

export interface Nfs4OpArgs {
  op: string;
  args: unknown;
}

export interface Nfs4OpResult {
  op: string;
  status: string;
  result?: unknown;
}

/** How many more XDR items of at least 4 bytes the reader can hold; a count above it is malformed. */
function checkCount(r: XdrReader, count: number, at: number): boolean {
  if (count > r.remaining / 4) {
    r.markMalformed(at);
    return false;
  }
  return true;
}

interface WalkedOps {
  numbers: number[];
  items: { op: number; args: Record<string, unknown> }[];
  stop?: DecodeStop;
}

/** Walks an argarray of ops (`table`), stopping at an unknown op or a reader error. */
export function walkArgs(r: XdrReader, table: Record<number, OpDef>): WalkedOps {
  const numbers: number[] = [];
  const items: { op: number; args: Record<string, unknown> }[] = [];
  const countAt = r.pos;
  const count = r.u32();
  if (!r.ok || !checkCount(r, count, countAt)) return { numbers, items, stop: stopOf(r)! };
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const op = r.u32();
    if (!r.ok) return { numbers, items, stop: stopOf(r)! };
    numbers.push(op);
    const def = table[op];
    if (def === undefined) return { numbers, items, stop: { reason: 'unknown-op', at } };
    const args = def.args(r);
    items.push({ op, args });
    if (!r.ok) return { numbers, items, stop: stopOf(r)! };
  }
  return { numbers, items };
}

export interface WalkedResults {
  numbers: number[];
  statuses: number[];
  results: (Record<string, unknown> | undefined)[];
  stop?: DecodeStop;
}

/** Walks a resarray: per op its number, status and results. */
export function walkResults(r: XdrReader, table: Record<number, OpDef>): WalkedResults {
  const out: WalkedResults = { numbers: [], statuses: [], results: [] };
  const countAt = r.pos;
  const count = r.u32();
  if (!r.ok || !checkCount(r, count, countAt)) return { ...out, stop: stopOf(r)! };
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const op = r.u32();
    if (!r.ok) return { ...out, stop: stopOf(r)! };
    out.numbers.push(op);
    const def = table[op];
    if (def === undefined) return { ...out, stop: { reason: 'unknown-op', at } };
    const status = r.u32();
    if (!r.ok) return { ...out, stop: stopOf(r)! };
    out.statuses.push(status);
    out.results.push(def.res(r, status));
    if (!r.ok) return { ...out, stop: stopOf(r)! };
  }
  return out;
}

function decodeCompoundCall(r: XdrReader): DecodedCall {
  const tag = r.opaqueText(TAG_LIMIT, 'utf8');
  const minorVersion = r.u32();
  if (!r.ok) return { ops: [], mainOp: 'COMPOUND', tag, args: { ops: [] }, stop: stopOf(r)! };
  const walked = walkArgs(r, OPS);
  const ops = walked.numbers.map(nfs4OpName);
  // The main op among the ops decoded (an unknown op has no tier).
  const known = walked.items.map((it) => it.op);
  const mainIdx = mainOpIndex(known);

  // The current file handle before each op: PUTFH sets it, the ops that
  // change it to one the call does not show make it unknown.
  let cur: string | undefined;
  let saved: string | undefined;
  let mainFh: string | undefined;
  const names: string[] = [];
  let offset: number | undefined;
  let count: number | undefined;
  walked.items.forEach(({ op, args }, i) => {
    if (i === mainIdx) mainFh = cur;
    switch (op) {
      case OP_PUTFH:
        cur = args.fh as string;
        break;
      case OP_PUTROOTFH:
      case OP_PUTPUBFH:
      case OP_LOOKUP:
      case OP_LOOKUPP:
      case OP_OPEN:
      case OP_CREATE:
      case OP_OPENATTR:
        cur = undefined;
        break;
      case OP_SAVEFH:
        saved = cur;
        break;
      case OP_RESTOREFH:
        cur = saved;
        break;
    }
    if (typeof args.name === 'string' && op !== 33 /* SECINFO */ && (op < 72 || op > 75)) names.push(args.name);
    if (typeof args.oldname === 'string') names.push(args.oldname, args.newname as string);
    if ((op === OP_READ || op === OP_WRITE || op === OP_COMMIT || op === OP_READ_PLUS) && offset === undefined) {
      offset = typeof args.offset === 'number' ? args.offset : undefined;
      count = args.count as number;
    }
  });

  const call: DecodedCall = {
    ops,
    mainOp: mainIdx >= 0 ? nfs4OpName(known[mainIdx]!) : 'COMPOUND',
    minorVersion,
    tag,
    args: {
      ...(minorVersion > MAX_MINOR_VERSION ? { unknownMinorVersion: true } : {}),
      ops: walked.items.map(({ op, args }): Nfs4OpArgs => ({ op: nfs4OpName(op), args })),
    },
  };
  if (mainFh !== undefined) call.fh = mainFh;
  if (names.length > 0) call.names = names;
  if (offset !== undefined) call.offset = offset;
  if (count !== undefined) call.count = count;
  if (walked.stop) call.stop = walked.stop;
  return call;
}

/** The name the client looked up or created for the current FH before op `index` of the call, if it shows one. */
function nameBefore(call: DecodedCall | undefined, index: number): string | undefined {
  const items = (call?.args as { ops?: Nfs4OpArgs[] } | undefined)?.ops;
  if (!Array.isArray(items)) return undefined;
  let name: string | undefined;
  for (let i = 0; i < index && i < items.length; i++) {
    const { op, args } = items[i]!;
    if (op === 'LOOKUP' || op === 'CREATE' || op === 'OPEN') {
      const n = (args as { name?: unknown }).name;
      name = typeof n === 'string' ? n : undefined;
    } else if (op === 'PUTFH' || op === 'PUTROOTFH' || op === 'PUTPUBFH' || op === 'LOOKUPP' || op === 'RESTOREFH' || op === 'OPENATTR') {
      name = undefined;
    }
  }
  return name;
}

function decodeCompoundReply(r: XdrReader, call: DecodedCall | undefined): DecodedReply {
  const statusCode = r.u32();
  const tag = r.opaqueText(TAG_LIMIT, 'utf8');
  const status = nfs4StatusName(statusCode);
  if (!r.ok) return { status, statusCode, ops: [], opStatus: [], results: { tag, ops: [] }, stop: stopOf(r)! };
  const walked = walkResults(r, OPS);
  const reply: DecodedReply = {
    status,
    statusCode,
    ops: walked.numbers.map(nfs4OpName),
    opStatus: walked.statuses.map(nfs4StatusName),
    results: {
      tag,
      ops: walked.statuses.map((st, i): Nfs4OpResult => {
        const result = walked.results[i];
        const out: Nfs4OpResult = { op: nfs4OpName(walked.numbers[i]!), status: nfs4StatusName(st) };
        if (result !== undefined) out.result = result;
        return out;
      }),
    },
  };
  let readBytes: number | undefined;
  let writeBytes: number | undefined;
  const handles: { fh: string; name?: string }[] = [];
  walked.results.forEach((res, i) => {
    if (res === undefined) return;
    const op = walked.numbers[i];
    if (op === OP_READ) readBytes = (readBytes ?? 0) + (res.count as number);
    else if (op === OP_READ_PLUS) readBytes = (readBytes ?? 0) + (res.dataBytes as number);
    else if (op === OP_WRITE) writeBytes = (writeBytes ?? 0) + (res.count as number);
    else if (op === OP_GETFH) {
      const name = nameBefore(call, i);
      handles.push(name === undefined ? { fh: res.fh as string } : { fh: res.fh as string, name });
    }
  });
  if (readBytes !== undefined) reply.readBytes = readBytes;
  if (writeBytes !== undefined) reply.writeBytes = writeBytes;
  if (handles.length > 0) reply.handles = handles;
  if (walked.stop) reply.stop = walked.stop;
  return reply;
}

export const nfs4Decoder: ProgramDecoder = {
  program: PROG_NFS,
  versions: [4],
  decodeCall(r, _version, procedure) {
    if (procedure === PROC_NULL) return { ops: ['NULL'], mainOp: 'NULL', args: {} };
    if (procedure === PROC_COMPOUND) return decodeCompoundCall(r);
    return { ops: [], mainOp: `PROC_${procedure}`, args: {}, stop: { reason: 'malformed', at: r.pos } };
  },
  decodeReply(r, _version, procedure, call) {
    if (procedure === PROC_NULL) return statuslessReply();
    if (procedure === PROC_COMPOUND) return decodeCompoundReply(r, call);
    return undecodableReply(r);
  },
};
