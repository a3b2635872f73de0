/**
 * ONC RPC record marking over TCP (RFC 5531 §11): turns the in-order bytes
 * of one direction of one connection into RPC messages, whatever the TCP
 * segmentation, without copying bulk data.
 *
 * A record is a sequence of fragments, each a 4-byte header (high bit: last
 * fragment; low 31 bits: fragment length) and that many bytes; the message is
 * the fragments' bytes joined. Messages up to KEEP_WHOLE_MAX bytes are kept
 * whole; longer ones keep what the sink asks for (`headToKeep`) and the end
 * of their last fragment (TAIL_KEEP), the rest is counted, not copied. A
 * message of one fragment complete in the segment at hand (up to
 * SLAB_PIECE_MAX bytes) is not copied at all: it is handed on as a view of
 * the segment's bytes, valid while it is delivered (message-slab.ts).
 *
 * Bytes the capture lost (gaps) inside a fragment keep the stream in sync:
 * the message is delivered with `missing` bytes. A gap that swallows a record
 * mark, an absurd record mark, a message header that is not RPC, or a capture
 * that started in the middle of the connection make the layer scan the
 * captured bytes for the next plausible message start (resynchronisation).
 */
import { isKnownProgram } from '../../decoders/programs.js';
import { assignFrameRef, snapshotFrameRef, type FrameRef, type LazyBytes } from '../capture/frame.js';
import { loopBound, type InternalError } from '../internal-error.js';
import type { LruLinks } from '../memory/lru.js';
import type { Direction, Endpoint, StreamConsumer, StreamEndReason, TcpConnection } from '../transport/stream.js';
import {
  KEEP_MAX,
  KEEP_WHOLE_MAX,
  TAIL_KEEP,
  type RecordStats,
  type RpcMessageRecord,
  type RpcMessageSink,
} from './message.js';
import { deliveredBuffers, ReusedBuffers, SLAB_PIECE_MAX } from './message-slab.js';

/**
 * Heads and tails of messages waiting for segments, reused once a message
 * is delivered. A head longer than KEEP_WHOLE_MAX takes the next of these
 * sizes (its capacity; what it holds is headLen), so that the odd lengths
 * of the heads kept (a READ reply's header and attributes, a READDIR reply
 * kept whole) and of the tails of short bulk messages (a 3 KB READ) are
 * reused too. The memory budget is told the sizes taken.
 */
export const waitingBuffers = new ReusedBuffers([KEEP_WHOLE_MAX, 2 * KEEP_WHOLE_MAX, 4 * KEEP_WHOLE_MAX, TAIL_KEEP, SLAB_PIECE_MAX]);

/** Largest fragment believed (a larger record mark means the stream is out of sync). */
export const MAX_FRAGMENT = 16 * 1024 * 1024;
/** Smallest fragment that can start a message when resynchronising (an RPC reply is at least 24 bytes). */
export const MIN_RESYNC_FRAGMENT = 24;

export interface RecordStreamOptions {
  /** Largest plausible fragment length (default MAX_FRAGMENT). */
  maxFragment?: number;
  /** Told the bytes a message in progress holds (the memory budget's partial records). */
  partials?: PartialRecordTracker;
  /**
   * Resume a stream let go while idle ({@link RpcRecordStream.idle}): in
   * sync, at a record boundary, at this stream offset (the connection's
   * midstream start no longer matters).
   */
  resumeAt?: number;
}

/** Keeps count of the bytes the streams' messages in progress hold (the memory budget). */
export interface PartialRecordTracker {
  /** The stream's message in progress holds `delta` more bytes (fewer when negative). */
  held(stream: RpcRecordStream, delta: number): void;
  /** A message in progress was dropped with its connection's state (the memory budget evicted it). */
  dropped(): void;
}

/** Estimated bytes of a kept message buffer besides its contents (as the matcher counts them). */
const BUFFER_BYTES = 230;

/** Bytes looked at for a candidate message start: record mark, xid, msg_type, and 3 words. */
const PROBE = 24;
/** Message bytes checked at the start of every message in sync: xid, msg_type, rpcvers / reply_stat. */
const HEADER_CHECK = 12;
/** RFC 5531 MAX_AUTH_BYTES. */
const MAX_AUTH_BYTES = 400;
/** Lowest program number of the transient range (NFSv4 callbacks). */
const TRANSIENT_PROGRAMS = 0x40000000;

/** Turns of the loop that places a fragment's bytes (head, then tail): a few at most. */
const BODY_TURNS = 8;

const MODE_MARK = 0;
const MODE_BODY = 1;
const MODE_SYNC = 2;
const MODE_ENDED = 3;

const EMPTY: Buffer = Buffer.alloc(0);
const NO_FRAMES: FrameRef[] = [];
/** What a stream's frame references hold before it sees a frame. */
const NO_FRAME: FrameRef = Object.freeze({ fileIndex: 0, number: 0, tsSec: 0, tsNsec: 0 });
/** Carry-over and candidate bytes joined while scanning (used within one call only). */
const SCAN_SCRATCH: Buffer = Buffer.alloc(2 * PROBE);
/** A record mark written out to be scanned again (setCarry copies it at once). */
const MARK_SCRATCH: Buffer = Buffer.alloc(4);

