/**
 * The NFSv4 callback program number a client announces: in SETCLIENTID
 * (NFSv4.0, RFC 7530 §16.33) and CREATE_SESSION (NFSv4.1, RFC 8881 §18.36).
 * The server then calls that program on the client (CB_NULL, CB_COMPOUND).
 * Only the ops before the announcing one are walked, and only those that
 * clients put there (SEQUENCE, PUTROOTFH): enough for real COMPOUNDs
 * without the full NFSv4 decoder.
 */
import { XdrReader } from './xdr.js';

const OP_PUTROOTFH = 24;
const OP_SETCLIENTID = 35;
const OP_CREATE_SESSION = 43;
const OP_SEQUENCE = 53;
/** NFS4_OPAQUE_LIMIT: bound of the client id and tag opaques. */
const NFS4_OPAQUE_LIMIT = 1024;
const SESSIONID_SIZE = 16;
const MAX_OPS_WALKED = 4;

/** Skips a channel_attrs4 (RFC 8881 §18.36.1): six counters and an optional RDMA ird. */
function skipChannelAttrs(r: XdrReader): void {
  r.skip(6 * 4);
  const ird = r.u32();
  if (ird > 1) r.markMalformed();
  else r.skip(ird * 4);
}

/**
 * Reads COMPOUND4args at `r` (after the RPC header) and returns the callback
 * program announced by its SETCLIENTID or CREATE_SESSION, or undefined.
 */
export function announcedCallbackProgram(r: XdrReader): number | undefined {
  r.opaque(NFS4_OPAQUE_LIMIT); // tag
  r.u32(); // minorversion
  const ops = r.u32();
  for (let i = 0; i < ops && i < MAX_OPS_WALKED && r.ok; i++) {
    const op = r.u32();
    switch (op) {
      case OP_SETCLIENTID: {
        r.skip(8); // verifier
        r.opaque(NFS4_OPAQUE_LIMIT); // id
        const program = r.u32();
        return r.ok ? program : undefined;
      }
      case OP_CREATE_SESSION: {
        r.skip(8 + 4 + 4); // clientid, sequence, flags
        skipChannelAttrs(r);
        skipChannelAttrs(r);
        const program = r.u32();
        return r.ok ? program : undefined;
      }
      case OP_SEQUENCE:
        r.skip(SESSIONID_SIZE + 4 * 4);
        break;
      case OP_PUTROOTFH:
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}
