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
 *
 * A UDP address pair (or a message without its connection) has a direction
 * of its own, made at its first call. One with no call waiting is kept for
 * the next (at most MAX_IDLE_UDP_DIRECTIONS of them, the least recently
 * answered forgotten first, and none the budget releases): what it knows of
 * its answered calls stays in the memory of answered calls, by the pair.
 */
import { messageLength, type MessageBytes } from '../../decoders/bytes.js';
import { PROG_NFS } from '../../decoders/programs.js';
import {
  type Credential,
  AuthSysMemo,
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
import { LruMap } from '../memory/lru.js';
import { fnvText } from '../fnv.js';
import type { Direction, Endpoint, TcpConnection } from '../transport/stream.js';
import { COMPACT_CALL_BYTES, DIRECTION_BYTES, PendingCall, RECENT_CALLS, RecentCalls, sameCredential, STRING_BYTES, UDP_DIRECTION_EXTRA_BYTES } from './call-table.js';
import { NONE, T_RDMA, T_TCP, T_UDP, WaitingCalls, type CompactCall, type TransportCode } from './waiting-calls.js';
import { KEEP_MAX, type MessageConnection, type RpcMessageRecord, type RpcMessageSink, type RpcTransport } from './message.js';
import type { MatcherStats, RpcCallSide, Transaction, TransactionSink, TransportError } from './transaction.js';
import { DEFAULT_ENTITY_BOUND } from '../memory/entity-bound.js';

/** Outstanding calls held at most per connection direction (or UDP address pair) without a memory budget; the oldest are dropped. */
const MAX_PENDING_PER_DIRECTION = 65_536;
/** With a budget: the share of its limit the outstanding calls of one direction may hold (the oldest beyond are dropped). */
const DIRECTION_SHARE = 1 / 8;
/**
 * UDP directions with no call waiting kept at most (about 450 bytes each
 * with their pair's text, endpoints and the detectors' text of them, 80
 * accounted): a capture of 100,000 UDP clients kept them all to its end.
 */
export const MAX_IDLE_UDP_DIRECTIONS = DEFAULT_ENTITY_BOUND;
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
  /** UDP directions with no call waiting kept at most (MAX_IDLE_UDP_DIRECTIONS). */
  maxIdleUdpDirections?: number;
}

/** Credentials shared by value at most (then forgotten all at once and shared anew). */
const SHARED_CREDENTIALS = 4096;

/** The text a credential is shared by (AUTH_SYS and flavors nfsight does not parse), or undefined (RPCSEC_GSS: not shared). */
function credentialKey(c: Credential): string | undefined {
  if (c.gss !== undefined) return undefined;
  const s = c.sys;
  if (s === undefined) return `${c.flavor}|${c.length}|${c.status}`;
  return `${c.flavor}|${c.length}|${c.status}|${s.stamp}|${s.uid}|${s.gid}|${s.gids.join(',')}|${s.machine}`;
}

const TRANSPORT_NAMES = ['tcp', 'udp', 'rdma'] as const;
const transportCode = (t: RpcTransport): TransportCode => (t === 'tcp' ? T_TCP : t === 'udp' ? T_UDP : T_RDMA);
/** The key of a TCP connection's direction of calls in the waiting calls (RDMA: tcpKey's, negated, minus one). */
const tcpKey = (id: number, dir: number): number => id * 2 + dir;
const rdmaKey = (id: number, dir: number): number => -(id * 2 + dir) - 1;
const fitsInt32 = (n: number): boolean => (n | 0) === n;

