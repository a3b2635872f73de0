/**
 * RPC over RDMA (RFC 8166): turns the RoCE layer's SEND messages and RDMA
 * data into RPC messages for the matcher, as the record layer does for TCP.
 *
 * Each SEND begins with the RPC-over-RDMA header (decoders/rpcrdma.ts).
 * The RPC message is then
 * - inline after it (RDMA_MSG, RDMA_MSGP), with chunk data where the chunk
 *   lists say: a read chunk's data (an NFS WRITE's) is pulled by the
 *   responder with RDMA READs and belongs at its XDR position; a write
 *   chunk's data (an NFS READ's) was RDMA-WRITten by the responder before
 *   the reply, which is reduced: its DDP-eligible items (RFC 8267: READ
 *   data, READLINK's link) keep their length words inline, their bytes are
 *   in the write chunks, in order. Write chunks carry no XDR position, so
 *   the reply goes on reduced, with the chunks' lengths
 *   (MessageBytes.writeChunks), and the NFS decoders step over each such
 *   item's chunk where they meet it (an NFSv4 COMPOUND's ops after a READ
 *   decode in place);
 * - or wholly in a chunk (RDMA_NOMSG): a call in a position-zero read
 *   chunk, a reply in the reply chunk the call provided.
 *
 * A message is complete, and is shown (as Wireshark shows it), where its
 * last byte arrived: a call with read chunks in the last RDMA READ
 * Response that completes them, anything else in its SEND.
 *
 * Bulk data is counted, never copied: only reply chunks and position-zero
 * read chunks (which hold RPC messages) are kept, up to KEEP_MAX.
 */
