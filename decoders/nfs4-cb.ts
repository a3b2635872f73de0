/**
 * The NFSv4 callback program (RFC 7530 §16.1-16.2, RFC 8881 §20, RFC 7862
 * §16): CB_NULL and CB_COMPOUND, whose ops the server sends to the client
 * on the program number the client announced (SETCLIENTID,
 * CREATE_SESSION, BACKCHANNEL_CTL) or on the NFSv4.1 backchannel.
 */
import type { DecodedCall, DecodedReply, DecodeStop, ProgramDecoder } from './decoded.js';
import { mainOpIndex, walkArgs, walkResults } from './nfs4.js';
import {
  ARRAY_LIMIT,
  bitmap,
  bitsOf,
  fattr,
  fh,
  lockOwner,
  notify,
  openDelegation,
  sessionId,
  stateid,
  u64,
  writeResponse,
  type ArgsDecoder,
  type OpDef,
  type ResDecoder,
} from './nfs4-ops.js';
import { nfs4StatusName } from './nfs4-status.js';
import { statuslessReply, undecodableReply } from './decode-util.js';
import type { XdrReader } from './xdr.js';

const CB_NULL = 0;
const CB_COMPOUND = 1;
const TAG_LIMIT = 65536;

const STATUS_ONLY: ResDecoder = () => undefined;
const recallAnyArgs: ArgsDecoder = (r) => ({ objectsToKeep: r.u32(), typeMask: bitsOf(bitmap(r)) });

function layoutRecallArgs(r: XdrReader): Record<string, unknown> {
  const layoutType = r.u32();
  const iomode = r.u32();
  const changed = r.bool();
  const at = r.pos;
  const type = r.u32();
  const base = { layoutType, iomode, changed };
  if (type === 1) {
    const file = fh(r);
    const offset = u64(r);
    const length = u64(r);
    return { ...base, recall: 'FILE', fh: file, offset, length, stateid: stateid(r) };
  }
  if (type === 2) {
    const major = u64(r);
    return { ...base, recall: 'FSID', fsid: { major, minor: u64(r) } };
  }
  if (type !== 3) r.markMalformed(at);
  return { ...base, recall: type === 3 ? 'ALL' : type };
}

/** The callback ops by number (RFC 8881 §20, RFC 7862 §16). */
export const CB_OPS: Record<number, OpDef> = {
  3: {
    name: 'CB_GETATTR',
    args: (r) => ({ fh: fh(r), attrRequest: bitsOf(bitmap(r)) }),
    res: (r, status) => (status === 0 ? fattr(r) : undefined),
  },
  4: { name: 'CB_RECALL', args: (r) => ({ stateid: stateid(r), truncate: r.bool(), fh: fh(r) }), res: STATUS_ONLY },
  5: { name: 'CB_LAYOUTRECALL', args: layoutRecallArgs, res: STATUS_ONLY },
  6: {
    name: 'CB_NOTIFY',
    args: (r) => ({ stateid: stateid(r), fh: fh(r), changes: r.array(ARRAY_LIMIT, notify) }),
    res: STATUS_ONLY,
  },
  7: { name: 'CB_PUSH_DELEG', args: (r) => ({ fh: fh(r), delegation: openDelegation(r) }), res: STATUS_ONLY },
  8: { name: 'CB_RECALL_ANY', args: recallAnyArgs, res: STATUS_ONLY },
  9: { name: 'CB_RECALLABLE_OBJ_AVAIL', args: recallAnyArgs, res: STATUS_ONLY },
  10: { name: 'CB_RECALL_SLOT', args: (r) => ({ targetHighestSlotid: r.u32() }), res: STATUS_ONLY },
  11: {
    name: 'CB_SEQUENCE',
    args: (r) => {
      const sessionid = sessionId(r);
      const sequenceid = r.u32();
      const slotid = r.u32();
      const highestSlotid = r.u32();
      const cachethis = r.bool();
      const referringCallLists = r.array(ARRAY_LIMIT, (x) => {
        const sid = sessionId(x);
        return { sessionid: sid, calls: x.array(ARRAY_LIMIT, (y) => ({ sequenceid: y.u32(), slotid: y.u32() })) };
      });
      return { sessionid, sequenceid, slotid, highestSlotid, cachethis, referringCallLists };
    },
    res: (r, status) => {
      if (status !== 0) return undefined;
      const sessionid = sessionId(r);
      const sequenceid = r.u32();
      const slotid = r.u32();
      const highestSlotid = r.u32();
      return { sessionid, sequenceid, slotid, highestSlotid, targetHighestSlotid: r.u32() };
    },
  },
  12: { name: 'CB_WANTS_CANCELLED', args: (r) => ({ contended: r.bool(), resourced: r.bool() }), res: STATUS_ONLY },
  13: { name: 'CB_NOTIFY_LOCK', args: (r) => ({ fh: fh(r), owner: lockOwner(r) }), res: STATUS_ONLY },
  14: { name: 'CB_NOTIFY_DEVICEID', args: (r) => ({ changes: r.array(ARRAY_LIMIT, notify) }), res: STATUS_ONLY },
  15: {
    name: 'CB_OFFLOAD',
    args: (r) => {
      const file = fh(r);
      const sid = stateid(r);
      const status = r.u32();
      const info = status === 0 ? { response: writeResponse(r) } : { bytesCopied: u64(r) };
      return { fh: file, stateid: sid, status: nfs4StatusName(status), ...info };
    },
    res: STATUS_ONLY,
  },
  10044: { name: 'CB_ILLEGAL', args: () => ({}), res: STATUS_ONLY },
};

