/**
 * NFSv4 operations: names, and the decoders of each operation's arguments
 * and results (RFC 7530/7531 for v4.0, RFC 8881 for v4.1, RFC 7862/7863 for
 * v4.2, RFC 8276 for the xattr ops), plus the XDR building blocks they share
 * with the callback decoder (stateids, file handles, bitmaps, fattr4 with
 * its common attributes, times, lock owners, delegations).
 */
import { NFS4ERR_CLID_INUSE, NFS4ERR_DENIED, NFS4ERR_LAYOUTTRYLATER, NFS4ERR_OFFLOAD_NO_REQS, NFS4ERR_TOOSMALL } from './nfs4-status.js';
import type { XdrReader } from './xdr.js';

/** NFS4_FHSIZE. */
export const FH_MAX = 128;
/** NFS4_OPAQUE_LIMIT: owners, client ids, tags and most opaques are below it in practice. */
export const OPAQUE_LIMIT = 1024;
/** Bound of names and other strings (components, owners, netids). */
export const STRING_LIMIT = 8192;
/** Bound of counted arrays of small items. */
export const ARRAY_LIMIT = 1 << 16;
/** Bound of bitmap4 words. */
const BITMAP_WORDS = 32;
const SESSIONID_SIZE = 16;

export const hex = (b: Buffer): string => b.toString('hex');

/** uint64 as a number when exact, else as a decimal string. */
export function u64(r: XdrReader): number | string {
  return r.u64Value();
}

/** int64 (nfstime4 seconds) as a number when exact, else a decimal string. */
export function i64(r: XdrReader): number | string {
  return r.i64Value();
}

/** An 8-byte opaque (verifier4, clientid4 as shown) as hex. */
export function hex8(r: XdrReader): string {
  return r.fixedText(8, 'hex');
}

export function sessionId(r: XdrReader): string {
  return r.fixedText(SESSIONID_SIZE, 'hex');
}

export interface Stateid {
  seqid: number;
  other: string;
}

export function stateid(r: XdrReader): Stateid {
  const seqid = r.u32();
  return { seqid, other: r.fixedText(12, 'hex') };
}

export function fh(r: XdrReader): string {
  return r.opaqueText(FH_MAX, 'hex');
}

export function component(r: XdrReader): string {
  return r.string(STRING_LIMIT);
}

export function utf8(r: XdrReader): string {
  return r.string(STRING_LIMIT);
}

export function bitmap(r: XdrReader): number[] {
  return r.array(BITMAP_WORDS, (x) => x.u32());
}

/** Attribute numbers set in a bitmap4, ascending. */
export function bitsOf(words: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < words.length; i++) {
    // The set bits only, lowest first: w & -w isolates the lowest, w & (w - 1) clears it.
    for (let w = words[i]! | 0; w !== 0; w &= w - 1) out.push(i * 32 + 31 - Math.clz32(w & -w));
  }
  return out;
}

export interface NfsTime {
  seconds: number | string;
  nseconds: number;
}

export function nfstime(r: XdrReader): NfsTime {
  const seconds = i64(r);
  return { seconds, nseconds: r.u32() };
}

export function changeInfo(r: XdrReader): { atomic: boolean; before: number | string; after: number | string } {
  const atomic = r.bool();
  const before = u64(r);
  return { atomic, before, after: u64(r) };
}

export function lockOwner(r: XdrReader): { clientid: string; owner: string } {
  const clientid = hex8(r);
  return { clientid, owner: r.opaqueText(OPAQUE_LIMIT, 'hex') };
}

export function netaddr(r: XdrReader): { netid: string; addr: string } {
  const netid = utf8(r);
  return { netid, addr: utf8(r) };
}

export function nfsace(r: XdrReader): { type: number; flag: number; accessMask: number; who: string } {
  const type = r.u32();
  const flag = r.u32();
  const accessMask = r.u32();
  return { type, flag, accessMask, who: utf8(r) };
}

/** open_delegation4 (RFC 8881 §18.16; OPEN_DELEGATE_NONE_EXT is v4.1). */
export function openDelegation(r: XdrReader): Record<string, unknown> {
  const at = r.pos;
  const type = r.u32();
  switch (type) {
    case 0:
      return { type: 'NONE' };
    case 1: {
      const sid = stateid(r);
      const recall = r.bool();
      return { type: 'READ', stateid: sid, recall, permissions: nfsace(r) };
    }
    case 2: {
      const sid = stateid(r);
      const recall = r.bool();
      const limitAt = r.pos;
      const limitBy = r.u32();
      let spaceLimit: unknown;
      if (limitBy === 1) spaceLimit = { filesize: u64(r) };
      else if (limitBy === 2) {
        const numBlocks = r.u32();
        spaceLimit = { numBlocks, bytesPerBlock: r.u32() };
      } else r.markMalformed(limitAt);
      return { type: 'WRITE', stateid: sid, recall, spaceLimit, permissions: nfsace(r) };
    }
    case 3: {
      const why = r.u32();
      // WND4_CONTENTION and WND4_RESOURCE carry a bool.
      const signal = why === 7 || why === 8 ? r.bool() : undefined;
      return signal === undefined ? { type: 'NONE_EXT', why } : { type: 'NONE_EXT', why, signal };
    }
    default:
      r.markMalformed(at);
      return { type };
  }
}

/** callback_sec_parms4 (RFC 8881 §18.36). */
export function callbackSecParms(r: XdrReader): Record<string, unknown> {
  const at = r.pos;
  const flavor = r.u32();
  switch (flavor) {
    case 0:
      return { flavor };
    case 1: {
      const stamp = r.u32();
      const machine = utf8(r);
      const uid = r.u32();
      const gid = r.u32();
      return { flavor, stamp, machine, uid, gid, gids: r.array(16, (x) => x.u32()) };
    }
    case 6: {
      const service = r.u32();
      const fromServer = hex(r.opaque(OPAQUE_LIMIT * 64));
      return { flavor, service, handleFromServer: fromServer, handleFromClient: hex(r.opaque(OPAQUE_LIMIT * 64)) };
    }
    default:
      r.markMalformed(at);
      return { flavor };
  }
}

