/**
 * TCP stream reassembly for a passive observer, in the manner of gopacket's
 * reassembly (tcpassembly.go): each direction of each connection is turned
 * into in-order bytes, and bytes the capture never saw are reported as an
 * explicit gap ("Skip") instead of being waited for forever.
 *
 * Decisions a passive observer has to make (it cannot ask for a
 * retransmission):
 *  - a hole in the sequence space the peer ACKs beyond (the receiver got
 *    bytes the capture did not) may still be filled by a later segment (a
 *    spurious retransmission, or a merged capture writing the segment after
 *    the ACK): it is declared lost when the layer above asks
 *    (StreamControl.releaseAcknowledged: a reply whose call may wait behind
 *    it), when the out-of-order buffer of the direction (or of the whole
 *    reassembler) overflows, at FIN/RST, and at the end of the capture;
 *  - bytes cut by the snaplen are a gap right after the captured part;
 *  - a byte is delivered at most once: whatever arrives again for stream
 *    offsets already passed (delivered or declared lost) is dropped (counted
 *    in `retransmittedBytes`).
 *
 * The TCP events about segments ('retransmission', 'out-of-order',
 * 'lost-segment', 'zero-window', 'dup-ack', ...) do not come from delivery:
 * each segment is first classified by {@link TcpAnalysis} (tcp-analysis.ts),
 * Wireshark's rules, so they flag the same frames as tshark's `tcp.analysis.*`.
 * Delivery reports only the bytes it never got, as 'gap' events ('snaplen-gap'
 * for bytes the snaplen cut off), and the connection's FINs, the reopening
 * of a zero window and its end ('fin', 'window-reopened', 'connection-end').
 *
 * Hot path: an in-order segment costs one header parse into a reused object,
 * one lookup by numbers in the connection table (conn-table.ts), and the
 * frame's buffer with the payload's bounds handed to the consumer: nothing
 * is copied or allocated. Only out-of-order segments are copied (the frame
 * buffer they point into is reused by the reader).
 */
import { assignFrameRef, secondsBetween, snapshotFrameRef, type FrameRef, type LazyBytes } from '../capture/frame.js';
import { InternalError, loopBound } from '../internal-error.js';
import type { IpPacket } from '../net/packet.js';
import {
  connectionConsumer,
  type ConnectionConsumer,
  type Direction,
  type Endpoint,
  FROZEN_CONSUMER_FLOATS,
  FROZEN_CONSUMER_INTS,
  type FrozenConsumer,
  type StreamControl,
  type StreamEndReason,
  type TcpConnection,
  type TcpEventKind,
  type TransportHandler,
} from './stream.js';
import {
  TA_ACK_LOST_PACKET,
  TA_ANY_RETRANSMISSION,
  TA_DUPLICATE_ACK,
  TA_FAST_RETRANSMISSION,
  TA_KEEP_ALIVE,
  TA_LOST_PACKET,
  TA_OUT_OF_ORDER,
  TA_SPURIOUS_RETRANSMISSION,
  TA_ZERO_WINDOW,
  classifySegment,
  SegmentDetails,
  TcpFlowAnalysis,
  type TcpRttState,
} from './tcp-analysis.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpHeader } from './tcp-header.js';
import { MemoryBudget, type MemoryAccount } from '../memory/budget.js';
import { LruList, LruMap, type LruLinks } from '../memory/lru.js';
import { ConnEntry, ConnKey, ConnTable, KeyFields } from './conn-table.js';
import { COLD_PAGE_BITS, COLD_PAGE_MASK, COLD_USER_I32, ColdStore, fromFloat } from './cold-store.js';
import { DEFAULT_ENTITY_BOUND } from '../memory/entity-bound.js';

const MiB = 1024 * 1024;

export interface TcpOptions {
  /** Out-of-order bytes buffered per connection direction before the first hole is declared lost. */
  maxBufferedPerDirection: number;
  /** Out-of-order bytes buffered over all connections before holes are declared lost. */
  maxBufferedTotal: number;
  /** Above this many open connections, idle ones are evicted. */
  maxOpenConnections: number;
  /** Capture-time seconds without a segment after which a connection counts as idle. */
  idleTimeoutSec: number;
  /**
   * Capture-time seconds after a connection closed during which stray
   * segments of it (late ACKs, retransmitted FINs, data in flight when an
   * RST was sent) are ignored instead of starting a new mid-stream connection.
   */
  closedLingerSec: number;
  /** How many closed 4-tuples are remembered (for the above and for 'port-reuse'). */
  maxClosedRemembered: number;
  /**
   * A hole the peer ACKed past is awaited (a late segment may fill it) until
   * this many more bytes of the direction arrived behind it after the first
   * ACK past it, or this many capture-time seconds passed since that ACK;
   * then it is declared lost. A spurious retransmission (the sender stalls
   * without ACKs) or a segment a merged capture wrote late comes within a
   * few segments or an RTO: the bound keeps bulk transfers with capture
   * loss from copying much more than they did in flight.
   */
  ackedHoleWaitBytes: number;
  ackedHoleWaitSec: number;
  /**
   * Open connections kept as objects: beyond, the least recently active one
   * is frozen into a row of numbers when it waits for nothing (no
   * out-of-order segment, no message in progress, not half-open), and made
   * again at its next segment (docs/memory.md). 0 freezes every connection
   * that can be between segments.
   */
  maxHotConnections: number;
}

export const DEFAULT_TCP_OPTIONS: Readonly<TcpOptions> = {
  maxBufferedPerDirection: 4 * MiB,
  maxBufferedTotal: 64 * MiB,
  maxOpenConnections: DEFAULT_ENTITY_BOUND,
  idleTimeoutSec: 600,
  closedLingerSec: 60,
  maxClosedRemembered: DEFAULT_ENTITY_BOUND,
  ackedHoleWaitBytes: 32 * 1024,
  ackedHoleWaitSec: 2,
  maxHotConnections: 1024,
};

export interface TcpStats {
  /** Connections seen (TcpConnection objects created, reuses included). */
  connections: number;
  /** TCP segments with a valid header. */
  segments: number;
  /** Payload bytes of those segments per the IP length (captured or not, retransmissions included). */
  payloadBytes: number;
  /** Bytes handed to consumers with `data`. */
  deliveredBytes: number;
  /** Bytes reported to consumers as `gap` (capture loss, snaplen, overflow). */
  gapBytes: number;
  /**
   * Payload bytes that covered stream offsets already passed (delivered or
   * declared lost): bytes the capture holds twice, dropped by reassembly.
   * Not Wireshark's retransmission count (see the 'retransmission' event).
   */
  retransmittedBytes: number;
  /**
   * Segments reassembly had to buffer because they arrived ahead of missing
   * data. Not Wireshark's out-of-order count (see the 'out-of-order' event).
   */
  outOfOrderSegments: number;
  /** Segments whose TCP header is cut or invalid (not processed further). */
  malformed: number;
  /** High-water mark of out-of-order bytes buffered over all connections. */
  maxBufferedBytes: number;
  /** Out-of-order bytes buffered right now. */
  bufferedBytes: number;
  /** Segments ignored: stray segments of a closed connection, data beyond a FIN. */
  ignoredSegments: number;
  /** Connections whose state the memory budget dropped. */
  evicted: number;
  /** Connections ended because they were idle while too many were open (as at the capture's end). */
  idleEnded: number;
  /** Times a connection was frozen (kept as numbers between its segments; not in the report). */
  frozen: number;
}

export function newTcpStats(): TcpStats {
  return {
    connections: 0,
    segments: 0,
    payloadBytes: 0,
    deliveredBytes: 0,
    gapBytes: 0,
    retransmittedBytes: 0,
    outOfOrderSegments: 0,
    malformed: 0,
    maxBufferedBytes: 0,
    bufferedBytes: 0,
    ignoredSegments: 0,
    evicted: 0,
    idleEnded: 0,
    frozen: 0,
  };
}

/**
 * An ACK that jumps further ahead of the data seen than the largest possible
 * TCP window (2^30 with window scaling) is not believed: it is garbage or
 * belongs to something else, and would otherwise declare a giant gap.
 */
const MAX_ACK_JUMP = 2 ** 30;

/**
 * Estimated heap bytes of one open connection: its two directions (with
 * their sequence analysis), its TcpConnection with the client's endpoint,
 * the RPC layer's RpcConnection, the slots of the tables that index it (its
 * record streams are charged as they are made: RECORD_STREAM_BYTES in
 * rpc/rpc-layer.ts). Measured on Node 20 with heap snapshots of 12,000 and
 * 24,000 live connections (docs/memory.md; 1,700 before 2026-12-02 evening).
 */
export const CONNECTION_BYTES = 850;