import { procedureName } from '../../decoders/programs.js';
import {
  RDMA_DONE,
  RDMA_ERROR,
  RDMA_MSG,
  RDMA_MSGP,
  RDMA_NOMSG,
  chunkLength,
  decodeRpcRdmaHeader,
  rdmaErrorName,
  readChunks,
  type RdmaSegment,
  type RpcRdmaHeader,
} from '../../decoders/rpcrdma.js';
import type { MessageBytes } from '../../decoders/bytes.js';
import { assignFrameRef, snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import {
  MAX_REPORTED_CONNECTIONS,
  endpointText,
  type Placement,
  type RdmaConnection,
  type RdmaConsumer,
  type RdmaEvent,
  type RdmaEventKind,
  type ReadDone,
  type SendMessage,
} from '../transport/roce.js';
import type { Direction } from '../transport/stream.js';
import { LruMap } from '../memory/lru.js';
import { KEEP_MAX, type RecordStats, type RpcMessageRecord } from './message.js';
import type { TransportError } from './transaction.js';

/** Where the messages go: the matcher. */
export interface RdmaMessageSink {
  message(m: RpcMessageRecord): void;
  /** A call answered with RDMA_ERROR instead of an RPC reply: `m` (empty bytes) says where. */
  transportError(m: RpcMessageRecord, xid: number, error: TransportError): void;
  /** The connection ended: its outstanding calls will not be answered on it. */
  connectionEnded(conn: RdmaConnection, transport: 'rdma'): void;
}

const EMPTY = Buffer.alloc(0);
const EMPTY_MESSAGE: MessageBytes = { length: 0, head: EMPTY, tail: EMPTY, tailOffset: 0, missing: 0 };
const TWO_32 = 4294967296;
/** Calls remembered per connection (their chunks, until the reply). */
const MAX_CALLS_PER_CONNECTION = 16_384;
/** Operations tracked in the chunk-use table. */
const MAX_OPERATIONS = 1024;
/** Calls waiting for their read chunks, per connection; beyond, the oldest is handed on incomplete. */
const MAX_PENDING_PER_CONNECTION = 1024;
/**
 * Bytes kept over all connections for messages still being put together
 * (reply chunks, position-zero read chunks, inline parts of calls waiting
 * for their read chunks). Beyond it, only the first HEAD_WHEN_FULL bytes of
 * each are kept: enough for the RPC header and most procedure headers.
 */
const MAX_KEPT_BYTES = 64 << 20;
const HEAD_WHEN_FULL = 4096;

/** The layer's memory bounds (tests make them small). */
export interface RpcRdmaLimits {
  pendingPerConnection: number;
  keptBytes: number;
}

const RPC_CALL = 0;
const RPC_REPLY = 1;

/** How one operation's calls and replies used the chunks. */
export interface RdmaOperationUse {
  program: number;
  version: number;
  procedure: number;
  name: string;
  calls: number;
  /** Calls sent whole inline; with read chunks (data pulled by RDMA READ); in a position-zero read chunk. */
  callsInline: number;
  callsReadChunk: number;
  callsPositionZero: number;
  /** Calls that provided a write list / a reply chunk. */
  callsWriteList: number;
  callsReplyChunk: number;
  replies: number;
  /** Replies sent whole inline; with write-chunk data (RDMA WRITE); in the reply chunk (RDMA_NOMSG). */
  repliesInline: number;
  repliesWriteChunk: number;
  repliesReplyChunk: number;
  /** Bytes moved through each kind of chunk. */
  readChunkBytes: number;
  writeChunkBytes: number;
  replyChunkBytes: number;
}

/** RPC-level facts of one queue-pair connection. */
export interface RdmaConnectionRpc {
  calls: number;
  replies: number;
  /** Credits the client asked for (last seen) and the server granted (min, max, last; -1 before the first reply). */
  creditsRequested: number;
  creditsGrantedMin: number;
  creditsGrantedMax: number;
  creditsGranted: number;
  /** Most calls outstanding at once. */
  maxOutstanding: number;
  /** Times the client reached the granted credits (and went beyond them). */
  creditsExhausted: number;
  creditsExceeded: number;
}

export interface RpcRdmaStats {
  /** RPC-over-RDMA headers by message type. */
  msg: number;
  nomsg: number;
  msgp: number;
  done: number;
  error: number;
  /** SENDs that are not RPC-over-RDMA version 1 (another version, garbage). */
  notRpcRdma: number;
  /** SENDs cut before the end of their RPC-over-RDMA header. */
  truncatedHeaders: number;
  /** Headers with a read list, a write list, a reply chunk. */
  withReadList: number;
  withWriteList: number;
  withReplyChunk: number;
  /** Bytes RDMA-READ for read chunks, RDMA-WRITTEN into write chunks and into reply chunks. */
  readChunkBytes: number;
  writeChunkBytes: number;
  replyChunkBytes: number;
  /** RDMA WRITE / READ data for no chunk the capture announced. */
  unknownChunkBytes: number;
  /** Replies in a reply chunk whose data the capture does not hold (the call was not captured): not decodable. */
  repliesNotReconstructed: number;
  /** Calls handed on without all their read-chunk data (the capture lost some, or the connection ended first). */
  callsIncomplete: number;
}

interface Segment {
  kind: 'read' | 'write' | 'reply';
  xid: number;
  handle: number;
  offsetHi: number;
  offsetLo: number;
  length: number;
  /** Read: bytes whose READ request completed; write/reply: bytes written. */
  done: number;
  /** Bytes the capture saw arrive. */
  received: number;
  /** Kept bytes (reply chunk, position-zero read chunk) and how far from 0 they are contiguous. */
  buf: Buffer | undefined;
  filled: number;
  firstFrame: FrameRef | undefined;
  /** Read segments: the call waiting for them. */
  owner: PendingCall | undefined;
}

/** A call waiting for its read chunks. */
interface PendingCall {
  xid: number;
  dir: Direction;
  /** The inline part (RDMA_MSG) or nothing (RDMA_NOMSG). */
  inline: Buffer;
  inlineLength: number;
  inlineMissing: number;
  positionZero: Segment[];
  /** Chunks at positions > 0. */
  inserts: { position: number; segments: Segment[] }[];
  firstFrame: FrameRef;
  /** The last frame that brought some of its chunk data (its SEND's until then). */
  lastFrame: FrameRef;
}

/** What a call provided, kept until its reply. */
interface CallRecord {
  xid: number;
  /** Operation key, once the call's RPC header was read. */
  op: RdmaOperationUse | undefined;
  segments: Segment[];
  usage: { inline: boolean; readChunk: boolean; positionZero: boolean; writeList: boolean; replyChunk: boolean };
  counted: boolean;
}

class ConnState {
  readonly segments = new Map<number, Segment[]>();
  readonly calls = new LruMap<number, CallRecord>();
  readonly pending = new LruMap<number, PendingCall>();
  /** Calls outstanding per direction the calls travel. */
  readonly outstanding: [number, number] = [0, 0];
  /** Credits granted by the responder, per direction the calls travel; -1 unknown. */
  readonly granted: [number, number] = [-1, -1];
  constructor(
    readonly conn: RdmaConnection,
    readonly facts: RdmaConnectionRpc,
  ) {}
}

function padded(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}

/** Offset of (hi, lo) from a segment's start; negative or beyond its length when outside. */
function segmentOffset(s: Segment, vaHi: number, vaLo: number, offset: number): number {
  return (vaHi - s.offsetHi) * TWO_32 + (vaLo - s.offsetLo) + offset;
}

export class RpcRdmaLayer implements RdmaConsumer {
  readonly stats: RpcRdmaStats = {
    msg: 0, nomsg: 0, msgp: 0, done: 0, error: 0, notRpcRdma: 0, truncatedHeaders: 0,
    withReadList: 0, withWriteList: 0, withReplyChunk: 0,
    readChunkBytes: 0, writeChunkBytes: 0, replyChunkBytes: 0, unknownChunkBytes: 0,
    repliesNotReconstructed: 0, callsIncomplete: 0,
  };
  /** Per operation (program/version/procedure), in order of first call. */
  readonly operations = new Map<string, RdmaOperationUse>();
  /** RPC facts per connection id (bounded like the RoCE layer's connection list). */
  readonly connectionFacts = new LruMap<number, RdmaConnectionRpc>();
  private readonly states = new Map<number, ConnState>();
  /** Bytes kept now for messages being put together (MAX_KEPT_BYTES). */
  private kept = 0;

  constructor(
    private readonly sink: RdmaMessageSink,
    private readonly recordStats: RecordStats,
    private readonly onEvent: (e: RdmaEvent) => void = () => {},
    limits: Partial<RpcRdmaLimits> = {},
  ) {
    this.limits = { pendingPerConnection: MAX_PENDING_PER_CONNECTION, keptBytes: MAX_KEPT_BYTES, ...limits };
  }

  private readonly limits: RpcRdmaLimits;

  opened(c: RdmaConnection): void {
    const facts: RdmaConnectionRpc = {
      calls: 0, replies: 0, creditsRequested: -1, creditsGrantedMin: -1, creditsGrantedMax: -1, creditsGranted: -1,
      maxOutstanding: 0, creditsExhausted: 0, creditsExceeded: 0,
    };
    this.states.set(c.id, new ConnState(c, facts));
    this.connectionFacts.set(c.id, facts);
    if (this.connectionFacts.size > MAX_REPORTED_CONNECTIONS) this.connectionFacts.shift();
  }

  ended(c: RdmaConnection): void {
    const st = this.states.get(c.id);
    if (st === undefined) return;
    // Calls whose chunk data never all came: handed on with the bytes missing.
    for (const p of [...st.pending.values()]) this.completeCall(st, p, p.lastFrame);
    for (const list of st.segments.values()) for (const s of list) this.release(s);
    this.states.delete(c.id);
    this.sink.connectionEnded(c, 'rdma');
  }

  /** A call still waiting for chunk data when its reply (or its connection's end) came: the capture lost the rest. */
  private flushPending(st: ConnState, xid: number): void {
    const p = st.pending.get(xid);
    if (p !== undefined) this.completeCall(st, p, p.lastFrame);
  }

  // ---- SEND messages ----------------------------------------------------------

  send(c: RdmaConnection, dir: Direction, m: SendMessage): void {
    const st = this.states.get(c.id);
    if (st === undefined) return;
    const h = decodeRpcRdmaHeader(m.bytes, m.length);
    if (h.status === 'truncated') {
      this.stats.truncatedHeaders++;
      return;
    }
    if (h.status !== 'ok') {
      this.stats.notRpcRdma++;
      return;
    }
    const s = this.stats;
    if (h.readList.length > 0) s.withReadList++;
    if (h.writeList.length > 0) s.withWriteList++;
    if (h.replyChunk !== null) s.withReplyChunk++;
    switch (h.proc) {
      case RDMA_MSG:
      case RDMA_MSGP: {
        if (h.proc === RDMA_MSG) s.msg++;
        else s.msgp++;
        const inline = m.bytes.subarray(h.bodyOffset);
        const inlineLength = m.length - h.bodyOffset;
        const type = inline.length >= 8 ? inline.readUInt32BE(4) : -1;
        if (type === RPC_CALL) this.call(st, dir, h, inline, inlineLength, m);
        else if (type === RPC_REPLY) this.inlineReply(st, dir, h, inline, inlineLength, m);
        else this.emit(st, dir, whole(inline, inlineLength, m.missing), m.firstFrame, m.frame); // the matcher counts it invalid
        return;
      }
      case RDMA_NOMSG:
        s.nomsg++;
        if (h.readList.some((r) => r.position === 0)) this.call(st, dir, h, EMPTY, 0, m);
        else this.chunkReply(st, dir, h, m);
        return;
      case RDMA_DONE:
        s.done++;
        return;
      case RDMA_ERROR:
        s.error++;
        this.rdmaError(st, dir, h, m);
        return;
    }
  }

  // ---- calls --------------------------------------------------------------------

  private call(st: ConnState, dir: Direction, h: RpcRdmaHeader, inline: Buffer, inlineLength: number, m: SendMessage): void {
    const rec: CallRecord = {
      xid: h.xid,
      op: undefined,
      segments: [],
      usage: { inline: h.readList.length === 0, readChunk: false, positionZero: false, writeList: h.writeList.length > 0, replyChunk: h.replyChunk !== null },
      counted: false,
    };
    this.forget(st, h.xid);
    st.calls.set(h.xid, rec);
    if (st.calls.size > MAX_CALLS_PER_CONNECTION) this.forget(st, st.calls.oldest()![0]);
    for (const chunk of h.writeList) for (const seg of chunk) this.register(st, rec, 'write', seg);
    if (h.replyChunk !== null) for (const seg of h.replyChunk) this.register(st, rec, 'reply', seg);
    this.credits(st, dir, h.credits, true, m.frame);
    // The header as captured: a frame cut by the snaplen may hold less than the message.
    if (inline.length >= 24) rec.op = this.operationOf(inline);

    if (h.readList.length === 0) {
      this.countCall(rec);
      this.emit(st, dir, whole(inline, inlineLength, m.missing), m.firstFrame, m.frame);
      return;
    }
    const pending: PendingCall = {
      xid: h.xid,
      dir,
      inline: this.keep(inline),
      inlineLength,
      inlineMissing: m.missing,
      positionZero: [],
      inserts: [],
      firstFrame: snapshotFrameRef(m.firstFrame),
      lastFrame: snapshotFrameRef(m.frame),
    };
    for (const chunk of readChunks(h.readList)) {
      const segs = chunk.segments.map((seg) => this.register(st, rec, 'read', seg, pending));
      if (chunk.position === 0) {
        pending.positionZero.push(...segs);
        rec.usage.positionZero = true;
      } else {
        pending.inserts.push({ position: chunk.position, segments: segs });
        rec.usage.readChunk = true;
      }
    }
    st.pending.set(h.xid, pending);
    if (st.pending.size > this.limits.pendingPerConnection) {
      const oldest = st.pending.oldest()![1];
      this.completeCall(st, oldest, oldest.lastFrame);
    }
  }

  private register(st: ConnState, rec: CallRecord, kind: Segment['kind'], seg: RdmaSegment, owner?: PendingCall): Segment {
    const s: Segment = {
      kind,
      xid: rec.xid,
      handle: seg.handle,
      offsetHi: seg.offsetHi,
      offsetLo: seg.offsetLo,
      length: seg.length,
      done: 0,
      received: 0,
      buf: undefined,
      filled: 0,
      firstFrame: undefined,
      owner,
    };
    let list = st.segments.get(seg.handle);
    if (list === undefined) {
      list = [];
      st.segments.set(seg.handle, list);
    }
    // The same memory announced again replaces what was there.
    for (let i = list.length - 1; i >= 0; i--) {
      const o = list[i]!;
      if (o.offsetHi === s.offsetHi && o.offsetLo === s.offsetLo) list.splice(i, 1);
    }
    list.push(s);
    rec.segments.push(s);
    return s;
  }

  /** Drops what a call registered (its reply came, or its xid is reused). */
  private forget(st: ConnState, xid: number): void {
    const rec = st.calls.get(xid);
    if (rec === undefined) return;
    st.calls.delete(xid);
    for (const s of rec.segments) {
      this.release(s);
      const list = st.segments.get(s.handle);
      if (list === undefined) continue;
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) st.segments.delete(s.handle);
    }
    const p = st.pending.get(xid);
    if (p !== undefined) this.dropPending(st, p);
  }

  /** A segment's kept bytes go back to the budget. */
  private release(s: Segment): void {
    if (s.buf === undefined) return;
    this.kept -= s.buf.length;
    s.buf = undefined;
  }

  private dropPending(st: ConnState, p: PendingCall): void {
    if (st.pending.delete(p.xid)) this.kept -= p.inline.length;
  }

  /** A copy of `b` for a message being put together: whole while the budget allows, else its head. */
  private keep(b: Buffer): Buffer {
    const n = this.kept + b.length > this.limits.keptBytes ? Math.min(b.length, HEAD_WHEN_FULL) : b.length;
    this.kept += n;
    return Buffer.from(b.subarray(0, n));
  }

  private operationOf(rpc: Buffer): RdmaOperationUse | undefined {
    const program = rpc.readUInt32BE(12);
    const version = rpc.readUInt32BE(16);
    const procedure = rpc.readUInt32BE(20);
    const key = `${program}/${version}/${procedure}`;
    let op = this.operations.get(key);
    if (op === undefined) {
      if (this.operations.size >= MAX_OPERATIONS) return undefined;
      op = {
        program, version, procedure, name: procedureName(program, version, procedure),
        calls: 0, callsInline: 0, callsReadChunk: 0, callsPositionZero: 0, callsWriteList: 0, callsReplyChunk: 0,
        replies: 0, repliesInline: 0, repliesWriteChunk: 0, repliesReplyChunk: 0,
        readChunkBytes: 0, writeChunkBytes: 0, replyChunkBytes: 0,
      };
      this.operations.set(key, op);
    }
    return op;
  }

  private countCall(rec: CallRecord): void {
    const op = rec.op;
    if (op === undefined || rec.counted) return;
    rec.counted = true;
    const u = rec.usage;
    op.calls++;
    if (u.inline) op.callsInline++;
    if (u.readChunk) op.callsReadChunk++;
    if (u.positionZero) op.callsPositionZero++;
    if (u.writeList) op.callsWriteList++;
    if (u.replyChunk) op.callsReplyChunk++;
  }

  // ---- RDMA data ----------------------------------------------------------------

  private find(st: ConnState, handle: number, vaHi: number, vaLo: number, offset: number): [Segment, number] | undefined {
    const list = st.segments.get(handle);
    if (list === undefined) return undefined;
    for (const s of list) {
      const at = segmentOffset(s, vaHi, vaLo, offset);
      if (at >= 0 && at < Math.max(s.length, 1)) return [s, at];
    }
    return undefined;
  }

  placed(c: RdmaConnection, _dir: Direction, p: Placement): void {
    const st = this.states.get(c.id);
    const found = st !== undefined ? this.find(st, p.rkey, p.vaHi, p.vaLo, p.offset) : undefined;
    if (found === undefined) {
      this.stats.unknownChunkBytes += p.length;
      return;
    }
    const [s, at] = found;
    const n = Math.min(p.length, s.length - at);
    s.received += n;
    s.firstFrame ??= snapshotFrameRef(p.at);
    if (p.kind === 'write') {
      s.done += n;
      if (s.kind === 'reply') this.stats.replyChunkBytes += n;
      else if (s.kind === 'write') this.stats.writeChunkBytes += n;
      else this.stats.unknownChunkBytes += n;
    } else {
      this.stats.readChunkBytes += n;
      if (s.owner !== undefined) assignFrameRef(s.owner.lastFrame, p.at);
    }
    // Chunks that hold an RPC message are kept (bounded); data chunks only counted.
    const keep = s.kind === 'reply' || (s.kind === 'read' && s.owner !== undefined && s.owner.positionZero.includes(s));
    if (!keep) {
      this.recordStats.bytesNotKept += n;
      return;
    }
    if (s.buf === undefined) {
      let size = Math.min(s.length, KEEP_MAX);
      if (this.kept + size > this.limits.keptBytes) size = Math.min(size, HEAD_WHEN_FULL);
      s.buf = Buffer.alloc(size);
      this.kept += size;
    }
    const cap = s.buf.length;
    if (at !== s.filled || at >= cap) return;
    const copied = p.bytes.copy(s.buf, at, 0, Math.min(p.bytes.length, n, cap - at));
    s.filled = at + copied;
  }

  readDone(c: RdmaConnection, _dir: Direction, r: ReadDone): void {
    const st = this.states.get(c.id);
    const found = st !== undefined ? this.find(st, r.rkey, r.vaHi, r.vaLo, 0) : undefined;
    if (found === undefined) return;
    const [s] = found;
    s.done += r.length;
    const owner = s.owner;
    if (owner === undefined || st === undefined) return;
    const segs = [...owner.positionZero, ...owner.inserts.flatMap((i) => i.segments)];
    if (segs.every((x) => x.done >= x.length)) this.completeCall(st, owner, r.at);
  }

  /** A call whose read chunks are all pulled: its message is complete in this frame. */
  private completeCall(st: ConnState, p: PendingCall, at: FrameRef): void {
    this.dropPending(st, p);
    if (p.positionZero.concat(...p.inserts.map((i) => i.segments)).some((s) => s.done < s.length)) this.stats.callsIncomplete++;
    const rec = st.calls.get(p.xid);
    let base = p.inline;
    let baseLength = p.inlineLength;
    let missing = p.inlineMissing;
    if (p.positionZero.length > 0) {
      // RDMA_NOMSG: the message is the position-zero chunk's bytes.
      base = concatKept(p.positionZero);
      baseLength = chunkLength(p.positionZero);
      missing = baseLength - base.length > 0 && p.positionZero.some((s) => s.received < s.length) ? baseLength - base.length : 0;
      if (rec !== undefined && rec.op === undefined && base.length >= 24 && base.readUInt32BE(4) === RPC_CALL) rec.op = this.operationOf(base);
    }
    let chunkMissing = 0;
    const inserts = p.inserts.map((i) => {
      const length = chunkLength(i.segments);
      for (const s of i.segments) chunkMissing += Math.max(0, s.length - s.received);
      if (rec?.op !== undefined) rec.op.readChunkBytes += length;
      return { position: i.position, length };
    });
    if (rec !== undefined) {
      // Position-zero bytes count as chunk traffic too.
      if (rec.op !== undefined) rec.op.readChunkBytes += chunkLength(p.positionZero);
      this.countCall(rec);
      // The read segments served their purpose.
      for (const s of [...p.positionZero, ...p.inserts.flatMap((i) => i.segments)]) s.owner = undefined;
    }
    const bytes = withInserts(base, baseLength, missing + chunkMissing, inserts);
    this.emit(st, p.dir, bytes, p.firstFrame, at);
  }

  // ---- replies ------------------------------------------------------------------

  /**
   * RDMA_MSG reply: the reduced reply inline; the write chunks' data (RDMA
   * WRITTEN before it) belongs to the reply's DDP-eligible items, where the
   * decoders find them (MessageBytes.writeChunks).
   */
  private inlineReply(st: ConnState, dir: Direction, h: RpcRdmaHeader, inline: Buffer, inlineLength: number, m: SendMessage): void {
    this.flushPending(st, h.xid);
    const rec = st.calls.get(h.xid);
    const { chunks, missing, first } = this.writeChunks(st, h, rec);
    this.countReply(rec, chunks !== undefined && chunks.some((n) => n > 0) ? 'write' : 'inline');
    this.replied(st, dir, h.xid, h.credits, m.frame);
    const bytes = whole(inline, inlineLength, m.missing + missing);
    this.emit(st, dir, chunks !== undefined ? { ...bytes, writeChunks: chunks } : bytes, first !== undefined && earlier(first, m.firstFrame) ? first : m.firstFrame, m.frame);
  }

  /**
   * The reply's write chunks: their lengths (as the responder returned them:
   * what it wrote), the bytes of them the capture did not see, and the frame
   * of the first RDMA WRITE into them.
   */
  private writeChunks(st: ConnState, h: RpcRdmaHeader, rec: CallRecord | undefined): { chunks: number[] | undefined; missing: number; first: FrameRef | undefined } {
    if (h.writeList.length === 0) return { chunks: undefined, missing: 0, first: undefined };
    const chunks: number[] = [];
    let missing = 0;
    let first: FrameRef | undefined;
    for (const chunk of h.writeList) {
      const length = chunkLength(chunk);
      chunks.push(length);
      if (length === 0) continue;
      const written = this.writtenFor(st, chunk);
      missing += Math.max(0, length - written.bytes);
      if (written.first !== undefined && (first === undefined || earlier(written.first, first))) first = written.first;
      if (rec?.op !== undefined) rec.op.writeChunkBytes += length;
    }
    return { chunks, missing, first };
  }

  /** RDMA_NOMSG reply: the whole reply was written into the call's reply chunk. */
  private chunkReply(st: ConnState, dir: Direction, h: RpcRdmaHeader, m: SendMessage): void {
    this.flushPending(st, h.xid);
    const rec = st.calls.get(h.xid);
    const segs = h.replyChunk ?? [];
    const length = chunkLength(segs);
    const parts: Buffer[] = [];
    let contiguous = true;
    let first: FrameRef | undefined;
    // Bytes the capture never saw (kept or not is another matter: beyond the head, not kept).
    let unseen = 0;
    for (const seg of segs) {
      if (seg.length === 0) continue;
      const found = this.find(st, seg.handle, seg.offsetHi, seg.offsetLo, 0);
      const s = found?.[0];
      unseen += Math.max(0, seg.length - (s?.received ?? 0));
      if (s !== undefined && s.firstFrame !== undefined && (first === undefined || earlier(s.firstFrame, first))) first = s.firstFrame;
      if (!contiguous) continue;
      if (s === undefined || s.buf === undefined) {
        contiguous = false;
        continue;
      }
      const have = Math.min(seg.length, s.filled);
      parts.push(s.buf.subarray(0, have));
      if (have < seg.length) contiguous = false;
    }
    if (parts.length === 0) {
      // Nothing of the reply is in hand (its call, which announced the chunk, was not captured).
      this.stats.repliesNotReconstructed++;
      this.replied(st, dir, h.xid, h.credits, m.frame);
      return;
    }
    const head = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
    if (rec?.op !== undefined) rec.op.replyChunkBytes += length;
    // A reply in the reply chunk can be reduced too: its READ data in a write chunk.
    const written = this.writeChunks(st, h, rec);
    if (written.first !== undefined && (first === undefined || earlier(written.first, first))) first = written.first;
    this.countReply(rec, 'reply');
    this.replied(st, dir, h.xid, h.credits, m.frame);
    const bytes: MessageBytes = { length, head, tail: EMPTY, tailOffset: length, missing: unseen + written.missing };
    this.emit(st, dir, written.chunks !== undefined ? { ...bytes, writeChunks: written.chunks } : bytes, first ?? m.firstFrame, m.frame);
  }

  private writtenFor(st: ConnState, chunk: readonly RdmaSegment[]): { bytes: number; first: FrameRef | undefined } {
    let bytes = 0;
    let first: FrameRef | undefined;
    for (const seg of chunk) {
      const s = this.find(st, seg.handle, seg.offsetHi, seg.offsetLo, 0)?.[0];
      if (s === undefined) continue;
      bytes += Math.min(s.received, seg.length);
      if (s.firstFrame !== undefined && (first === undefined || earlier(s.firstFrame, first))) first = s.firstFrame;
    }
    return { bytes, first };
  }

  private countReply(rec: CallRecord | undefined, how: 'inline' | 'write' | 'reply'): void {
    const op = rec?.op;
    if (op === undefined) return;
    op.replies++;
    if (how === 'inline') op.repliesInline++;
    else if (how === 'write') op.repliesWriteChunk++;
    else op.repliesReplyChunk++;
  }

  private rdmaError(st: ConnState, dir: Direction, h: RpcRdmaHeader, m: SendMessage): void {
    this.flushPending(st, h.xid);
    const e = h.error!;
    const name = e.code === 1 ? `ERR_VERS (versions ${e.versLow ?? '?'}–${e.versHigh ?? '?'})` : rdmaErrorName(e.code);
    const op = st.calls.get(h.xid)?.op;
    this.event('rpcrdma-error', st, dir, m.frame, { code: e.code, name: op !== undefined ? `${name} for ${op.name}` : name, xid: h.xid });
    this.replied(st, dir, h.xid, h.credits, m.frame);
    // The call is answered, at the transport: failed with the error, timed to it.
    this.sink.transportError(this.record(st, dir, EMPTY_MESSAGE, m.firstFrame, m.frame), h.xid, { name: rdmaErrorName(e.code), code: e.code });
  }

  // ---- credits and bookkeeping ---------------------------------------------------

  /** A reply (or an RDMA_ERROR) traveling `dir` answers a call that traveled the other way. */
  private replied(st: ConnState, dir: Direction, xid: number, credits: number, at: FrameRef): void {
    this.forget(st, xid);
    const callDir = (dir ^ 1) as Direction;
    if (st.outstanding[callDir] > 0) st.outstanding[callDir]--;
    this.credits(st, callDir, credits, false, at);
  }

  private credits(st: ConnState, callDir: Direction, credits: number, isCall: boolean, at: FrameRef): void {
    const f = st.facts;
    if (!isCall) {
      st.granted[callDir] = credits;
      if (callDir === 0) {
        f.replies++;
        f.creditsGranted = credits;
        f.creditsGrantedMin = f.creditsGrantedMin < 0 ? credits : Math.min(f.creditsGrantedMin, credits);
        f.creditsGrantedMax = Math.max(f.creditsGrantedMax, credits);
      }
      return;
    }
    const n = ++st.outstanding[callDir];
    if (callDir === 0) {
      f.calls++;
      f.creditsRequested = credits;
      if (n > f.maxOutstanding) f.maxOutstanding = n;
    }
    const granted = st.granted[callDir];
    if (granted <= 0) return;
    if (n === granted) {
      if (callDir === 0) f.creditsExhausted++;
      this.event('credits-exhausted', st, callDir, at, { count: granted });
    } else if (n > granted) {
      if (callDir === 0) f.creditsExceeded++;
      this.event('credits-exceeded', st, callDir, at, { count: granted });
    }
  }

  private event(kind: RdmaEventKind, st: ConnState, dir: Direction, at: FrameRef, extra: Partial<RdmaEvent>): void {
    const c = st.conn;
    this.onEvent({
      kind,
      at: snapshotFrameRef(at),
      conn: c,
      direction: dir,
      client: endpointText(c.a),
      server: endpointText(c.b),
      port: c.cm?.port ?? -1,
      count: 1,
      code: 0,
      name: '',
      xid: 0,
      ...extra,
    });
  }

  private emit(st: ConnState, dir: Direction, bytes: MessageBytes, firstFrame: FrameRef, frame: FrameRef): void {
    const rs = this.recordStats;
    rs.messages++;
    if (bytes.missing > 0) rs.truncatedMessages++;
    this.sink.message(this.record(st, dir, bytes, firstFrame, frame));
  }

  private record(st: ConnState, dir: Direction, bytes: MessageBytes, firstFrame: FrameRef, frame: FrameRef): RpcMessageRecord {
    const c = st.conn;
    return {
      transport: 'rdma',
      conn: c,
      dir,
      src: dir === 0 ? c.a : c.b,
      dst: dir === 0 ? c.b : c.a,
      bytes,
      firstFrame,
      frame,
      resynced: false,
      unfinished: false,
    };
  }
}