export function cbOpName(op: number): string {
  return CB_OPS[op]?.name ?? `CB_OP_${op}`;
}

export const nfs4CbDecoder: ProgramDecoder = {
  // The program number is the client's choice: the registry hands this
  // decoder every program announced as a callback.
  program: 0x40000000,
  versions: [1, 4],
  decodeCall(r, _version, procedure): DecodedCall {
    if (procedure === CB_NULL) return { ops: ['CB_NULL'], mainOp: 'CB_NULL', args: {} };
    if (procedure !== CB_COMPOUND) return { ops: [], mainOp: `PROC_${procedure}`, args: {}, stop: { reason: 'malformed', at: r.pos } };
    const tag = r.opaque(TAG_LIMIT).toString('utf8');
    const minorVersion = r.u32();
    const callbackIdent = r.u32();
    if (!r.ok) {
      return { ops: [], mainOp: 'CB_COMPOUND', tag, args: { ops: [] }, stop: { reason: r.status as DecodeStop['reason'], at: r.errorAt } };
    }
    const walked = walkArgs(r, CB_OPS);
    // CB_SEQUENCE is bookkeeping: the main op is the first other one.
    const known = walked.items.map((it) => it.op);
    const mainIdx = known.findIndex((op) => op !== 11);
    const main = mainIdx >= 0 ? known[mainIdx]! : known[mainOpIndex(known)];
    const call: DecodedCall = {
      ops: walked.numbers.map(cbOpName),
      mainOp: main !== undefined ? cbOpName(main) : 'CB_COMPOUND',
      minorVersion,
      tag,
      args: { callbackIdent, ops: walked.items.map(({ op, args }) => ({ op: cbOpName(op), args })) },
    };
    const withFh = mainIdx >= 0 ? walked.items[mainIdx]!.args.fh : undefined;
    if (typeof withFh === 'string') call.fh = withFh;
    if (walked.stop) call.stop = walked.stop;
    return call;
  },
  decodeReply(r, _version, procedure): DecodedReply {
    if (procedure === CB_NULL) return statuslessReply();
    if (procedure !== CB_COMPOUND) return undecodableReply(r);
    const statusCode = r.u32();
    const tag = r.opaque(TAG_LIMIT).toString('utf8');
    const status = nfs4StatusName(statusCode);
    if (!r.ok) {
      return { status, statusCode, ops: [], opStatus: [], results: { tag, ops: [] }, stop: { reason: r.status as DecodeStop['reason'], at: r.errorAt } };
    }
    const walked = walkResults(r, CB_OPS);
    const reply: DecodedReply = {
      status,
      statusCode,
      ops: walked.numbers.map(cbOpName),
      opStatus: walked.statuses.map(nfs4StatusName),
      results: {
        tag,
        ops: walked.statuses.map((st, i) => {
          const result = walked.results[i];
          return result === undefined
            ? { op: cbOpName(walked.numbers[i]!), status: nfs4StatusName(st) }
            : { op: cbOpName(walked.numbers[i]!), status: nfs4StatusName(st), result };
        }),
      },
    };
    if (walked.stop) reply.stop = walked.stop;
    return reply;
  },
};
