/**
 * ONC RPC version 2 message headers (RFC 5531), with the credentials nfsight
 * reads: AUTH_SYS and RPCSEC_GSS (RFC 2203).
 *
 *   rpc_msg    = xid, msg_type (CALL | REPLY), body
 *   call_body  = rpcvers (2), prog, vers, proc, cred: opaque_auth, verf: opaque_auth, args...
 *   reply_body = reply_stat
 *     MSG_ACCEPTED: verf: opaque_auth, accept_stat
 *        SUCCESS: results...   PROG_MISMATCH: low, high   others: void
 *     MSG_DENIED: reject_stat
 *        RPC_MISMATCH: low, high   AUTH_ERROR: auth_stat
 *
 * A header that is cut by the capture keeps what was read before the cut:
 * a call cut inside its credential still says which procedure it calls, so
 * it can be matched with its reply. Only a message whose fixed part (up to
 * proc for a call, reply_stat for a reply) is unreadable or impossible is
 * 'invalid'.
 */
import type { XdrReader, XdrStatus } from './xdr.js';

/** rpcvers of every RPC version 2 call. */
export const RPC_VERSION = 2;

// msg_type
export const CALL = 0;
export const REPLY = 1;

// reply_stat
export const MSG_ACCEPTED = 0;
export const MSG_DENIED = 1;

// accept_stat
export const SUCCESS = 0;
export const PROG_UNAVAIL = 1;
export const PROG_MISMATCH = 2;
export const PROC_UNAVAIL = 3;
export const GARBAGE_ARGS = 4;
export const SYSTEM_ERR = 5;

// reject_stat
export const RPC_MISMATCH = 0;
export const AUTH_ERROR = 1;

// auth_stat (RFC 5531 §9; 13 and 14 from RFC 2203 §5.3.3.3)
export const AUTH_OK = 0;
export const AUTH_BADCRED = 1;
export const AUTH_REJECTEDCRED = 2;
export const AUTH_BADVERF = 3;
export const AUTH_REJECTEDVERF = 4;
export const AUTH_TOOWEAK = 5;
export const AUTH_INVALIDRESP = 6;
export const AUTH_FAILED = 7;
export const AUTH_KERB_GENERIC = 8;
export const AUTH_TIMEEXPIRE = 9;
export const AUTH_TKT_FILE = 10;
export const AUTH_DECODE = 11;
export const AUTH_NET_ADDR = 12;
export const RPCSEC_GSS_CREDPROBLEM = 13;
export const RPCSEC_GSS_CTXPROBLEM = 14;

// auth_flavor (RFC 5531 Appendix C; AUTH_TLS from RFC 9289)
export const AUTH_NONE = 0;
export const AUTH_SYS = 1;
export const AUTH_SHORT = 2;
export const AUTH_DH = 3;
export const AUTH_KERB = 4;
export const AUTH_RSA = 5;
export const RPCSEC_GSS = 6;
export const AUTH_TLS = 7;

/** opaque_auth bodies are at most this long (RFC 5531 §8.2: `opaque body<400>`). */
export const MAX_AUTH_BYTES = 400;
/** authsys_parms bounds (RFC 5531 Appendix A): `string machinename<255>`, `unsigned int gids<16>`. */
export const AUTH_SYS_MAX_MACHINE_NAME = 255;
export const AUTH_SYS_MAX_GIDS = 16;

// RPCSEC_GSS (RFC 2203 §5)
export const RPCSEC_GSS_VERS_1 = 1;
export const RPCSEC_GSS_DATA = 0;
export const RPCSEC_GSS_INIT = 1;
export const RPCSEC_GSS_CONTINUE_INIT = 2;
export const RPCSEC_GSS_DESTROY = 3;
export const RPC_GSS_SVC_NONE = 1;
export const RPC_GSS_SVC_INTEGRITY = 2;
export const RPC_GSS_SVC_PRIVACY = 3;

// ---- names ----------------------------------------------------------------