// A frozen connection's row (cold-store.ts): integers after the store's own, then doubles.
// Capture times in seconds are kept as 32-bit differences from the first frame's (secToRow).
const HALF_INTS = 13;
const HALF_FLOATS = 2;
const R_H0 = COLD_USER_I32;
const R_H1 = R_H0 + HALF_INTS;
const R_MRU_SYN_NSEC = R_H1 + HALF_INTS;
const R_MRU_SYN_SEC = R_MRU_SYN_NSEC + 1;
const R_LAST_SEEN = R_MRU_SYN_SEC + 1;
const R_ID = R_LAST_SEEN + 1;
const R_SEG0 = R_ID + 1;
const R_SEG1 = R_SEG0 + 1;
const R_DATA0 = R_SEG1 + 1;
const R_DATA1 = R_DATA0 + 1;
const R_FIRST_FILE = R_DATA1 + 1;
const R_FIRST_NUMBER = R_FIRST_FILE + 1;
const R_FIRST_NSEC = R_FIRST_NUMBER + 1;
const R_CONSUMER = R_FIRST_NSEC + 1;
const ROW_INTS = R_CONSUMER + FROZEN_CONSUMER_INTS;
const F_FIRST_RTT = 0;
const F_STAMP = 1;
const F_FIRST_SEC = 2;
const F_H0 = 3;
const F_H1 = F_H0 + HALF_FLOATS;
const F_CONSUMER = F_H1 + HALF_FLOATS;
const ROW_FLOATS = F_CONSUMER + FROZEN_CONSUMER_FLOATS;
/** References of a row: the connection's endpoints (the same objects when it is made again). */
const REF_A = 0;
const REF_B = 1;
/** A row's first integer of a direction: its flags, its last segment's analysis flags (<< 8), the connection's (<< 24, direction 0's). */
const LSF_SHIFT = 8;
const CFLAGS_SHIFT = 24;

/** secToRow: a time of 0 (not set yet). */
const SEC_ZERO = -0x80000000;

/** A capture time in seconds as kept in a row: its difference from `base`, or NaN when that is no 32-bit integer. */
function secToRow(sec: number, base: number): number {
  if (sec === 0) return SEC_ZERO;
  const d = sec - base;
  return (d | 0) === d && d !== SEC_ZERO ? d : NaN;
}

function secFromRow(v: number, base: number): number {
  return v === SEC_ZERO ? 0 : base + v;
}

/** Whether a count fits a row's 32-bit integer. */
function fits(n: number): boolean {
  return (n | 0) === n;
}

/**
 * Estimated heap bytes of one frozen connection: its row (ROW_INTS
 * integers, ROW_FLOATS doubles, its two references and its share of the
 * hash table's buckets: about 280 bytes) and the client's endpoint (40 and
 * its address text, about 31), which the row keeps. Measured as
 * CONNECTION_BYTES (docs/memory.md, 2026-12-02 night).
 */
export const FROZEN_CONNECTION_BYTES = 355;
/** Estimated heap bytes of a buffered out-of-order segment besides its payload. */
export const PENDING_SEGMENT_BYTES = 160;
/**
 * Under memory pressure a connection silent for this long (capture time) is
 * evicted before the oldest half-open one; otherwise the least recently
 * active connection goes.
 */
export const IDLE_FIRST_SEC = 60;
/** ... and a half-open connection whose SYN is at least this old (capture time) before the least recently active one. */
export const HALF_OPEN_FIRST_SEC = 1;

/**
 * An out-of-order segment, copied out of the frame: as a one-byte string,
 * which costs about 24 bytes besides its contents where a Buffer of its own
 * costs about 540 (out-of-order segments can wait long, and be many).
 */
interface Pending {
  /** Stream offset of its first byte. */
  offset: number;
  /** Payload length on the wire. */
  wireLen: number;
  /** Captured payload (may be shorter than wireLen: snaplen), latin1. */
  data: string;
  at: FrameRef;
}

/** The `pending` list of a direction that holds none (replaced by its own array at the first segment). */
const NO_PENDING: Pending[] = Object.freeze([]) as unknown as Pending[];

/** The consumer of a connection until the layer above has given its own. */
const NO_CONSUMER: ConnectionConsumer = { data() {}, gap() {}, end() {} };
/** The control of a frozen connection evicted (its consumer is made again only to be ended). */
const NO_CONTROL: StreamControl = { releaseAcknowledged() {} };

/** Half.flags: the direction (bit 0), then the booleans of a direction. */
const H_STARTED = 2;
const H_SYN_SEEN = 4;
const H_FIN_SEEN = 8;
const H_ENDED = 16;
const H_BUSY = 32;
const H_ACK_SEEN = 64;

/**
 * What a direction holds only while it waits for something (out-of-order
 * segments, a hole the peer ACKed past) or after its FIN: made when first
 * needed, let go when the direction is back to waiting for nothing.
 */
class HalfExtra implements LruLinks {
  /** In the list of directions holding out-of-order segments (oldest first). */
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  /** The connection, while in that list. */
  conn: Conn | null = null;
  /** Stream offset the FIN occupies. */
  finOffset = 0;
  /** Out-of-order segments, sorted by offset. */
  pending: Pending[] = NO_PENDING;
  /** Captured bytes held in `pending`. */
  buffered = 0;
  /** See Half.ackedTo. */
  ackedTo = -1;
  ackedAt: FrameRef | undefined = undefined;
  /** `buffered` when that ACK came. */
  bufferedAtAck = 0;

  constructor(readonly half: Half) {}

  /** Holds nothing that differs from a direction without one. */
  get empty(): boolean {
    return (
      this.pending === NO_PENDING && this.buffered === 0 && this.ackedTo === -1 && this.ackedAt === undefined &&
      this.finOffset === 0 && this.lruPrev === null && this.lruNext === null
    );
  }
}

/**
 * One direction of a connection: the sender's stream and the sender's view
 * of the peer (its ACKs), with Wireshark's sequence analysis of it (the
 * fields of TcpFlowAnalysis). Kept small (two per open connection): the
 * booleans in one `flags` field, sequence numbers as signed 32-bit integers
 * (V8 small integers; unsigned ones above 2^31 would each take a heap
 * number of their own), what is rarely needed in a {@link HalfExtra} made
 * on demand. Sequence arithmetic is modulo 2^32 either way.
 */
class Half extends TcpFlowAnalysis {
  private flags: number;
  /** Sequence number of the next byte to deliver (signed 32-bit; `nextSeq` is the analysis's highest seen + 1). */
  dseq = 0;
  /** Stream offset of the next byte to deliver. */
  nextOffset = 0;
  /** Highest stream offset + 1 of payload seen sent (delivered, lost or buffered). */
  sentEnd = 0;
  /** The SYN's sequence number (signed 32-bit), once synSeen. */
  isn = 0;
  // --- ACKs this side sent, about the peer's stream ---
  /** Highest ACK number sent (sequence space, signed 32-bit). */
  highestAck = 0;
  /** The rarely needed part, while needed. */
  x: HalfExtra | null = null;

  /** The rarely needed part, made if need be. */
  extra(): HalfExtra {
    return this.x ?? (this.x = new HalfExtra(this));
  }

  /** Lets the rarely needed part go when it holds nothing. */
  tidy(): void {
    if (this.x !== null && this.x.empty) this.x = null;
  }

  /** Stream offset the FIN occupies. */
  get finOffset(): number {
    return this.x === null ? 0 : this.x.finOffset;
  }
  set finOffset(v: number) {
    if (this.x !== null || v !== 0) this.extra().finOffset = v;
  }
  /** Out-of-order segments, sorted by offset. */
  get pending(): Pending[] {
    return this.x === null ? NO_PENDING : this.x.pending;
  }
  set pending(v: Pending[]) {
    if (this.x !== null || v !== NO_PENDING) this.extra().pending = v;
  }
  /** Captured bytes held in `pending`. */
  get buffered(): number {
    return this.x === null ? 0 : this.x.buffered;
  }
  set buffered(v: number) {
    if (this.x !== null || v !== 0) this.extra().buffered = v;
  }
  /**
   * Stream offset up to which the peer has acknowledged this direction
   * beyond the bytes delivered (-1: nothing): a hole the capture missed,
   * waited for until released, and the frame of the first ACK past it.
   */
  get ackedTo(): number {
    return this.x === null ? -1 : this.x.ackedTo;
  }
  set ackedTo(v: number) {
    if (this.x !== null || v !== -1) this.extra().ackedTo = v;
  }
  get ackedAt(): FrameRef | undefined {
    return this.x === null ? undefined : this.x.ackedAt;
  }
  set ackedAt(v: FrameRef | undefined) {
    if (this.x !== null || v !== undefined) this.extra().ackedAt = v;
  }
  /** `buffered` when that ACK came. */
  get bufferedAtAck(): number {
    return this.x === null ? 0 : this.x.bufferedAtAck;
  }
  set bufferedAtAck(v: number) {
    if (this.x !== null || v !== 0) this.extra().bufferedAtAck = v;
  }

  constructor(dir: Direction) {
    super();
    this.flags = dir;
  }

  get dir(): Direction {
    return (this.flags & 1) as Direction;
  }