/** channel_attrs4 (RFC 8881 §18.36). */
export function channelAttrs(r: XdrReader): Record<string, unknown> {
  const headerPadSize = r.u32();
  const maxRequestSize = r.u32();
  const maxResponseSize = r.u32();
  const maxResponseSizeCached = r.u32();
  const maxOperations = r.u32();
  const maxRequests = r.u32();
  const rdmaIrd = r.array(1, (x) => x.u32());
  return { headerPadSize, maxRequestSize, maxResponseSize, maxResponseSizeCached, maxOperations, maxRequests, rdmaIrd };
}

/** netloc4 (RFC 7862 §4.2). */
export function netloc(r: XdrReader): Record<string, unknown> {
  const at = r.pos;
  const type = r.u32();
  if (type === 1) return { name: utf8(r) };
  if (type === 2) return { url: utf8(r) };
  if (type === 3) return { addr: netaddr(r) };
  r.markMalformed(at);
  return { type };
}

/** write_response4 (RFC 7862 §15.2). */
export function writeResponse(r: XdrReader): Record<string, unknown> {
  const callbackId = r.array(1, stateid);
  const count = u64(r);
  const committed = r.u32();
  return { callbackId, count, committed, verifier: hex8(r) };
}

/** layoutupdate4 / device_addr4 / layout_content4: a type and an opaque body (kept as its length). */
export function typedBody(r: XdrReader): { type: number; bodyLength: number } {
  const type = r.u32();
  return { type, bodyLength: r.skipOpaque() };
}

/** notify4 (RFC 8881 §20.4): a bitmap and its opaque values. */
export function notify(r: XdrReader): { mask: number[]; valuesLength: number } {
  const mask = bitmap(r);
  return { mask, valuesLength: r.skipOpaque() };
}

const FTYPES = ['', 'NF4REG', 'NF4DIR', 'NF4BLK', 'NF4CHR', 'NF4LNK', 'NF4SOCK', 'NF4FIFO', 'NF4ATTRDIR', 'NF4NAMEDATTR'];

/** Attribute names (RFC 8881 §5.7/5.8, RFC 7862 §12.2). */
export const ATTR_NAMES: Record<number, string> = {
  0: 'supported_attrs', 1: 'type', 2: 'fh_expire_type', 3: 'change', 4: 'size', 5: 'link_support',
  6: 'symlink_support', 7: 'named_attr', 8: 'fsid', 9: 'unique_handles', 10: 'lease_time', 11: 'rdattr_error',
  12: 'acl', 13: 'aclsupport', 14: 'archive', 15: 'cansettime', 16: 'case_insensitive', 17: 'case_preserving',
  18: 'chown_restricted', 19: 'filehandle', 20: 'fileid', 21: 'files_avail', 22: 'files_free', 23: 'files_total',
  24: 'fs_locations', 25: 'hidden', 26: 'homogeneous', 27: 'maxfilesize', 28: 'maxlink', 29: 'maxname',
  30: 'maxread', 31: 'maxwrite', 32: 'mimetype', 33: 'mode', 34: 'no_trunc', 35: 'numlinks', 36: 'owner',
  37: 'owner_group', 38: 'quota_avail_hard', 39: 'quota_avail_soft', 40: 'quota_used', 41: 'rawdev',
  42: 'space_avail', 43: 'space_free', 44: 'space_total', 45: 'space_used', 46: 'system', 47: 'time_access',
  48: 'time_access_set', 49: 'time_backup', 50: 'time_create', 51: 'time_delta', 52: 'time_metadata',
  53: 'time_modify', 54: 'time_modify_set', 55: 'mounted_on_fileid', 56: 'dir_notif_delay',
  57: 'dirent_notif_delay', 58: 'dacl', 59: 'sacl', 60: 'change_policy', 61: 'fs_status', 62: 'fs_layout_type',
  63: 'layout_hint', 64: 'layout_type', 65: 'layout_blksize', 66: 'layout_alignment', 67: 'fs_locations_info',
  68: 'mdsthreshold', 69: 'retention_get', 70: 'retention_set', 71: 'retentevt_get', 72: 'retentevt_set',
  73: 'retention_hold', 74: 'mode_set_masked', 75: 'suppattr_exclcreat', 76: 'fs_charset_cap',
  77: 'clone_blksize', 78: 'space_freed', 79: 'change_attr_type', 80: 'sec_label', 81: 'mode_umask',
  82: 'xattr_support',
};

const U32_ATTRS = new Set([2, 10, 11, 13, 28, 29, 65, 66, 76, 77, 79]);
const U64_ATTRS = new Set([3, 4, 20, 21, 22, 23, 27, 30, 31, 38, 39, 40, 42, 43, 44, 45, 55, 78]);
const BOOL_ATTRS = new Set([5, 6, 7, 9, 14, 15, 16, 17, 18, 25, 26, 34, 46, 82]);
const TIME_ATTRS = new Set([47, 49, 50, 51, 52, 53, 56, 57]);

/**
 * One attribute's value, or `undefined` when nfsight does not decode it
 * (the caller then stops decoding the list: its length is not known).
 */