const MSG_TYPE_NAMES = ['CALL', 'REPLY'];
const REPLY_STAT_NAMES = ['MSG_ACCEPTED', 'MSG_DENIED'];
const ACCEPT_STAT_NAMES = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'];
const REJECT_STAT_NAMES = ['RPC_MISMATCH', 'AUTH_ERROR'];
const AUTH_STAT_NAMES = [
  'AUTH_OK', 'AUTH_BADCRED', 'AUTH_REJECTEDCRED', 'AUTH_BADVERF', 'AUTH_REJECTEDVERF', 'AUTH_TOOWEAK',
  'AUTH_INVALIDRESP', 'AUTH_FAILED', 'AUTH_KERB_GENERIC', 'AUTH_TIMEEXPIRE', 'AUTH_TKT_FILE', 'AUTH_DECODE',
  'AUTH_NET_ADDR', 'RPCSEC_GSS_CREDPROBLEM', 'RPCSEC_GSS_CTXPROBLEM',
];
const FLAVOR_NAMES: Readonly<Record<number, string>> = {
  [AUTH_NONE]: 'AUTH_NONE',
  [AUTH_SYS]: 'AUTH_SYS',
  [AUTH_SHORT]: 'AUTH_SHORT',
  [AUTH_DH]: 'AUTH_DH',
  [AUTH_KERB]: 'AUTH_KERB',
  [AUTH_RSA]: 'AUTH_RSA',
  [RPCSEC_GSS]: 'RPCSEC_GSS',
  [AUTH_TLS]: 'AUTH_TLS',
  // Pseudo-flavors (RFC 2623 §2.2): never in an RPC header, but in the
  // flavor lists of MOUNT replies and NFSv4 SECINFO.
  390003: 'RPCSEC_GSS_KRB5',
  390004: 'RPCSEC_GSS_KRB5I',
  390005: 'RPCSEC_GSS_KRB5P',
  390006: 'RPCSEC_GSS_LIPKEY',
  390007: 'RPCSEC_GSS_LIPKEY_I',
  390008: 'RPCSEC_GSS_LIPKEY_P',
  390009: 'RPCSEC_GSS_SPKM3',
  390010: 'RPCSEC_GSS_SPKM3I',
  390011: 'RPCSEC_GSS_SPKM3P',
};
const GSS_PROC_NAMES = ['RPCSEC_GSS_DATA', 'RPCSEC_GSS_INIT', 'RPCSEC_GSS_CONTINUE_INIT', 'RPCSEC_GSS_DESTROY'];
/** Indexed by rpc_gss_service_t (1-based). */
const GSS_SERVICES: readonly (GssServiceName | undefined)[] = [undefined, 'none', 'integrity', 'privacy'];
const GSS_SERVICE_NAMES = [undefined, 'rpc_gss_svc_none', 'rpc_gss_svc_integrity', 'rpc_gss_svc_privacy'];

function nameIn(table: readonly (string | undefined)[] | Readonly<Record<number, string>>, n: number): string {
  return (table as Record<number, string | undefined>)[n] ?? String(n);
}

export const msgTypeName = (n: number): string => nameIn(MSG_TYPE_NAMES, n);
export const replyStatName = (n: number): string => nameIn(REPLY_STAT_NAMES, n);
export const acceptStatName = (n: number): string => nameIn(ACCEPT_STAT_NAMES, n);
export const rejectStatName = (n: number): string => nameIn(REJECT_STAT_NAMES, n);
export const authStatName = (n: number): string => nameIn(AUTH_STAT_NAMES, n);
export const flavorName = (n: number): string => nameIn(FLAVOR_NAMES, n);
export const gssProcName = (n: number): string => nameIn(GSS_PROC_NAMES, n);
/** RFC 2203 name of an rpc_gss_service_t (`rpc_gss_svc_integrity`). */
export const gssServiceName = (n: number): string => nameIn(GSS_SERVICE_NAMES, n);

// ---- parsed values ----------------------------------------------------------

/** An opaque_auth seen only by its flavor and length (verifiers). -1 for a field the capture cut off. */
export interface OpaqueAuthInfo {
  flavor: number;
  length: number;
}

/** authsys_parms (RFC 5531 Appendix A). */
export interface AuthSysParams {
  stamp: number;
  machine: string;
  uid: number;
  gid: number;
  gids: number[];
}

export type GssServiceName = 'none' | 'integrity' | 'privacy';

/** rpc_gss_cred_vers_1_t (RFC 2203 §5). */
export interface GssCredential {
  version: number;
  /** rpc_gss_proc_t: DATA, INIT, CONTINUE_INIT, DESTROY. */
  proc: number;
  seq: number;
  service: number;
  serviceName: GssServiceName;
  /** The context handle: a copy of its bytes (a Buffer of its own). */
  context: Buffer;
}