  private flag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  /** Stream bookkeeping starts with the first segment seen from this side. */
  get started(): boolean {
    return (this.flags & H_STARTED) !== 0;
  }
  get synSeen(): boolean {
    return (this.flags & H_SYN_SEEN) !== 0;
  }
  set synSeen(on: boolean) {
    this.flag(H_SYN_SEEN, on);
  }
  get finSeen(): boolean {
    return (this.flags & H_FIN_SEEN) !== 0;
  }
  set finSeen(on: boolean) {
    this.flag(H_FIN_SEEN, on);
  }
  /** consumer.end was called; no more data is delivered. */
  get ended(): boolean {
    return (this.flags & H_ENDED) !== 0;
  }
  set ended(on: boolean) {
    this.flag(H_ENDED, on);
  }
  /** Inside consumer.data or .gap: a release of this direction asked meanwhile (by what the other direction delivered then) is ignored. */
  get busy(): boolean {
    return (this.flags & H_BUSY) !== 0;
  }
  set busy(on: boolean) {
    this.flag(H_BUSY, on);
  }
  /** This side sent an ACK (highestAck is set). */
  get ackSeen(): boolean {
    return (this.flags & H_ACK_SEEN) !== 0;
  }
  set ackSeen(on: boolean) {
    this.flag(H_ACK_SEEN, on);
  }

  /**
   * Stream offset of a sequence number near the current position: the next
   * byte to deliver, or the end of what the peer acknowledged beyond it.
   */
  offsetOf(seq: number): number {
    const ahead = this.ackedTo - this.nextOffset;
    if (ahead > 0) return this.ackedTo + ((seq - (this.dseq + ahead)) | 0);
    return this.nextOffset + ((seq - this.dseq) | 0);
  }

  /** Whether the direction's times fit a row (see secToRow) with `base` the first frame's seconds. */
  fitsRow(base: number): boolean {
    return !Number.isNaN(secToRow(this.nextSeqSec, base)) && !Number.isNaN(secToRow(this.lastAckSec, base));
  }

  /**
   * Writes the direction into a frozen connection's row: HALF_INTS integers
   * at `a[i]` (the first one shared: `high` << CFLAGS_SHIFT), HALF_FLOATS
   * doubles at `f[j]` (it must hold no HalfExtra, and fit: fitsRow).
   */
  saveTo(a: Int32Array, i: number, f: Float64Array, j: number, base: number, high: number): void {
    a[i] = this.flags | (this.lastSegmentFlags << LSF_SHIFT) | (high << CFLAGS_SHIFT);
    a[i + 1] = this.dseq;
    a[i + 2] = this.isn;
    a[i + 3] = this.highestAck;
    a[i + 4] = this.nextSeq;
    a[i + 5] = this.nextSeqNsec;
    a[i + 6] = this.maxSeqToBeAcked;
    a[i + 7] = this.lastAck;
    a[i + 8] = this.lastAckNsec;
    a[i + 9] = this.window;
    a[i + 10] = this.dupAckNum;
    a[i + 11] = secToRow(this.nextSeqSec, base);
    a[i + 12] = secToRow(this.lastAckSec, base);
    f[j] = this.nextOffset;
    f[j + 1] = this.sentEnd;
  }

  /** Reads what saveTo wrote. */
  loadFrom(a: Int32Array, i: number, f: Float64Array, j: number, base: number): void {
    const w = a[i]!;
    this.flags = w & ((1 << LSF_SHIFT) - 1);
    this.lastSegmentFlags = (w >>> LSF_SHIFT) & ((1 << (CFLAGS_SHIFT - LSF_SHIFT)) - 1);
    this.dseq = a[i + 1]!;
    this.isn = a[i + 2]!;
    this.highestAck = a[i + 3]!;
    this.nextSeq = a[i + 4]!;
    this.nextSeqNsec = a[i + 5]!;
    this.maxSeqToBeAcked = a[i + 6]!;
    this.lastAck = a[i + 7]!;
    this.lastAckNsec = a[i + 8]!;
    this.window = a[i + 9]!;
    this.dupAckNum = a[i + 10]!;
    this.nextSeqSec = secFromRow(a[i + 11]!, base);
    this.lastAckSec = secFromRow(a[i + 12]!, base);
    this.nextOffset = fromFloat(f[j]!);
    this.sentEnd = fromFloat(f[j + 1]!);
  }

  start(seq: number): void {
    this.flags |= H_STARTED;
    this.dseq = seq | 0;
    this.nextOffset = 0;
  }
}

/** Where a direction's stream offsets stand: enough to turn a sequence number into a stream offset. */
interface SeqPosition {
  readonly started: boolean;
  dseq: number;
  nextOffset: number;
}

/** Stream offset of a sequence number near the current position; -1 before the direction started. */
function offsetAt(p: SeqPosition, seq: number): number {
  return p.started ? p.nextOffset + ((seq - p.dseq) | 0) : -1;
}

/**
 * A connection that ended (FIN, RST, reuse, eviction): its segments arriving
 * later are not delivered, but Wireshark still analyses them as part of the
 * same conversation, so the connection (its analysis state and where its
 * streams stood) is kept.
 */
class ClosedConn {
  constructor(
    readonly sec: number,
    readonly conn: Conn,
  ) {}
}

/**
 * The TcpConnection handed to the layers above: its segment counts and
 * first frame in fields of its own (no arrays or objects per connection),
 * read as arrays and as a FrameRef.
 */
class ConnInfo implements TcpConnection {
  private seg0 = 0;
  private seg1 = 0;
  private data0 = 0;
  private data1 = 0;
  // The first frame, as numbers (no object of its own).
  private readonly firstFileIndex: number;
  private readonly firstNumber: number;
  readonly firstSec: number;
  private readonly firstNsec: number;

  constructor(
    readonly id: number,
    readonly a: Endpoint,
    readonly b: Endpoint,
    readonly midstream: boolean,
    first: FrameRef,
  ) {
    this.firstFileIndex = first.fileIndex;
    this.firstNumber = first.number;
    this.firstSec = first.tsSec;
    this.firstNsec = first.tsNsec;
  }

  /** A copy of the first frame's reference (a new object each time). */
  get firstFrame(): FrameRef {
    return { fileIndex: this.firstFileIndex, number: this.firstNumber, tsSec: this.firstSec, tsNsec: this.firstNsec };
  }

  get segments(): [number, number] {
    return [this.seg0, this.seg1];
  }

  get dataSegments(): [number, number] {
    return [this.data0, this.data1];
  }

  /** Whether its numbers fit a row's 32-bit integers. */
  fitsRow(): boolean {
    return (
      fits(this.id) && fits(this.seg0) && fits(this.seg1) && fits(this.data0) && fits(this.data1) &&
      fits(this.firstFileIndex) && fits(this.firstNumber) && fits(this.firstNsec)
    );
  }

  /** Writes what a row keeps of it (fitsRow) besides its endpoints and midstream. */
  saveTo(a: Int32Array, i: number, f: Float64Array, j: number): void {
    a[i + R_ID] = this.id;
    a[i + R_SEG0] = this.seg0;
    a[i + R_SEG1] = this.seg1;
    a[i + R_DATA0] = this.data0;
    a[i + R_DATA1] = this.data1;
    a[i + R_FIRST_FILE] = this.firstFileIndex;
    a[i + R_FIRST_NUMBER] = this.firstNumber;
    a[i + R_FIRST_NSEC] = this.firstNsec;
    f[j + F_FIRST_SEC] = this.firstSec;
  }

  /** Made again from a row (a new object with the same values). */
  static fromRow(a: Int32Array, i: number, f: Float64Array, j: number, ea: Endpoint, eb: Endpoint, midstream: boolean): ConnInfo {
    const c = new ConnInfo(a[i + R_ID]!, ea, eb, midstream, {
      fileIndex: a[i + R_FIRST_FILE]!,
      number: a[i + R_FIRST_NUMBER]!,
      tsSec: fromFloat(f[j + F_FIRST_SEC]!),
      tsNsec: a[i + R_FIRST_NSEC]!,
    });
    c.seg0 = a[i + R_SEG0]!;
    c.seg1 = a[i + R_SEG1]!;
    c.data0 = a[i + R_DATA0]!;
    c.data1 = a[i + R_DATA1]!;
    return c;
  }

  /** One more segment of direction `dir` (`data`: with payload). */
  count(dir: Direction, data: boolean): void {
    if (dir === 0) {
      this.seg0++;
      if (data) this.data0++;
    } else {
      this.seg1++;
      if (data) this.data1++;
    }
  }
}

/** A connection in the list of half-open ones (only SYN and SYN/ACK seen so far). */
class HalfOpen implements LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  constructor(readonly conn: Conn) {}
}

/** Conn.cflags. */
const C_A_IS_LO = 1;
const C_HANDSHAKE = 2;
const C_CLOSED = 4;
/** In the reassembler's `busy` list (found unable to freeze), not in `open`. */
const C_BUSY = 8;
/** In a row only: the connection's TcpConnection is `midstream`. */
const C_MIDSTREAM = 16;

/**
 * A connection is its own StreamControl (no closure per connection):
 * `release` is the reassembler's, shared by all its connections.
 */
class Conn extends ConnEntry implements LruLinks, StreamControl, TcpRttState {
  /** In the list of open connections, least recently active first. */
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  /** Its two directions (each with its part of Wireshark's sequence analysis). */
  readonly h0: Half;
  readonly h1: Half;
  /** Set while only SYN and SYN/ACK segments were seen. */
  halfOpen: HalfOpen | null = null;
  /** Given by the layer above once the connection is made (StreamControl needs the connection first). */
  consumer: ConnectionConsumer = NO_CONSUMER;
  // Wireshark's sequence analysis of the connection besides its directions (TcpRttState).
  mruSynSec = 0;
  mruSynNsec = 0;
  firstRttNs = 0;
  lastSeenSec: number;
  /** The reassembler's count of segments when this one was last active (the order of eviction: lowest first). */
  stamp = 0;
  /** C_* bits. */
  cflags: number;

