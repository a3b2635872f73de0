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
 */
import type { MessageBytes } from '../../decoders/bytes.js';
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
import type { Direction, Endpoint, TcpConnection } from '../transport/stream.js';
import { KEEP_MAX, type MessageConnection, type RpcMessageRecord, type RpcMessageSink } from './message.js';
import { LruMap } from '../memory/lru.js';
import type { MatcherStats, Transaction, TransactionSink } from './transaction.js';

/** Answered calls remembered per connection direction, for late retransmissions and duplicate replies. */
const RECENT_PER_DIRECTION = 256;
/** Outstanding calls held at most per connection direction (or UDP address pair); the oldest go first. */
const MAX_PENDING_PER_DIRECTION = 65_536;
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

/** Calls outstanding and recently answered, for one direction of calls. */
class CallTable {
  readonly pending = new LruMap<number, Transaction>();
  readonly recent = new LruMap<number, Transaction>();

  remember(t: Transaction): void {
    this.recent.delete(t.xid);
    this.recent.set(t.xid, t);
    if (this.recent.size > RECENT_PER_DIRECTION) this.recent.shift();
  }
}

/** Both call directions of one TCP connection (or one UDP address pair: only index 0 used). */
class CallTables {
  readonly byCallDir: [CallTable, CallTable] = [new CallTable(), new CallTable()];
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

  constructor(private readonly sink: TransactionSink) {}

  message(m: RpcMessageRecord): void {
    const h = decodeRpcHeader(new XdrReader(m.bytes));
    if (h.kind === 'call') this.onCall(m, h);
    else if (h.kind === 'reply') this.onReply(m, h);
    else this.stats.invalid++;
  }

  /** UDP: was a call with this xid seen from `client` to `server` (outstanding, or answered recently)? */
  knowsUdpCall(client: Endpoint, server: Endpoint, xid: number): boolean {
    const table = this.udp.get(`${endpointKey(client)}>${endpointKey(server)}`)?.byCallDir[0];
    return table !== undefined && (table.pending.has(xid) || table.recent.has(xid));
  }

  isOutstandingXid(conn: TcpConnection | undefined, dir: Direction, xid: number): boolean {
    if (conn === undefined) return false;
    const tables = this.tcp.get(conn.id);
    return tables !== undefined && tables.byCallDir[dir ^ 1]!.pending.has(xid);
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
      const call = this.tcp.get(conn.id)?.byCallDir[dir ^ 1]!.pending.get(h.xid);
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
    for (const table of tables.byCallDir) this.flushPending(table);
  }

  /** End of the capture: every outstanding call is unanswered. */
  finish(): void {
    for (const tables of this.tcp.values()) for (const table of tables.byCallDir) this.flushPending(table);
    for (const tables of this.udp.values()) for (const table of tables.byCallDir) this.flushPending(table);
    for (const tables of this.rdma.values()) for (const table of tables.byCallDir) this.flushPending(table);
    this.rdma.clear();
    this.tcp.clear();
    this.udp.clear();
  }

  private flushPending(table: CallTable): void {
    for (const t of table.pending.values()) this.emitUnanswered(t);
    table.pending.clear();
  }

  private emitUnanswered(t: Transaction): void {
    this.stats.unanswered++;
    this.sink.unanswered(t);
  }

  /** The table for calls sent as `m` was (calls) or as the call `m` answers was (replies). */
  private tableFor(m: RpcMessageRecord, isReply: boolean, create: boolean): CallTable | undefined {
    if (m.transport !== 'udp' && m.conn !== undefined) {
      const map = m.transport === 'tcp' ? this.tcp : this.rdma;
      let tables = map.get(m.conn.id);
      if (tables === undefined) {
        if (!create) return undefined;
        tables = new CallTables();
        map.set(m.conn.id, tables);
      }
      return tables.byCallDir[isReply ? ((m.dir ^ 1) as Direction) : m.dir];
    }
    // UDP: the pair as client → server; a reply travels server → client.
    const key = isReply ? `${endpointKey(m.dst)}>${endpointKey(m.src)}` : `${endpointKey(m.src)}>${endpointKey(m.dst)}`;
    let tables = this.udp.get(key);
    if (tables === undefined) {
      if (!create) return undefined;
      tables = new CallTables();
      this.udp.set(key, tables);
    }
    return tables.byCallDir[0];
  }