function attrValue(r: XdrReader, n: number): unknown {
  if (U32_ATTRS.has(n)) return r.u32();
  if (U64_ATTRS.has(n)) return u64(r);
  if (BOOL_ATTRS.has(n)) return r.bool();
  if (TIME_ATTRS.has(n)) return nfstime(r);
  switch (n) {
    case 0:
    case 75:
      return bitsOf(bitmap(r));
    case 1: {
      const t = r.u32();
      return FTYPES[t] || t;
    }
    case 8: {
      const major = u64(r);
      return { major, minor: u64(r) };
    }
    case 12:
      return r.array(ARRAY_LIMIT, nfsace);
    case 19:
      return fh(r);
    case 32:
    case 36:
    case 37:
      return utf8(r);
    case 33:
      return r.u32() & 0o7777;
    case 35:
      return r.u32();
    case 41: {
      const major = r.u32();
      return { major, minor: r.u32() };
    }
    case 48:
    case 54: {
      const how = r.u32();
      return how === 1 ? nfstime(r) : 'SET_TO_SERVER_TIME';
    }
    case 62:
      return r.array(ARRAY_LIMIT, (x) => x.u32());
    case 81: {
      const mode = r.u32();
      return { mode, umask: r.u32() };
    }
    default:
      return undefined;
  }
}

/**
 * fattr4: the bitmap and the attribute list. The common attributes are
 * decoded in bitmap order until the first one nfsight does not decode; the
 * rest are skipped with the list's length. `attrs` maps names to values;
 * `skipped` lists the attribute names not decoded.
 */
export function fattr(r: XdrReader): { attrs: Record<string, unknown>; skipped?: string[] } {
  const bits = bitsOf(bitmap(r));
  const lenAt = r.pos;
  const len = r.u32();
  if (!r.ok) return { attrs: {} };
  if (len > r.remaining) {
    r.markMalformed(lenAt);
    return { attrs: {} };
  }
  // Decoded with the message's reader, so that a cut capture stops the
  // whole decoding as truncated; an attribute reaching beyond the list is
  // malformed.
  const start = r.pos;
  const end = start + len;
  if (r.summaryOnly) return fattrSummary(r, bits, start, end);
  const attrs: Record<string, unknown> = {};
  const skipped: string[] = [];
  for (const n of bits) {
    const name = ATTR_NAMES[n] ?? `attr${n}`;
    if (skipped.length > 0) {
      skipped.push(name);
      continue;
    }
    const v = attrValue(r, n);
    if (!r.ok) return { attrs };
    if (r.pos > end) {
      r.markMalformed(start);
      return { attrs };
    }
    if (v === undefined) skipped.push(name);
    else attrs[name] = v;
  }
  r.seek(end);
  r.skipBytes((4 - (len & 3)) & 3);
  return skipped.length > 0 ? { attrs, skipped } : { attrs };
}

/**
 * fattr4's list read for a summary-only reader (decoders/xdr.ts): every
 * attribute fattr would decode is read with the same reads (so a cut or
 * malformed list stops at the same byte, with the same reason), but only
 * `filehandle` is kept (the NFSv4 state walk names READDIR entries' handles
 * with it); strings are stepped over without being made.
 */
function fattrSummary(r: XdrReader, bits: number[], start: number, end: number): { attrs: Record<string, unknown> } {
  const attrs: Record<string, unknown> = {};
  for (const n of bits) {
    let known = true;
    let handle: string | undefined;
    if (n === 19) handle = fh(r);
    else if (n === 32 || n === 36 || n === 37) r.skipText(STRING_LIMIT);
    else known = attrValue(r, n) !== undefined;
    if (!r.ok) return { attrs };
    if (r.pos > end) {
      r.markMalformed(start);
      return { attrs };
    }
    if (!known) break;
    if (handle !== undefined) attrs.filehandle = handle;
  }
  r.seek(end);
  r.skipBytes((4 - ((end - start) & 3)) & 3);
  return { attrs };
}

// ---------------------------------------------------------------------------
// Operations

type Obj = Record<string, unknown>;
/** Decodes an operation's arguments (the reader stands after the opcode). */
export type ArgsDecoder = (r: XdrReader) => Obj;
/** Decodes an operation's results after its status (the reader stands after the status). */
export type ResDecoder = (r: XdrReader, status: number) => Obj | undefined;

export interface OpDef {
  name: string;
  args: ArgsDecoder;
  res: ResDecoder;
}

const NONE: ArgsDecoder = () => ({});
/** Results that are the status only. */
const STATUS_ONLY: ResDecoder = () => undefined;
/** Results with a body only when the status is NFS4_OK. */
const ok =
  (fn: (r: XdrReader) => Obj): ResDecoder =>
  (r, status) =>
    status === 0 ? fn(r) : undefined;

const SHARE_ACCESS: Record<number, string> = { 1: 'READ', 2: 'WRITE', 3: 'BOTH' };

function lockDenied(r: XdrReader): Obj {
  const offset = u64(r);
  const length = u64(r);
  const locktype = r.u32();
  return { denied: { offset, length, locktype, owner: lockOwner(r) } };
}

function secinfoRes(r: XdrReader): Obj {
  return {
    flavors: r.array(ARRAY_LIMIT, (x) => {
      const flavor = x.u32();
      if (flavor !== 6) return { flavor };
      const oid = hex(x.opaque(OPAQUE_LIMIT));
      const qop = x.u32();
      return { flavor, oid, qop, service: x.u32() };
    }),
  };
}

function createhow(r: XdrReader): Obj {
  const at = r.pos;
  const mode = r.u32();
  switch (mode) {
    case 0:
      return { createmode: 'UNCHECKED4', attrs: fattr(r) };
    case 1:
      return { createmode: 'GUARDED4', attrs: fattr(r) };
    case 2:
      return { createmode: 'EXCLUSIVE4', verifier: hex8(r) };
    case 3: {
      const verifier = hex8(r);
      return { createmode: 'EXCLUSIVE4_1', verifier, attrs: fattr(r) };
    }
    default:
      r.markMalformed(at);
      return { createmode: mode };
  }
}

