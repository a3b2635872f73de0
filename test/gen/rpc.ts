/**
 * Builders of ONC RPC messages (RFC 5531) and NFSv3 arguments/results
 * (RFC 1813) for generated captures: tests and the benchmark.
 */

/** Appends XDR items to a growing buffer. */
export class XdrWriter {
  private buf = Buffer.alloc(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  u64(v: number | bigint): this {
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.len);
    this.len += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** Fixed-length opaque: the bytes, padded to a multiple of 4. */
  fixed(b: Buffer): this {
    const padded = (b.length + 3) & ~3;
    this.room(padded);
    b.copy(this.buf, this.len);
    this.buf.fill(0, this.len + b.length, this.len + padded);
    this.len += padded;
    return this;
  }

  /** Variable-length opaque: length, bytes, padding. */
  opaque(b: Buffer): this {
    return this.u32(b.length).fixed(b);
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  raw(b: Buffer): this {
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
    return this;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

export const RPC_CALL = 0;
export const RPC_REPLY = 1;
export const AUTH_NONE = 0;
export const AUTH_SYS = 1;
export const NFS_PROGRAM = 100003;
export const NFSPROC3_READ = 6;

export interface AuthSys {
  stamp?: number;
  machine?: string;
  uid?: number;
  gid?: number;
  gids?: number[];
}

export interface CallHeader {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** AUTH_SYS credentials; AUTH_NONE when absent. */
  cred?: AuthSys;
}

/** An RPC CALL message (no record mark). */
export function rpcCall(h: CallHeader, args: Buffer): Buffer {
  const w = new XdrWriter().u32(h.xid).u32(RPC_CALL).u32(2).u32(h.prog).u32(h.vers).u32(h.proc);
  if (h.cred) {
    const c = h.cred;
    const body = new XdrWriter()
      .u32(c.stamp ?? 0)
      .string(c.machine ?? 'client')
      .u32(c.uid ?? 0)
      .u32(c.gid ?? 0)
      .u32((c.gids ?? []).length);
    for (const g of c.gids ?? []) body.u32(g);
    w.u32(AUTH_SYS).opaque(body.bytes());
  } else {
    w.u32(AUTH_NONE).u32(0);
  }
  w.u32(AUTH_NONE).u32(0); // verifier
  return Buffer.concat([w.bytes(), args]);
}

/** An RPC REPLY, MSG_ACCEPTED with the given accept_stat (0 = SUCCESS) and results. */
export function rpcAcceptedReply(xid: number, results: Buffer, acceptStat = 0): Buffer {
  const w = new XdrWriter().u32(xid).u32(RPC_REPLY).u32(0).u32(AUTH_NONE).u32(0).u32(acceptStat);
  return Buffer.concat([w.bytes(), results]);
}

/**
 * Record marking (RFC 5531 §11): the message in one fragment, or split at
 * the given fragment sizes (the last fragment takes the rest).
 */
export function recordMark(message: Buffer, fragmentSizes: number[] = []): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of fragmentSizes) {
    if (at + size >= message.length) break;
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(size, 0);
    parts.push(hdr, message.subarray(at, at + size));
    at += size;
  }
  const hdr = Buffer.alloc(4);
  hdr.writeUInt32BE((0x80000000 | (message.length - at)) >>> 0, 0);
  parts.push(hdr, message.subarray(at));
  return Buffer.concat(parts);
}

/** READ3args: file handle, offset, count. */
export function nfs3ReadArgs(fh: Buffer, offset: number | bigint, count: number): Buffer {
  return new XdrWriter().opaque(fh).u64(offset).u32(count).bytes();
}

/** fattr3 of a regular file (84 bytes). */
export function nfs3Fattr(size: number | bigint, fileid: number | bigint = 1): Buffer {
  const w = new XdrWriter().u32(1).u32(0o644).u32(1).u32(0).u32(0).u64(size).u64(size).u64(0).u64(0).u64(fileid);
  for (let i = 0; i < 3; i++) w.u32(1_763_779_858).u32(0); // atime, mtime, ctime
  return w.bytes();
}

/**
 * The head of a successful READ3res up to and including the data length:
 * status NFS3_OK, post_op_attr, count, eof, and the opaque's length. The
 * `count` data bytes (padded to 4) follow it on the wire.
 */
export function nfs3ReadResultHead(count: number, eof: boolean, fileSize: number | bigint): Buffer {
  return new XdrWriter().u32(0).bool(true).raw(nfs3Fattr(fileSize)).u32(count).bool(eof).u32(count).bytes();
}

// ---- Headers beyond AUTH_NONE/AUTH_SYS calls and accepted replies: denied
// replies, mismatches, RPCSEC_GSS (RFC 2203) credentials and wrapping. ----

export const RPCSEC_GSS = 6;

/** An opaque_auth: flavor and raw body. */
export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

/** The body of an AUTH_SYS credential (authsys_parms). */
export function authSysBody(c: AuthSys): Buffer {
  const w = new XdrWriter()
    .u32(c.stamp ?? 0)
    .string(c.machine ?? 'client')
    .u32(c.uid ?? 0)
    .u32(c.gid ?? 0)
    .u32((c.gids ?? []).length);
  for (const g of c.gids ?? []) w.u32(g);
  return w.bytes();
}

export interface GssCred {
  /** rpc_gss_proc_t: 0 DATA, 1 INIT, 2 CONTINUE_INIT, 3 DESTROY. */
  proc: number;
  seq: number;
  /** rpc_gss_service_t: 1 none, 2 integrity, 3 privacy. */
  service: number;
  handle: Buffer;
  /** RPCSEC_GSS_VERS_1 unless given. */
  version?: number;
}

/** The body of an RPCSEC_GSS credential (rpc_gss_cred_t, version 1). */
export function gssCredBody(c: GssCred): Buffer {
  return new XdrWriter().u32(c.version ?? 1).u32(c.proc).u32(c.seq).u32(c.service).opaque(c.handle).bytes();
}

export interface RawCallHeader {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** 2 unless given. */
  rpcvers?: number;
  cred: OpaqueAuth;
  /** AUTH_NONE, empty, unless given. */
  verf?: OpaqueAuth;
}

/** An RPC CALL with any credential and verifier. */
export function rpcCallRaw(h: RawCallHeader, args: Buffer): Buffer {
  const verf = h.verf ?? { flavor: AUTH_NONE, body: Buffer.alloc(0) };
  const w = new XdrWriter()
    .u32(h.xid)
    .u32(RPC_CALL)
    .u32(h.rpcvers ?? 2)
    .u32(h.prog)
    .u32(h.vers)
    .u32(h.proc)
    .u32(h.cred.flavor)
    .opaque(h.cred.body)
    .u32(verf.flavor)
    .opaque(verf.body);
  return Buffer.concat([w.bytes(), args]);
}

/** MSG_ACCEPTED / PROG_MISMATCH with the versions supported. */
export function rpcProgMismatchReply(xid: number, low: number, high: number): Buffer {
  return new XdrWriter().u32(xid).u32(RPC_REPLY).u32(0).u32(AUTH_NONE).u32(0).u32(2).u32(low).u32(high).bytes();
}

/** MSG_DENIED / RPC_MISMATCH with the RPC versions supported. */
export function rpcRpcMismatchReply(xid: number, low: number, high: number): Buffer {
  return new XdrWriter().u32(xid).u32(RPC_REPLY).u32(1).u32(0).u32(low).u32(high).bytes();
}

/** MSG_DENIED / AUTH_ERROR with an auth_stat. */
export function rpcAuthErrorReply(xid: number, authStat: number): Buffer {
  return new XdrWriter().u32(xid).u32(RPC_REPLY).u32(1).u32(1).u32(authStat).bytes();
}

/** An accepted reply with a non-empty verifier (RPCSEC_GSS replies carry a checksum there). */
export function rpcAcceptedReplyVerf(xid: number, verf: OpaqueAuth, results: Buffer, acceptStat = 0): Buffer {
  const w = new XdrWriter().u32(xid).u32(RPC_REPLY).u32(0).u32(verf.flavor).opaque(verf.body).u32(acceptStat);
  return Buffer.concat([w.bytes(), results]);
}

/**
 * RPCSEC_GSS integrity body (RFC 2203 §5.3.2.2): databody_integ (seq_num
 * and the arguments or results) as an opaque, then the checksum opaque.
 */
export function gssIntegrityBody(seq: number, inner: Buffer, checksum: Buffer): Buffer {
  const databody = Buffer.concat([new XdrWriter().u32(seq).bytes(), inner]);
  return new XdrWriter().opaque(databody).opaque(checksum).bytes();
}