  constructor(
    readonly info: ConnInfo,
    key: KeyFields,
    aIsLo: boolean,
    now: number,
    private readonly release: (conn: Conn, dir: Direction) => void,
  ) {
    super();
    this.copyKey(key);
    this.h0 = new Half(0);
    this.h1 = new Half(1);
    this.lastSeenSec = now;
    this.cflags = aIsLo ? C_A_IS_LO : 0;
  }

  /** Side A is the lower endpoint of the key: a segment from the lower endpoint is direction 0. */
  get aIsLo(): boolean {
    return (this.cflags & C_A_IS_LO) !== 0;
  }
  /** SYN and SYN/ACK both seen. */
  get handshake(): boolean {
    return (this.cflags & C_HANDSHAKE) !== 0;
  }
  set handshake(on: boolean) {
    this.cflags = on ? this.cflags | C_HANDSHAKE : this.cflags & ~C_HANDSHAKE;
  }
  get closed(): boolean {
    return (this.cflags & C_CLOSED) !== 0;
  }
  get busy(): boolean {
    return (this.cflags & C_BUSY) !== 0;
  }
  set busy(on: boolean) {
    this.cflags = on ? this.cflags | C_BUSY : this.cflags & ~C_BUSY;
  }
  set closed(on: boolean) {
    this.cflags = on ? this.cflags | C_CLOSED : this.cflags & ~C_CLOSED;
  }

  half(dir: Direction): Half {
    return dir === 0 ? this.h0 : this.h1;
  }

  releaseAcknowledged(dir: Direction): void {
    // Asked before the layer above gave its consumers, or after the end: nothing to release.
    if (!this.closed && this.consumer !== NO_CONSUMER) this.release(this, dir);
  }
}

/** A cached endpoint with what it was made from. */
class CachedEndpoint {
  constructor(
    readonly version: number,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly endpoint: Endpoint,
  ) {}
}

const ENDPOINT_SLOTS = 1024;

/**
 * Endpoint objects by address and port, in a direct-mapped cache (a slot
 * holds the last endpoint hashed there; no string built to look one up):
 * connections to the same server share its endpoint object and its text
 * (formatEndpoint), instead of each holding its own.
 */
class EndpointCache {
  private readonly slots: (CachedEndpoint | undefined)[] = new Array<CachedEndpoint | undefined>(ENDPOINT_SLOTS).fill(undefined);

  get(pkt: IpPacket, source: boolean, port: number): Endpoint {
    const w0 = source ? pkt.src0 : pkt.dst0;
    const w1 = source ? pkt.src1 : pkt.dst1;
    const w2 = source ? pkt.src2 : pkt.dst2;
    const w3 = source ? pkt.src3 : pkt.dst3;
    const version = pkt.ipVersion;
    let h = Math.imul(w3 ^ port, 0x9e3779b1);
    h = Math.imul(h ^ w2 ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ w1 ^ w0 ^ (h >>> 13), 0xc2b2ae35);
    const i = (h ^ (h >>> 16)) & (ENDPOINT_SLOTS - 1);
    const c = this.slots[i];
    if (
      c !== undefined && c.endpoint.port === port && c.w3 === w3 && c.w2 === w2 && c.w1 === w1 && c.w0 === w0 && c.version === version
    ) {
      return c.endpoint;
    }
    const endpoint: Endpoint = { addr: source ? pkt.src : pkt.dst, port };
    this.slots[i] = new CachedEndpoint(version, w0, w1, w2, w3, endpoint);
    return endpoint;
  }
}

/** Direction of the segment whose key is `key` in a connection whose side A is (or is not) the lower endpoint. */
function directionOf(key: ConnKey, aIsLo: boolean): Direction {
  return key.same || key.srcIsLo === aIsLo ? 0 : 1;
}

export class TcpReassembler {
  readonly stats: TcpStats = newTcpStats();
  private readonly opts: TcpOptions;
  private readonly hdr = new TcpHeader();
  private readonly key = new ConnKey();
  private readonly index = new ConnTable<Conn>();
  /**
   * Open connections kept as objects, least recently active first; those
   * found unable to freeze are in `busy` until their next segment. The
   * order of eviction is the least recently active (lowest `stamp`) of
   * `open`, `busy` and the frozen ones (`cold`), each in that order.
   */
  private readonly open = new LruList<Conn>();
  private readonly busy = new LruList<Conn>();
  /** Segments seen, the stamp of the connection last active. */
  private clock = 0;
  /** Connections that saw only SYN and SYN/ACK, oldest first. */
  private readonly halfOpen = new LruList<HalfOpen>();
  /** Directions holding out-of-order segments, in the order they began to. */
  private readonly buffering = new LruList<HalfExtra>();
  /** Closed 4-tuples → the connection that closed there, and when (insertion order = age). */
  private readonly closedAt = new LruMap<string, ClosedConn>();
  private nextId = 0;
  /** The endpoints of recent connections, shared (a server's, by all its clients' connections). */
  private readonly endpoints = new EndpointCache();
  /** Copy of the last frame seen, for gaps and ends at finish() (the Frame object itself is reused). */
  private readonly lastAt: FrameRef = { fileIndex: 0, number: 0, tsSec: 0, tsNsec: 0 };
  private seenAny = false;
  private readonly budget: MemoryBudget;
  private readonly connAccount: MemoryAccount;
  private readonly oooAccount: MemoryAccount;
  /** StreamControl.releaseAcknowledged of every connection. */
  private readonly releaseOf = (conn: Conn, dir: Direction): void => this.releaseAcked(conn.half(dir), conn);
  /** Details of the last segment classified (for its events). */
  private readonly details = new SegmentDetails();
  /** Frozen connections: open, waiting for nothing, as rows of numbers (older than every connection in `open`). */
  private readonly cold = new ColdStore<Endpoint>(ROW_INTS, ROW_FLOATS, 2);
  /** A consumer's frozen state, on its way to or from a row. */
  private readonly frozen: FrozenConsumer = {
    ints: new Int32Array(FROZEN_CONSUMER_INTS),
    floats: new Float64Array(FROZEN_CONSUMER_FLOATS),
  };
  /** The key of a connection thawed for eviction or at the end (not the segment's). */
  private readonly thawKey = new KeyFields();

  constructor(private readonly handler: TransportHandler, options?: Partial<TcpOptions> & { budget?: MemoryBudget }) {
    const { budget, ...tcp } = options ?? {};
    this.opts = { ...DEFAULT_TCP_OPTIONS, ...tcp };
    this.budget = budget ?? new MemoryBudget(Infinity);
    this.connAccount = this.budget.account('connections');
    this.connAccount.evictor = (bytes) => this.evictConnections(bytes);
    this.oooAccount = this.budget.account('outOfOrder');
    this.oooAccount.evictor = (bytes) => this.releaseOutOfOrder(bytes);
  }

  /** Number of connections currently tracked. */
  get openConnections(): number {
    return this.open.size + this.busy.size + this.cold.size;
  }

  /** Closed connections remembered for the stragglers of their last closedLingerSec. */
  get closedRemembered(): number {
    return this.closedAt.size;
  }

  /** Of those, how many are frozen (kept as numbers). */
  get frozenConnections(): number {
    return this.cold.size;
  }

  /** Feeds one IP packet whose protocol is TCP. Never throws on bad input. */
  segment(pkt: IpPacket): void {
    this.segmentOf(pkt);
    // Between segments: the least recently active connections beyond the
    // hot ones are frozen (two at most, so that a surplus drains).
    if (this.open.size + this.busy.size > this.opts.maxHotConnections) this.freezeSome();
  }