const CLAIMS = ['CLAIM_NULL', 'CLAIM_PREVIOUS', 'CLAIM_DELEGATE_CUR', 'CLAIM_DELEGATE_PREV', 'CLAIM_FH', 'CLAIM_DELEG_CUR_FH', 'CLAIM_DELEG_PREV_FH'];

function openClaim(r: XdrReader): Obj {
  const at = r.pos;
  const claim = r.u32();
  const type = CLAIMS[claim] ?? claim;
  switch (claim) {
    case 0:
    case 3:
      return { type, name: component(r) };
    case 1:
      return { type, delegateType: r.u32() };
    case 2: {
      const sid = stateid(r);
      return { type, delegateStateid: sid, name: component(r) };
    }
    case 4:
    case 6:
      return { type };
    case 5:
      return { type, delegateStateid: stateid(r) };
    default:
      r.markMalformed(at);
      return { type };
  }
}

function openArgs(r: XdrReader): Obj {
  const seqid = r.u32();
  const access = r.u32();
  const deny = r.u32();
  const owner = lockOwner(r);
  const otAt = r.pos;
  const opentype = r.u32();
  let how: Obj | undefined;
  if (opentype === 1) how = createhow(r);
  else if (opentype !== 0) r.markMalformed(otAt);
  const claim = openClaim(r);
  const out: Obj = {
    seqid,
    shareAccess: SHARE_ACCESS[access & 3] ?? access,
    shareAccessWant: access & ~3,
    shareDeny: deny,
    owner,
    opentype: opentype === 1 ? 'OPEN4_CREATE' : 'OPEN4_NOCREATE',
    ...(how ? { how } : {}),
    claim,
  };
  if (typeof claim.name === 'string') out.name = claim.name;
  return out;
}

function openRes(r: XdrReader): Obj {
  const sid = stateid(r);
  const cinfo = changeInfo(r);
  const rflags = r.u32();
  const attrset = bitsOf(bitmap(r));
  return { stateid: sid, cinfo, rflags, attrset, delegation: openDelegation(r) };
}

function createArgs(r: XdrReader): Obj {
  // createtype4: link text for NF4LNK, device numbers for NF4BLK/NF4CHR, void for the rest.
  const type = r.u32();
  let extra: Obj = {};
  if (type === 5) extra = { linkdata: utf8(r) };
  else if (type === 3 || type === 4) {
    const major = r.u32();
    extra = { devdata: { major, minor: r.u32() } };
  }
  const name = component(r);
  return { type: FTYPES[type] || type, ...extra, name, attrs: fattr(r) };
}

function lockArgs(r: XdrReader): Obj {
  const locktype = r.u32();
  const reclaim = r.bool();
  const offset = u64(r);
  const length = u64(r);
  const newLockOwner = r.bool();
  let locker: Obj;
  if (newLockOwner) {
    const openSeqid = r.u32();
    const openStateid = stateid(r);
    const lockSeqid = r.u32();
    locker = { openSeqid, openStateid, lockSeqid, lockOwner: lockOwner(r) };
  } else {
    const lockStateid = stateid(r);
    locker = { lockStateid, lockSeqid: r.u32() };
  }
  return { locktype, reclaim, offset, length, newLockOwner, locker };
}

function readdirRes(r: XdrReader): Obj {
  const cookieverf = hex8(r);
  const entries: Obj[] = [];
  const at = r.pos;
  let follows = r.bool();
  while (follows && r.ok) {
    if (entries.length >= ARRAY_LIMIT) {
      r.markMalformed(at);
      break;
    }
    const cookie = u64(r);
    const name = component(r);
    const attrs = fattr(r);
    if (!r.ok) break;
    entries.push({ cookie, name, ...attrs });
    follows = r.bool();
  }
  const eof = r.bool();
  return { cookieverf, entries, eof };
}

function stateProtectOps(r: XdrReader): Obj {
  const mustEnforce = bitsOf(bitmap(r));
  return { mustEnforce, mustAllow: bitsOf(bitmap(r)) };
}

function implId(r: XdrReader): Obj {
  const domain = utf8(r);
  const name = utf8(r);
  return { domain, name, date: nfstime(r) };
}

function exchangeIdArgs(r: XdrReader): Obj {
  const verifier = hex8(r);
  const ownerid = r.opaque(OPAQUE_LIMIT);
  const flags = r.u32();
  const at = r.pos;
  const how = r.u32();
  let stateProtect: Obj = { how };
  if (how === 1) stateProtect = { how, ...stateProtectOps(r) };
  else if (how === 2) {
    const ops = stateProtectOps(r);
    const hashAlgs = r.array(ARRAY_LIMIT, (x) => hex(x.opaque(OPAQUE_LIMIT)));
    const encrAlgs = r.array(ARRAY_LIMIT, (x) => hex(x.opaque(OPAQUE_LIMIT)));
    const window = r.u32();
    stateProtect = { how, ...ops, hashAlgs, encrAlgs, window, numGssHandles: r.u32() };
  } else if (how !== 0) r.markMalformed(at);
  const implIds = r.array(1, implId);
  return { verifier, owner: printable(ownerid), ownerHex: hex(ownerid), flags, stateProtect, implId: implIds[0] };
}

function exchangeIdRes(r: XdrReader): Obj {
  const clientid = hex8(r);
  const sequenceid = r.u32();
  const flags = r.u32();
  const at = r.pos;
  const how = r.u32();
  let stateProtect: Obj = { how };
  if (how === 1) stateProtect = { how, ...stateProtectOps(r) };
  else if (how === 2) {
    const ops = stateProtectOps(r);
    const hashAlg = r.u32();
    const encrAlg = r.u32();
    const ssvLen = r.u32();
    const window = r.u32();
    stateProtect = { how, ...ops, hashAlg, encrAlg, ssvLen, window, handles: r.array(ARRAY_LIMIT, (x) => x.skipOpaque()) };
  } else if (how !== 0) r.markMalformed(at);
  const minorId = u64(r);
  const majorId = r.opaque(OPAQUE_LIMIT);
  const scope = r.opaque(OPAQUE_LIMIT);
  const implIds = r.array(1, implId);
  return {
    clientid,
    sequenceid,
    flags,
    stateProtect,
    serverOwner: { minorId, majorId: printable(majorId) },
    serverScope: printable(scope),
    implId: implIds[0],
  };
}