export interface Credential {
  /** -1 when the capture cut the header before it. */
  flavor: number;
  /** Body length; -1 when cut before it. */
  length: number;
  /** Whether the body was read whole ('ok' also for flavors whose body nfsight does not parse). */
  status: XdrStatus;
  /** AUTH_SYS only. */
  sys: AuthSysParams | undefined;
  /** RPCSEC_GSS only. */
  gss: GssCredential | undefined;
}

/** Common to calls and replies: how far decoding got. */
interface HeaderState {
  /** Some header field was not captured (or not kept): the fields after it are -1 / undefined. */
  truncated: boolean;
  /** Some header field was impossible (a length above its bound, an enum out of range). */
  malformed: boolean;
  /** Offset where decoding stopped; -1 when the header was read whole. */
  errorAt: number;
}

export interface RpcCallHeader extends HeaderState {
  kind: 'call';
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: Credential;
  verf: OpaqueAuthInfo;
  /** Offset just after the verifier: the call body as on the wire (GSS-wrapped for krb5i/krb5p); -1 if cut before. */
  wireBodyOffset: number;
  /**
   * Where the procedure's arguments start, ready for the program's decoder:
   * the wire body, or for RPCSEC_GSS integrity the arguments inside
   * databody_integ (past its length and seq_num). -1 when not decodable
   * (privacy, a cut header, an unreadable GSS credential).
   */
  bodyOffset: number;
  /** Offset just past the arguments: the message end, or the end of databody_integ; -1 with bodyOffset. */
  bodyEnd: number;
  /** RPCSEC_GSS privacy: the arguments are encrypted. */
  bodyEncrypted: boolean;
}

export interface RpcReplyHeader extends HeaderState {
  kind: 'reply';
  xid: number;
  replyStat: number;
  /** MSG_ACCEPTED: the verifier. */
  verf: OpaqueAuthInfo | undefined;
  acceptStat: number | undefined;
  /** PROG_MISMATCH (accepted) or RPC_MISMATCH (denied): the versions supported. */
  mismatch: { low: number; high: number } | undefined;
  rejectStat: number | undefined;
  authStat: number | undefined;
  /**
   * Accepted SUCCESS: where the procedure's results start (for RPCSEC_GSS
   * integrity, the wrapped body: see gssIntegrityBodyOffset). -1 otherwise.
   */
  bodyOffset: number;
}

export type RpcInvalidReason =
  /** The capture cut (or did not keep) the fixed part of the header. */
  | 'truncated'
  /** The message ends before the fixed part of the header. */
  | 'too-short'
  /** msg_type is neither CALL nor REPLY. */
  | 'msg-type'
  /** A call with rpcvers other than 2. */
  | 'rpc-version'
  /** A reply with reply_stat neither MSG_ACCEPTED nor MSG_DENIED. */
  | 'reply-stat';

export interface RpcInvalidHeader {
  kind: 'invalid';
  xid: number | undefined;
  msgType: number | undefined;
  reason: RpcInvalidReason;
  /** Offset of the offending (or missing) field. */
  at: number;
  truncated: boolean;
}

export type RpcHeader = RpcCallHeader | RpcReplyHeader | RpcInvalidHeader;

// ---- decoding ---------------------------------------------------------------

function isCut(s: XdrStatus): boolean {
  return s === 'truncated' || s === 'not-kept';
}

function invalid(xid: number | undefined, msgType: number | undefined, reason: RpcInvalidReason, at: number): RpcInvalidHeader {
  return { kind: 'invalid', xid, msgType, reason, at, truncated: reason === 'truncated' };
}

/** The header could not be read up to the end of its fixed part. */
function cutShort(r: XdrReader, xid: number | undefined, msgType: number | undefined): RpcInvalidHeader {
  return invalid(xid, msgType, isCut(r.status) ? 'truncated' : 'too-short', r.errorAt);
}

/**
 * Decodes the RPC header at the reader's position (offsets in the result
 * are message offsets). Never throws. The reader is left at a call's
 * arguments (past the GSS integrity wrapping when there is one) or its wire
 * body, at an accepted SUCCESS reply's results, or where decoding stopped.
 */
export function decodeRpcHeader(r: XdrReader, memo?: AuthSysMemo): RpcHeader {
  const start = r.pos;
  const xid = r.u32();
  const msgTypeAt = r.pos;
  const msgType = r.u32();
  if (!r.ok) return cutShort(r, r.errorAt > start ? xid : undefined, undefined);
  if (msgType === CALL) return decodeCall(r, xid, memo);
  if (msgType === REPLY) return decodeReply(r, xid);
  return invalid(xid, msgType, 'msg-type', msgTypeAt);
}