/** A whole inline message (a copy: the SEND's bytes are a view into the capture). */
function whole(inline: Buffer, length: number, missing: number): MessageBytes {
  const head = Buffer.from(inline.subarray(0, Math.min(inline.length, KEEP_MAX)));
  return { length, head, tail: EMPTY, tailOffset: length, missing };
}

function concatKept(segs: readonly Segment[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of segs) {
    if (s.buf === undefined) break;
    const have = Math.min(s.filled, s.length);
    parts.push(s.buf.subarray(0, have));
    if (have < s.length) break;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The message: `base` (kept from its start) with chunk data of `length`
 * bytes at each XDR `position` (positions in the whole message). Chunk data
 * is not kept; XDR padding after it is implied. Keeps the base's bytes
 * before the first chunk as the head and those after the last as the tail.
 */
function withInserts(base: Buffer, baseLength: number, missing: number, inserts: readonly { position: number; length: number }[]): MessageBytes {
  if (inserts.length === 0) {
    const head = Buffer.from(base.subarray(0, Math.min(base.length, KEEP_MAX)));
    return { length: baseLength, head, tail: EMPTY, tailOffset: baseLength, missing };
  }
  let added = 0;
  let firstBase = -1;
  let lastBase = 0;
  for (const i of inserts) {
    const atBase = Math.max(0, Math.min(baseLength, i.position - added));
    if (firstBase < 0) firstBase = atBase;
    lastBase = atBase;
    added += padded(i.length);
  }
  const length = baseLength + added;
  const head = Buffer.from(base.subarray(0, Math.min(firstBase, base.length, KEEP_MAX)));
  // The tail is kept only when the base was captured to its end.
  const tailWhole = base.length >= baseLength && lastBase < baseLength;
  const tail = tailWhole ? Buffer.from(base.subarray(lastBase, baseLength)) : EMPTY;
  const tailOffset = tailWhole ? length - (baseLength - lastBase) : length;
  return { length, head, tail, tailOffset, missing };
}

function earlier(a: FrameRef, b: FrameRef): boolean {
  return a.fileIndex < b.fileIndex || (a.fileIndex === b.fileIndex && a.number < b.number);
}