/** An opaque shown as text when it is printable ASCII, else as hex. */
export function printable(b: Buffer): string {
  for (const c of b) if (c < 0x20 || c > 0x7e) return hex(b);
  return b.toString('latin1');
}

function createSessionArgs(r: XdrReader): Obj {
  const clientid = hex8(r);
  const sequence = r.u32();
  const flags = r.u32();
  const foreChannel = channelAttrs(r);
  const backChannel = channelAttrs(r);
  const cbProgram = r.u32();
  return { clientid, sequence, flags, foreChannel, backChannel, cbProgram, secParms: r.array(ARRAY_LIMIT, callbackSecParms) };
}

function createSessionRes(r: XdrReader): Obj {
  const sessionid = sessionId(r);
  const sequence = r.u32();
  const flags = r.u32();
  const foreChannel = channelAttrs(r);
  return { sessionid, sequence, flags, foreChannel, backChannel: channelAttrs(r) };
}

function newoffset(r: XdrReader): number | string | undefined {
  return r.bool() ? u64(r) : undefined;
}

function layoutgetRes(r: XdrReader, status: number): Obj | undefined {
  if (status === NFS4ERR_LAYOUTTRYLATER) return { willSignal: r.bool() };
  if (status !== 0) return undefined;
  const returnOnClose = r.bool();
  const sid = stateid(r);
  const layouts = r.array(ARRAY_LIMIT, (x) => {
    const offset = u64(x);
    const length = u64(x);
    const iomode = x.u32();
    return { offset, length, iomode, content: typedBody(x) };
  });
  return { returnOnClose, stateid: sid, layouts };
}

function layoutreturnArgs(r: XdrReader): Obj {
  const reclaim = r.bool();
  const layoutType = r.u32();
  const iomode = r.u32();
  const at = r.pos;
  const returnType = r.u32();
  if (returnType === 1) {
    const offset = u64(r);
    const length = u64(r);
    const sid = stateid(r);
    return { reclaim, layoutType, iomode, returnType: 'FILE', offset, length, stateid: sid, bodyLength: r.skipOpaque() };
  }
  if (returnType !== 2 && returnType !== 3) r.markMalformed(at);
  return { reclaim, layoutType, iomode, returnType: returnType === 2 ? 'FSID' : returnType === 3 ? 'ALL' : returnType };
}

function getDirDelegationRes(r: XdrReader): Obj {
  const at = r.pos;
  const st = r.u32();
  if (st === 0) {
    const cookieverf = hex8(r);
    const sid = stateid(r);
    const notification = bitsOf(bitmap(r));
    const childAttributes = bitsOf(bitmap(r));
    return { granted: true, cookieverf, stateid: sid, notification, childAttributes, dirAttributes: bitsOf(bitmap(r)) };
  }
  if (st !== 1) r.markMalformed(at);
  return { granted: false, willSignal: r.bool() };
}

function readPlusRes(r: XdrReader): Obj {
  const eof = r.bool();
  let dataBytes = 0;
  const contents = r.array(ARRAY_LIMIT, (x) => {
    const at = x.pos;
    const type = x.u32();
    if (type === 0) {
      const offset = u64(x);
      const count = x.skipOpaque();
      dataBytes += count;
      return { type: 'DATA', offset, count };
    }
    if (type === 1) {
      const offset = u64(x);
      return { type: 'HOLE', offset, length: u64(x) };
    }
    x.markMalformed(at);
    return { type };
  });
  return { eof, contents, dataBytes };
}

function appDataBlock(r: XdrReader): Obj {
  const offset = u64(r);
  const blockSize = u64(r);
  const blockCount = u64(r);
  const reloffBlocknum = u64(r);
  const blockNum = r.u32();
  const reloffPattern = u64(r);
  return { offset, blockSize, blockCount, reloffBlocknum, blockNum, reloffPattern, patternLength: r.skipOpaque() };
}

function ioInfo(r: XdrReader): Obj {
  const count = u64(r);
  return { count, bytes: u64(r) };
}

const stateidArg: ArgsDecoder = (r) => ({ stateid: stateid(r) });
const rangeArgs: ArgsDecoder = (r) => {
  const sid = stateid(r);
  const offset = u64(r);
  return { stateid: sid, offset, length: u64(r) };
};

