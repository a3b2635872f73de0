/**
 * The NFSv4 callback program number a client announces: in SETCLIENTID
 * (NFSv4.0, RFC 7530 §16.33), CREATE_SESSION (NFSv4.1, RFC 8881 §18.36)
 * and BACKCHANNEL_CTL (RFC 8881 §18.33). The server then calls that program
 * on the client (CB_NULL, CB_COMPOUND).
 * Only the first few ops are walked (with the NFSv4 decoder's op table):
 * clients put the announcing op first or after SEQUENCE / PUTROOTFH, and
 * the stage runs this on every COMPOUND call.
 */
import { OPS } from './nfs4-ops.js';
import { XdrReader } from './xdr.js';

const OP_SETCLIENTID = 35;
const OP_BACKCHANNEL_CTL = 40;
const OP_CREATE_SESSION = 43;
/** NFS4_OPAQUE_LIMIT: bound of the tag here. */
const NFS4_OPAQUE_LIMIT = 1024;
const MAX_OPS_WALKED = 4;

/** Names of the announcing ops, as a decoded COMPOUND call lists its ops. */
const ANNOUNCING = new Set(['SETCLIENTID', 'CREATE_SESSION', 'BACKCHANNEL_CTL']);

/**
 * Whether a COMPOUND call whose ops the NFSv4 decoder listed as `ops` can
 * announce a callback program: one of the first ops walked by
 * announcedCallbackProgram is an announcing op. When false,
 * announcedCallbackProgram returns undefined for it.
 */
export function mayAnnounceCallback(ops: readonly string[]): boolean {
  for (let i = 0; i < ops.length && i < MAX_OPS_WALKED; i++) if (ANNOUNCING.has(ops[i]!)) return true;
  return false;
}

/**
 * Reads COMPOUND4args at `r` (after the RPC header) and returns the callback
 * program announced by its SETCLIENTID, CREATE_SESSION or BACKCHANNEL_CTL,
 * or undefined.
 */
export function announcedCallbackProgram(r: XdrReader): number | undefined {
  r.opaque(NFS4_OPAQUE_LIMIT); // tag
  r.u32(); // minorversion
  const ops = r.u32();
  for (let i = 0; i < ops && i < MAX_OPS_WALKED && r.ok; i++) {
    const op = r.u32();
    const def = OPS[op];
    if (!r.ok || def === undefined) return undefined;
    const args = def.args(r);
    if (op === OP_SETCLIENTID || op === OP_CREATE_SESSION || op === OP_BACKCHANNEL_CTL) {
      return r.ok && typeof args.cbProgram === 'number' ? args.cbProgram : undefined;
    }
  }
  return undefined;
}