  private onCall(m: RpcMessageRecord, h: RpcCallHeader): void {
    this.stats.calls++;
    const table = this.tableFor(m, false, true)!;
    const seen = table.pending.get(h.xid) ?? table.recent.get(h.xid);
    if (seen !== undefined && sameProcedure(seen, h)) {
      // The same call again: a retransmission. The first call's frames and time stand.
      seen.retransmits++;
      if (seen.retransmitFrames.length < MAX_RETRANSMIT_FRAMES) seen.retransmitFrames.push(snapshotFrameRef(m.frame));
      this.stats.retransmittedCalls++;
      return;
    }
    const old = table.pending.get(h.xid);
    if (old !== undefined) {
      // The xid was reused for another call: the old one was never answered.
      table.pending.delete(h.xid);
      this.emitUnanswered(old);
    }
    const t: Transaction = {
      xid: h.xid,
      transport: m.transport,
      connId: m.transport === 'tcp' ? (m.conn?.id ?? -1) : -1,
      client: m.src,
      server: m.dst,
      program: h.prog,
      version: h.vers,
      procedure: h.proc,
      cred: h.cred,
      call: {
        firstFrame: snapshotFrameRef(m.firstFrame),
        frame: snapshotFrameRef(shownFrame(m)),
        lastFrame: snapshotFrameRef(m.frame),
        bytes: m.bytes.length,
        missing: m.bytes.missing,
        body: m.bytes,
        bodyOffset: h.bodyOffset,
        unfinished: m.unfinished,
      },
      reply: undefined,
      unfinishedReply: undefined,
      latency: -1,
      retransmits: 0,
      retransmitFrames: [],
      duplicateReplies: 0,
    };
    table.pending.set(h.xid, t);
    if (table.pending.size > MAX_PENDING_PER_DIRECTION) this.emitUnanswered(table.pending.shift()![1]);
  }

  private onReply(m: RpcMessageRecord, h: RpcReplyHeader): void {
    const table = this.tableFor(m, true, false);
    const t = table?.pending.get(h.xid);
    if (!m.unfinished) this.stats.replies++;
    if (table === undefined || t === undefined) {
      if (m.unfinished) {
        // Half a reply at the end of a stream, for a call the capture does not hold.
        this.stats.unfinishedReplies++;
        return;
      }
      const answered = table?.recent.get(h.xid);
      if (answered !== undefined) {
        answered.duplicateReplies++;
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
      t.unfinishedReply = {
        firstFrame: snapshotFrameRef(m.firstFrame),
        lastFrame: snapshotFrameRef(m.frame),
        bytesSent: m.bytes.length,
      };
      return;
    }
    table.pending.delete(h.xid);
    const frame = snapshotFrameRef(shownFrame(m));
    t.reply = {
      firstFrame: snapshotFrameRef(m.firstFrame),
      frame,
      lastFrame: snapshotFrameRef(m.frame),
      bytes: m.bytes.length,
      missing: m.bytes.missing,
      header: h,
      body: m.bytes,
      bodyOffset: replyBodyOffset(t, m, h),
    };
    t.latency = secondsBetween(t.call.frame, frame);
    this.stats.matched++;
    this.sink.transaction(t);
    // Bodies are for the sink's decoders during the call; the short memory
    // of answered calls must not keep megabytes of READDIR replies alive.
    t.call.body = RELEASED;
    t.reply.body = RELEASED;
    table.remember(t);
  }
}