/** The operations by number: v4.0 (3-39), v4.1 (40-58), v4.2 (59-71), xattrs (72-75), ILLEGAL. */
export const OPS: Record<number, OpDef> = {
  3: { name: 'ACCESS', args: (r) => ({ access: r.u32() }), res: ok((r) => ({ supported: r.u32(), access: r.u32() })) },
  4: {
    name: 'CLOSE',
    args: (r) => ({ seqid: r.u32(), stateid: stateid(r) }),
    res: ok((r) => ({ stateid: stateid(r) })),
  },
  5: { name: 'COMMIT', args: (r) => ({ offset: u64(r), count: r.u32() }), res: ok((r) => ({ verifier: hex8(r) })) },
  6: { name: 'CREATE', args: createArgs, res: ok((r) => ({ cinfo: changeInfo(r), attrset: bitsOf(bitmap(r)) })) },
  7: { name: 'DELEGPURGE', args: (r) => ({ clientid: hex8(r) }), res: STATUS_ONLY },
  8: { name: 'DELEGRETURN', args: stateidArg, res: STATUS_ONLY },
  9: { name: 'GETATTR', args: (r) => ({ attrRequest: bitsOf(bitmap(r)).map((n) => ATTR_NAMES[n] ?? `attr${n}`) }), res: ok((r) => fattr(r)) },
  10: { name: 'GETFH', args: NONE, res: ok((r) => ({ fh: fh(r) })) },
  11: { name: 'LINK', args: (r) => ({ name: component(r) }), res: ok((r) => ({ cinfo: changeInfo(r) })) },
  12: {
    name: 'LOCK',
    args: lockArgs,
    res: (r, status) => (status === 0 ? { stateid: stateid(r) } : status === NFS4ERR_DENIED ? lockDenied(r) : undefined),
  },
  13: {
    name: 'LOCKT',
    args: (r) => {
      const locktype = r.u32();
      const offset = u64(r);
      const length = u64(r);
      return { locktype, offset, length, owner: lockOwner(r) };
    },
    res: (r, status) => (status === NFS4ERR_DENIED ? lockDenied(r) : undefined),
  },
  14: {
    name: 'LOCKU',
    args: (r) => {
      const locktype = r.u32();
      const seqid = r.u32();
      const sid = stateid(r);
      const offset = u64(r);
      return { locktype, seqid, stateid: sid, offset, length: u64(r) };
    },
    res: ok((r) => ({ stateid: stateid(r) })),
  },
  15: { name: 'LOOKUP', args: (r) => ({ name: component(r) }), res: STATUS_ONLY },
  16: { name: 'LOOKUPP', args: NONE, res: STATUS_ONLY },
  17: { name: 'NVERIFY', args: (r) => fattr(r), res: STATUS_ONLY },
  18: { name: 'OPEN', args: openArgs, res: ok(openRes) },
  19: { name: 'OPENATTR', args: (r) => ({ createdir: r.bool() }), res: STATUS_ONLY },
  20: { name: 'OPEN_CONFIRM', args: (r) => ({ stateid: stateid(r), seqid: r.u32() }), res: ok((r) => ({ stateid: stateid(r) })) },
  21: {
    name: 'OPEN_DOWNGRADE',
    args: (r) => {
      const sid = stateid(r);
      const seqid = r.u32();
      const access = r.u32();
      return { stateid: sid, seqid, shareAccess: SHARE_ACCESS[access & 3] ?? access, shareDeny: r.u32() };
    },
    res: ok((r) => ({ stateid: stateid(r) })),
  },
  22: { name: 'PUTFH', args: (r) => ({ fh: fh(r) }), res: STATUS_ONLY },
  23: { name: 'PUTPUBFH', args: NONE, res: STATUS_ONLY },
  24: { name: 'PUTROOTFH', args: NONE, res: STATUS_ONLY },
  25: {
    name: 'READ',
    args: (r) => {
      const sid = stateid(r);
      const offset = u64(r);
      return { stateid: sid, offset, count: r.u32() };
    },
    res: ok((r) => {
      const eof = r.bool();
      // Over RDMA the data may be in a write chunk (RFC 8267): only its length is here.
      return { eof, count: r.skipDataItem() };
    }),
  },
  26: {
    name: 'READDIR',
    args: (r) => {
      const cookie = u64(r);
      const cookieverf = hex8(r);
      const dircount = r.u32();
      const maxcount = r.u32();
      return { cookie, cookieverf, dircount, maxcount, attrRequest: bitsOf(bitmap(r)) };
    },
    res: ok(readdirRes),
  },
  27: {
    name: 'READLINK',
    args: NONE,
    res: ok((r) => {
      // Over RDMA the link may be in a write chunk (RFC 8267): then only its length is known.
      const link = r.dataItemString(STRING_LIMIT);
      return link.text !== undefined ? { link: link.text } : { linkLength: link.length };
    }),
  },
  28: { name: 'REMOVE', args: (r) => ({ name: component(r) }), res: ok((r) => ({ cinfo: changeInfo(r) })) },
  29: {
    name: 'RENAME',
    args: (r) => ({ oldname: component(r), newname: component(r) }),
    res: ok((r) => ({ sourceCinfo: changeInfo(r), targetCinfo: changeInfo(r) })),
  },
  30: { name: 'RENEW', args: (r) => ({ clientid: hex8(r) }), res: STATUS_ONLY },
  31: { name: 'RESTOREFH', args: NONE, res: STATUS_ONLY },
  32: { name: 'SAVEFH', args: NONE, res: STATUS_ONLY },
  33: { name: 'SECINFO', args: (r) => ({ name: component(r) }), res: ok(secinfoRes) },
  34: {
    name: 'SETATTR',
    args: (r) => ({ stateid: stateid(r), ...fattr(r) }),
    // SETATTR4res carries attrsset whatever the status.
    res: (r) => ({ attrsset: bitsOf(bitmap(r)).map((n) => ATTR_NAMES[n] ?? `attr${n}`) }),
  },
  35: {
    name: 'SETCLIENTID',
    args: (r) => {
      const verifier = hex8(r);
      const id = r.opaque(OPAQUE_LIMIT);
      const cbProgram = r.u32();
      const { netid, addr } = netaddr(r);
      return { verifier, id: printable(id), cbProgram, netid, addr, callbackIdent: r.u32() };
    },
    res: (r, status) =>
      status === 0 ? { clientid: hex8(r), confirm: hex8(r) } : status === NFS4ERR_CLID_INUSE ? { clientUsing: netaddr(r) } : undefined,
  },
  36: { name: 'SETCLIENTID_CONFIRM', args: (r) => ({ clientid: hex8(r), confirm: hex8(r) }), res: STATUS_ONLY },
  37: { name: 'VERIFY', args: (r) => fattr(r), res: STATUS_ONLY },
  38: {
    name: 'WRITE',
    args: (r) => {
      const sid = stateid(r);
      const offset = u64(r);
      const stable = r.u32();
      return { stateid: sid, offset, stable, count: r.skipOpaque() };
    },
    res: ok((r) => {
      const count = r.u32();
      const committed = r.u32();
      return { count, committed, verifier: hex8(r) };
    }),
  },
  39: { name: 'RELEASE_LOCKOWNER', args: (r) => ({ owner: lockOwner(r) }), res: STATUS_ONLY },
  40: {
    name: 'BACKCHANNEL_CTL',
    args: (r) => ({ cbProgram: r.u32(), secParms: r.array(ARRAY_LIMIT, callbackSecParms) }),
    res: STATUS_ONLY,
  },
  41: {
    name: 'BIND_CONN_TO_SESSION',
    args: (r) => ({ sessionid: sessionId(r), dir: r.u32(), useConnInRdmaMode: r.bool() }),
    res: ok((r) => ({ sessionid: sessionId(r), dir: r.u32(), useConnInRdmaMode: r.bool() })),
  },
  42: { name: 'EXCHANGE_ID', args: exchangeIdArgs, res: ok(exchangeIdRes) },
  43: { name: 'CREATE_SESSION', args: createSessionArgs, res: ok(createSessionRes) },
  44: { name: 'DESTROY_SESSION', args: (r) => ({ sessionid: sessionId(r) }), res: STATUS_ONLY },
  45: { name: 'FREE_STATEID', args: stateidArg, res: STATUS_ONLY },
  46: {
    name: 'GET_DIR_DELEGATION',
    args: (r) => {
      const signalDelegAvail = r.bool();
      const notificationTypes = bitsOf(bitmap(r));
      const childAttrDelay = nfstime(r);
      const dirAttrDelay = nfstime(r);
      const childAttributes = bitsOf(bitmap(r));
      return { signalDelegAvail, notificationTypes, childAttrDelay, dirAttrDelay, childAttributes, dirAttributes: bitsOf(bitmap(r)) };
    },
    res: ok(getDirDelegationRes),
  },
  47: {
    name: 'GETDEVICEINFO',
    args: (r) => {
      const deviceid = hex(r.opaqueFixed(16));
      const layoutType = r.u32();
      const maxcount = r.u32();
      return { deviceid, layoutType, maxcount, notifyTypes: bitsOf(bitmap(r)) };
    },
    res: (r, status) => {
      if (status === NFS4ERR_TOOSMALL) return { mincount: r.u32() };
      if (status !== 0) return undefined;
      const deviceAddr = typedBody(r);
      return { deviceAddr, notification: bitsOf(bitmap(r)) };
    },
  },
  48: {
    name: 'GETDEVICELIST',
    args: (r) => {
      const layoutType = r.u32();
      const maxdevices = r.u32();
      const cookie = u64(r);
      return { layoutType, maxdevices, cookie, cookieverf: hex8(r) };
    },
    res: ok((r) => {
      const cookie = u64(r);
      const cookieverf = hex8(r);
      const deviceids = r.array(ARRAY_LIMIT, (x) => hex(x.opaqueFixed(16)));
      return { cookie, cookieverf, deviceids, eof: r.bool() };
    }),
  },
  49: {
    name: 'LAYOUTCOMMIT',
    args: (r) => {
      const offset = u64(r);
      const length = u64(r);
      const reclaim = r.bool();
      const sid = stateid(r);
      const lastWriteOffset = newoffset(r);
      const timeModify = r.bool() ? nfstime(r) : undefined;
      return { offset, length, reclaim, stateid: sid, lastWriteOffset, timeModify, layoutupdate: typedBody(r) };
    },
    res: ok((r) => ({ newSize: newoffset(r) })),
  },
  50: {
    name: 'LAYOUTGET',
    args: (r) => {
      const signalLayoutAvail = r.bool();
      const layoutType = r.u32();
      const iomode = r.u32();
      const offset = u64(r);
      const length = u64(r);
      const minlength = u64(r);
      const sid = stateid(r);
      return { signalLayoutAvail, layoutType, iomode, offset, length, minlength, stateid: sid, maxcount: r.u32() };
    },
    res: layoutgetRes,
  },
  51: {
    name: 'LAYOUTRETURN',
    args: layoutreturnArgs,
    res: ok((r) => (r.bool() ? { stateid: stateid(r) } : {})),
  },
  52: { name: 'SECINFO_NO_NAME', args: (r) => ({ style: r.u32() }), res: ok(secinfoRes) },
  53: {
    name: 'SEQUENCE',
    args: (r) => {
      const sessionid = sessionId(r);
      const sequenceid = r.u32();
      const slotid = r.u32();
      const highestSlotid = r.u32();
      return { sessionid, sequenceid, slotid, highestSlotid, cachethis: r.bool() };
    },
    res: ok((r) => {
      const sessionid = sessionId(r);
      const sequenceid = r.u32();
      const slotid = r.u32();
      const highestSlotid = r.u32();
      const targetHighestSlotid = r.u32();
      return { sessionid, sequenceid, slotid, highestSlotid, targetHighestSlotid, statusFlags: r.u32() };
    }),
  },
  54: {
    name: 'SET_SSV',
    args: (r) => ({ ssvLength: r.skipOpaque(), digestLength: r.skipOpaque() }),
    res: ok((r) => ({ digestLength: r.skipOpaque() })),
  },
  55: {
    name: 'TEST_STATEID',
    args: (r) => ({ stateids: r.array(ARRAY_LIMIT, stateid) }),
    res: ok((r) => ({ statusCodes: r.array(ARRAY_LIMIT, (x) => x.u32()) })),
  },
  56: {
    name: 'WANT_DELEGATION',
    args: (r) => {
      const want = r.u32();
      const at = r.pos;
      const claim = r.u32();
      if (claim === 1) return { want, claim: CLAIMS[claim], delegateType: r.u32() };
      if (claim !== 4 && claim !== 6) r.markMalformed(at);
      return { want, claim: CLAIMS[claim] ?? claim };
    },
    res: ok((r) => ({ delegation: openDelegation(r) })),
  },
  57: { name: 'DESTROY_CLIENTID', args: (r) => ({ clientid: hex8(r) }), res: STATUS_ONLY },
  58: { name: 'RECLAIM_COMPLETE', args: (r) => ({ oneFs: r.bool() }), res: STATUS_ONLY },
  59: { name: 'ALLOCATE', args: rangeArgs, res: STATUS_ONLY },
  60: {
    name: 'COPY',
    args: (r) => {
      const srcStateid = stateid(r);
      const dstStateid = stateid(r);
      const srcOffset = u64(r);
      const dstOffset = u64(r);
      const count = u64(r);
      const consecutive = r.bool();
      const synchronous = r.bool();
      return { srcStateid, dstStateid, srcOffset, dstOffset, count, consecutive, synchronous, srcServers: r.array(ARRAY_LIMIT, netloc) };
    },
    res: (r, status) => {
      const requirements = (x: XdrReader): Obj => ({ consecutive: x.bool(), synchronous: x.bool() });
      if (status === NFS4ERR_OFFLOAD_NO_REQS) return { requirements: requirements(r) };
      if (status !== 0) return undefined;
      const response = writeResponse(r);
      return { response, requirements: requirements(r) };
    },
  },
  61: {
    name: 'COPY_NOTIFY',
    args: (r) => ({ srcStateid: stateid(r), destination: netloc(r) }),
    res: ok((r) => {
      const leaseTime = nfstime(r);
      const sid = stateid(r);
      return { leaseTime, stateid: sid, sourceServers: r.array(ARRAY_LIMIT, netloc) };
    }),
  },
  62: { name: 'DEALLOCATE', args: rangeArgs, res: STATUS_ONLY },
  63: {
    name: 'IO_ADVISE',
    args: (r) => {
      const sid = stateid(r);
      const offset = u64(r);
      const count = u64(r);
      return { stateid: sid, offset, count, hints: bitsOf(bitmap(r)) };
    },
    res: ok((r) => ({ hints: bitsOf(bitmap(r)) })),
  },
  64: {
    name: 'LAYOUTERROR',
    args: (r) => {
      const offset = u64(r);
      const length = u64(r);
      const sid = stateid(r);
      const errors = r.array(ARRAY_LIMIT, (x) => {
        const deviceid = hex(x.opaqueFixed(16));
        const status = x.u32();
        return { deviceid, status, opnum: x.u32() };
      });
      return { offset, length, stateid: sid, errors };
    },
    res: STATUS_ONLY,
  },
  65: {
    name: 'LAYOUTSTATS',
    args: (r) => {
      const offset = u64(r);
      const length = u64(r);
      const sid = stateid(r);
      const read = ioInfo(r);
      const write = ioInfo(r);
      const deviceid = hex(r.opaqueFixed(16));
      return { offset, length, stateid: sid, read, write, deviceid, layoutupdate: typedBody(r) };
    },
    res: STATUS_ONLY,
  },
  66: { name: 'OFFLOAD_CANCEL', args: stateidArg, res: STATUS_ONLY },
  67: {
    name: 'OFFLOAD_STATUS',
    args: stateidArg,
    res: ok((r) => {
      const count = u64(r);
      const complete = r.array(1, (x) => x.u32());
      return complete.length > 0 ? { count, complete: complete[0] } : { count };
    }),
  },
  68: {
    name: 'READ_PLUS',
    args: (r) => {
      const sid = stateid(r);
      const offset = u64(r);
      return { stateid: sid, offset, count: r.u32() };
    },
    res: ok(readPlusRes),
  },
  69: {
    name: 'SEEK',
    args: (r) => {
      const sid = stateid(r);
      const offset = u64(r);
      return { stateid: sid, offset, what: r.u32() === 0 ? 'DATA' : 'HOLE' };
    },
    res: ok((r) => ({ eof: r.bool(), offset: u64(r) })),
  },
  70: {
    name: 'WRITE_SAME',
    args: (r) => {
      const sid = stateid(r);
      const stable = r.u32();
      return { stateid: sid, stable, block: appDataBlock(r) };
    },
    res: ok((r) => ({ response: writeResponse(r) })),
  },
  71: {
    name: 'CLONE',
    args: (r) => {
      const srcStateid = stateid(r);
      const dstStateid = stateid(r);
      const srcOffset = u64(r);
      const dstOffset = u64(r);
      return { srcStateid, dstStateid, srcOffset, dstOffset, count: u64(r) };
    },
    res: STATUS_ONLY,
  },
  72: { name: 'GETXATTR', args: (r) => ({ name: component(r) }), res: ok((r) => ({ valueLength: r.skipOpaque() })) },
  73: {
    name: 'SETXATTR',
    args: (r) => {
      const option = r.u32();
      const name = component(r);
      return { option, name, valueLength: r.skipOpaque() };
    },
    res: ok((r) => ({ cinfo: changeInfo(r) })),
  },
  74: {
    name: 'LISTXATTRS',
    args: (r) => ({ cookie: u64(r), maxcount: r.u32() }),
    res: ok((r) => {
      const cookie = u64(r);
      const names = r.array(ARRAY_LIMIT, component);
      return { cookie, names, eof: r.bool() };
    }),
  },
  75: { name: 'REMOVEXATTR', args: (r) => ({ name: component(r) }), res: ok((r) => ({ cinfo: changeInfo(r) })) },
  10044: { name: 'ILLEGAL', args: NONE, res: STATUS_ONLY },
};

export const OP_NUMBERS = new Map<string, number>(Object.entries(OPS).map(([k, v]) => [v.name, Number(k)]));
