/**
 * NLM, the Network Lock Manager: versions 1-3 (X/Open XNFS, 32-bit offsets
 * and lengths) and 4 (XNFS / RFC 1813 era NFSv3 locking, 64-bit). Layouts as
 * Wireshark's packet-nlm.c dissects them.
 *
 * Statuses: nlm4_stats names for version 4 (NLM4_GRANTED … NLM4_FAILED),
 * nlm_stats names for versions 1-3 (LCK_GRANTED … LCK_DEADLCK); unknown
 * numbers read as `nlm4_stats(N)` / `nlm_stats(N)`.
 *
 * The asynchronous forms: a _MSG call (TEST_MSG … GRANTED_MSG) carries the
 * synchronous call's arguments and has a void reply; a _RES call
 * (TEST_RES … GRANTED_RES) carries the result as its arguments: its status
 * is in DecodedCall.args (`status`, `statusCode`, plus the TEST holder) and
 * its own reply is void. Void replies (NULL, _MSG, _RES, FREE_ALL) report
 * status "OK", statusCode 0. A reply cut before its status reports
 * "UNKNOWN", -1, with `stop`.
 *
 * The lock's file handle is reported as `fh` (lowercase hex) on the call.
 * Offsets and lengths are numbers when exact, else decimal strings.
 */
import type { DecodedCall, DecodedReply, ProgramDecoder } from './decoded.js';
import { PROG_NLM, procedureName } from './programs.js';
import type { XdrReader } from './xdr.js';
import { type Obj, hyper, put, statuslessReply, stopOf, undecodableReply } from './decode-util.js';

/** XNFS: LM_MAXSTRLEN (caller names), MAXNETOBJ_SZ (netobj), MAXNAMELEN (FREE_ALL name). */
const LM_MAXSTRLEN = 1024;
const MAXNETOBJ_SZ = 1024;
const MAXNAMELEN = 1025;

const NLM_NULL = 0;
const NLM_TEST = 1;
const NLM_LOCK = 2;
const NLM_CANCEL = 3;
const NLM_UNLOCK = 4;
const NLM_GRANTED = 5;
const NLM_TEST_MSG = 6;
const NLM_GRANTED_MSG = 10;
const NLM_TEST_RES = 11;
const NLM_GRANTED_RES = 15;
const NLM_SHARE = 20;
const NLM_UNSHARE = 21;
const NLM_NM_LOCK = 22;
const NLM_FREE_ALL = 23;
const DENIED = 1;

/** nlm4_stats (index = value). */
export const NLM4_STATS = [
  'NLM4_GRANTED',
  'NLM4_DENIED',
  'NLM4_DENIED_NOLOCKS',
  'NLM4_BLOCKED',
  'NLM4_DENIED_GRACE_PERIOD',
  'NLM4_DEADLCK',
  'NLM4_ROFS',
  'NLM4_STALE_FH',
  'NLM4_FBIG',
  'NLM4_FAILED',
] as const;
/** nlm_stats of versions 1-3 (XNFS; LCK_DEADLCK from Sun's nlm_prot.x). */
export const NLM_STATS = ['LCK_GRANTED', 'LCK_DENIED', 'LCK_DENIED_NOLOCKS', 'LCK_BLOCKED', 'LCK_DENIED_GRACE_PERIOD', 'LCK_DEADLCK'] as const;

export function nlmStatName(version: number, code: number): string {
  if (version === 4) return NLM4_STATS[code] ?? `nlm4_stats(${code})`;
  return NLM_STATS[code] ?? `nlm_stats(${code})`;
}

/** fsh_mode / fsh_access of SHARE (index = value). */
const FSH_MODE = ['fsm_DN', 'fsm_DR', 'fsm_DW', 'fsm_DRW'];
const FSH_ACCESS = ['fsa_NONE', 'fsa_R', 'fsa_W', 'fsa_RW'];

/** An offset or length: 64 bits in version 4, 32 bits before. */
function range(r: XdrReader, version: number): number | string {
  return version === 4 ? hyper(r) : r.u32();
}

function netobj(r: XdrReader): string {
  return r.opaque(MAXNETOBJ_SZ).toString('hex');
}

/** nlm4_lock / nlm_lock: caller_name, fh, oh, svid, l_offset, l_len. */
function lock(r: XdrReader, version: number, o: Obj, c: DecodedCall): void {
  put(r, o, 'callerName', r.string(LM_MAXSTRLEN));
  const fh = netobj(r);
  if (r.ok) {
    o.fh = fh;
    c.fh = fh;
  }
  put(r, o, 'owner', netobj(r));
  put(r, o, 'svid', r.i32());
  put(r, o, 'offset', range(r, version));
  put(r, o, 'length', range(r, version));
}

/** nlm4_holder: exclusive, svid, oh, l_offset, l_len. */
function holder(r: XdrReader, version: number): Obj {
  const h: Obj = {};
  put(r, h, 'exclusive', r.bool());
  put(r, h, 'svid', r.i32());
  put(r, h, 'owner', netobj(r));
  put(r, h, 'offset', range(r, version));
  put(r, h, 'length', range(r, version));
  return h;
}

