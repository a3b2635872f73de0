/**
 * XDR (RFC 4506) reading over a message as nfsight keeps it (MessageBytes).
 *
 * The reader is a cursor: every read consumes bytes at `pos`. It never
 * throws. A read that cannot be satisfied stops the reader for good (the
 * state is sticky, like a tvbuff exception in Wireshark but without the
 * unwinding): it returns 0 / false / an empty buffer, `status` says why and
 * `errorAt` where. Decoders read on regardless and check `ok` at the points
 * where a partial result is still worth returning; that keeps them free of
 * a test after every field.
 *
 * Why the statuses differ:
 * - 'truncated': the bytes were on the wire but the capture never saw them
 *   (lost segments, snaplen). The message is fine; the capture is not.
 * - 'not-kept': nfsight skipped the bytes on purpose (bulk READ/WRITE data).
 *   A decoder that wanted them asked for the wrong thing, or must skip them.
 * - 'malformed': the message itself is wrong: a read beyond its end on the
 *   wire, a length above the protocol's bound, an enum out of range.
 *
 * Skipping (`skipBytes`, `skipOpaque`) needs no bytes kept except a length word,
 * which is how a decoder steps over the data of a WRITE call and goes on
 * decoding in the kept tail.
 */
import { wholeMessage, type MessageBytes } from './bytes.js';

export type XdrStatus = 'ok' | 'truncated' | 'not-kept' | 'malformed';

/** 2^32, to build 64-bit numbers from two words without BigInt. */
const TWO_32 = 4294967296;
const TWO_53 = 2 ** 53;
/** 2^53 / 2^32: a hyper whose high word is below this (in magnitude) is a safe integer. */
const SAFE_HIGH = 0x200000;
const EMPTY = Buffer.alloc(0);

/**
 * Node's own slice methods, what `toString(encoding, start, end)` ends in
 * after checking its arguments and looking the encoding up: fixedText has
 * checked the range, and a file handle or a name is made per call.
 */