  private segmentOf(pkt: IpPacket): void {
    const h = this.hdr;
    const buf = pkt.buf;
    const l4Start = pkt.l4Start;
    const l4Len = pkt.l4End - l4Start;
    const wire = pkt.l4WireLength;
    // A header the capture cut (or that claims more than the IP length) cannot be trusted.
    if (!h.parse(buf, l4Start, pkt.l4End) || wire < h.headerLen) {
      this.stats.malformed++;
      return;
    }
    const hl = h.headerLen;
    // Bytes beyond the IP length (link padding) are not part of the segment.
    const capLen = (l4Len < wire ? l4Len : wire) - hl;
    const wireLen = wire - hl;
    const stats = this.stats;
    stats.segments++;
    stats.payloadBytes += wireLen;

    const frame = pkt.frame;
    assignFrameRef(this.lastAt, frame);
    this.seenAny = true;

    const flags = h.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const ackf = (flags & TCP_ACK) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const key = this.key.fill(pkt, h.srcPort, h.dstPort);

    let conn = this.index.get(key);
    if (conn === undefined && this.cold.size > 0) {
      const row = this.cold.find(key);
      if (row >= 0) conn = this.thaw(row, this.thawKey);
    }
    let dir: Direction;
    if (conn !== undefined) {
      dir = directionOf(key, conn.aIsLo);
      if (syn && !ackf && this.isNewSyn(conn, dir, h.seq)) {
        this.close(conn, 'reused', frame);
        conn = this.create(pkt, h, true, true);
        dir = 0;
      }
    } else {
      const text = key.keyText();
      const closed = this.closedAt.get(text);
      if (closed !== undefined && !(syn && !ackf) && frame.tsSec - closed.sec <= this.opts.closedLingerSec) {
        // A straggler of a connection that just closed: not a new connection,
        // nothing delivered, but analysed as Wireshark does (same conversation).
        stats.ignoredSegments++;
        const old = closed.conn;
        const d = directionOf(key, old.aIsLo);
        const self = old.half(d);
        const other = old.half((d ^ 1) as Direction);
        const mask = classifySegment(old, self, other, this.details, h.seq, h.ack, wireLen, flags, h.window, frame.tsSec, frame.tsNsec);
        if (mask !== 0) this.analysisEvents(mask, old.info, d, self, other, h.seq, h.ack, syn, wireLen, frame);
        // Every RST frame counts, as tshark shows tcp.flags.reset: this one closes nothing.
        if (rst) this.emit('rst', old.info, d, frame, 0, -1);
        return;
      }
      if (closed !== undefined) this.closedAt.delete(text);
      // Side A is the SYN sender; a SYN/ACK seen first names its receiver as the SYN sender.
      conn = this.create(pkt, h, !(syn && ackf), closed !== undefined);
      dir = directionOf(key, conn.aIsLo);
      if (closed !== undefined && !(syn && !ackf)) {
        // Not a new connection for Wireshark (no SYN): the analysis goes on.
        const old = closed.conn;
        const swap = old.aIsLo !== conn.aIsLo;
        conn.h0.copyFrom(swap ? old.h1 : old.h0);
        conn.h1.copyFrom(swap ? old.h0 : old.h1);
        conn.firstRttNs = old.firstRttNs;
      }
    }
    conn.lastSeenSec = frame.tsSec;
    conn.stamp = ++this.clock;
    if (conn.busy) {
      conn.busy = false;
      this.busy.remove(conn);
      this.open.push(conn);
    } else {
      this.open.touch(conn);
    }
    if (conn.halfOpen !== null && !syn) {
      this.halfOpen.remove(conn.halfOpen);
      conn.halfOpen = null;
    }

    const half = conn.half(dir);
    const peer = conn.half((dir ^ 1) as Direction);
    // Wireshark's analysis first, from the header alone (before anything is delivered).
    const wasZeroWindow = (half.lastSegmentFlags & TA_ZERO_WINDOW) !== 0;
    const mask = classifySegment(conn, half, peer, this.details, h.seq, h.ack, wireLen, flags, h.window, frame.tsSec, frame.tsNsec);
    conn.info.count(dir, wireLen > 0);
    if (wasZeroWindow && h.window !== 0 && !rst) this.event('window-reopened', conn, dir, frame, 0, -1);

    if (rst) {
      if (mask !== 0) this.analysisEvents(mask, conn.info, dir, half, peer, h.seq, h.ack, syn, wireLen, frame);
      this.event('rst', conn, dir, frame, 0, -1);
      this.event('rst-close', conn, dir, frame, 0, -1);
      // A RST answering a SYN before any SYN/ACK: the connection was refused.
      if (peer.synSeen && !half.synSeen && !conn.handshake) this.event('refused', conn, dir, frame, 0, -1);
      if (ackf) this.noteAck(half, h.ack);
      this.close(conn, 'rst', frame);
      return;
    }

    if (syn) {
      if (!half.started) {
        half.start(h.seq + 1); // SYN occupies one sequence number
        half.synSeen = true;
        half.isn = h.seq | 0;
      }
      if (ackf && peer.synSeen) conn.handshake = true;
    } else if (!half.started) {
      // Capture started mid-connection: the stream begins where we came in.
      half.start(h.seq);
    }
    if (mask !== 0) this.analysisEvents(mask, conn.info, dir, half, peer, h.seq, h.ack, syn, wireLen, frame);

    if (ackf) {
      const ack = h.ack;
      this.noteAck(half, ack);
      // The peer's receiver has bytes we never saw: they are lost unless a
      // later segment brings them (see releaseAcknowledged).
      if (peer.started && !peer.ended) {
        const ackOff = peer.offsetOf(ack);
        const jump = ackOff - (peer.ackedTo > peer.nextOffset ? peer.ackedTo : peer.nextOffset);
        if (jump > 0 && jump <= MAX_ACK_JUMP) {
          peer.ackedTo = ackOff;
          if (peer.ackedAt === undefined) {
            peer.ackedAt = snapshotFrameRef(frame);
            peer.bufferedAtAck = peer.buffered;
          }
        }
      }
    }

    const dataSeq = syn ? (h.seq + 1) >>> 0 : h.seq;
    const segOff = half.offsetOf(dataSeq);
    if (wireLen > 0) {
      if (segOff + wireLen > half.sentEnd) half.sentEnd = segOff + wireLen;
      if (!half.ended) {
        this.data(half, conn, buf, l4Start + hl, capLen, wireLen, segOff, frame, frame.lazy);
      } else {
        // After our FIN: a retransmission of old data, or data that cannot be (ignored).
        const old = Math.min(wireLen, half.finOffset - segOff);
        if (old > 0) stats.retransmittedBytes += old;
        else stats.ignoredSegments++;
      }
    }
    if (half.ackedTo >= 0) this.endAckedWait(half, conn, frame);
    if (peer.ackedTo >= 0) this.endAckedWait(peer, conn, frame);

    if (fin && !half.ended) {
      const finOff = segOff + wireLen;
      // Nothing can follow a FIN: declare the holes before it lost now.
      this.releaseAcked(half, conn);
      this.flushAll(half, conn, frame);
      if (half.nextOffset < finOff) this.gap(half, conn, finOff - half.nextOffset, frame);
      half.finSeen = true;
      half.finOffset = finOff;
      half.ended = true;
      conn.consumer.end(dir, 'fin', snapshotFrameRef(frame));
      this.event('fin', conn, dir, frame, 0, finOff);
    }

    // FIN both ways, each acknowledged: the connection is over.
    if (
      half.finSeen && peer.finSeen && half.ackSeen && peer.ackSeen &&
      peer.offsetOf(half.highestAck) > peer.finOffset &&
      half.offsetOf(peer.highestAck) > half.finOffset
    ) {
      this.close(conn, 'fin', frame);
    }
  }

  /**
   * End of the capture: buffered segments are delivered (holes become gaps),
   * unacknowledged data is reported, every stream ends with 'capture-end'.
   */
  finish(at?: FrameRef): void {
    const when = at ?? (this.seenAny ? snapshotFrameRef(this.lastAt) : undefined);
    // An internal error in one connection does not keep the others open; the first is thrown at the end.
    let failed: unknown;
    // In the order the connections were first seen (a frozen one, a row, made again when its turn comes).
    const open: { id: number; conn: Conn | null; row: number }[] = [];
    for (const conn of this.open) open.push({ id: conn.info.id, conn, row: -1 });
    for (const conn of this.busy) open.push({ id: conn.info.id, conn, row: -1 });
    for (const row of this.cold) open.push({ id: this.cold.i32[row >> COLD_PAGE_BITS]![(row & COLD_PAGE_MASK) * ROW_INTS + R_ID]!, conn: null, row });
    open.sort((x, y) => x.id - y.id);
    for (const o of open) {
      // There is an open connection, so a segment was seen and `when` is set.
      try {
        const conn = o.conn ?? this.thaw(o.row, this.thawKey);
        this.close(conn, 'capture-end', when ?? this.lastAt);
      } catch (e) {
        failed ??= e;
      }
    }
    this.closedAt.clear();
    if (failed !== undefined) throw failed;
  }

  // ---------------------------------------------------------------------------

  /** A SYN (without ACK) on an existing 4-tuple: does it start a new connection? */
  private isNewSyn(conn: Conn, dir: Direction, seq: number): boolean {
    const half = conn.half(dir);
    const finished = conn.h0.finSeen && conn.h1.finSeen;
    if (finished) return true; // FIN both ways (final ACK not seen): a new connection
    if (half.synSeen && half.isn === (seq | 0)) return false; // retransmitted SYN
    // Simultaneous open, or the SYN of a handshake whose SYN/ACK we saw first.
    if (!half.started && conn.half((dir ^ 1) as Direction).synSeen) return false;
    return true;
  }

  /**
   * The least recently active open connection: a Conn, or the row of a
   * frozen one (a number), or null when none is open. Each of `open`,
   * `busy` and `cold` is in the order of activity: the oldest is one of
   * their first.
   */
  private oldest(): Conn | number | null {
    const o = this.open.oldest;
    const b = this.busy.oldest;
    let best: Conn | null = o === null ? b : b === null || o.stamp < b.stamp ? o : b;
    const cold = this.cold;
    if (cold.size > 0) {
      const row = cold.head;
      const stamp = cold.f64[row >> COLD_PAGE_BITS]![(row & COLD_PAGE_MASK) * ROW_FLOATS + F_STAMP]!;
      if (best === null || stamp < best.stamp) return row;
    }
    return best;
  }