function decodeCall(r: XdrReader, xid: number, memo: AuthSysMemo | undefined): RpcCallHeader | RpcInvalidHeader {
  const versAt = r.pos;
  const rpcvers = r.u32();
  if (!r.ok) return cutShort(r, xid, CALL);
  // A server answers another rpcvers with MSG_DENIED / RPC_MISMATCH; the
  // rest of such a call has no agreed layout.
  if (rpcvers !== RPC_VERSION) return invalid(xid, CALL, 'rpc-version', versAt);
  const prog = r.u32();
  const vers = r.u32();
  const proc = r.u32();
  if (!r.ok) return cutShort(r, xid, CALL);

  const h: RpcCallHeader = {
    kind: 'call',
    xid,
    rpcvers,
    prog,
    vers,
    proc,
    cred: { flavor: -1, length: -1, status: 'ok', sys: undefined, gss: undefined },
    verf: NO_VERF,
    wireBodyOffset: -1,
    bodyOffset: -1,
    bodyEnd: -1,
    bodyEncrypted: false,
    truncated: false,
    malformed: false,
    errorAt: -1,
  };
  decodeCredential(r, h, memo);
  h.verf = decodeVerifier(r);
  if (r.ok) {
    h.wireBodyOffset = r.pos;
    locateArguments(r, h);
  }
  finishState(r, h);
  return h;
}

/** Where the arguments are, given the credential's GSS wrapping (RFC 2203 §5.3.2). */
function locateArguments(r: XdrReader, h: RpcCallHeader): void {
  if (h.cred.flavor !== RPCSEC_GSS) {
    h.bodyOffset = r.pos;
    h.bodyEnd = r.end;
    return;
  }
  const gss = h.cred.gss;
  // Without a readable credential the wrapping is unknown.
  if (gss === undefined) return;
  // INIT / CONTINUE_INIT carry the context token (rpc_gss_init_arg) as
  // they are; DATA and DESTROY are wrapped per the context's service.
  const wrapped = gss.proc === RPCSEC_GSS_DATA || gss.proc === RPCSEC_GSS_DESTROY;
  if (!wrapped || gss.service === RPC_GSS_SVC_NONE) {
    h.bodyOffset = r.pos;
    h.bodyEnd = r.end;
  } else if (gss.service === RPC_GSS_SVC_INTEGRITY) {
    const start = r.pos;
    const length = r.u32();
    const off = integrityBody(r, start, length);
    if (off >= 0) {
      h.bodyOffset = off;
      h.bodyEnd = start + 4 + length;
    }
  } else {
    h.bodyEncrypted = true;
  }
}

/**
 * RPCSEC_GSS integrity (RFC 2203 §5.3.2.2): the body is
 * `opaque databody_integ<>` holding `seq_num, args`, then a checksum.
 * Called with the reader after the length word; returns the offset of the
 * arguments (or results), -1 if unreadable.
 */
function integrityBody(r: XdrReader, start: number, length: number): number {
  if (!r.ok) return -1;
  // databody_integ holds at least its seq_num, and fits in the message.
  if (length < 4 || length > r.remaining) {
    r.markMalformed(start);
    return -1;
  }
  r.u32(); // seq_num: the credential's, repeated under the checksum
  return r.ok ? r.pos : -1;
}

/**
 * For a reply (or call) whose context uses RPCSEC_GSS integrity: with the
 * reader at the body (a reply header's bodyOffset), reads the databody
 * length and seq_num and returns where the results start; -1 if the
 * wrapping is cut or malformed (see the reader's status).
 */
export function gssIntegrityBodyOffset(r: XdrReader): number {
  const start = r.pos;
  const length = r.u32();
  return integrityBody(r, start, length);
}

