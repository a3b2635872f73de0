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

/**
 * A walk over an argarray or resarray of ops (`table`): the count checked
 * against what is left, each op's number read and kept in `numbers` (an
 * unknown one too), stopping at an op nfsight does not know (what follows
 * cannot be delimited) or where the reader stopped, `stop` saying why.
 * The caller decodes each op's body between next() and check().
 */
export class OpWalk {
  readonly numbers: number[] = [];
  /** The number of the op next() returned. */
  op = -1;
  stop: DecodeStop | undefined;
  private left: number;

  constructor(
    private readonly r: XdrReader,
    private readonly table: Record<number, OpDef>,
  ) {
    const at = r.pos;
    const n = r.u32();
    this.left = r.ok && checkCount(r, n, at) ? n : 0;
    if (!r.ok) this.stop = stopOf(r)!;
  }

  /** The next op's definition (its number in `op`); undefined at the end of the array or where the walk stops. */
  next(): OpDef | undefined {
    if (this.left === 0) return undefined;
    this.left--;
    const r = this.r;
    const at = r.pos;
    const op = r.u32();
    if (!this.check()) return undefined;
    this.numbers.push(op);
    const def = this.table[op];
    if (def === undefined) {
      this.stop = { reason: 'unknown-op', at };
      this.left = 0;
      return undefined;
    }
    this.op = op;
    return def;
  }

  /** Whether the reader is still going after part of an op; else the walk stops here. */
  check(): boolean {
    if (this.r.ok) return true;
    this.stop = stopOf(this.r)!;
    this.left = 0;
    return false;
  }
}

interface WalkedOps {
  numbers: number[];
  items: { op: number; args: Record<string, unknown> }[];
  stop?: DecodeStop;
}

/** Walks an argarray of ops (`table`), stopping at an unknown op or a reader error. */
export function walkArgs(r: XdrReader, table: Record<number, OpDef>): WalkedOps {
  const walk = new OpWalk(r, table);
  const items: { op: number; args: Record<string, unknown> }[] = [];
  for (let def = walk.next(); def !== undefined; def = walk.next()) {
    items.push({ op: walk.op, args: def.args(r) });
    if (!walk.check()) break;
  }
  return walk.stop === undefined ? { numbers: walk.numbers, items } : { numbers: walk.numbers, items, stop: walk.stop };
}

export interface WalkedResults {
  numbers: number[];
  statuses: number[];
  results: (Record<string, unknown> | undefined)[];
  stop?: DecodeStop;
}

/** Walks a resarray: per op its number, status and results. */
export function walkResults(r: XdrReader, table: Record<number, OpDef>): WalkedResults {
  const walk = new OpWalk(r, table);
  const out: WalkedResults = { numbers: walk.numbers, statuses: [], results: [] };
  for (let def = walk.next(); def !== undefined; def = walk.next()) {
    const status = r.u32();
    if (!walk.check()) break;
    out.statuses.push(status);
    out.results.push(def.res(r, status));
    if (!walk.check()) break;
  }
  if (walk.stop !== undefined) out.stop = walk.stop;
  return out;
}

function decodeCompoundCall(r: XdrReader): DecodedCall {
  const tag = r.opaqueText(TAG_LIMIT, 'utf8');
  const minorVersion = r.u32();
  if (!r.ok) return { ops: [], mainOp: 'COMPOUND', tag, args: { ops: [] }, stop: stopOf(r)! };
  // walkArgs' walk, made here in one pass without its lists: a COMPOUND is decoded per call.
  const items: Nfs4OpArgs[] = [];
  // The main op among the ops decoded (an unknown op has no tier): mainOpIndex's choice.
  let mainIdx = -1;
  let mainTier = Infinity;
  const walk = new OpWalk(r, OPS);
  for (let def = walk.next(); def !== undefined; def = walk.next()) {
    const tier = TIERS[walk.op] ?? 1;
    if (tier < mainTier) {
      mainTier = tier;
      mainIdx = items.length;
    }
    items.push({ op: def.name, args: def.args(r) });
    if (!walk.check()) break;
  }
  /** The numbers of the ops walked: those of `items`, then an unknown one. */
  const known = walk.numbers;
  const ops = known.map(nfs4OpName);

  // The current file handle before each op: PUTFH sets it, the ops that
  // change it to one the call does not show make it unknown.
  let cur: string | undefined;
  let saved: string | undefined;
  let mainFh: string | undefined;
  const names: string[] = [];
  let offset: number | undefined;
  let count: number | undefined;
  for (let i = 0; i < items.length; i++) {
    const op = known[i]!;
    const args = items[i]!.args as Record<string, unknown>;
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
  }

  const call: DecodedCall = {
    ops,
    mainOp: mainIdx >= 0 ? nfs4OpName(known[mainIdx]!) : 'COMPOUND',
    minorVersion,
    tag,
    args: minorVersion > MAX_MINOR_VERSION ? { unknownMinorVersion: true, ops: items } : { ops: items },
  };
  if (mainFh !== undefined) call.fh = mainFh;
  if (names.length > 0) call.names = names;
  if (offset !== undefined) call.offset = offset;
  if (count !== undefined) call.count = count;
  if (walk.stop) call.stop = walk.stop;
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
  // walkResults' walk, made here in one pass without its lists: a COMPOUND reply is decoded per call.
  const opStatus: string[] = [];
  const items: Nfs4OpResult[] = [];
  let readBytes: number | undefined;
  let writeBytes: number | undefined;
  let handles: { fh: string; name?: string }[] | undefined;
  const walk = new OpWalk(r, OPS);
  for (let def = walk.next(); def !== undefined; def = walk.next()) {
    const op = walk.op;
    const st = r.u32();
    if (!walk.check()) break;
    const stName = nfs4StatusName(st);
    opStatus.push(stName);
    // A result cut short by the end of the data is kept, as far as it was read.
    const res = def.res(r, st);
    if (res === undefined) items.push({ op: def.name, status: stName });
    else {
      items.push({ op: def.name, status: stName, result: res });
      if (op === OP_READ) readBytes = (readBytes ?? 0) + (res.count as number);
      else if (op === OP_READ_PLUS) readBytes = (readBytes ?? 0) + (res.dataBytes as number);
      else if (op === OP_WRITE) writeBytes = (writeBytes ?? 0) + (res.count as number);
      else if (op === OP_GETFH) {
        const before = nameBefore(call, items.length - 1);
        (handles ??= []).push(before === undefined ? { fh: res.fh as string } : { fh: res.fh as string, name: before });
      }
    }
    if (!walk.check()) break;
  }
  const ops = walk.numbers.map(nfs4OpName);
  const stop = walk.stop;
  const reply: DecodedReply = { status, statusCode, ops, opStatus, results: { tag, ops: items } };
  if (readBytes !== undefined) reply.readBytes = readBytes;
  if (writeBytes !== undefined) reply.writeBytes = writeBytes;
  if (handles !== undefined) reply.handles = handles;
  if (stop) reply.stop = stop;
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