/** A call's transaction before its reply. */
function newTransaction(
  xid: number,
  transport: RpcTransport,
  connId: number,
  client: Endpoint,
  server: Endpoint,
  program: number,
  version: number,
  procedure: number,
  cred: Credential,
  call: RpcCallSide,
): Transaction {
  return {
    xid,
    transport,
    connId,
    client,
    server,
    program,
    version,
    procedure,
    cred,
    call,
    reply: undefined,
    unfinishedReply: undefined,
    latency: -1,
    retransmits: 0,
    retransmitFrames: NO_FRAMES,
    duplicateReplies: 0,
  };
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
    invalidCut: 0,
  };
  /** Outstanding calls of all connections, by direction of calls (src/rpc/waiting-calls.ts). */
  private readonly waiting = new WaitingCalls();
  /** Answered calls remembered (all directions): their bytes are accounted apart from the directions'. */
  private readonly recent: RecentCalls;
  private readonly budget: MemoryBudget;
  private readonly account: MemoryAccount;
  /** AUTH_SYS credentials decoded, by their bytes: the same body is not decoded again. */
  readonly authSys = new AuthSysMemo();
  /** Credentials shared between calls, by value. */
  private readonly creds = new Map<string, Credential>();
  private lastCred: Credential | undefined;
  /** UDP (address pair) directions with no call waiting, the least recently answered first. */
  private readonly idleUdp = new LruMap<number, true>();
  private readonly maxIdleUdp: number;

  constructor(
    private readonly sink: TransactionSink,
    budget?: MemoryBudget,
    options: RpcMatcherOptions = {},
  ) {
    this.recent = new RecentCalls(RECENT_CALLS, options.lateCounts ?? true);
    this.maxIdleUdp = options.maxIdleUdpDirections ?? MAX_IDLE_UDP_DIRECTIONS;
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

  /** Outstanding calls held now (tests, docs/memory.md). */
  get outstanding(): number {
    return this.waiting.callCount;
  }

  /** Directions of calls held now, with calls waiting or not (tests). */
  get directions(): number {
    return this.waiting.directionCount;
  }

  message(m: RpcMessageRecord): void {
    const h = decodeRpcHeader(new XdrReader(m.bytes), this.authSys);
    if (h.kind === 'call') this.onCall(m, h);
    else if (h.kind === 'reply') this.onReply(m, h);
    else {
      this.stats.invalid++;
      if (m.bytes.missing > 0) {
        this.stats.invalidCut++;
        this.firstInvalidCut ??= snapshotFrameRef(shownFrame(m));
      }
    }
  }

  /** Where the first message whose header the capture cut was (stats.invalidCut). */
  firstInvalidCut: FrameRef | undefined = undefined;

  /** UDP: was a call with this xid seen from `client` to `server` (outstanding, or answered recently)? */
  knowsUdpCall(client: Endpoint, server: Endpoint, xid: number): boolean {
    const key = `${endpointKey(client)}>${endpointKey(server)}`;
    const d = this.waiting.findUdpDir(key);
    // The pair's direction may have been let go idle: its answered calls are remembered by the pair (hashed as its direction was: fnvText of the pair).
    return (d !== NONE && this.waiting.findCall(d, xid) !== NONE) || this.recent.find(key, d !== NONE ? this.waiting.dirRecentHash(d) : fnvText(key), xid) !== NONE;
  }

  isOutstandingXid(conn: TcpConnection | undefined, dir: Direction, xid: number): boolean {
    if (conn === undefined) return false;
    const d = this.waiting.findDir(tcpKey(conn.id, dir ^ 1));
    return d !== NONE && this.waiting.findCall(d, xid) !== NONE;
  }

  headToKeep(conn: TcpConnection | undefined, dir: Direction, head: Buffer, length: number): number {
    // The head is a prefix: the rest of the message exists, it is just not here yet.
    const prefix: MessageBytes = { length: length < 0 ? KEEP_MAX : length, head, tail: EMPTY, tailOffset: head.length, missing: 0 };
    const h = decodeRpcHeader(new XdrReader(prefix), this.authSys);
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
      const w = this.waiting;
      const d = w.findDir(tcpKey(conn.id, dir ^ 1));
      const c = d === NONE ? NONE : w.findCall(d, h.xid);
      if (c === NONE || w.program(c) !== PROG_NFS) return KEEP_MAX;
      const version = w.version(c);
      const procedure = w.procedure(c);
      if ((version === 3 && procedure === NFSPROC3_READ) || (version === 2 && procedure === NFSPROC2_READ)) {
        return h.bodyOffset > 0 ? h.bodyOffset + BULK_HEADER_KEEP : COMPOUND_HEAD_KEEP;
      }
      if (version === 4 && procedure === NFSPROC4_COMPOUND && (length < 0 || length > COMPOUND_KEEP_WHOLE)) {
        return COMPOUND_HEAD_KEEP;
      }
    }
    return KEEP_MAX;
  }

  /** A TCP (or RDMA) connection ended: its outstanding calls will never be answered on it. */
  connectionEnded(conn: MessageConnection, transport: 'tcp' | 'rdma' = 'tcp'): void {
    const key = transport === 'tcp' ? tcpKey : rdmaKey;
    for (let dir = 0; dir < 2; dir++) {
      const d = this.waiting.findDir(key(conn.id, dir));
      if (d !== NONE) this.flush(d);
    }
  }

  /**
   * A TCP connection's state was evicted (memory budget): its outstanding
   * calls are dropped, their fate unknown.
   */
  connectionEvicted(conn: MessageConnection): void {
    const w = this.waiting;
    for (let dir = 0; dir < 2; dir++) {
      const d = w.findDir(tcpKey(conn.id, dir));
      if (d === NONE) continue;
      const pending = w.dirCount(d);
      for (let c = w.oldestCall(d); c !== NONE; c = w.oldestCall(d)) {
        if (this.sink.forgotten !== undefined) this.sink.forgotten(this.held(c, d));
        this.charge(d, -w.callBytes(c));
        w.removeCall(c);
      }
      this.release(d);
      w.freeDir(d);
      this.budget.drop('outstandingCalls', pending);
    }
  }

  /** End of the capture: every outstanding call is unanswered. */
  finish(): void {
    for (const kind of [T_TCP, T_UDP, T_RDMA] as const) for (const d of this.waiting.directions(kind)) this.flush(d);
    // Nothing comes after the end: the memory of answered calls (to know late
    // retransmissions) goes before the report is made, which is when a run's
    // memory peaks (2.6 MB at 65,536 calls; the 900 MB wide capture of
    // docs/memory.md peaked 3-4 MB lower without it).
    this.account.add(-this.recent.size * this.recent.entryBytes);
    this.recent.clear();
  }

  /** Every outstanding call of a direction is unanswered; the direction is forgotten. */
  private flush(d: number): void {
    const w = this.waiting;
    for (let c = w.oldestCall(d); c !== NONE; c = w.oldestCall(d)) {
      const t = this.unpack(c, d);
      this.charge(d, -w.callBytes(c));
      w.removeCall(c);
      this.emitUnanswered(t);
    }
    this.release(d);
    w.freeDir(d);
  }

  /** Forgets what a direction holds (its bytes leave the account; it leaves the eviction order). */
  private release(d: number): void {
    this.charge(d, -this.waiting.dirBytes(d));
    if (this.waiting.dirActive(d)) this.waiting.deactivate(d);
  }

  private charge(d: number, delta: number): void {
    this.waiting.addDirBytes(d, delta);
    this.account.add(delta);
  }

  /**
   * A compact call's transaction, made now (its body's bytes as Buffers:
   * valid until the next call is added; the decoders read them before).
   */
  private build(c: number, d: number): Transaction {
    const w = this.waiting;
    const v = w.compact(c);
    const frame: FrameRef = { fileIndex: v.fileIndex, number: v.number, tsSec: v.tsSec, tsNsec: v.tsNsec };
    const head = w.callHead(c);
    const transport = w.dirTransport(d);
    const call: RpcCallSide = {
      firstFrame: frame,
      frame,
      lastFrame: frame,
      bytes: v.length,
      missing: 0,
      body: { length: v.length, head, tail: EMPTY, tailOffset: v.length, missing: 0 },
      bodyOffset: v.bodyOffset,
      unfinished: false,
    };
    const conn = transport === T_TCP ? w.dirConn(d) : -1;
    return newTransaction(v.xid, TRANSPORT_NAMES[transport], conn, w.dirClient(d), w.dirServer(d), v.prog, v.vers, v.proc, w.callCred(c), call);
  }

  /** The call leaves the matcher (answered, unanswered): its transaction, with the bytes as Buffers for the decoders. */
  private unpack(c: number, d: number): Transaction {
    const full = this.waiting.callFull(c);
    return full !== undefined ? full.unpack() : this.build(c, d);
  }

  /** The transaction of a call being dropped (for the sink's `forgotten`; a full call's own, its bytes left packed). */
  private held(c: number, d: number): Transaction {
    return this.waiting.callFull(c)?.t ?? this.build(c, d);
  }

  /** The full form of a waiting call (made from its compact record when it needs more than that: a retransmission, a reply begun). */
  private full(c: number, d: number): PendingCall {
    const w = this.waiting;
    const had = w.callFull(c);
    if (had !== undefined) return had;
    const full = new PendingCall(this.build(c, d));
    w.setCallFull(c, full);
    this.charge(d, full.bytes - w.callBytes(c));
    w.setCallBytes(c, full.bytes);
    return full;
  }

  /**
   * The budget's evictor: frees at least `want` bytes, from the direction
   * that made a call longest ago first (its memory of answered calls, then
   * its outstanding calls, oldest first).
   */
  private evict(want: number): number {
    let freed = 0;
    // The memory of answered calls first: it only serves late retransmissions and duplicate replies.
    while (freed < want && this.recent.forgetOldest()) {
      this.account.add(-this.recent.entryBytes);
      freed += this.recent.entryBytes;
      this.budget.drop('answeredCalls', 1);
    }
    const w = this.waiting;
    for (let d = w.leastRecent; d !== NONE && freed < want; d = w.leastRecent) {
      const c = w.oldestCall(d);
      if (c === NONE) {
        freed += w.dirBytes(d);
        this.release(d);
        // A pair's direction is made again at its next call: let go, not kept outside the account.
        if (typeof w.dirRecentKey(d) === 'string') {
          this.idleUdp.delete(d);
          w.freeDir(d);
        }
        continue;
      }
      const n = w.callBytes(c);
      if (this.sink.forgotten !== undefined) this.sink.forgotten(this.held(c, d));
      w.removeCall(c);
      this.charge(d, -n);
      freed += n;
      this.budget.drop('outstandingCalls', 1);
    }
    return freed;
  }

  private emitUnanswered(t: Transaction): void {
    this.stats.unanswered++;
    this.sink.unanswered(t);
  }

  /** The direction for calls sent as `m` was (calls) or as the call `m` answers was (replies); NONE when there is none and `create` is false. */
  private dirFor(m: RpcMessageRecord, isReply: boolean, create: boolean): number {
    const w = this.waiting;
    if (m.transport !== 'udp' && m.conn !== undefined) {
      const dir = isReply ? m.dir ^ 1 : m.dir;
      const tcp = m.transport === 'tcp';
      const key = tcp ? tcpKey(m.conn.id, dir) : rdmaKey(m.conn.id, dir);
      const d = w.findDir(key);
      if (d !== NONE || !create) return d;
      return w.makeDir(transportCode(m.transport), key, undefined, tcp ? m.conn.id : -1, m.src, m.dst);
    }
    const key = this.pairKey(m, isReply);
    const d = w.findUdpDir(key);
    if (d !== NONE || !create) return d;
    return w.makeDir(transportCode(m.transport), 0, key, -1, m.src, m.dst);
  }

  /** UDP (and a message without its connection): the address pair as client → server; a reply travels server → client. */
  private pairKey(m: RpcMessageRecord, isReply: boolean): string {
    return isReply ? `${endpointKey(m.dst)}>${endpointKey(m.src)}` : `${endpointKey(m.src)}>${endpointKey(m.dst)}`;
  }

  /** Makes a direction the most recently called one (the last the budget asks), accounting its own bytes once. */
  private called(d: number): void {
    const w = this.waiting;
    const was = w.dirActive(d);
    w.touch(d);
    if (!was && w.dirBytes(d) === 0) this.charge(d, w.dirTransport(d) === T_UDP ? DIRECTION_BYTES + UDP_DIRECTION_EXTRA_BYTES : DIRECTION_BYTES);
  }

  /** Adds bytes to a call that is outstanding (retransmission frames, an unfinished reply). */
  private grew(d: number, c: number, full: PendingCall, update: () => void): void {
    update();
    const n = full.bytes;
    this.charge(d, n - this.waiting.callBytes(c));
    this.waiting.setCallBytes(c, n);
  }

  /** `cred`, or an equal credential already held (AUTH_SYS and AUTH_NONE: clients send the same one call after call). */
  private shareCred(cred: Credential): Credential {
    const last = this.lastCred;
    if (last !== undefined && sameCredential(last, cred)) return last;
    const key = credentialKey(cred);
    if (key === undefined) return cred;
    let shared = this.creds.get(key);
    if (shared === undefined) {
      if (this.creds.size >= SHARED_CREDENTIALS) this.creds.clear();
      this.creds.set(key, cred);
      shared = cred;
    }
    this.lastCred = shared;
    return shared;
  }

  private onCall(m: RpcMessageRecord, h: RpcCallHeader): void {
    this.stats.calls++;
    const w = this.waiting;
    const d = this.dirFor(m, false, true);
    if (this.idleUdp.size > 0) this.idleUdp.delete(d);
    this.called(d);
    const oldCall = w.findCall(d, h.xid);
    if (oldCall !== NONE && w.program(oldCall) === h.prog && w.version(oldCall) === h.vers && w.procedure(oldCall) === h.proc) {
      // The same call again: a retransmission. The first call's frames and time stand.
      const full = this.full(oldCall, d);
      this.grew(d, oldCall, full, () => noteRetransmission(full.t, m));
      this.stats.retransmittedCalls++;
      return;
    }
    const answered = oldCall === NONE ? this.recent.find(w.dirRecentKey(d), w.dirRecentHash(d), h.xid) : NONE;
    if (answered !== NONE && this.recent.sameProcedure(answered, h.prog, h.vers, h.proc)) {
      // A retransmission of a call answered already (the reply crossed it).
      const seen = this.recent.transaction(answered);
      if (seen !== undefined) noteRetransmission(seen, m);
      this.stats.retransmittedCalls++;
      // Its pair's direction, made again for it, if it had been let go.
      this.idleIfEmpty(d);
      return;
    }
    if (oldCall !== NONE) {
      // The xid was reused for another call: the old one was never answered.
      const t = this.unpack(oldCall, d);
      this.charge(d, -w.callBytes(oldCall));
      w.removeCall(oldCall);
      this.emitUnanswered(t);
    }
    const cred = this.shareCred(h.cred);
    const b = m.bytes;
    const f = m.firstFrame;
    if (
      this.sink.call === undefined &&
      transportCode(m.transport) === w.dirTransport(d) &&
      b.tail.length === 0 &&
      b.tailOffset === b.length &&
      b.missing === 0 &&
      b.writeChunks === undefined &&
      !m.unfinished &&
      sameFrame(f, m.frame) &&
      fitsInt32(f.fileIndex) &&
      fitsInt32(f.number) &&
      fitsInt32(f.tsSec) &&
      fitsInt32(f.tsNsec) &&
      fitsInt32(b.length) &&
      fitsInt32(h.bodyOffset)
    ) {
      // The common call: a compact record, its transaction made when it leaves.
      const v: CompactCall = {
        xid: h.xid,
        prog: h.prog,
        vers: h.vers,
        proc: h.proc,
        fileIndex: f.fileIndex,
        number: f.number,
        tsSec: f.tsSec,
        tsNsec: f.tsNsec,
        length: b.length,
        bodyOffset: h.bodyOffset,
      };
      // Accounted as a string (what a call still waiting when the ring goes round keeps).
      const n = COMPACT_CALL_BYTES + (b.head.length > 0 ? b.head.length + STRING_BYTES : 0);
      w.addCall(d, h.xid, v, b.head, cred, undefined, n);
      this.charge(d, n);
    } else {
      const [firstFrame, frame, lastFrame] = frameTriple(m);
      const call: RpcCallSide = { firstFrame, frame, lastFrame, bytes: messageLength(b), missing: b.missing, body: b, bodyOffset: h.bodyOffset, unfinished: m.unfinished };
      const conn = m.transport === 'tcp' ? (m.conn?.id ?? -1) : -1;
      const t = newTransaction(h.xid, m.transport, conn, m.src, m.dst, h.prog, h.vers, h.proc, cred, call);
      const full = new PendingCall(t);
      w.addCall(d, h.xid, null, EMPTY, undefined, full, full.bytes);
      this.sink.call?.(t);
      this.charge(d, full.bytes);
    }
    // One direction alone holds too much: its oldest calls go.
    while (w.dirCount(d) > 1 && (w.dirBytes(d) > this.directionMax || w.dirCount(d) > this.directionMaxCalls)) {
      const c = w.oldestCall(d);
      const t = this.sink.forgotten !== undefined ? this.held(c, d) : undefined;
      this.charge(d, -w.callBytes(c));
      w.removeCall(c);
      if (t !== undefined) this.sink.forgotten!(t);
      this.budget.drop('outstandingCalls', 1);
    }
  }

  private onReply(m: RpcMessageRecord, h: RpcReplyHeader): void {
    const w = this.waiting;
    const d = this.dirFor(m, true, false);
    const c = d === NONE ? NONE : w.findCall(d, h.xid);
    if (!m.unfinished) this.stats.replies++;
    if (c === NONE) {
      if (m.unfinished) {
        // Half a reply at the end of a stream, for a call the capture does not hold.
        this.stats.unfinishedReplies++;
        return;
      }
      // A pair's direction may have been let go idle: its answered calls are remembered by the pair (hashed as its direction was: fnvText of the pair).
      const key = d !== NONE ? w.dirRecentKey(d) : m.transport !== 'udp' && m.conn !== undefined ? undefined : this.pairKey(m, true);
      const answered = key === undefined ? NONE : this.recent.find(key, d !== NONE ? w.dirRecentHash(d) : fnvText(key as string), h.xid);
      if (answered !== NONE) {
        const seen = this.recent.transaction(answered);
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
      const full = this.full(c, d);
      this.grew(d, c, full, () => {
        full.t.unfinishedReply = {
          firstFrame: snapshotFrameRef(m.firstFrame),
          lastFrame: snapshotFrameRef(m.frame),
          bytesSent: messageLength(m.bytes),
        };
      });
      return;
    }
    const [t, [firstFrame, frame, lastFrame]] = this.settle(d, c, m);
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
    this.answered(d, t);
  }

  /** An outstanding call answered by `m` (a reply or a transport's error): off the table and the account; its transaction and the answer's frames. */
  private settle(d: number, c: number, m: RpcMessageRecord): [Transaction, [FrameRef, FrameRef, FrameRef]] {
    const t = this.unpack(c, d);
    this.charge(d, -this.waiting.callBytes(c));
    this.waiting.removeCall(c);
    return [t, frameTriple(m)];
  }

  /**
   * A call answered by its transport instead of an RPC reply (RPC-over-RDMA
   * RDMA_ERROR): `m` says where, its bytes are empty. The call is answered,
   * failed with the transport's error, and timed to it. An error for no
   * outstanding call is left to the transport layer's counts.
   */
  transportError(m: RpcMessageRecord, xid: number, error: TransportError): void {
    const d = this.dirFor(m, true, false);
    const c = d === NONE ? NONE : this.waiting.findCall(d, xid);
    if (c === NONE) return;
    const [t, [firstFrame, frame, lastFrame]] = this.settle(d, c, m);
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
    this.answered(d, t);
  }

  private answered(d: number, t: Transaction): void {
    t.latency = secondsBetween(t.call.frame, t.reply!.frame);
    this.stats.matched++;
    this.sink.transaction(t);
    // Bodies are for the sink's decoders during the call; the short memory
    // of answered calls must not keep megabytes of READDIR replies alive.
    t.call.body = RELEASED;
    t.reply!.body = RELEASED;
    this.remember(d, t);
    this.idleIfEmpty(d);
  }

  /** A pair's direction with no call waiting: kept for its next call, within MAX_IDLE_UDP_DIRECTIONS. */
  private idleIfEmpty(d: number): void {
    if (this.waiting.dirCount(d) !== 0 || typeof this.waiting.dirRecentKey(d) !== 'string') return;
    this.idleUdp.set(d, true);
    if (this.idleUdp.size <= this.maxIdleUdp) return;
    const [oldest] = this.idleUdp.shift()!;
    this.release(oldest);
    this.waiting.freeDir(oldest);
  }

  /** Remembers an answered call (for late retransmissions and duplicate replies). */
  private remember(d: number, t: Transaction): void {
    const before = this.recent.size;
    this.recent.add(this.waiting.dirRecentKey(d), this.waiting.dirRecentHash(d), t);
    this.account.add((this.recent.size - before) * this.recent.entryBytes);
  }
}