  /** When the least recently active open connection was last active (NaN: none is open). */
  private oldestSeenSec(): number {
    const x = this.oldest();
    if (x === null) return NaN;
    if (typeof x !== 'number') return x.lastSeenSec;
    const cold = this.cold;
    const base = cold.f64[x >> COLD_PAGE_BITS]![(x & COLD_PAGE_MASK) * ROW_FLOATS + F_FIRST_SEC]!;
    return secFromRow(cold.i32[x >> COLD_PAGE_BITS]![(x & COLD_PAGE_MASK) * ROW_INTS + R_LAST_SEEN]!, base);
  }

  /**
   * Ends the least recently active open connection (there must be one),
   * silent for idleTimeoutSec while too many are open, as the capture's end
   * would: its buffered bytes delivered, its unacknowledged data reported,
   * its streams ended 'idle' (a message in progress delivered as unfinished,
   * calls outstanding unanswered). Evicted as by the memory budget, a call
   * unanswered for ten minutes was dropped as a memory loss: on 3 GB of
   * replayed captures (112,567 connections) 3,052 of 7,956 unanswered calls.
   * It is not remembered as closed: segments after it start a new connection.
   */
  private endIdle(at: FrameRef): void {
    const x = this.oldest()!;
    const conn = typeof x === 'number' ? this.thaw(x, this.thawKey) : x;
    this.stats.idleEnded++;
    this.close(conn, 'idle', at);
  }

  /** Evicts the least recently active open connection (there must be one). */
  private evictOldest(at: FrameRef): void {
    const x = this.oldest()!;
    if (typeof x === 'number') this.evictFrozen(x, at);
    else this.evict(x, at);
  }

  /**
   * evict() for a frozen connection, without making its objects again: it
   * holds nothing buffered; its consumer is made again only to end its
   * streams.
   */
  private evictFrozen(row: number, at: FrameRef): void {
    const cold = this.cold;
    const a = cold.i32[row >> COLD_PAGE_BITS]!;
    const i = (row & COLD_PAGE_MASK) * ROW_INTS;
    this.stats.evicted++;
    this.budget.drop('connections', 1);
    const fz = this.frozen;
    const f = cold.f64[row >> COLD_PAGE_BITS]!;
    const j = (row & COLD_PAGE_MASK) * ROW_FLOATS;
    const info = ConnInfo.fromRow(a, i, f, j, cold.ref(row, REF_A), cold.ref(row, REF_B), ((a[i + R_H0]! >>> CFLAGS_SHIFT) & C_MIDSTREAM) !== 0);
    for (let n = 0; n < FROZEN_CONSUMER_INTS; n++) fz.ints[n] = a[i + R_CONSUMER + n]!;
    for (let n = 0; n < FROZEN_CONSUMER_FLOATS; n++) fz.floats[n] = f[j + F_CONSUMER + n]!;
    const ended0 = (a[i + R_H0]! & H_ENDED) !== 0;
    const ended1 = (a[i + R_H1]! & H_ENDED) !== 0;
    cold.remove(row);
    const consumer = this.handler.thawConnection!(info, NO_CONTROL, fz);
    const when = snapshotFrameRef(at);
    if (!ended0) consumer.end(0, 'evicted', when);
    if (!ended1) consumer.end(1, 'evicted', when);
    this.connAccount.add(-FROZEN_CONNECTION_BYTES);
    this.emit('connection-end', info, 0, at, 0, -1);
  }

  /**
   * Freezes the least recently active connections of `open` beyond the hot
   * ones (two at most, so that a surplus drains); one that cannot freeze
   * goes to `busy` (a few tried at most per segment).
   */
  private freezeSome(): void {
    let frozen = 0;
    for (let tries = 0; tries < 4 && frozen < 2 && this.open.size + this.busy.size > this.opts.maxHotConnections; tries++) {
      const conn = this.open.oldest;
      if (conn === null) return;
      if (this.freeze(conn)) {
        frozen++;
      } else {
        this.open.remove(conn);
        conn.busy = true;
        this.busy.push(conn);
      }
    }
  }

  /**
   * Freezes the least recently active connection of `open` if it waits for
   * nothing: its numbers go to a row of the cold store, its objects (and the
   * consumer's) are let go. It is the oldest of `open` (whose first are ever
   * more recent), so the cold store stays in the order of activity.
   */
  private freeze(conn: Conn): boolean {
    if (conn.halfOpen !== null || conn.closed) return false;
    const h0 = conn.h0;
    const h1 = conn.h1;
    if (h0.x !== null || h1.x !== null || h0.busy || h1.busy) return false;
    const info = conn.info;
    const base = info.firstSec;
    if (
      !info.fitsRow() || !h0.fitsRow(base) || !h1.fitsRow(base) ||
      Number.isNaN(secToRow(conn.mruSynSec, base)) || Number.isNaN(secToRow(conn.lastSeenSec, base))
    ) {
      return false;
    }
    const fz = this.frozen;
    const consumer = conn.consumer;
    if (consumer.freeze === undefined || !consumer.freeze(fz)) return false;
    const k = this.thawKey;
    conn.keyInto(k);
    const cold = this.cold;
    const row = cold.add(k);
    cold.setRef(row, REF_A, info.a);
    cold.setRef(row, REF_B, info.b);
    const a = cold.i32[row >> COLD_PAGE_BITS]!;
    const f = cold.f64[row >> COLD_PAGE_BITS]!;
    const i = (row & COLD_PAGE_MASK) * ROW_INTS;
    const j = (row & COLD_PAGE_MASK) * ROW_FLOATS;
    info.saveTo(a, i, f, j);
    a[i + R_MRU_SYN_NSEC] = conn.mruSynNsec;
    a[i + R_MRU_SYN_SEC] = secToRow(conn.mruSynSec, base);
    a[i + R_LAST_SEEN] = secToRow(conn.lastSeenSec, base);
    f[j + F_FIRST_RTT] = conn.firstRttNs;
    f[j + F_STAMP] = conn.stamp;
    h0.saveTo(a, i + R_H0, f, j + F_H0, base, conn.cflags | (info.midstream ? C_MIDSTREAM : 0));
    h1.saveTo(a, i + R_H1, f, j + F_H1, base, 0);
    for (let n = 0; n < FROZEN_CONSUMER_INTS; n++) a[i + R_CONSUMER + n] = fz.ints[n]!;
    for (let n = 0; n < FROZEN_CONSUMER_FLOATS; n++) f[j + F_CONSUMER + n] = fz.floats[n]!;
    this.index.delete(conn);
    this.open.remove(conn);
    conn.consumer = NO_CONSUMER;
    this.connAccount.add(FROZEN_CONNECTION_BYTES - CONNECTION_BYTES);
    this.stats.frozen++;
    return true;
  }

  /** Makes a frozen connection again from its row (`k` receives its key), the newest of `open`. */
  private thaw(row: number, k: KeyFields): Conn {
    const cold = this.cold;
    const a = cold.i32[row >> COLD_PAGE_BITS]!;
    const f = cold.f64[row >> COLD_PAGE_BITS]!;
    const i = (row & COLD_PAGE_MASK) * ROW_INTS;
    const j = (row & COLD_PAGE_MASK) * ROW_FLOATS;
    cold.keyOf(row, k);
    const high = a[i + R_H0]! >>> CFLAGS_SHIFT;
    const cflags = high & ~C_MIDSTREAM;
    const info = ConnInfo.fromRow(a, i, f, j, cold.ref(row, REF_A), cold.ref(row, REF_B), (high & C_MIDSTREAM) !== 0);
    const base = info.firstSec;
    const conn = new Conn(info, k, (cflags & C_A_IS_LO) !== 0, secFromRow(a[i + R_LAST_SEEN]!, base), this.releaseOf);
    conn.cflags = cflags;
    conn.mruSynNsec = a[i + R_MRU_SYN_NSEC]!;
    conn.mruSynSec = secFromRow(a[i + R_MRU_SYN_SEC]!, base);
    conn.firstRttNs = fromFloat(f[j + F_FIRST_RTT]!);
    conn.stamp = fromFloat(f[j + F_STAMP]!);
    conn.h0.loadFrom(a, i + R_H0, f, j + F_H0, base);
    conn.h1.loadFrom(a, i + R_H1, f, j + F_H1, base);
    const fz = this.frozen;
    for (let n = 0; n < FROZEN_CONSUMER_INTS; n++) fz.ints[n] = a[i + R_CONSUMER + n]!;
    for (let n = 0; n < FROZEN_CONSUMER_FLOATS; n++) fz.floats[n] = f[j + F_CONSUMER + n]!;
    cold.remove(row);
    // Only a handler whose consumers freeze has its connections frozen.
    conn.consumer = this.handler.thawConnection!(info, conn, fz);
    this.index.add(conn);
    this.open.push(conn);
    this.connAccount.add(CONNECTION_BYTES - FROZEN_CONNECTION_BYTES);
    return conn;
  }