function decodeReply(r: XdrReader, xid: number): RpcReplyHeader | RpcInvalidHeader {
  const statAt = r.pos;
  const replyStat = r.u32();
  if (!r.ok) return cutShort(r, xid, REPLY);
  if (replyStat !== MSG_ACCEPTED && replyStat !== MSG_DENIED) return invalid(xid, REPLY, 'reply-stat', statAt);
  const h: RpcReplyHeader = {
    kind: 'reply',
    xid,
    replyStat,
    verf: undefined,
    acceptStat: undefined,
    mismatch: undefined,
    rejectStat: undefined,
    authStat: undefined,
    bodyOffset: -1,
    truncated: false,
    malformed: false,
    errorAt: -1,
  };
  if (replyStat === MSG_ACCEPTED) {
    h.verf = decodeVerifier(r);
    const at = r.pos;
    const stat = r.u32();
    if (r.ok) {
      h.acceptStat = stat;
      if (stat === SUCCESS) h.bodyOffset = r.pos;
      else if (stat === PROG_MISMATCH) h.mismatch = readMismatch(r);
      else if (stat > SYSTEM_ERR) r.markMalformed(at);
    }
  } else {
    const at = r.pos;
    const stat = r.u32();
    if (r.ok) {
      h.rejectStat = stat;
      if (stat === RPC_MISMATCH) h.mismatch = readMismatch(r);
      else if (stat === AUTH_ERROR) {
        const authStat = r.u32();
        if (r.ok) h.authStat = authStat;
      } else r.markMalformed(at);
    }
  }
  finishState(r, h);
  return h;
}

function readMismatch(r: XdrReader): { low: number; high: number } | undefined {
  const low = r.u32();
  const high = r.u32();
  return r.ok ? { low, high } : undefined;
}

/**
 * Sets the header's state from the reader's, keeping a credential body's
 * earlier error (recorded by decodeCredential): the header stopped being
 * whole where the first byte went missing.
 */
function finishState(r: XdrReader, h: HeaderState): void {
  if (isCut(r.status)) h.truncated = true;
  if (r.status === 'malformed') h.malformed = true;
  if (r.errorAt >= 0 && (h.errorAt < 0 || r.errorAt < h.errorAt)) h.errorAt = r.errorAt;
}

/** A shared "not read" verifier: headers are values, never mutated in place after decoding. */
const NO_VERF: OpaqueAuthInfo = Object.freeze({ flavor: -1, length: -1 });

/** A verifier: flavor and length, body skipped (it is a checksum or empty). */
function decodeVerifier(r: XdrReader): OpaqueAuthInfo {
  const flavor = r.u32();
  if (!r.ok) return NO_VERF;
  const length = r.skipOpaque(MAX_AUTH_BYTES);
  return { flavor, length: r.ok ? length : -1 };
}

/** Reads the credential into `h.cred`; a body that does not decode marks `h` (the reader goes on). */
function decodeCredential(r: XdrReader, h: RpcCallHeader, memo: AuthSysMemo | undefined): void {
  const cred = h.cred;
  const flavor = r.u32();
  if (!r.ok) {
    cred.status = r.status;
    return;
  }
  cred.flavor = flavor;
  const lengthAt = r.pos;
  const length = r.u32();
  if (!r.ok) {
    cred.status = r.status;
    return;
  }
  if (length > MAX_AUTH_BYTES) {
    r.markMalformed(lengthAt);
    cred.status = 'malformed';
    return;
  }
  cred.length = length;
  // A body seen before (decoded well, byte for byte): its value again.
  const known = flavor === AUTH_SYS && memo !== undefined ? memo.find(r, length) : -1;
  if (known >= 0) {
    r.skipBytes(length);
    r.skipBytes((4 - (length & 3)) & 3);
    if (!r.ok) {
      cred.status = r.status;
      return;
    }
    cred.sys = memo!.value(known);
    cred.status = 'ok';
    return;
  }
  // The body is read through a sub-reader: a bad body spoils the
  // credential, not the header, whose layout the length already fixes.
  const body = r.sub(length);
  r.skipBytes((4 - (length & 3)) & 3);
  if (!r.ok) {
    cred.status = r.status;
    return;
  }
  if (flavor === AUTH_SYS) cred.sys = decodeAuthSys(body);
  else if (flavor === RPCSEC_GSS) cred.gss = decodeGssCred(body);
  else return;
  // Bytes left over mean the body was not what its flavor says.
  if (body.ok && body.remaining !== 0) body.markMalformed();
  cred.status = body.status;
  if (!body.ok) {
    cred.sys = undefined;
    cred.gss = undefined;
    finishState(body, h);
  } else if (flavor === AUTH_SYS && memo !== undefined && cred.sys !== undefined) memo.remember(r, r.pos - ((length + 3) & ~3), length, cred.sys);
}

