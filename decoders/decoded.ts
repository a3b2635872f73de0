/**
 * What a program decoder makes of a call's arguments and a reply's results:
 * the few fields every analysis needs, named the same for every program,
 * plus everything decoded, as plain data.
 *
 * Decoders never throw: a body cut by the capture, bulk data not kept, or
 * malformed bytes end the decoding with a `stop` marker and what was
 * decoded before it.
 */
import type { XdrReader } from './xdr.js';

export interface DecodeStop {
  /**
   * truncated: the capture cut the body (snaplen, lost segments);
   * not-kept: nfsight skipped bulk data on purpose (READ/WRITE payload) and
   *   the rest of the body was not kept;
   * malformed: the bytes do not follow the protocol (absurd length, bad enum);
   * unknown-op: an NFSv4 operation number nfsight does not know;
   * encrypted: RPCSEC_GSS privacy.
   */
  reason: 'truncated' | 'not-kept' | 'malformed' | 'unknown-op' | 'encrypted';
  /** Byte offset in the message where decoding stopped. */
  at: number;
}

export interface DecodedCall {
  /** Operation names (RFC names): the procedure, or the ops of an NFSv4 COMPOUND in order. */
  ops: string[];
  /**
   * The operation the call is about: the procedure, or for a COMPOUND the
   * first op of the most significant tier, as Wireshark ranks them for
   * nfs.main_opcode (ops that do the work first; then GETATTR; then
   * PUTFH/PUTROOTFH/GETFH/SAVEFH/RESTOREFH/SEQUENCE): see decoders/nfs4.ts.
   */
  mainOp: string;
  /** NFSv4: the COMPOUND's minor version and tag. */
  minorVersion?: number;
  tag?: string;
  /** The file handle the call is about (lowercase hex), where it has one. */
  fh?: string;
  /** Names the call carries (LOOKUP, CREATE, REMOVE; RENAME from and to; MNT's path). */
  names?: string[];
  /** READ / WRITE / COMMIT: the byte range asked for. */
  offset?: number;
  count?: number;
  /** Everything decoded, as plain data (file handles as hex, 64-bit values beyond 2^53 as decimal strings). */
  args: unknown;
  stop?: DecodeStop;
}

export interface DecodedReply {
  /**
   * The status name (nfsstat3, nfsstat4, mountstat3, nlm4_stats, … as the
   * RFCs name them) and number; both null where the procedure's results
   * have no status field (void results: every NULL procedure, CB_NULL, the
   * NLM _MSG/_RES forms, UMNT; portmap's results, MOUNT's DUMP and EXPORT),
   * as Wireshark shows none. "UNKNOWN"/-1 where a status was due but could
   * not be read.
   */
  status: string | null;
  statusCode: number | null;
  /** NFSv4: the ops of the reply (it ends at the first failing op) and each op's status. */
  ops?: string[];
  opStatus?: string[];
  /** READ: bytes returned; WRITE: bytes the server says it wrote. */
  readBytes?: number;
  writeBytes?: number;
  /** File handles the reply hands out with the names they were looked up by (LOOKUP, CREATE, MKDIR, READDIRPLUS, MNT…). */
  handles?: { fh: string; name?: string }[];
  /** Everything decoded, as plain data. */
  results: unknown;
  stop?: DecodeStop;
}

/** Decodes one program's calls and replies (one or several versions). */
export interface ProgramDecoder {
  program: number;
  versions: readonly number[];
  /** `r` stands at the start of the procedure's arguments. */
  decodeCall(r: XdrReader, version: number, procedure: number): DecodedCall;
  /** `r` stands at the start of the procedure's results; `call` is the call's decoding when the call was decoded. */
  decodeReply(r: XdrReader, version: number, procedure: number, call: DecodedCall | undefined): DecodedReply;
}