  private create(pkt: IpPacket, h: TcpHeader, senderIsA: boolean, reused: boolean): Conn {
    const src = this.endpoints.get(pkt, true, h.srcPort);
    const dst = this.endpoints.get(pkt, false, h.dstPort);
    const syn = (h.flags & TCP_SYN) !== 0;
    const ackf = (h.flags & TCP_ACK) !== 0;
    const info = new ConnInfo(this.nextId++, senderIsA ? src : dst, senderIsA ? dst : src, !(syn && !ackf), pkt.frame);
    const now = pkt.frame.tsSec;
    // Too many open: the idle ones end (the least recently active list starts with them).
    if (this.open.size + this.busy.size + this.cold.size >= this.opts.maxOpenConnections) {
      while (now - this.oldestSeenSec() > this.opts.idleTimeoutSec) this.endIdle(pkt.frame);
    }
    // this.key is the segment's key: the sweep above touched no key.
    const key = this.key;
    const aIsLo = senderIsA ? key.srcIsLo : !key.srcIsLo || key.same;
    const conn = new Conn(info, key, aIsLo, now, this.releaseOf);
    conn.consumer = connectionConsumer(this.handler.openConnection(info, conn));
    this.index.add(conn);
    conn.stamp = ++this.clock;
    this.open.push(conn);
    this.connAccount.add(CONNECTION_BYTES);
    if (syn) {
      conn.halfOpen = new HalfOpen(conn);
      this.halfOpen.push(conn.halfOpen);
    }
    // A 4-tuple reused: the connection closed there just now is no straggler's (else its entry was taken out already).
    if (reused) this.closedAt.delete(conn.keyText());
    this.stats.connections++;
    this.event('connection-start', conn, senderIsA ? 0 : 1, pkt.frame, 0, -1);
    if (reused) this.event('port-reuse', conn, senderIsA ? 0 : 1, pkt.frame, 0, -1);
    return conn;
  }

  /**
   * Drops a connection's state (too many open, or the memory budget): its
   * buffered out-of-order bytes are discarded, its streams end 'evicted' (the
   * layer above drops what it holds of them, counted), nothing is reported
   * about its end but 'connection-end'. A later segment of it starts a new
   * connection, read as a capture that starts mid-stream.
   */
  private evict(conn: Conn, at: FrameRef): void {
    if (conn.closed) return;
    conn.closed = true;
    this.stats.evicted++;
    this.budget.drop('connections', 1);
    const when = snapshotFrameRef(at);
    for (const half of [conn.h0, conn.h1]) {
      if (half.pending.length > 0) {
        this.budget.drop('outOfOrderBytes', half.buffered);
        this.dropPending(half);
      }
      if (!half.ended) {
        half.ended = true;
        conn.consumer.end(half.dir, 'evicted', when);
      }
    }
    this.forget(conn);
    this.event('connection-end', conn, 0, at, 0, -1);
  }

  /** The memory budget's evictor for connections: the idle, then the oldest half-open, then the least recently active go first. */
  private evictConnections(want: number): number {
    let freed = 0;
    const now = this.lastAt.tsSec;
    while (freed < want) {
      if (this.open.size + this.busy.size + this.cold.size === 0) break;
      let victim: Conn | null = null;
      if (!(now - this.oldestSeenSec() >= IDLE_FIRST_SEC)) {
        const ho = this.halfOpen.oldest?.conn;
        if (ho !== undefined && now - ho.info.firstSec >= HALF_OPEN_FIRST_SEC) victim = ho;
      }
      // What the connection and the layers above held of it (its record streams too).
      const before = this.connAccount.bytes;
      if (victim !== null) this.evict(victim, this.lastAt);
      else this.evictOldest(this.lastAt);
      freed += before - this.connAccount.bytes;
    }
    return freed;
  }

  /**
   * The memory budget's evictor for out-of-order bytes: the direction that
   * began buffering first gives up waiting for its first hole (declared
   * lost, what follows delivered), and so on.
   */
  private releaseOutOfOrder(want: number): number {
    let freed = 0;
    for (let x = this.buffering.oldest; x !== null && freed < want; x = this.buffering.oldest) {
      const half = x.half;
      const before = half.buffered + half.pending.length * PENDING_SEGMENT_BYTES;
      const held = half.buffered;
      this.skipHole(half, x.conn!, this.lastAt);
      this.budget.drop('outOfOrderBytes', held - half.buffered);
      freed += before - (half.buffered + half.pending.length * PENDING_SEGMENT_BYTES);
    }
    return freed;
  }

  /** Takes the first `segments` buffered segments, `bytes` captured bytes, off the books (the caller removes them). */
  private freePending(half: Half, segments: number, bytes: number): void {
    half.buffered -= bytes;
    this.stats.bufferedBytes -= bytes;
    this.oooAccount.add(-(bytes + segments * PENDING_SEGMENT_BYTES));
    if (half.pending.length === segments) {
      const x = half.x!;
      if (this.buffering.contains(x)) this.buffering.remove(x);
      x.conn = null;
      half.pending = NO_PENDING;
      half.tidy();
    }
  }

  /** Removes a connection from the tables (its streams have ended). */
  private forget(conn: Conn): void {
    // A closed connection is remembered a while for its stragglers' analysis: not its consumers.
    conn.consumer = NO_CONSUMER;
    this.index.delete(conn);
    if (conn.busy) {
      conn.busy = false;
      this.busy.remove(conn);
    } else {
      this.open.remove(conn);
    }
    if (conn.halfOpen !== null) {
      this.halfOpen.remove(conn.halfOpen);
      conn.halfOpen = null;
    }
    this.connAccount.add(-CONNECTION_BYTES);
  }

  /** Ends both streams of a connection and frees its state. */
  private close(conn: Conn, reason: StreamEndReason, at: FrameRef): void {
    if (conn.closed) return;
    conn.closed = true;
    const h0 = conn.h0;
    const h1 = conn.h1;
    // An internal error while flushing one direction (thrown after the
    // others are done) does not keep the connection open.
    let failed: unknown;
    for (const half of [h0, h1]) {
      if (half.ended) continue;
      try {
        this.releaseAcked(half, conn);
        this.flushAll(half, conn, at);
      } catch (e) {
        failed ??= e;
        this.dropPending(half);
      }
    }
    this.reportUnacked(conn, h0, h1, at);
    this.reportUnacked(conn, h1, h0, at);
    const when = snapshotFrameRef(at);
    for (const half of [h0, h1]) {
      if (!half.ended) {
        half.ended = true;
        conn.consumer.end(half.dir, reason, when);
      }
    }
    this.forget(conn);
    this.event('connection-end', conn, 0, at, 0, -1);
    if (reason !== 'capture-end' && reason !== 'idle') {
      const closed = this.closedAt;
      const key = conn.keyText();
      closed.delete(key);
      closed.set(key, new ClosedConn(at.tsSec, conn));
      // Kept beyond closedLingerSec too: a SYN on the 4-tuple later is a port reuse, and
      // a segment without SYN goes on with the closed connection's analysis (as Wireshark).
      if (closed.size > this.opts.maxClosedRemembered) closed.shift();
    }
    if (failed !== undefined) throw failed;
  }

  private reportUnacked(conn: Conn, sender: Half, receiver: Half, at: FrameRef): void {
    if (!sender.started || !(receiver.ackSeen || conn.handshake)) return;
    let acked = receiver.ackSeen ? sender.offsetOf(receiver.highestAck) : 0;
    if (acked < 0) acked = 0;
    if (sender.sentEnd > acked) this.event('unacked-data', conn, sender.dir, at, sender.sentEnd - acked, acked);
  }

  private noteAck(half: Half, ack: number): void {
    if (!half.ackSeen || ((ack - half.highestAck) | 0) > 0) half.highestAck = ack | 0;
    half.ackSeen = true;
  }