interface BufferSlices {
  hexSlice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const DIRECT_SLICES = typeof (Buffer.prototype as unknown as Partial<BufferSlices>).hexSlice === 'function' && typeof (Buffer.prototype as unknown as Partial<BufferSlices>).utf8Slice === 'function';

/** Padded length of an XDR opaque of `n` bytes (RFC 4506 §3: units of four bytes). */
function padded(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}

/**
 * The signed 32-bit big-endian word at `o` (`>>> 0` makes it unsigned).
 * Plain byte reads: Buffer's readUInt32BE checks its argument through
 * Node's validators, which cost several times these reads in cold code
 * (a short run is all cold code) and no less when hot. Callers check the
 * bounds.
 */
function be32(b: Buffer, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

export class XdrReader {
  readonly msg: MessageBytes;
  private readonly head: Buffer;
  /** Bytes of `head` that belong to the message (a defensive clip to its length). */
  private readonly headLen: number;
  private readonly tail: Buffer;
  private readonly tailOffset: number;
  /** Offset just past `tail`. */
  private readonly tailEnd: number;
  /** `head` bytes usable for the fast path: readable and inside `end`. */
  private readonly fastEnd: number;
  /**
   * What a read between head and tail means. The message only says how many
   * bytes the capture missed, not where, so when some are missing every
   * byte not in hand counts as truncated: a decoder stops either way, and
   * "not kept" must only be claimed when it is certain.
   */
  private readonly gapStatus: 'truncated' | 'not-kept';
  private readonly limit: number;
  private p: number;
  private st: XdrStatus = 'ok';
  private errAt = -1;
  /** Where `locate` found the bytes in the buffer it returned. */
  private at = 0;
  /**
   * A reduced RDMA reply (msg.writeChunks): the next write chunk a data item
   * takes, shared with sub-readers so that chunks go to items in order.
   */
  private ddp: { next: number } | undefined;
  /**
   * Set by a caller that reads only the summary fields of what is decoded
   * (DecodedReply's status, byte counts, handles and stop), not the
   * `results`: a decoder may then leave out of `results` what is costly to
   * build (NFSv3 attributes, directory entries), reading the same bytes the
   * same way, so that every summary field and the stop are the same.
   */
  summaryOnly = false;

  /**
   * A reader over `msg` from `offset`, reading up to `end` (the message end
   * unless a sub-range is wanted: reads beyond `end` are malformed).
   */
  constructor(msg: MessageBytes, offset = 0, end = msg.length) {
    this.msg = msg;
    this.head = msg.head;
    this.headLen = Math.min(msg.head.length, msg.length);
    this.tail = msg.tail;
    this.tailOffset = Math.min(msg.tailOffset, msg.length);
    this.tailEnd = Math.min(this.tailOffset + msg.tail.length, msg.length);
    this.limit = Math.max(0, Math.min(end, msg.length));
    this.fastEnd = Math.min(this.headLen, this.limit);
    this.gapStatus = msg.missing > 0 ? 'truncated' : 'not-kept';
    this.p = offset;
    if (!(offset >= 0 && offset <= this.limit) || end > msg.length) this.fail('malformed');
  }

  /** A reader over a whole buffer (every byte kept). */
  static over(buf: Buffer): XdrReader {
    return new XdrReader(wholeMessage(buf));
  }

  /** Current offset in the message. */
  get pos(): number {
    return this.p;
  }

  /** Bytes from `pos` to the end of the message (or of this reader's range), kept or not. */
  get remaining(): number {
    return this.limit - this.p;
  }

  /** Offset where this reader's range ends (the message length unless a sub-range). */
  get end(): number {
    return this.limit;
  }

  get status(): XdrStatus {
    return this.st;
  }

  get ok(): boolean {
    return this.st === 'ok';
  }

  /** Offset where decoding stopped; -1 while `ok`. */
  get errorAt(): number {
    return this.errAt;
  }

  /**
   * Stops the reader as malformed, for a decoder that found a value the
   * protocol forbids (an enum out of range, a length above its bound). The
   * first error stands.
   */
  markMalformed(at = this.p): void {
    if (this.st !== 'ok') return;
    this.st = 'malformed';
    this.errAt = at;
  }

  /** Moves to `offset` (within the range); malformed beyond it. No-op once stopped. */
  seek(offset: number): void {
    if (this.st !== 'ok') return;
    if (offset < 0 || offset > this.limit) {
      this.fail('malformed');
      return;
    }
    this.p = offset;
  }

  u32(): number {
    const p = this.p;
    // The common case: the word is in the head and the reader is fine.
    if (p + 4 <= this.fastEnd && this.st === 'ok') {
      this.p = p + 4;
      return be32(this.head, p) >>> 0;
    }
    const b = this.locate(4);
    if (b === undefined) return 0;
    this.p = p + 4;
    return be32(b, this.at) >>> 0;
  }

  i32(): number {
    const p = this.p;
    if (p + 4 <= this.fastEnd && this.st === 'ok') {
      this.p = p + 4;
      return be32(this.head, p);
    }
    const b = this.locate(4);
    if (b === undefined) return 0;
    this.p = p + 4;
    return be32(b, this.at);
  }

  /** Unsigned hyper as a bigint (exact). */
  u64(): bigint {
    const b = this.locate(8);
    if (b === undefined) return 0n;
    this.p += 8;
    return b.readBigUInt64BE(this.at);
  }

  /** Unsigned hyper as a number: exact below 2^53, rounded above (sizes, offsets, counters). */
  u64n(): number {
    const b = this.locate(8);
    if (b === undefined) return 0;
    this.p += 8;
    return (be32(b, this.at) >>> 0) * TWO_32 + (be32(b, this.at + 4) >>> 0);
  }

  /**
   * Unsigned hyper as a number when exact (below 2^53), else as a decimal
   * string: `u64()`'s value without a bigint for the common case.
   */
  u64Value(): number | string {
    const b = this.locate(8);
    if (b === undefined) return 0;
    this.p += 8;
    const hi = be32(b, this.at) >>> 0;
    if (hi < SAFE_HIGH) return hi * TWO_32 + (be32(b, this.at + 4) >>> 0);
    return b.readBigUInt64BE(this.at).toString();
  }

  /** Signed hyper as a number when exact (above -2^53 and below 2^53), else as a decimal string. */
  i64Value(): number | string {
    const b = this.locate(8);
    if (b === undefined) return 0;
    this.p += 8;
    const hi = be32(b, this.at);
    const v = hi * TWO_32 + (be32(b, this.at + 4) >>> 0);
    if (hi < SAFE_HIGH && (hi > -SAFE_HIGH || (hi === -SAFE_HIGH && v > -TWO_53))) return v;
    return b.readBigInt64BE(this.at).toString();
  }

  /** XDR bool: an enum of FALSE (0) and TRUE (1); anything else is malformed. */
  bool(): boolean {
    const at = this.p;
    const v = this.u32();
    if (v > 1) {
      this.markMalformed(at);
      return false;
    }
    return v === 1;
  }

  /**
   * Fixed-length opaque of `n` bytes: a view into the kept bytes (copied only
   * when it straddles head and tail). The padding to four bytes is skipped,
   * not read: it need not be kept.
   */
  opaqueFixed(n: number): Buffer {
    if (this.st !== 'ok') return EMPTY;
    if (!(n >= 0) || padded(n) > this.limit - this.p) {
      this.fail('malformed');
      return EMPTY;
    }
    if (n === 0) return EMPTY;
    const b = this.locate(n);
    if (b === undefined) return EMPTY;
    this.p += padded(n);
    return b.subarray(this.at, this.at + n);
  }

  /**
   * A fixed-length opaque of `n` bytes as text (`hex` for handles and
   * verifiers, `utf8` for strings): the same reads and stops as
   * opaqueFixed, without making a Buffer view of the bytes.
   */
  fixedText(n: number, encoding: 'hex' | 'utf8'): string {
    if (this.st !== 'ok') return '';
    if (!(n >= 0) || padded(n) > this.limit - this.p) {
      this.fail('malformed');
      return '';
    }
    if (n === 0) return '';
    const b = this.locate(n);
    if (b === undefined) return '';
    this.p += padded(n);
    if (!DIRECT_SLICES) return b.toString(encoding, this.at, this.at + n);
    const slices = b as unknown as BufferSlices;
    return encoding === 'hex' ? slices.hexSlice(this.at, this.at + n) : slices.utf8Slice(this.at, this.at + n);
  }

  /** A variable-length opaque (`opaque<max>`) as text: the same reads and stops as opaque, without a Buffer view. */
  opaqueText(max: number, encoding: 'hex' | 'utf8'): string {
    const n = this.lengthAtMost(max);
    return n < 0 ? '' : this.fixedText(n, encoding);
  }

  /** A length word (of an opaque, string or array); above `max` it is malformed (at the word). -1 once stopped. */
  private lengthAtMost(max: number): number {
    const at = this.p;
    const n = this.u32();
    if (this.st !== 'ok') return -1;
    if (n > max) {
      this.markMalformed(at);
      return -1;
    }
    return n;
  }

  /**
   * Steps over a variable-length opaque or string with the same reads and
   * stops as opaqueText (its bytes must be kept), without making its text:
   * for a summary-only reader. Returns the length (0 once stopped).
   */
  skipText(max: number): number {
    const n = this.lengthAtMost(max);
    if (n < 0) return 0;
    if (padded(n) > this.limit - this.p) {
      this.fail('malformed');
      return 0;
    }
    if (n === 0 || this.locate(n) === undefined) return 0;
    this.p += padded(n);
    return n;
  }

  /** Variable-length opaque (`opaque<max>`): a view of its bytes. A length above `max` is malformed. */
  opaque(max = 0xffffffff): Buffer {
    const at = this.p;
    const n = this.u32();
    if (this.st !== 'ok') return EMPTY;
    if (n > max) {
      this.markMalformed(at);
      return EMPTY;
    }
    return this.opaqueFixed(n);
  }

  /** XDR string (`string<max>`), decoded as UTF-8. */
  string(max = 0xffffffff): string {
    return this.opaqueText(max, 'utf8');
  }

  /** Skips `n` bytes (exactly; no rounding) without needing them kept. */
  skipBytes(n: number): void {
    if (this.st !== 'ok') return;
    if (!(n >= 0) || n > this.limit - this.p) {
      this.fail('malformed');
      return;
    }
    this.p += n;
  }

  /**
   * Skips a variable-length opaque: reads its length (which must be kept)
   * and steps over the padded bytes, kept or not. Returns the length (0
   * once stopped).
   */
  skipOpaque(max = 0xffffffff): number {
    const at = this.p;
    const n = this.u32();
    if (this.st !== 'ok') return 0;
    if (n > max || padded(n) > this.limit - this.p) {
      this.markMalformed(at);
      return 0;
    }
    this.p += padded(n);
    return n;
  }

  /**
   * A DDP-eligible opaque (RFC 8267: the data of a READ, a READLINK's link):
   * skipped as skipOpaque does, except in a reduced RPC-over-RDMA reply
   * (MessageBytes.writeChunks), where the item's bytes and padding went into
   * the next write chunk and only its length word is here (RFC 8166).
   * Returns the length (0 once stopped).
   */
  skipDataItem(max = 0xffffffff): number {
    const at = this.p;
    const n = this.lengthAtMost(max);
    if (n < 0) return 0;
    if (this.takeWriteChunk(n)) return n;
    if (padded(n) > this.limit - this.p) {
      this.markMalformed(at);
      return 0;
    }
    this.p += padded(n);
    return n;
  }

  /**
   * A DDP-eligible string (a READLINK's link): its length, and its text when
   * inline (undefined when it went into a write chunk, whose bytes are not
   * kept).
   */
  dataItemString(max = 0xffffffff): { length: number; text: string | undefined } {
    const at = this.p;
    const n = this.u32();
    if (this.st !== 'ok') return { length: 0, text: '' };
    if (n > max) {
      this.markMalformed(at);
      return { length: 0, text: '' };
    }
    if (this.takeWriteChunk(n)) return { length: n, text: undefined };
    const b = this.opaqueFixed(n);
    return { length: n, text: b.length === 0 ? '' : b.toString('utf8') };
  }

  /**
   * Whether a data item of `n` bytes is in the next write chunk of a reduced
   * message (and takes it). A chunk returned empty while the item is not
   * (the responder sent the data inline after all) leaves the data here.
   */
  private takeWriteChunk(n: number): boolean {
    const chunks = this.msg.writeChunks;
    if (chunks === undefined) return false;
    this.ddp ??= { next: 0 };
    const i = this.ddp.next;
    if (i >= chunks.length) return false;
    this.ddp.next++;
    return !(chunks[i] === 0 && n > 0);
  }

  /**
   * Variable-length array (`T<max>`): the count, then `fn` per element. A
   * count above `max`, or above what the rest of the message could hold
   * (every XDR item but void takes at least four bytes), is malformed: a
   * garbage count must not make the decoder loop four billion times. Stops
   * at the first element that stops the reader; returns those decoded.
   */
  array<T>(max: number, fn: (r: XdrReader, index: number) => T): T[] {
    const at = this.p;
    const n = this.u32();
    if (this.st !== 'ok') return [];
    if (n > max || n > (this.limit - this.p) / 4) {
      this.markMalformed(at);
      return [];
    }
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      const v = fn(this, i);
      if (this.st !== 'ok') break;
      out.push(v);
    }
    return out;
  }

  /**
   * A reader over the next `n` bytes only, and this one moves past them
   * (kept or not). For items whose length is known from the outside (an
   * opaque_auth body, an NFSv4 attribute list): a bad item stops the
   * sub-reader, not the message.
   */
  sub(n: number): XdrReader {
    const start = this.p;
    this.skipBytes(n);
    if (this.st !== 'ok') {
      const dead = new XdrReader(this.msg, Math.min(start, this.limit), this.limit);
      dead.fail(this.st);
      return dead;
    }
    const r = new XdrReader(this.msg, start, start + n);
    if (this.msg.writeChunks !== undefined) r.ddp = this.ddp ??= { next: 0 };
    return r;
  }

  /**
   * Finds `n` bytes at `pos`: returns the buffer holding them (their offset
   * in it in `this.at`), or stops the reader and returns undefined. Does
   * not move `pos`.
   */
  private locate(n: number): Buffer | undefined {
    if (this.st !== 'ok') return undefined;
    const p = this.p;
    if (n > this.limit - p) return this.fail('malformed');
    const end = p + n;
    if (end <= this.headLen) {
      this.at = p;
      return this.head;
    }
    if (p >= this.tailOffset && end <= this.tailEnd) {
      this.at = p - this.tailOffset;
      return this.tail;
    }
    // Head and tail meet or overlap and the value straddles them: every
    // byte is kept, only in two pieces. Rare enough to copy.
    if (this.headLen >= this.tailOffset && p < this.headLen && end <= this.tailEnd) {
      this.at = 0;
      return Buffer.concat([this.head.subarray(p, this.headLen), this.tail.subarray(this.headLen - this.tailOffset, end - this.tailOffset)]);
    }
    // Some byte lies between what was kept at the head and at the tail.
    return this.fail(this.gapStatus);
  }

  /**
   * The message's head Buffer when the `n` bytes at `pos` are all in it
   * and inside this reader's range (they are then at `pos` in it), else
   * undefined. Does not move the reader, nor stop it.
   */
  headSpan(n: number): Buffer | undefined {
    return this.st === 'ok' ? this.headSpanAt(this.p, n) : undefined;
  }

  /** As headSpan, for the `n` bytes at message offset `at`. */
  headSpanAt(at: number, n: number): Buffer | undefined {
    return at >= 0 && n >= 0 && at + n <= this.fastEnd ? this.head : undefined;
  }

  private fail(status: Exclude<XdrStatus, 'ok'>): undefined {
    if (this.st === 'ok') {
      this.st = status;
      this.errAt = this.p;
    }
    return undefined;
  }
}
