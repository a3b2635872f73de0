/**
 * ONC RPC over UDP: one message per datagram, no record mark (RFC 5531).
 * Bulk data is not copied: the same keep policy as over TCP (head per
 * `headToKeep`, and the last TAIL_KEEP bytes when the datagram was captured
 * whole).
 */
import { snapshotFrameRef } from '../capture/frame.js';
import type { UdpDatagram } from '../transport/stream.js';
import {
  KEEP_MAX,
  KEEP_WHOLE_MAX,
  TAIL_KEEP,
  type RecordStats,
  type RpcMessageSink,
} from './message.js';
import { deliveredBuffers } from './message-slab.js';

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Hands the RPC message of a UDP datagram to the sink. Returns false (and
 * counts nothing) for a datagram that does not look like RPC: fewer than 12
 * bytes captured, a CALL whose rpcvers is not 2, a REPLY whose reply_stat is
 * neither MSG_ACCEPTED nor MSG_DENIED, or another msg_type.
 *
 * There is no connection: `conn` is undefined, and `dir` is 0 for a call
 * and 1 for a reply.
 */
export function rpcFromDatagram(d: UdpDatagram, sink: RpcMessageSink, stats: RecordStats): boolean {
  const p = d.payload;
  const cap = p.length;
  if (cap < 12) return false;
  const type = p.readUInt32BE(4);
  const w = p.readUInt32BE(8);
  if (type === 0) {
    if (w !== 2) return false;
  } else if (type === 1) {
    if (w > 1) return false;
  } else {
    return false;
  }
  const dir = type === 0 ? 0 : 1;
  const length = d.wireLength > cap ? d.wireLength : cap;
  const missing = length - cap;

  let headLen: number;
  if (length <= KEEP_WHOLE_MAX) {
    headLen = cap;
  } else {
    const k = sink.headToKeep(undefined, dir, cap > KEEP_WHOLE_MAX ? p.subarray(0, KEEP_WHOLE_MAX) : p, length);
    headLen = k >= length ? length : k >= 0 ? Math.floor(k) : 0;
    if (headLen > KEEP_MAX) headLen = KEEP_MAX;
    if (headLen > cap) headLen = cap;
  }
  const head = deliveredBuffers.take(headLen);
  p.copy(head, 0, 0, headLen);

  let tail = EMPTY;
  let tailOffset = length;
  if (missing === 0 && headLen < length) {
    let start = length - TAIL_KEEP;
    if (start < headLen) start = headLen;
    tail = deliveredBuffers.take(length - start);
    p.copy(tail, 0, start, length);
    tailOffset = start;
  }

  stats.messages++;
  if (missing > 0) stats.truncatedMessages++;
  const notKept = cap - head.length - tail.length;
  if (notKept > 0) stats.bytesNotKept += notKept;
  const frame = snapshotFrameRef(d.at);
  sink.message({
    transport: 'udp',
    conn: undefined,
    dir,
    src: d.src,
    dst: d.dst,
    bytes: { length, head, tail, tailOffset, missing },
    firstFrame: frame,
    frame,
    resynced: false,
    unfinished: false,
  });
  return true;
}