  /**
   * Payload of a segment at stream offset `segOff`, in `buf[start, start + capLen)`
   * (read on demand through `lazy` when the frame is read sparsely).
   */
  private data(
    half: Half, conn: Conn, buf: Buffer, start: number, capLen: number, wireLen: number,
    segOff: number, at: FrameRef, lazy: LazyBytes | null,
  ): void {
    if (segOff <= half.nextOffset) {
      // In order (or overlapping what was delivered): the fast path, no copy.
      this.deliver(half, conn, buf, start, capLen, wireLen, segOff, at, at, lazy);
      if (half.pending.length > 0) this.drain(half, conn, at);
      return;
    }
    // Ahead of missing data: keep a copy until the hole is filled or declared lost.
    const p = half.pending;
    // Insertion point: after every segment starting at or before segOff (usually the end).
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid]!.offset <= segOff) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo > 0 ? p[lo - 1] : undefined;
    if (
      prev !== undefined &&
      prev.offset + prev.wireLen >= segOff + wireLen &&
      prev.offset + prev.data.length >= segOff + capLen
    ) {
      // A buffered segment already holds all of it.
      this.stats.retransmittedBytes += wireLen;
      return;
    }
    this.stats.outOfOrderSegments++;
    lazy?.need(start, start + capLen);
    const copy = buf.toString('latin1', start, start + capLen);
    const seg: Pending = { offset: segOff, wireLen, data: copy, at: snapshotFrameRef(at) };
    // The first segment gets a list of its own size (a push onto an empty list reserves 16 places: 130 bytes
    // more for each of the hostile capture's connections holding one segment far ahead).
    if (p === NO_PENDING) half.pending = [seg];
    else if (lo === p.length) p.push(seg);
    else p.splice(lo, 0, seg);
    half.buffered += capLen;
    this.oooAccount.add(capLen + PENDING_SEGMENT_BYTES);
    if (half.pending.length === 1) {
      const x = half.extra();
      x.conn = conn;
      this.buffering.push(x);
    }
    const stats = this.stats;
    stats.bufferedBytes += capLen;
    if (stats.bufferedBytes > stats.maxBufferedBytes) stats.maxBufferedBytes = stats.bufferedBytes;
    // Over a bound: give up on the first hole of this direction, and so on
    // (each turn delivers at least the first buffered segment).
    const list = half.pending;
    const maxTurns = list.length;
    let turns = 0;
    while (
      list.length > 0 &&
      (half.buffered > this.opts.maxBufferedPerDirection || stats.bufferedBytes > this.opts.maxBufferedTotal)
    ) {
      if (++turns > maxTurns) throw this.stuck(half, 'buffer bound', maxTurns);
      this.skipHole(half, conn, at);
    }
  }

  /**
   * Delivers the part of a segment beyond what was passed already: captured
   * bytes as data, the rest (cut by the snaplen) as a gap. `segOff` must not
   * be ahead of the next expected offset. `lazy`: as for data().
   */
  private deliver(
    half: Half, conn: Conn, buf: Buffer, start: number, capLen: number, wireLen: number,
    segOff: number, at: FrameRef, gapAt: FrameRef, lazy: LazyBytes | null,
  ): void {
    const trim = half.nextOffset - segOff;
    if (trim >= wireLen) {
      this.stats.retransmittedBytes += wireLen;
      return;
    }
    if (trim > 0) this.stats.retransmittedBytes += trim;
    const capEnd = capLen < wireLen ? capLen : wireLen;
    if (trim < capEnd) {
      const n = capEnd - trim;
      const off = half.nextOffset;
      half.nextOffset = off + n;
      half.dseq = (half.dseq + n) | 0;
      this.stats.deliveredBytes += n;
      if (half.ackedTo >= 0) this.settleAcked(half);
      half.busy = true;
      try {
        const consumer = conn.consumer;
        if (lazy === null || consumer.readsSparse === true) {
          consumer.data(half.dir, buf, start + trim, start + capEnd, off, at, lazy);
        } else {
          lazy.need(start + trim, start + capEnd);
          consumer.data(half.dir, buf, start + trim, start + capEnd, off, at);
        }
      } finally {
        half.busy = false;
      }
    }
    const missingFrom = trim > capLen ? trim : capLen;
    if (missingFrom < wireLen) this.gap(half, conn, wireLen - missingFrom, gapAt, 'snaplen-gap');
  }

  /** Delivers buffered segments that have become in order. */
  private drain(half: Half, conn: Conn, gapAt: FrameRef): void {
    const p = half.pending;
    let i = 0;
    let freed = 0;
    while (i < p.length && p[i]!.offset <= half.nextOffset) {
      const s = p[i++]!;
      freed += s.data.length;
      const bytes = Buffer.from(s.data, 'latin1');
      this.deliver(half, conn, bytes, 0, bytes.length, s.wireLen, s.offset, s.at, gapAt, null);
    }
    if (i > 0) {
      this.freePending(half, i, freed);
      p.splice(0, i);
    }
  }

  /**
   * Declares lost what the peer acknowledged of `half` beyond the bytes
   * delivered (the gap is dated by the first ACK past it) and delivers what
   * waited behind it.
   */
  private releaseAcked(half: Half, conn: Conn): void {
    if (half.busy) return;
    const target = half.ackedTo;
    const at = half.ackedAt;
    half.ackedTo = -1;
    half.ackedAt = undefined;
    half.bufferedAtAck = 0;
    half.tidy();
    if (at !== undefined && !half.ended && target > half.nextOffset) this.skipTo(half, conn, target, at);
  }

  /** Declares an ACKed hole lost once it has been awaited long enough (TcpOptions.ackedHoleWait*). */
  private endAckedWait(half: Half, conn: Conn, now: FrameRef): void {
    const since = half.ackedAt;
    if (since === undefined) return;
    if (half.buffered - half.bufferedAtAck > this.opts.ackedHoleWaitBytes || secondsBetween(since, now) > this.opts.ackedHoleWaitSec) {
      this.releaseAcked(half, conn);
    }
  }

  /** Forgets an ACKed hole once the bytes delivered reach past it (a late segment filled it). */
  private settleAcked(half: Half): void {
    if (half.ackedTo >= 0 && half.nextOffset >= half.ackedTo) {
      half.ackedTo = -1;
      half.ackedAt = undefined;
      half.bufferedAtAck = 0;
      half.tidy();
    }
  }

  /** Declares the first hole lost and delivers what follows it. */
  private skipHole(half: Half, conn: Conn, at: FrameRef): void {
    const first = half.pending[0]!;
    if (first.offset > half.nextOffset) this.gap(half, conn, first.offset - half.nextOffset, at);
    this.drain(half, conn, at);
  }

  /** Delivers everything buffered, holes as gaps (each turn delivers at least the first buffered segment). */
  private flushAll(half: Half, conn: Conn, at: FrameRef): void {
    const maxTurns = half.pending.length;
    let turns = 0;
    while (half.pending.length > 0) {
      if (++turns > maxTurns) throw this.stuck(half, 'flush', maxTurns);
      this.skipHole(half, conn, at);
    }
  }

  /** Passes stream offset `target`: buffered segments before it are delivered, holes become gaps. */
  private skipTo(half: Half, conn: Conn, target: number, at: FrameRef): void {
    const p = half.pending;
    // Each turn delivers at least one buffered segment, or reaches the target.
    const maxTurns = p.length + 1;
    let turns = 0;
    while (half.nextOffset < target) {
      if (++turns > maxTurns) throw this.stuck(half, 'skip to an ACKed offset', maxTurns);
      if (p.length > 0 && p[0]!.offset < target) this.skipHole(half, conn, at);
      else this.gap(half, conn, target - half.nextOffset, at);
    }
    if (p.length > 0) this.drain(half, conn, at);
  }

  /**
   * A loop over the out-of-order buffer of `half` made no progress (an
   * nfsight bug): drop what it holds, so that the stream goes on from the
   * next segment, and return the error to throw.
   */
  private stuck(half: Half, loop: string, maxTurns: number): InternalError {
    const dropped = this.dropPending(half);
    return loopBound(`tcp-reassembly.ts: ${loop}`, maxTurns, `${dropped} out-of-order segments dropped`);
  }

  /** Forgets the out-of-order buffer of `half`; returns how many segments it held. */
  private dropPending(half: Half): number {
    const n = half.pending.length;
    if (n > 0) this.freePending(half, n, half.buffered);
    return n;
  }

  private gap(half: Half, conn: Conn, length: number, at: FrameRef, kind: 'gap' | 'snaplen-gap' = 'gap'): void {
    const off = half.nextOffset;
    half.nextOffset = off + length;
    half.dseq = (half.dseq + length) | 0;
    this.stats.gapBytes += length;
    if (half.ackedTo >= 0) this.settleAcked(half);
    half.busy = true;
    try {
      conn.consumer.gap(half.dir, length, off, at);
    } finally {
      half.busy = false;
    }
    this.event(kind, conn, half.dir, at, length, off);
  }

  /**
   * The events of a segment the analysis flagged (`mask` ≠ 0): one per
   * Wireshark flag nfsight reports. `self`/`peer` give the stream offsets of
   * the segment's direction and of the other one.
   */
  private analysisEvents(
    mask: number, info: TcpConnection, dir: Direction, self: SeqPosition, peer: SeqPosition,
    seq: number, ack: number, syn: boolean, wireLen: number, at: FrameRef,
  ): void {
    // The segment's data starts after the SYN's sequence number.
    const off = offsetAt(self, syn ? (seq + 1) >>> 0 : seq);
    const a = this.details;
    if (mask & TA_LOST_PACKET) {
      const from = offsetAt(self, a.lostFromSeq);
      this.emit('lost-segment', info, dir, at, a.lostBytes, from);
    }
    if (mask & TA_ACK_LOST_PACKET) this.emit('ack-lost-segment', info, dir, at, a.ackLostBytes, offsetAt(peer, a.ackLostFromSeq));
    if (mask & TA_KEEP_ALIVE) this.emit('keep-alive', info, dir, at, wireLen, offsetAt(self, seq));
    if (mask & TA_ZERO_WINDOW) this.emit('zero-window', info, dir, at, 0, offsetAt(self, seq));
    if (mask & TA_DUPLICATE_ACK) this.emit('dup-ack', info, dir, at, 0, offsetAt(peer, ack));
    if (mask & TA_OUT_OF_ORDER) this.emit('out-of-order', info, dir, at, wireLen, off);
    if (mask & TA_ANY_RETRANSMISSION) {
      this.emit('retransmission', info, dir, at, wireLen, off);
      if (mask & TA_FAST_RETRANSMISSION) this.emit('fast-retransmission', info, dir, at, wireLen, off);
      if (mask & TA_SPURIOUS_RETRANSMISSION) this.emit('spurious-retransmission', info, dir, at, wireLen, off);
    }
  }

  private event(kind: TcpEventKind, conn: Conn, direction: Direction, at: FrameRef, bytes: number, offset: number): void {
    this.emit(kind, conn.info, direction, at, bytes, offset);
  }

  private emit(kind: TcpEventKind, info: TcpConnection, direction: Direction, at: FrameRef, bytes: number, offset: number): void {
    this.handler.tcpEvent({ kind, conn: info, direction, at: snapshotFrameRef(at), bytes, offset });
  }
}