/**
 * The arguments of TEST/LOCK/CANCEL/UNLOCK/GRANTED and their _MSG forms
 * (`base` is the synchronous procedure) and of NM_LOCK (as LOCK).
 */
function lockArgs(r: XdrReader, version: number, base: number, c: DecodedCall): Obj {
  const a: Obj = {};
  put(r, a, 'cookie', netobj(r));
  if (base === NLM_LOCK || base === NLM_CANCEL) put(r, a, 'block', r.bool());
  if (base !== NLM_UNLOCK) put(r, a, 'exclusive', r.bool());
  const l: Obj = {};
  lock(r, version, l, c);
  a.lock = l;
  if (base === NLM_LOCK) {
    put(r, a, 'reclaim', r.bool());
    put(r, a, 'state', r.i32());
  }
  return a;
}

/** nlm4_res / nlm4_testres (TEST adds the holder when denied) into `o`; returns the status or -1. */
function result(r: XdrReader, version: number, test: boolean, o: Obj): number {
  put(r, o, 'cookie', netobj(r));
  const code = r.u32();
  if (!r.ok) return -1;
  o.status = nlmStatName(version, code);
  o.statusCode = code;
  if (test && code === DENIED) o.holder = holder(r, version);
  return code;
}

/** nlm4_share: caller_name, fh, oh, mode, access. */
function share(r: XdrReader, o: Obj, c: DecodedCall): void {
  put(r, o, 'callerName', r.string(LM_MAXSTRLEN));
  const fh = netobj(r);
  if (r.ok) {
    o.fh = fh;
    c.fh = fh;
  }
  put(r, o, 'owner', netobj(r));
  const mode = r.u32();
  put(r, o, 'mode', FSH_MODE[mode] ?? String(mode));
  const access = r.u32();
  put(r, o, 'access', FSH_ACCESS[access] ?? String(access));
}

function known(procedure: number): boolean {
  return (procedure >= NLM_NULL && procedure <= NLM_GRANTED_RES) || (procedure >= NLM_SHARE && procedure <= NLM_FREE_ALL);
}

export const nlmDecoder: ProgramDecoder = {
  program: PROG_NLM,
  versions: [1, 2, 3, 4],

  decodeCall(r, version, procedure) {
    const name = procedureName(PROG_NLM, version, procedure);
    const c: DecodedCall = { ops: [name], mainOp: name, args: {} };
    if (!known(procedure)) {
      r.markMalformed();
    } else if (procedure >= NLM_TEST && procedure <= NLM_GRANTED) {
      c.args = lockArgs(r, version, procedure, c);
    } else if (procedure >= NLM_TEST_MSG && procedure <= NLM_GRANTED_MSG) {
      c.args = lockArgs(r, version, procedure - (NLM_TEST_MSG - NLM_TEST), c);
    } else if (procedure >= NLM_TEST_RES && procedure <= NLM_GRANTED_RES) {
      const a: Obj = {};
      result(r, version, procedure === NLM_TEST_RES, a);
      c.args = a;
    } else if (procedure === NLM_SHARE || procedure === NLM_UNSHARE) {
      const a: Obj = {};
      put(r, a, 'cookie', netobj(r));
      const s: Obj = {};
      share(r, s, c);
      a.share = s;
      put(r, a, 'reclaim', r.bool());
      c.args = a;
    } else if (procedure === NLM_NM_LOCK) {
      c.args = lockArgs(r, version, NLM_LOCK, c);
    } else if (procedure === NLM_FREE_ALL) {
      const a: Obj = {};
      put(r, a, 'name', r.string(MAXNAMELEN));
      put(r, a, 'state', r.i32());
      c.args = a;
    }
    const stop = stopOf(r);
    if (stop !== undefined) c.stop = stop;
    return c;
  },

  decodeReply(r, version, procedure) {
    if (!known(procedure)) {
      r.markMalformed();
      return undecodableReply(r);
    }
    const results: Obj = {};
    // NULL, the _MSG and _RES forms and FREE_ALL: void results.
    const d: DecodedReply = statuslessReply(results);
    const withStatus = (procedure >= NLM_TEST && procedure <= NLM_GRANTED) || (procedure >= NLM_SHARE && procedure <= NLM_NM_LOCK);
    if (withStatus) {
      const code = result(r, version, procedure === NLM_TEST, results);
      if (code < 0) return { status: 'UNKNOWN', statusCode: -1, results, stop: stopOf(r)! };
      d.status = results.status as string;
      d.statusCode = code;
      if (procedure === NLM_SHARE || procedure === NLM_UNSHARE) put(r, results, 'sequence', r.i32());
    }
    const stop = stopOf(r);
    if (stop !== undefined) d.stop = stop;
    return d;
  },
};
