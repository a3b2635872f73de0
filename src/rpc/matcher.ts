/**
 * Pairs RPC calls with their replies.
 *
 * A reply matches the outstanding call with the same xid on the same TCP
 * connection, sent the other way (calls may travel both ways on one
 * connection: the NFSv4.1 backchannel), or for UDP on the same address
 * pair. A call seen again with the same xid is a retransmission (the first
 * call's time is kept); a reply seen again is a duplicate reply.
 *
 * State is what is outstanding, plus a short memory of recently answered
 * calls per connection direction for the retransmissions and duplicate
 * replies that arrive after the answer.
 *
 * Memory: what the tables hold is accounted in the budget's "calls"
 * account. When the budget asks, the calls of the direction that made a
 * call longest ago go first (its memory of answered calls, then its
 * outstanding calls, oldest first); a direction holding more than
 * MAX_PENDING_PER_DIRECTION outstanding calls drops its oldest. A dropped
 * call is counted (`outstandingCalls`), never reported as unanswered: its
 * fate is unknown.
 */
import { messageLength, type MessageBytes } from '../../decoders/bytes.js';
import { PROG_NFS } from '../../decoders/programs.js';
import {
  decodeRpcHeader,
  gssIntegrityBodyOffset,
  RPC_GSS_SVC_INTEGRITY,
  RPC_GSS_SVC_PRIVACY,
  RPCSEC_GSS_DATA,
  type RpcCallHeader,
  type RpcReplyHeader,
} from '../../decoders/rpc.js';
import { XdrReader } from '../../decoders/xdr.js';
import { secondsBetween, snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { MemoryBudget, type MemoryAccount } from '../memory/budget.js';
import { LruList, LruMap } from '../memory/lru.js';
import type { Direction, Endpoint, TcpConnection } from '../transport/stream.js';
import { CallTable, PendingCall, RECENT_BYTES, RECENT_CALLS, RecentCalls, TABLE_BYTES } from './call-table.js';
import { KEEP_MAX, type MessageConnection, type RpcMessageRecord, type RpcMessageSink } from './message.js';
import type { MatcherStats, Transaction, TransactionSink, TransportError } from './transaction.js';

/** Outstanding calls held at most per connection direction (or UDP address pair) without a memory budget; the oldest are dropped. */
const MAX_PENDING_PER_DIRECTION = 65_536;
/** With a budget: the share of its limit the outstanding calls of one direction may hold (the oldest beyond are dropped). */
const DIRECTION_SHARE = 1 / 8;
/** At most this many retransmission frames are listed per transaction. */
const MAX_RETRANSMIT_FRAMES = 8;

const NFSPROC3_READ = 6;
const NFSPROC3_WRITE = 7;
const NFSPROC2_READ = 6;
const NFSPROC2_WRITE = 8;
const NFSPROC4_COMPOUND = 1;
/** Bytes of procedure arguments/results kept for bulk-data messages: the header fields, not the data. */
const BULK_HEADER_KEEP = 512;
/** Head kept of a large NFSv4 COMPOUND (may carry READ or WRITE data). */
const COMPOUND_HEAD_KEEP = 4096;
/** NFSv4 COMPOUNDs up to this length are kept whole. */
const COMPOUND_KEEP_WHOLE = 8192;

/** What a released message body is replaced with. */
const EMPTY = Buffer.alloc(0);
const RELEASED: MessageBytes = { length: 0, head: EMPTY, tail: EMPTY, tailOffset: 0, missing: 0 };
/** The retransmission frames of a call not retransmitted (one shared empty list, replaced at the first). */
const NO_FRAMES: FrameRef[] = Object.freeze([]) as unknown as FrameRef[];

/** Both call directions of one TCP connection (or one UDP address pair: only index 0 used), each made at its first call. */
class CallTables {
  private d0: CallTable | undefined;
  private d1: CallTable | undefined;

  get(dir: number): CallTable | undefined {
    return dir === 0 ? this.d0 : this.d1;
  }

  make(dir: number): CallTable {
    const t = new CallTable();
    if (dir === 0) this.d0 = t;
    else this.d1 = t;
    return t;
  }

  /** The tables made, direction 0 first. */
  tables(): CallTable[] {
    const out: CallTable[] = [];
    if (this.d0 !== undefined) out.push(this.d0);
    if (this.d1 !== undefined) out.push(this.d1);
    return out;
  }
}

/** The call `t` seen again in message `m`: one more retransmission, its frame listed (the first few). */
function noteRetransmission(t: Transaction, m: RpcMessageRecord): void {
  t.retransmits++;
  if (t.retransmitFrames.length < MAX_RETRANSMIT_FRAMES) {
    if (t.retransmitFrames === NO_FRAMES) t.retransmitFrames = [];
    t.retransmitFrames.push(snapshotFrameRef(m.frame));
  }
}

function sameFrame(a: FrameRef, b: FrameRef): boolean {
  return a.number === b.number && a.fileIndex === b.fileIndex && a.tsSec === b.tsSec && a.tsNsec === b.tsNsec;
}

/** Snapshots of a message's first, shown and last frames, one object for frames that are the same. */
function frameTriple(m: RpcMessageRecord): [FrameRef, FrameRef, FrameRef] {
  const first = snapshotFrameRef(m.firstFrame);
  const shownAt = shownFrame(m);
  const shown = sameFrame(shownAt, first) ? first : snapshotFrameRef(shownAt);
  const last = sameFrame(m.frame, shown) ? shown : sameFrame(m.frame, first) ? first : snapshotFrameRef(m.frame);
  return [first, shown, last];
}

/**
 * The frame Wireshark shows a message in: where its record completed, or,
 * for a message the capture cut (which Wireshark cannot reassemble), its
 * first frame, where the header was dissected.
 */
function shownFrame(m: RpcMessageRecord): FrameRef {
  // Over RDMA, Wireshark shows a message where its SEND (or last READ Response) is, whatever the capture lost.
  return m.bytes.missing > 0 && m.transport !== 'rdma' ? m.firstFrame : m.frame;
}

/**
 * Where a reply's procedure results start. With RPCSEC_GSS integrity they
 * are wrapped (length, sequence number); with privacy they are encrypted.
 */
function replyBodyOffset(t: Transaction, m: RpcMessageRecord, h: RpcReplyHeader): number {
  const gss = t.cred.gss;
  if (h.bodyOffset < 0 || gss === undefined || gss.proc !== RPCSEC_GSS_DATA) return h.bodyOffset;
  if (gss.service === RPC_GSS_SVC_INTEGRITY) return gssIntegrityBodyOffset(new XdrReader(m.bytes, h.bodyOffset));
  if (gss.service === RPC_GSS_SVC_PRIVACY) return -1;
  return h.bodyOffset;
}

function endpointKey(e: Endpoint): string {
  return `${e.addr}|${e.port}`;
}

function sameProcedure(t: Transaction, h: RpcCallHeader): boolean {
  return t.program === h.prog && t.version === h.vers && t.procedure === h.proc;
}

export interface RpcMatcherOptions {
  /**
   * A retransmission or duplicate reply seen after a call was answered is
   * counted on its transaction (`retransmits`, `retransmitFrames`,
   * `duplicateReplies`) while the caller still holds it (default). False
   * when nothing keeps a transaction once the sink has seen it: it is then
   * only recognised and counted in the stats, and the memory of answered
   * calls holds no reference to them at all.
   */
  lateCounts?: boolean;
}

export class RpcMatcher implements RpcMessageSink {
  readonly stats: MatcherStats = {
    calls: 0,
    replies: 0,
    matched: 0,
    unanswered: 0,
    orphanReplies: 0,
    retransmittedCalls: 0,
    duplicateReplies: 0,
    unfinishedReplies: 0,
    invalid: 0,
  };
  private readonly tcp = new Map<number, CallTables>();
  /** RDMA: per queue-pair connection id (their own numbering). */
  private readonly rdma = new Map<number, CallTables>();
  /** UDP: per client→server pair, calls in direction 0. */
  private readonly udp = new Map<string, CallTables>();
  /** Tables holding accounted bytes, least recently called first: the budget's eviction order. */
  private readonly active = new LruList<CallTable>();
  /** Answered calls remembered (all directions): their bytes are accounted apart from the tables'. */
  private readonly recent: RecentCalls;
  private readonly budget: MemoryBudget;
  private readonly account: MemoryAccount;

  constructor(
    private readonly sink: TransactionSink,
    budget?: MemoryBudget,
    options: RpcMatcherOptions = {},
  ) {
    this.recent = new RecentCalls(RECENT_CALLS, options.lateCounts ?? true);
    this.budget = budget ?? new MemoryBudget(Infinity);
    this.account = this.budget.account('calls');
    this.account.evictor = (bytes) => this.evict(bytes);
    const limited = Number.isFinite(this.budget.limit);
    this.directionMax = limited ? this.budget.limit * DIRECTION_SHARE : Infinity;
    this.directionMaxCalls = limited ? Infinity : MAX_PENDING_PER_DIRECTION;
  }

  /** Bytes the outstanding calls of one direction may hold (with a budget), or how many (without). */
  private readonly directionMax: number;
  private readonly directionMaxCalls: number;

  message(m: RpcMessageRecord): void {
    const h = decodeRpcHeader(new XdrReader(m.bytes));
    if (h.kind === 'call') this.onCall(m, h);
    else if (h.kind === 'reply') this.onReply(m, h);
    else this.stats.invalid++;
  }

  /** UDP: was a call with this xid seen from `client` to `server` (outstanding, or answered recently)? */
  knowsUdpCall(client: Endpoint, server: Endpoint, xid: number): boolean {
    const table = this.udp.get(`${endpointKey(client)}>${endpointKey(server)}`)?.get(0);
    return table !== undefined && (table.get(xid) !== undefined || this.recent.find(table, xid) !== undefined);
  }

  isOutstandingXid(conn: TcpConnection | undefined, dir: Direction, xid: number): boolean {
    if (conn === undefined) return false;
    return this.tcp.get(conn.id)?.get(dir ^ 1)?.get(xid) !== undefined;
  }

  headToKeep(conn: TcpConnection | undefined, dir: Direction, head: Buffer, length: number): number {
    // The head is a prefix: the rest of the message exists, it is just not here yet.
    const prefix: MessageBytes = { length: length < 0 ? KEEP_MAX : length, head, tail: EMPTY, tailOffset: head.length, missing: 0 };
    const h = decodeRpcHeader(new XdrReader(prefix));
    if (h.kind === 'call') {
      if (h.prog !== PROG_NFS) return KEEP_MAX;
      if ((h.vers === 3 && h.proc === NFSPROC3_WRITE) || (h.vers === 2 && h.proc === NFSPROC2_WRITE)) {
        // A header longer than the head (large credentials): keep a generous head.
        return h.bodyOffset > 0 ? h.bodyOffset + BULK_HEADER_KEEP : COMPOUND_HEAD_KEEP;
      }
      if (h.vers === 4 && h.proc === NFSPROC4_COMPOUND && (length < 0 || length > COMPOUND_KEEP_WHOLE)) {
        return COMPOUND_HEAD_KEEP;
      }
      return KEEP_MAX;
    }
    if (h.kind === 'reply' && conn !== undefined) {
      const call = this.tcp.get(conn.id)?.get(dir ^ 1)?.get(h.xid);
      if (call === undefined || call.program !== PROG_NFS) return KEEP_MAX;
      if ((call.version === 3 && call.procedure === NFSPROC3_READ) || (call.version === 2 && call.procedure === NFSPROC2_READ)) {
        return h.bodyOffset > 0 ? h.bodyOffset + BULK_HEADER_KEEP : COMPOUND_HEAD_KEEP;
      }
      if (call.version === 4 && call.procedure === NFSPROC4_COMPOUND && (length < 0 || length > COMPOUND_KEEP_WHOLE)) {
        return COMPOUND_HEAD_KEEP;
      }
    }
    return KEEP_MAX;
  }

  /** A TCP (or RDMA) connection ended: its outstanding calls will never be answered on it. */
  connectionEnded(conn: MessageConnection, transport: 'tcp' | 'rdma' = 'tcp'): void {
    const map = transport === 'tcp' ? this.tcp : this.rdma;
    const tables = map.get(conn.id);
    if (tables === undefined) return;
    map.delete(conn.id);
    for (const table of tables.tables()) this.flushPending(table);
  }

  /**
   * A TCP connection's state was evicted (memory budget): its outstanding
   * calls are dropped, their fate unknown.
   */
  connectionEvicted(conn: MessageConnection): void {
    const tables = this.tcp.get(conn.id);
    if (tables === undefined) return;
    this.tcp.delete(conn.id);
    for (const table of tables.tables()) {
      const pending = table.pendingCount;
      if (this.sink.forgotten !== undefined && table.pending !== undefined) for (const c of table.pending.values()) this.sink.forgotten(c.t);
      this.release(table);
      this.budget.drop('outstandingCalls', pending);
    }
  }

  /** End of the capture: every outstanding call is unanswered. */
  finish(): void {
    for (const map of [this.tcp, this.udp, this.rdma] as Map<unknown, CallTables>[]) {
      for (const tables of map.values()) for (const table of tables.tables()) this.flushPending(table);
    }
    this.rdma.clear();
    this.tcp.clear();
    this.udp.clear();
  }

  private flushPending(table: CallTable): void {
    const pending = table.pending;
    if (pending !== undefined) for (const c of pending.values()) this.emitUnanswered(c.unpack());
    this.release(table);
  }

  /** Forgets everything a table holds (its bytes leave the account). */
  private release(table: CallTable): void {
    table.pending = undefined;
    this.charge(table, -table.bytes);
    if (this.active.contains(table)) this.active.remove(table);
  }

  /** An outstanding call answered by `m` (a reply or a transport's error): off the table and the account; the answer's frames. */
  private settle(table: CallTable, xid: number, c: PendingCall, m: RpcMessageRecord): [FrameRef, FrameRef, FrameRef] {
    table.pending!.delete(xid);
    this.charge(table, -c.bytes);
    c.unpack();
    return frameTriple(m);
  }

  private charge(table: CallTable, delta: number): void {
    table.bytes += delta;
    this.account.add(delta);
  }

  /**
   * The budget's evictor: frees at least `want` bytes, from the table that
   * made a call longest ago first (its memory of answered calls, then its
   * outstanding calls, oldest first).
   */
  private evict(want: number): number {
    let freed = 0;
    // The memory of answered calls first: it only serves late retransmissions and duplicate replies.
    while (freed < want && this.recent.forgetOldest()) {
      this.account.add(-RECENT_BYTES);
      freed += RECENT_BYTES;
      this.budget.drop('answeredCalls', 1);
    }
    for (let table = this.active.oldest; table !== null && freed < want; table = this.active.oldest) {
      const oldest = table.pending?.shift();
      if (oldest === undefined) {
        freed += table.bytes;
        this.release(table);
        continue;
      }
      const n = oldest[1].bytes;
      this.sink.forgotten?.(oldest[1].t);
      this.charge(table, -n);
      freed += n;
      this.budget.drop('outstandingCalls', 1);
    }
    return freed;
  }

  private emitUnanswered(t: Transaction): void {
    this.stats.unanswered++;
    this.sink.unanswered(t);
  }

  /** The table for calls sent as `m` was (calls) or as the call `m` answers was (replies). */
  private tableFor(m: RpcMessageRecord, isReply: boolean, create: boolean): CallTable | undefined {
    let tables: CallTables | undefined;
    let dir: Direction = 0;
    if (m.transport !== 'udp' && m.conn !== undefined) {
      const map = m.transport === 'tcp' ? this.tcp : this.rdma;
      tables = map.get(m.conn.id);
      if (tables === undefined) {
        if (!create) return undefined;
        tables = new CallTables();
        map.set(m.conn.id, tables);
      }
      dir = isReply ? ((m.dir ^ 1) as Direction) : m.dir;
    } else {
      // UDP: the pair as client → server; a reply travels server → client.
      const key = isReply ? `${endpointKey(m.dst)}>${endpointKey(m.src)}` : `${endpointKey(m.src)}>${endpointKey(m.dst)}`;
      tables = this.udp.get(key);
      if (tables === undefined) {
        if (!create) return undefined;
        tables = new CallTables();
        this.udp.set(key, tables);
      }
    }
    let table = tables.get(dir);
    if (table === undefined && create) table = tables.make(dir);
    return table;
  }

  /** Makes a table the most recently called one (the last the budget asks), accounting its own bytes once. */
  private called(table: CallTable): void {
    if (this.active.contains(table)) {
      this.active.touch(table);
      return;
    }
    this.active.push(table);
    if (table.bytes === 0) this.charge(table, TABLE_BYTES);
  }

  /** Adds bytes to a call that is outstanding (retransmission frames, an unfinished reply). */
  private grew(table: CallTable, c: PendingCall, update: () => void): void {
    const before = c.bytes;
    update();
    this.charge(table, c.bytes - before);
  }

  private onCall(m: RpcMessageRecord, h: RpcCallHeader): void {
    this.stats.calls++;
    const table = this.tableFor(m, false, true)!;
    this.called(table);
    const pending = (table.pending ??= new LruMap());
    const oldCall = pending.get(h.xid);
    const old = oldCall?.t;
    if (oldCall !== undefined && old !== undefined && sameProcedure(old, h)) {
      // The same call again: a retransmission. The first call's frames and time stand.
      this.grew(table, oldCall, () => noteRetransmission(old, m));
      this.stats.retransmittedCalls++;
      return;
    }
    const answered = old === undefined ? this.recent.find(table, h.xid) : undefined;
    if (answered !== undefined && answered.program === h.prog && answered.version === h.vers && answered.procedure === h.proc) {
      // A retransmission of a call answered already (the reply crossed it).
      const seen = answered.ref?.deref();
      if (seen !== undefined) noteRetransmission(seen, m);
      this.stats.retransmittedCalls++;
      return;
    }
    if (oldCall !== undefined) {
      // The xid was reused for another call: the old one was never answered.
      pending.delete(h.xid);
      this.charge(table, -oldCall.bytes);
      this.emitUnanswered(oldCall.unpack());
    }
    const [firstFrame, frame, lastFrame] = frameTriple(m);
    const t: Transaction = {
      xid: h.xid,
      transport: m.transport,
      connId: m.transport === 'tcp' ? (m.conn?.id ?? -1) : -1,
      client: m.src,
      server: m.dst,
      program: h.prog,
      version: h.vers,
      procedure: h.proc,
      cred: table.shareCred(h.cred),
      call: {
        firstFrame,
        frame,
        lastFrame,
        bytes: messageLength(m.bytes),
        missing: m.bytes.missing,
        body: m.bytes,
        bodyOffset: h.bodyOffset,
        unfinished: m.unfinished,
      },
      reply: undefined,
      unfinishedReply: undefined,
      latency: -1,
      retransmits: 0,
      retransmitFrames: NO_FRAMES,
      duplicateReplies: 0,
    };
    const c = new PendingCall(t);
    pending.set(h.xid, c);
    this.sink.call?.(t);
    this.charge(table, c.bytes);
    // One direction alone holds too much: its oldest calls go.
    while (pending.size > 1 && (table.bytes > this.directionMax || pending.size > this.directionMaxCalls)) {
      const dropped = pending.shift()![1];
      this.charge(table, -dropped.bytes);
      this.sink.forgotten?.(dropped.t);
      this.budget.drop('outstandingCalls', 1);
    }
  }

  private onReply(m: RpcMessageRecord, h: RpcReplyHeader): void {
    const table = this.tableFor(m, true, false);
    const c = table?.pending?.get(h.xid);
    const t = c?.t;
    if (!m.unfinished) this.stats.replies++;
    if (table === undefined || c === undefined || t === undefined) {
      if (m.unfinished) {
        // Half a reply at the end of a stream, for a call the capture does not hold.
        this.stats.unfinishedReplies++;
        return;
      }
      const answered = table !== undefined ? this.recent.find(table, h.xid) : undefined;
      if (answered !== undefined) {
        const seen = answered.ref?.deref();
        if (seen !== undefined) seen.duplicateReplies++;
        this.stats.duplicateReplies++;
        return;
      }
      this.stats.orphanReplies++;
      this.sink.orphanReply({
        xid: h.xid,
        transport: m.transport,
        connId: m.transport === 'tcp' ? (m.conn?.id ?? -1) : -1,
        client: m.dst,
        server: m.src,
        frame: snapshotFrameRef(shownFrame(m)),
        header: h,
      });
      return;
    }
    if (m.unfinished) {
      // The server began to answer, the stream ended first: the client never got a reply.
      this.stats.unfinishedReplies++;
      this.grew(table, c, () => {
        t.unfinishedReply = {
          firstFrame: snapshotFrameRef(m.firstFrame),
          lastFrame: snapshotFrameRef(m.frame),
          bytesSent: messageLength(m.bytes),
        };
      });
      return;
    }
    const [firstFrame, frame, lastFrame] = this.settle(table, h.xid, c, m);
    t.reply = {
      firstFrame,
      frame,
      lastFrame,
      bytes: messageLength(m.bytes),
      missing: m.bytes.missing,
      header: h,
      body: m.bytes,
      bodyOffset: replyBodyOffset(t, m, h),
    };
    this.answered(table, t);
  }

  /**
   * A call answered by its transport instead of an RPC reply (RPC-over-RDMA
   * RDMA_ERROR): `m` says where, its bytes are empty. The call is answered,
   * failed with the transport's error, and timed to it. An error for no
   * outstanding call is left to the transport layer's counts.
   */
  transportError(m: RpcMessageRecord, xid: number, error: TransportError): void {
    const table = this.tableFor(m, true, false);
    const c = table?.pending?.get(xid);
    const t = c?.t;
    if (table === undefined || c === undefined || t === undefined) return;
    const [firstFrame, frame, lastFrame] = this.settle(table, xid, c, m);
    t.reply = {
      firstFrame,
      frame,
      lastFrame,
      bytes: 0,
      missing: 0,
      header: {
        kind: 'reply', xid, replyStat: -1, verf: undefined, acceptStat: undefined, mismatch: undefined,
        rejectStat: undefined, authStat: undefined, bodyOffset: -1, truncated: false, malformed: false, errorAt: -1,
      },
      body: RELEASED,
      bodyOffset: -1,
      transportError: error,
    };
    this.answered(table, t);
  }

  private answered(table: CallTable, t: Transaction): void {
    t.latency = secondsBetween(t.call.frame, t.reply!.frame);
    this.stats.matched++;
    this.sink.transaction(t);
    // Bodies are for the sink's decoders during the call; the short memory
    // of answered calls must not keep megabytes of READDIR replies alive.
    t.call.body = RELEASED;
    t.reply!.body = RELEASED;
    this.remember(table, t);
  }

  /** Remembers an answered call (for late retransmissions and duplicate replies). */
  private remember(table: CallTable, t: Transaction): void {
    const before = this.recent.size;
    this.recent.add(table, t);
    this.account.add((this.recent.size - before) * RECENT_BYTES);
  }

}