function sameFrame(a: FrameRef, b: FrameRef): boolean {
  return a.number === b.number && a.fileIndex === b.fileIndex;
}

/** Whether frame `a` comes after frame `b` in the capture (file order, then frame number). */
function laterFrame(a: FrameRef, b: FrameRef): boolean {
  return a.fileIndex > b.fileIndex || (a.fileIndex === b.fileIndex && a.number > b.number);
}

/** One direction of one TCP connection: a StreamConsumer producing RPC messages. */
export class RpcRecordStream implements StreamConsumer, LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  /** Reads only the bytes it keeps or looks at: record marks, message heads and tails, bytes scanned out of sync. */
  readonly readsSparse = true;
  /** During data(): the sparse frame `lazyBuf` is read from (null: every byte is in). */
  private lazy: LazyBytes | null = null;
  private lazyBuf: Buffer = EMPTY;
  private src!: Endpoint;
  private partials: PartialRecordTracker | undefined;
  /** Bytes of the message in progress told to `partials`. */
  private held = 0;
  /** The message in progress was dropped (memory budget): its bytes are counted, not kept, and it is not delivered. */
  private discard = false;
  private dst!: Endpoint;
  private maxFragment!: number;

  private mode = MODE_MARK;
  /** Stream offset of the next byte expected. */
  private off = 0;
  /** The last frame seen (fields copied: `at` may be reused by the reader). */
  private readonly lastSeen: FrameRef = { ...NO_FRAME };
  private seenAny = false;

  // --- record mark straddling segments: its first markHave bytes, big-endian in markVal
  private markVal = 0;
  private markHave = 0;

  // --- the message in progress
  private inMsg = false;
  /** The stream ended inside the message in progress: it never completed on the wire. */
  private unfinished = false;
  private recFirst: FrameRef | undefined;
  /**
   * The latest frame (in capture order) that carried bytes of the record in
   * progress: where the capture first held the whole record. Bytes delivered
   * late (they waited behind a hole) were carried by earlier frames than the
   * one that filled the hole.
   */
  private readonly recLatest: FrameRef = { ...NO_FRAME };
  private resynced = false;
  /** Message offset of the next byte (bytes seen or missing so far). */
  private msgOff = 0;
  /** Message length, when the last fragment's header was seen (else -1). */
  private msgLen = -1;
  private fragStart = 0;
  private fragRemain = 0;
  private fragLast = false;
  private missing = 0;
  /** Message bytes captured (kept or not). */
  private captured = 0;
  private head: Buffer = EMPTY;
  private headLen = 0;
  /** How many head bytes are wanted: KEEP_WHOLE_MAX until the sink decided. */
  private headLimit = 0;
  private decided = false;
  /** The message in progress will be delivered before the data() call at hand returns (its buffers may come from the shared slabs). */
  private delivered = false;
  /**
   * `head` is a view of the whole message in the buffer of the data() call
   * at hand: its bytes are in place and are not copied (see startMessage).
   */
  private headIsView = false;
  /** A gap hit the head: no more head bytes. */
  private headStopped = false;
  /** The message header (first HEADER_CHECK bytes) was checked or cannot be. */
  private checked = true;
  private tail: Buffer | undefined;
  /** The Buffer `tail` is the start of (a size class of ReusedBuffers; given back once delivered), or `tail` itself. */
  private tailOwner: Buffer | undefined;
  private tailStart = 0;
  private tailFill = 0;
  private tailPlanned = false;
  /**
   * The length of the tail planned (0: none; `tail` is set only while it is
   * not 0); its buffer is taken when the first of its bytes arrives
   * (allocTail). A message that stalls before its tail (a READ reply cut
   * mid-data on a connection gone quiet) holds its head only: 4 KB less for
   * each of the 1,900 such messages that 3 GB of replayed captures left
   * waiting (docs/memory.md, session 37).
   */
  private tailLen = 0;

  // --- resynchronisation
  private carry: Buffer = EMPTY;
  private carryFrames: FrameRef[] = NO_FRAMES;
  private carryLen = 0;
  /** The current loss of sync was counted in stats.resyncs. */
  private syncCounted = false;
  /** The first position evaluated is the very start of a mid-stream capture: a reply is accepted without its call. */
  private looseFirst = false;
  private nextResynced = false;

  private sink: RpcMessageSink;
  private conn: TcpConnection;
  private dir: Direction;
  private stats: RecordStats;

  constructor(sink: RpcMessageSink, conn: TcpConnection, dir: Direction, stats: RecordStats, options: RecordStreamOptions = {}) {
    this.sink = sink;
    this.conn = conn;
    this.dir = dir;
    this.stats = stats;
    this.setUp(conn, dir, options);
  }

  /**
   * Makes this stream, let go while `idle` and held by nothing else, the
   * same as `new RpcRecordStream(sink, conn, dir, stats, options)`: the
   * layer reuses let-go streams rather than make one for every message of
   * every connection (most of the objects of a metadata-heavy capture).
   * Every field is set again here (test/record-stream-reuse.test.ts
   * compares a reused stream with a new one, field by field).
   */
  reuse(sink: RpcMessageSink, conn: TcpConnection, dir: Direction, stats: RecordStats, options: RecordStreamOptions = {}): this {
    this.lruPrev = null;
    this.lruNext = null;
    this.lazy = null;
    this.lazyBuf = EMPTY;
    this.held = 0;
    this.discard = false;
    this.off = 0;
    assignFrameRef(this.lastSeen, NO_FRAME);
    this.seenAny = false;
    this.markVal = 0;
    this.markHave = 0;
    this.inMsg = false;
    this.unfinished = false;
    this.recFirst = undefined;
    assignFrameRef(this.recLatest, NO_FRAME);
    this.resynced = false;
    this.msgOff = 0;
    this.msgLen = -1;
    this.fragStart = 0;
    this.fragRemain = 0;
    this.fragLast = false;
    this.missing = 0;
    this.captured = 0;
    this.head = EMPTY;
    this.headLen = 0;
    this.headLimit = 0;
    this.decided = false;
    this.delivered = false;
    this.headIsView = false;
    this.headStopped = false;
    this.checked = true;
    this.noTail();
    this.tailStart = 0;
    this.tailFill = 0;
    this.tailPlanned = false;
    this.carry = EMPTY;
    this.carryFrames = NO_FRAMES;
    this.carryLen = 0;
    this.syncCounted = false;
    this.looseFirst = false;
    this.nextResynced = false;
    this.sink = sink;
    this.conn = conn;
    this.dir = dir;
    this.stats = stats;
    this.setUp(conn, dir, options);
    return this;
  }

  /** What the constructor makes of its arguments. */
  private setUp(conn: TcpConnection, dir: Direction, options: RecordStreamOptions): void {
    this.src = dir === 0 ? conn.a : conn.b;
    this.dst = dir === 0 ? conn.b : conn.a;
    this.maxFragment = options.maxFragment ?? MAX_FRAGMENT;
    this.partials = options.partials;
    if (options.resumeAt !== undefined) {
      this.mode = MODE_MARK;
      this.off = options.resumeAt;
    } else if (conn.midstream) {
      // Look at the first bytes before believing them: sync mode, where a
      // message start at offset 0 is neither a resync nor skipped bytes.
      this.mode = MODE_SYNC;
      this.syncCounted = false;
      this.looseFirst = true;
      this.nextResynced = false;
    } else {
      this.mode = MODE_MARK;
    }
  }

  // -------------------------------------------------------------------------
  // StreamConsumer

  data(buf: Buffer, start: number, end: number, offset: number, at: FrameRef, lazy: LazyBytes | null = null): void {
    if (this.mode === MODE_ENDED) return;
    let pos = start;
    if (offset !== this.off) {
      if (offset > this.off) this.gap(offset - this.off, this.off, at);
      else pos = start + this.off - offset; // overlap with bytes already passed
    }
    if (pos >= end) return;
    this.off = offset + (end - start);
    this.noteFrame(at);
    if (lazy === null) {
      this.run(buf, pos, end, at);
    } else {
      this.lazy = lazy;
      this.lazyBuf = buf;
      try {
        this.run(buf, pos, end, at);
      } finally {
        this.lazy = null;
        this.lazyBuf = EMPTY;
      }
    }
    if (this.partials !== undefined) this.settle();
  }

  /** Bytes buf[from, to) are about to be read: a sparse frame reads them now. */
  private need(buf: Buffer, from: number, to: number): void {
    if (this.lazy !== null && buf === this.lazyBuf) this.lazy.need(from, to);
  }

  gap(length: number, offset: number, at: FrameRef): void {
    this.gapIn(length, offset, at);
    if (this.partials !== undefined) this.settle();
  }

  /**
   * The memory budget asks: frees the kept bytes of the message in progress,
   * which will not be analysed; its record boundaries are still followed, so
   * the messages after it are read in sync. Returns the bytes freed.
   */
  dropPartial(): number {
    if (!this.inMsg || this.discard) return 0;
    const freed = this.held;
    this.discard = true;
    this.head = EMPTY;
    this.headLen = 0;
    this.headStopped = true;
    this.checked = true;
    this.noTail();
    this.tailPlanned = true;
    this.settle();
    return freed;
  }

  /**
   * In sync at a record boundary with nothing in progress: the stream is
   * then the same as a new one made with `resumeAt: offset`, so the layer
   * above may let it go until more bytes come (a connection waiting for its
   * next call holds no record stream).
   */
  get idle(): boolean {
    return this.mode === MODE_MARK && !this.inMsg && this.markHave === 0 && this.held === 0 && !this.nextResynced;
  }

  /** Stream offset of the next byte expected. */
  get offset(): number {
    return this.off;
  }

  /** The message in progress holds bytes told to the tracker. */
  get holdsBytes(): boolean {
    return this.held > 0;
  }

  /** Tells the tracker what the message in progress holds now. */
  private settle(): void {
    let h = 0;
    if (this.inMsg) {
      if (this.head.length > 0) h += this.head.length + BUFFER_BYTES;
      if (this.tailOwner !== undefined) h += this.tailOwner.length + BUFFER_BYTES;
    }
    if (h !== this.held) {
      const delta = h - this.held;
      this.held = h;
      this.partials!.held(this, delta);
    }
  }

  private gapIn(length: number, offset: number, at: FrameRef): void {
    if (this.mode === MODE_ENDED || !(length > 0)) return;
    if (offset < this.off) {
      length -= this.off - offset;
      if (length <= 0) return;
    }
    this.off += length;
    this.noteFrame(at);
    switch (this.mode) {
      case MODE_SYNC:
        this.dropCarry();
        this.looseFirst = false;
        if (!this.syncCounted) this.countResync();
        return;
      case MODE_MARK:
        // A record mark (or part of one) is lost: the next message start is unknown.
        if (this.inMsg) this.deliverIncomplete(at);
        else if (this.markHave > 0) this.stats.skippedBytes += this.markHave;
        this.markHave = 0;
        this.enterSync();
        return;
      case MODE_BODY:
        this.gapInBody(length, at);
        return;
    }
  }

  end(reason: StreamEndReason, at: FrameRef | undefined): void {
    if (this.mode === MODE_ENDED) return;
    const when = at ?? (this.seenAny ? this.lastSeen : undefined);
    if (this.mode === MODE_SYNC) {
      if (this.carryLen > 0 && !this.syncCounted) this.countResync();
      this.dropCarry();
    } else if (this.inMsg && (reason === 'evicted' || this.discard)) {
      // The connection's state was evicted (or this message already dropped): not analysed.
      if (!this.discard) this.partials?.dropped();
      this.discard = false;
      this.inMsg = false;
      this.head = EMPTY;
      this.noTail();
    } else if (this.inMsg) {
      this.deliverIncomplete(when ?? this.recFirst!, true);
    } else if (this.markHave > 0) {
      this.stats.skippedBytes += this.markHave;
    }
    this.markHave = 0;
    this.mode = MODE_ENDED;
    this.carry = EMPTY;
    this.carryFrames = NO_FRAMES;
    if (this.partials !== undefined) this.settle();
  }

  // -------------------------------------------------------------------------
  // In sync

  private noteFrame(at: FrameRef): void {
    assignFrameRef(this.lastSeen, at);
    this.seenAny = true;
  }

  /** Processes buf[pos, end), all carried by frame `at`. */
  private run(buf: Buffer, pos: number, end: number, at: FrameRef): void {
    // Nearly every turn consumes bytes; the others change mode before bytes
    // are consumed. The bound is far above what correct code can take.
    const maxTurns = 8 * (end - pos) + 256;
    let turns = 0;
    while (pos < end) {
      if (++turns > maxTurns) throw this.stuck('run', maxTurns);
      switch (this.mode) {
        case MODE_MARK: {
          let mark: number;
          this.need(buf, pos, end - pos > 4 ? pos + 4 : end);
          if (this.markHave === 0) {
            if (!this.inMsg) this.startRecord(at);
            if (end - pos >= 4) {
              mark = buf.readUInt32BE(pos);
              pos += 4;
            } else {
              let v = 0;
              for (let i = pos; i < end; i++) v = v * 256 + buf[i]!;
              this.markVal = v;
              this.markHave = end - pos;
              return;
            }
          } else {
            if (laterFrame(at, this.recLatest)) assignFrameRef(this.recLatest, at);
            let v = this.markVal;
            while (this.markHave < 4 && pos < end) {
              v = v * 256 + buf[pos++]!;
              this.markHave++;
            }
            this.markVal = v;
            if (this.markHave < 4) return;
            this.markHave = 0;
            mark = v;
          }
          this.onMark(mark, at, buf, pos, end);
          break;
        }
        case MODE_BODY: {
          let n = end - pos;
          if (n > this.fragRemain) n = this.fragRemain;
          if (!this.checked) {
            const want = HEADER_CHECK - this.headLen;
            if (n > want) n = want;
          }
          this.body(buf, pos, n);
          if (laterFrame(at, this.recLatest)) assignFrameRef(this.recLatest, at);
          pos += n;
          if (!this.checked && this.headLen >= HEADER_CHECK) {
            this.checked = true;
            if (!this.headerOk()) {
              this.failHeader(at);
              break;
            }
          }
          if (this.fragRemain === 0) {
            this.mode = MODE_MARK;
            if (this.fragLast) this.complete(at);
          }
          break;
        }
        case MODE_SYNC: {
          this.need(buf, pos, end);
          const q = this.scan(buf, pos, end, at);
          if (q < 0) return;
          pos = q;
          break;
        }
        default:
          return;
      }
    }
  }

  /** A record mark, followed by buf[pos, end) of this data() call. */
  private onMark(mark: number, at: FrameRef, buf: Buffer, pos: number, end: number): void {
    const len = mark & 0x7fffffff;
    const last = mark >= 0x80000000;
    if (len === 0 || len > this.maxFragment) {
      // Not a record mark: the stream is not where we thought.
      if (this.inMsg) this.deliverIncomplete(at);
      this.enterSync();
      MARK_SCRATCH.writeUInt32BE(mark >>> 0, 0);
      this.stats.skippedBytes += 1;
      this.setCarry(MARK_SCRATCH, 1, 4, this.recFirst ?? snapshotFrameRef(at));
      return;
    }
    this.mode = MODE_BODY;
    this.fragRemain = len;
    this.fragLast = last;
    if (!this.inMsg) {
      this.startMessage(len, last, buf, pos, end);
      return;
    }
    // Another fragment of the message in progress.
    this.fragStart = this.msgOff;
    if (last) {
      this.msgLen = this.msgOff + len;
      if (!this.decided && !this.headStopped && this.msgLen <= KEEP_WHOLE_MAX) {
        this.decided = true;
        this.headLimit = this.msgLen;
      }
      this.planTail(undefined);
    }
  }

  /** A message of `len` bytes in its first fragment starts at buf[pos]; the data() call at hand holds buf[pos, end). */
  private startMessage(len: number, last: boolean, buf: Buffer, pos: number, end: number): void {
    this.inMsg = true;
    // One fragment whose bytes are all in the data() call at hand.
    this.delivered = last && len <= end - pos;
    this.headIsView = false;
    this.discard = false;
    this.resynced = this.nextResynced;
    this.nextResynced = false;
    this.msgOff = 0;
    this.fragStart = 0;
    this.missing = 0;
    this.captured = 0;
    this.headLen = 0;
    this.headStopped = false;
    this.checked = len < HEADER_CHECK;
    this.noTail();
    this.tailFill = 0;
    this.tailStart = 0;
    this.tailPlanned = false;
    if (this.delivered && (len <= KEEP_WHOLE_MAX || (len <= SLAB_PIECE_MAX && this.lazy === null))) {
      // Delivered before this data() call returns, and nothing keeps a
      // delivered message's bytes (message-slab.ts): a view of the bytes at
      // hand, not a copy. Of a longer one the sink may keep less (decide());
      // a sparse frame is read in full only for a message kept whole.
      this.need(buf, pos, pos + len);
      this.head = buf.subarray(pos, pos + len);
      this.headIsView = true;
      this.msgLen = len;
      this.headLimit = len <= KEEP_WHOLE_MAX ? len : KEEP_WHOLE_MAX;
      this.decided = len <= KEEP_WHOLE_MAX;
    } else if (last) {
      this.msgLen = len;
      if (len <= KEEP_WHOLE_MAX) {
        this.head = this.alloc(len);
        this.headLimit = len;
        this.decided = true;
      } else {
        // Complete at hand and short: room for all of it at once (the sink
        // nearly always keeps it whole), no copy when the sink has decided.
        this.head = this.alloc(this.delivered && len <= SLAB_PIECE_MAX ? len : KEEP_WHOLE_MAX);
        this.headLimit = KEEP_WHOLE_MAX;
        this.decided = false;
      }
    } else {
      this.msgLen = -1;
      this.head = this.alloc(len < KEEP_WHOLE_MAX ? len : KEEP_WHOLE_MAX);
      this.headLimit = KEEP_WHOLE_MAX;
      this.decided = false;
    }
  }

  /** Message bytes buf[pos, pos+n) of the current fragment. */
  private body(buf: Buffer, pos: number, n: number): void {
    this.fragRemain -= n;
    this.captured += n;
    // A turn fills the head up to its limit, or passes the rest: a few turns at most.
    let turns = 0;
    while (n > 0) {
      if (++turns > BODY_TURNS) throw this.stuck('body', BODY_TURNS);
      const m = this.msgOff;
      if (!this.headStopped && m === this.headLen && this.headLen < this.headLimit) {
        let k = this.headLimit - this.headLen;
        if (k > n) k = n;
        if (!this.headIsView) {
          if (this.headLen + k > this.head.length) this.growHead(this.headLen + k);
          this.need(buf, pos, pos + k);
          buf.copy(this.head, this.headLen, pos, pos + k);
        }
        this.headLen += k;
        this.msgOff += k;
        pos += k;
        n -= k;
        if (!this.decided && this.headLen >= KEEP_WHOLE_MAX) this.decide();
        continue;
      }
      if (this.tailLen > 0 && m + n > this.tailStart) {
        const tail = this.tail ?? this.allocTail();
        const skip = this.tailStart > m ? this.tailStart - m : 0;
        const k = n - skip;
        this.need(buf, pos + skip, pos + n);
        buf.copy(tail, m + skip - this.tailStart, pos + skip, pos + n);
        this.tailFill += k;
      }
      this.msgOff += n;
      n = 0;
    }
  }

  /**
   * A buffer for bytes of the message in progress: from the shared slabs
   * when the message will be delivered before this data() call returns,
   * else its own (a message waiting for segments must not pin a slab), one
   * given back by an earlier message where it has the size.
   */
  private alloc(n: number): Buffer {
    return this.delivered ? deliveredBuffers.take(n) : waitingBuffers.takeAtLeast(n);
  }


  private growHead(need: number): void {
    let cap = this.head.length * 2;
    if (cap < need) cap = need;
    if (cap > this.headLimit) cap = this.headLimit;
    if (this.msgLen >= 0 && cap > this.msgLen) cap = this.msgLen;
    if (cap < need) cap = need;
    const next = this.alloc(cap);
    this.head.copy(next, 0, 0, this.headLen);
    this.head = next;
  }

  /** KEEP_WHOLE_MAX bytes of a longer message are in: ask the sink how much to keep. */
  private decide(): void {
    this.decided = true;
    const known = this.msgLen;
    const k = this.sink.headToKeep(this.conn, this.dir, this.head.subarray(0, this.headLen), known);
    let limit: number;
    if (known >= 0 && k >= known) limit = known;
    else if (k >= 0) limit = Math.floor(k);
    else limit = 0;
    if (limit > KEEP_MAX) limit = KEEP_MAX;
    if (limit < this.headLen) {
      // Keep fewer bytes than are in: a fresh small head (a bulk message's
      // head is held while its data goes by), and the bytes already in may
      // belong to the tail.
      const old = this.head;
      const oldLen = this.headLen;
      this.head = this.alloc(limit);
      this.headIsView = false;
      old.copy(this.head, 0, 0, limit);
      this.headLen = limit;
      this.headLimit = limit;
      this.planTail(old.subarray(0, oldLen));
      if (!this.delivered) waitingBuffers.giveBack(old);
      return;
    }
    this.headLimit = limit;
    if (known >= 0 && limit > this.head.length) {
      // The final size is known: one allocation.
      const old = this.head;
      const next = this.alloc(limit);
      old.copy(next, 0, 0, this.headLen);
      this.head = next;
      if (!this.delivered) waitingBuffers.giveBack(old);
    }
    this.planTail(undefined);
  }

  /**
   * Once the message length is known (last fragment) and how many head bytes
   * are kept (the sink decided, or a gap stopped the head), sets up the tail
   * buffer for the end of the last fragment not in the head. `before` holds
   * message bytes [0, before.length) when some of the tail region was passed.
   */
  private planTail(before: Buffer | undefined): void {
    if (this.tailPlanned || !this.fragLast || this.msgLen < 0) return;
    if (!this.decided && !this.headStopped) return;
    this.tailPlanned = true;
    const len = this.msgLen;
    const headEnd = this.headStopped ? this.headLen : this.headLimit;
    if (headEnd >= len) return; // kept whole
    let start = len - TAIL_KEEP;
    if (start < this.fragStart) start = this.fragStart;
    if (start < headEnd) start = headEnd;
    if (start >= len) return;
    const m = this.msgOff;
    let fill = 0;
    if (start < m) {
      // Part of the tail region is behind us: only from the bytes just copied.
      if (before === undefined || before.length < m) return;
      fill = m - start;
    }
    this.tailLen = len - start;
    this.tailStart = start;
    this.tailFill = fill;
    if (fill > 0) before!.copy(this.allocTail(), 0, start, m);
  }

  /** No tail: none planned, or the one planned given up (a gap in it, the message dropped or delivered). */
  private noTail(): void {
    this.tail = this.tailOwner = undefined;
    this.tailLen = 0;
  }

  /** The planned tail's buffer: exactly the region's length (full means complete), in a Buffer of its size class. */
  private allocTail(): Buffer {
    const n = this.tailLen;
    const owner = this.alloc(n);
    const tail = owner.length === n ? owner : owner.subarray(0, n);
    this.tail = tail;
    this.tailOwner = owner;
    return tail;
  }

  /** The first HEADER_CHECK bytes of the message look like an RPC call or reply. */
  private headerOk(): boolean {
    const h = this.head;
    const type = h.readUInt32BE(4);
    const w = h.readUInt32BE(8);
    if (type === 0) return w === 2;
    if (type === 1) return w <= 1;
    return false;
  }

  /** The message in progress is not RPC: scan again from its record mark's second byte. */
  private failHeader(at: FrameRef): void {
    const first = this.recFirst ?? snapshotFrameRef(at);
    // Still in the first fragment: its header is msgOff + fragRemain long.
    const mark = ((this.fragLast ? 0x80000000 : 0) | (this.msgOff + this.fragRemain)) >>> 0;
    const head = this.head.subarray(0, this.headLen);
    this.inMsg = false;
    this.head = EMPTY;
    this.noTail();
    this.enterSync();
    this.stats.skippedBytes += 1;
    MARK_SCRATCH.writeUInt32BE(mark, 0);
    this.setCarry(MARK_SCRATCH, 1, 4, first);
    this.appendCarry(head, first);
  }

  /** A record mark starts in frame `at`. */
  private startRecord(at: FrameRef): void {
    this.recFirst = snapshotFrameRef(at);
    assignFrameRef(this.recLatest, at);
  }

  /**
   * The record is complete with bytes carried by `carriedBy`: it is shown in
   * the frame in which the capture first held all of it, the latest frame
   * that carried any of its bytes. For bytes in order that is `carriedBy`;
   * for a record that waited for a retransmission filling a hole in it, the
   * retransmission's frame (Wireshark's frame with out-of-order reassembly);
   * for a record complete behind a hole in an earlier record, the frame of
   * its own last byte (Wireshark's frame without out-of-order reassembly;
   * with it, Wireshark shows such a record in the frame that filled the
   * earlier hole).
   */
  private complete(carriedBy: FrameRef): void {
    const first = this.recFirst!;
    const at = laterFrame(this.recLatest, carriedBy) ? this.recLatest : carriedBy;
    this.deliver(sameFrame(first, at) ? first : snapshotFrameRef(at));
  }

  private gapInBody(length: number, at: FrameRef): void {
    const take = length < this.fragRemain ? length : this.fragRemain;
    const g0 = this.msgOff;
    if (!this.headStopped && this.headLen < this.headLimit) {
      this.headStopped = true;
      this.checked = true;
    }
    this.missing += take;
    this.msgOff += take;
    this.fragRemain -= take;
    if (this.tailLen > 0 && g0 + take > this.tailStart) this.noTail();
    this.planTail(undefined);
    if (this.fragRemain > 0) return;
    this.mode = MODE_MARK;
    if (this.fragLast) this.complete(at);
    else if (length > take) this.deliverIncomplete(at);
    if (length > take) this.enterSync();
  }

  /**
   * The message in progress cannot complete (a lost record mark, the end of
   * the stream): delivered with what was announced and not seen as missing.
   * When its length is unknown (more fragments were to come), `missing` is
   * at least 1 so that it reads as truncated.
   */
  private deliverIncomplete(at: FrameRef, streamEnded = false): void {
    this.unfinished = streamEnded;
    if (this.mode === MODE_BODY) {
      this.missing += this.fragRemain;
      this.msgOff += this.fragRemain;
      this.fragRemain = 0;
    }
    if (this.msgLen < 0 || this.msgOff < this.msgLen) {
      // Cut by a lost record mark, the message must still read as truncated; one
      // whose stream ended says so itself (`unfinished`) and keeps its true size.
      if (this.missing === 0 && !streamEnded) {
        this.missing = 1;
        this.msgOff += 1;
      }
      this.msgLen = this.msgOff;
    }
    this.mode = MODE_MARK;
    this.complete(at);
  }

  private deliver(frame: FrameRef): void {
    if (this.discard) {
      // Dropped by the memory budget (counted then): the stream goes on after it.
      this.discard = false;
      this.unfinished = false;
      this.inMsg = false;
      this.head = EMPTY;
      this.noTail();
      this.recFirst = undefined;
      return;
    }
    const length = this.msgLen >= 0 ? this.msgLen : this.msgOff;
    const head = this.headLen === this.head.length ? this.head : this.head.subarray(0, this.headLen);
    let tail = EMPTY;
    let tailOffset = length;
    if (this.tail !== undefined && this.tailFill === this.tail.length) {
      tail = this.tail;
      tailOffset = this.tailStart;
    }
    const stats = this.stats;
    stats.messages++;
    if (this.missing > 0) stats.truncatedMessages++;
    const notKept = this.captured - head.length - tail.length;
    if (notKept > 0) stats.bytesNotKept += notKept;
    const rec: RpcMessageRecord = {
      transport: 'tcp',
      conn: this.conn,
      dir: this.dir,
      src: this.src,
      dst: this.dst,
      bytes: { length, head, tail, tailOffset, missing: this.missing },
      firstFrame: this.recFirst!,
      frame,
      resynced: this.resynced,
      unfinished: this.unfinished,
    };
    // A message that waited for segments has buffers of its own (the others are views).
    const ownHead = this.delivered ? EMPTY : this.head;
    const ownTail = this.delivered ? undefined : this.tailOwner;
    this.unfinished = false;
    this.inMsg = false;
    this.head = EMPTY;
    this.noTail();
    this.recFirst = undefined;
    this.headIsView = false;
    this.sink.message(rec);
    // Nothing keeps a delivered message's bytes: its buffers serve the next.
    waitingBuffers.giveBack(ownHead);
    if (ownTail !== undefined) waitingBuffers.giveBack(ownTail);
  }

  // -------------------------------------------------------------------------
  // Out of sync

  /**
   * A loop made no progress (an nfsight bug): drop the message in progress
   * and look for the next one, and return the error to throw.
   */
  private stuck(loop: string, maxTurns: number): InternalError {
    const dropped = this.inMsg;
    this.enterSync();
    return loopBound(`record-stream.ts: ${loop}`, maxTurns, `${dropped ? 'the message in progress dropped, ' : ''}looking for the next message`);
  }

  private enterSync(): void {
    this.mode = MODE_SYNC;
    this.inMsg = false;
    this.markHave = 0;
    this.carryLen = 0;
    this.looseFirst = false;
    this.countResync();
  }

  private countResync(): void {
    this.stats.resyncs++;
    this.syncCounted = true;
    this.nextResynced = true;
  }

  private ensureCarry(): void {
    if (this.carry.length === 0) {
      this.carry = Buffer.alloc(PROBE);
      this.carryFrames = new Array<FrameRef>(PROBE);
    }
  }

  private dropCarry(): void {
    this.stats.skippedBytes += this.carryLen;
    this.carryLen = 0;
  }

  private setCarry(src: Buffer, from: number, to: number, frame: FrameRef): void {
    this.carryLen = 0;
    this.appendCarry(src.subarray(from, to), frame);
  }

  /** Appends bytes to the carry-over (at most PROBE - 1 bytes are ever kept). */
  private appendCarry(src: Buffer, frame: FrameRef): void {
    if (src.length === 0) return;
    this.ensureCarry();
    let n = src.length;
    let from = 0;
    const room = PROBE - 1 - this.carryLen;
    if (n > room) {
      // Only happens for bytes already known to start no message here; drop the oldest.
      const drop = n - room;
      const fromCarry = Math.min(drop, this.carryLen);
      if (fromCarry > 0) {
        this.carry.copyWithin(0, fromCarry, this.carryLen);
        this.carryFrames.copyWithin(0, fromCarry, this.carryLen);
        this.carryLen -= fromCarry;
        this.stats.skippedBytes += fromCarry;
      }
      if (drop > fromCarry) {
        from = drop - fromCarry;
        n -= from;
        this.stats.skippedBytes += from;
      }
    }
    src.copy(this.carry, this.carryLen, from, from + n);
    for (let i = 0; i < n; i++) this.carryFrames[this.carryLen + i] = frame;
    this.carryLen += n;
  }

  /**
   * Looks for a message start in carry ++ buf[start, end). Returns the index
   * in buf to go on from in sync (the mode is then MODE_MARK or MODE_BODY),
   * or -1 when buf was consumed (still out of sync).
   */
  private scan(buf: Buffer, start: number, end: number, at: FrameRef): number {
    let skipped = 0;
    const cl = this.carryLen;
    if (cl > 0) {
      const sc = SCAN_SCRATCH;
      this.carry.copy(sc, 0, 0, cl);
      const m = Math.min(end - start, PROBE);
      buf.copy(sc, cl, start, start + m);
      const total = cl + m;
      let p = 0;
      for (; p < cl && p + PROBE <= total; p++) {
        if (this.plausible(sc, p)) {
          this.stats.skippedBytes += skipped;
          this.found();
          // The candidate starts in the carry-over: feed its bytes (fewer
          // than PROBE, so no fragment ends in them), then buf.
          const frame = this.carryFrames[p]!;
          this.carryLen = 0;
          this.run(this.carry, p, cl, frame);
          return start;
        }
        if (!this.syncCounted) this.countResync();
        skipped++;
      }
      this.stats.skippedBytes += skipped;
      skipped = 0;
      if (p < cl) {
        // Not enough bytes yet to judge the remaining positions.
        this.carry.copyWithin(0, p, cl);
        this.carryFrames.copyWithin(0, p, cl);
        this.carryLen = cl - p;
        this.appendCarry(buf.subarray(start, end), snapshotFrameRef(at));
        return -1;
      }
      this.carryLen = 0;
    }
    let q = start;
    const last = end - PROBE;
    for (; q <= last; q++) {
      // A non-zero byte at q + 10 rules out q, q + 1 and q + 2 (each needs
      // its bytes 8-10, msg_type's high bytes, zero): bulk data is passed
      // over three bytes at a time. Not for a loose first position, which
      // plausible() judges (and clears) itself.
      if (buf[q + 10] !== 0 && !this.looseFirst && q + 2 <= last) {
        if (!this.syncCounted) this.countResync();
        skipped += 3;
        q += 2;
        continue;
      }
      if (this.plausible(buf, q)) {
        this.stats.skippedBytes += skipped;
        this.found();
        return q;
      }
      if (!this.syncCounted) this.countResync();
      skipped++;
    }
    this.stats.skippedBytes += skipped;
    if (q < end) {
      this.ensureCarry();
      this.carryLen = 0;
      this.appendCarry(buf.subarray(q, end), snapshotFrameRef(at));
    }
    return -1;
  }

  private found(): void {
    this.mode = MODE_MARK;
    this.markHave = 0;
    this.syncCounted = false;
    this.looseFirst = false;
  }

  /** Does buf[p, p+PROBE) look like a record mark and the start of an RPC message? */
  private plausible(buf: Buffer, p: number): boolean {
    const loose = this.looseFirst;
    this.looseFirst = false;
    // msg_type is 0 or 1, so its first three bytes are zero: most positions
    // in the bulk data a capture starts in fail here, before a word is read.
    if ((buf[p + 8]! | buf[p + 9]! | buf[p + 10]!) !== 0) return false;
    const len = buf.readUInt32BE(p) & 0x7fffffff;
    if (len < MIN_RESYNC_FRAGMENT || len > this.maxFragment) return false;
    const type = buf.readUInt32BE(p + 8);
    if (type === 0) {
      if (buf.readUInt32BE(p + 12) !== 2) return false;
      const prog = buf.readUInt32BE(p + 16);
      if (!isKnownProgram(prog) && prog < TRANSIENT_PROGRAMS) return false;
      return buf.readUInt32BE(p + 20) < 100;
    }
    if (type !== 1) return false;
    const stat = buf.readUInt32BE(p + 12);
    if (stat === 0) {
      // MSG_ACCEPTED: verifier flavor, verifier length.
      if (buf.readUInt32BE(p + 20) > MAX_AUTH_BYTES) return false;
    } else if (stat === 1) {
      // MSG_DENIED: reject_stat RPC_MISMATCH or AUTH_ERROR.
      if (buf.readUInt32BE(p + 16) > 1) return false;
    } else {
      return false;
    }
    if (loose) return true;
    return this.sink.isOutstandingXid(this.conn, this.dir, buf.readUInt32BE(p + 4));
  }
}