/** Slots of an AuthSysMemo (a client sends one credential; a capture holds a few dozen clients). */
const AUTH_SYS_MEMO_SLOTS = 64;

/**
 * AUTH_SYS credentials decoded before, by their bytes. A client sends the
 * same credential call after call (the Linux client: stamp 0, its machine
 * name, uid, gid and groups), and decoding it (a string, a list of group
 * ids, the sub-reader) was a good part of an RPC header's cost. A caller
 * that decodes many headers holds one and passes it to decodeRpcHeader: a
 * body equal byte for byte to one remembered (only well-formed bodies
 * are) gets the same decoded value, which nothing may change. A table of
 * AUTH_SYS_MEMO_SLOTS entries, an entry by a hash of the body's length and
 * its first and last words; a body wholly in the message's head only.
 */
export class AuthSysMemo {
  private readonly bytes: (Buffer | undefined)[] = new Array<Buffer | undefined>(AUTH_SYS_MEMO_SLOTS).fill(undefined);
  private readonly values: (AuthSysParams | undefined)[] = new Array<AuthSysParams | undefined>(AUTH_SYS_MEMO_SLOTS).fill(undefined);
  /** Bodies answered from memory, and decoded (tests). */
  hits = 0;
  misses = 0;

  /** The slot of a remembered body equal to the `length` bytes at the reader's position, or −1. Does not move the reader. */
  find(r: XdrReader, length: number): number {
    const head = r.headSpan(length);
    if (head === undefined) return -1;
    const at = r.pos;
    const slot = slotOf(head, at, length);
    const b = this.bytes[slot];
    if (b !== undefined && b.length === length) {
      let i = 0;
      while (i < length && b[i] === head[at + i]) i++;
      if (i === length) {
        this.hits++;
        return slot;
      }
    }
    this.misses++;
    return -1;
  }

  value(slot: number): AuthSysParams {
    return this.values[slot]!;
  }

  /** Remembers the body of `length` bytes at message offset `at` (in the head) as decoding to `value`. */
  remember(r: XdrReader, at: number, length: number, value: AuthSysParams): void {
    const head = r.headSpanAt(at, length);
    if (head === undefined) return;
    const slot = slotOf(head, at, length);
    const b = this.bytes[slot];
    const copy = b !== undefined && b.length === length ? b : Buffer.allocUnsafe(length);
    head.copy(copy, 0, at, at + length);
    this.bytes[slot] = copy;
    this.values[slot] = value;
  }
}

function slotOf(buf: Buffer, at: number, length: number): number {
  const first = length >= 4 ? buf.readUInt32BE(at) : 0;
  const last = length >= 8 ? buf.readUInt32BE(at + length - 4) : 0;
  let h = Math.imul(first ^ length, 0x9e3779b1);
  h = Math.imul(h ^ last ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) & (AUTH_SYS_MEMO_SLOTS - 1);
}

function decodeAuthSys(r: XdrReader): AuthSysParams | undefined {
  const stamp = r.u32();
  const machine = r.string(AUTH_SYS_MAX_MACHINE_NAME);
  const uid = r.u32();
  const gid = r.u32();
  const gids = r.array(AUTH_SYS_MAX_GIDS, readU32);
  return r.ok ? { stamp, machine, uid, gid, gids } : undefined;
}

function readU32(r: XdrReader): number {
  return r.u32();
}

function decodeGssCred(r: XdrReader): GssCredential | undefined {
  const version = r.u32();
  if (r.ok && version !== RPCSEC_GSS_VERS_1) {
    // rpc_gss_cred_t is a union on the version: no other arm exists.
    r.markMalformed(r.pos - 4);
    return undefined;
  }
  const proc = r.u32();
  const seq = r.u32();
  const serviceAt = r.pos;
  const service = r.u32();
  // A copy: credentials outlive the message (outstanding calls keep theirs),
  // and a view would keep all of the message's buffer alive.
  const context = ownCopy(r.opaque());
  if (!r.ok) return undefined;
  const serviceName = GSS_SERVICES[service];
  if (serviceName === undefined || proc > RPCSEC_GSS_DESTROY) {
    r.markMalformed(serviceName === undefined ? serviceAt : serviceAt - 8);
    return undefined;
  }
  return { version, proc, seq, service, serviceName, context };
}

/** `b`'s bytes in a Buffer of their own (not a view into a larger one, nor into Node's shared pool). */
function ownCopy(b: Buffer): Buffer {
  if (b.length === 0) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}
