/**
 * Classic libpcap files: the file header, then records of a 16-byte header
 * (seconds, sub-second, captured length, original length) and the captured
 * bytes; microsecond (a1b2c3d4) or nanosecond (a1b23c4d) timestamps, in
 * either byte order.
 *
 * Read with nfsight's own record walk rather than pcap-parser: pcap-parser
 * joins every chunk to the previous remainder with a fresh copy and
 * allocates two views, two objects and three events per record, which cost
 * more than everything else in the pipeline together (docs/performance.md
 * has the measurements). Here a record that lies within a chunk is handed
 * on in place (the frame points into the caller's chunk, nothing copied or
 * allocated); only a record straddling two chunks is gathered, into one
 * reused buffer.
 */
import { u32be, u32le } from './bytes.js';
import { newFrame, type Frame, type LazyBytes } from './frame.js';
import { MAX_RECORD_LENGTH, type RecordReader, type RecordReaderOptions } from './record-reader.js';

export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/**
 * Records at least this long (captured bytes) are read sparsely from a plain
 * file (pcap-sparse.ts): their headers first, the rest where a layer above
 * asks for it. TSO/GRO frames (up to 64 KB) are, Ethernet-sized ones not.
 */
export const SPARSE_MIN_RECORD = 4096;

/** The four magic numbers as they appear in the file's first four bytes. */
const MAGIC_MICRO_BE = 0xa1b2c3d4;
const MAGIC_MICRO_LE = 0xd4c3b2a1;
const MAGIC_NANO_BE = 0xa1b23c4d;
const MAGIC_NANO_LE = 0x4d3cb2a1;
/** Alexey Kuznetzov's modified format: records carry 8 more bytes; not read. */
const MAGIC_KUZNETZOV_BE = 0xa1b2cd34;
const MAGIC_KUZNETZOV_LE = 0x34cdb2a1;

export function isPcapMagic(firstWordBE: number): boolean {
  return (
    firstWordBE === MAGIC_MICRO_BE ||
    firstWordBE === MAGIC_MICRO_LE ||
    firstWordBE === MAGIC_NANO_BE ||
    firstWordBE === MAGIC_NANO_LE ||
    firstWordBE === MAGIC_KUZNETZOV_BE ||
    firstWordBE === MAGIC_KUZNETZOV_LE
  );
}

export interface PcapFileHeader {
  bigEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}

export class PcapReader implements RecordReader {
  header: PcapFileHeader | undefined;
  stopped = false;
  frames = 0;
  bytesRead = 0;
  /**
   * Captured bytes of the records at least SPARSE_MIN_RECORD long emitted
   * so far: the capture source compares it with the bytes pushed to decide
   * whether reading the large records sparsely pays (source.ts).
   */
  largeRecordBytes = 0;

  private readonly opts: RecordReaderOptions;
  private readonly frame: Frame;
  private le = true;
  /** Sub-second field multiplier to nanoseconds (1000 or 1). */
  private subsecondScale = 1000;
  private maxRecordLength = MAX_RECORD_LENGTH;
  /** File offset of the next record (of the record being gathered, while `carryLen` > 0). */
  private nextOffset = 0;
  /**
   * The file header, then any record that straddles two chunks, gathered
   * here (header and body); `carryNeed` is how many bytes it must reach.
   */
  private carry: Buffer = Buffer.allocUnsafe(PCAP_RECORD_HEADER_LENGTH + 2048);
  private carryLen = 0;
  private carryNeed = 0;
  /** Records whose timestamp fraction was a second or more, and the first (reported by end()). */
  private badFractions = 0;
  private firstBadFraction: { frame: number; offset: number; fraction: number } | undefined;

  constructor(opts: RecordReaderOptions) {
    this.opts = opts;
    this.frame = newFrame(opts.fileIndex);
  }

  /**
   * Walks the records of `chunk`. Frames point into `chunk` (or into the
   * reader's own buffer for a straddling record) during the callback only:
   * the caller may reuse the chunk as soon as push returns.
   */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    this.bytesRead += chunk.length;
    const end = chunk.length;
    let pos = 0;
    if (this.header === undefined) {
      pos = this.gather(chunk, 0, PCAP_GLOBAL_HEADER_LENGTH - this.carryLen);
      if (this.carryLen < PCAP_GLOBAL_HEADER_LENGTH) return;
      this.carryLen = 0;
      if (!this.start(this.carry)) return;
      this.nextOffset = PCAP_GLOBAL_HEADER_LENGTH;
    }
    if (this.carryLen > 0) {
      pos = this.finishCarried(chunk, pos);
      if (pos < 0) return;
    }
    const le = this.le;
    while (pos + PCAP_RECORD_HEADER_LENGTH <= end) {
      const capLen = le ? u32le(chunk, pos + 8) : u32be(chunk, pos + 8);
      const bodyEnd = pos + PCAP_RECORD_HEADER_LENGTH + capLen;
      if (capLen > this.maxRecordLength) {
        this.badLength(capLen);
        return;
      }
      if (bodyEnd > end) break;
      this.emit(chunk, pos, capLen, le, null);
      if (this.stopped) return;
      pos = bodyEnd;
    }
    if (pos < end) {
      // A record straddles into the next chunk: keep its beginning.
      this.carryLen = 0;
      this.gather(chunk, pos, end - pos);
      if (this.carryLen >= PCAP_RECORD_HEADER_LENGTH) this.carryNeed = PCAP_RECORD_HEADER_LENGTH + this.carriedCapLen();
    }
  }

  /** One warning for the records whose timestamp fraction is a second or more (tshark shows them as nonsense). */
  private reportBadFractions(): void {
    const first = this.firstBadFraction;
    if (first === undefined) return;
    this.firstBadFraction = undefined;
    const unit = this.subsecondScale === 1 ? 'ns' : 'µs';
    const n = this.badFractions;
    this.opts.diag.report({
      severity: 'warning',
      code: 'bad-timestamp',
      file: this.opts.file,
      offset: first.offset,
      frame: first.frame,
      message: `its timestamp's fraction of a second is ${first.fraction} ${unit}, a second or more (a faulty writer, or damage); carried into the seconds${n > 1 ? `, as for ${n - 1} more frame${n === 2 ? '' : 's'} after it` : ''}: times around ${n > 1 ? 'them' : 'it'} may be wrong`,
    });
  }

  /** Captured length in the header of the record being gathered. */
  private carriedCapLen(): number {
    return this.le ? u32le(this.carry, 8) : u32be(this.carry, 8);
  }

  end(): void {
    this.reportBadFractions();
    if (this.stopped) return;
    if (this.header === undefined) {
      const got = this.carryLen;
      this.fail(
        got === 0 ? 'empty-file' : 'truncated-file',
        0,
        `file ends after ${got} bytes, inside the 24-byte pcap file header`,
      );
      return;
    }
    const left = this.carryLen;
    if (left === 0) return;
    // What is still gathered is an incomplete record: a file cut short.
    const offset = this.nextOffset;
    let detail: string;
    if (left >= PCAP_RECORD_HEADER_LENGTH) {
      const capLen = this.carryNeed - PCAP_RECORD_HEADER_LENGTH;
      const body = left - PCAP_RECORD_HEADER_LENGTH;
      detail = `the packet record at byte ${offset} (frame ${this.frames + 1}) has ${body} of its ${capLen} captured bytes`;
    } else {
      detail = `the record header at byte ${offset} has ${left} of its ${PCAP_RECORD_HEADER_LENGTH} bytes`;
    }
    this.carryLen = 0;
    this.opts.diag.report({
      severity: 'warning',
      code: 'truncated-file',
      file: this.opts.file,
      offset,
      message: `file is cut short (was the capture still being written?): ${detail}; the ${this.frames} frames before it are analysed`,
    });
  }

  /** Copies up to `n` bytes of chunk[pos..] into the carry buffer; returns the new position. */
  private gather(chunk: Buffer, pos: number, n: number): number {
    const want = Math.min(n, chunk.length - pos);
    if (this.carryLen + want > this.carry.length) this.growCarry(this.carryLen + want);
    chunk.copy(this.carry, this.carryLen, pos, pos + want);
    this.carryLen += want;
    return pos + want;
  }

  private growCarry(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2));
    this.carry.copy(next, 0, 0, this.carryLen);
    this.carry = next;
  }

  /**
   * Completes the straddling record from the start of `chunk` and emits it.
   * Returns where the chunk's next record starts, or -1 when the chunk was
   * used up (still gathering) or reading stopped.
   */
  private finishCarried(chunk: Buffer, pos: number): number {
    if (this.carryLen < PCAP_RECORD_HEADER_LENGTH) {
      pos = this.gather(chunk, pos, PCAP_RECORD_HEADER_LENGTH - this.carryLen);
      if (this.carryLen < PCAP_RECORD_HEADER_LENGTH) return -1;
      const capLen = this.carriedCapLen();
      if (capLen > this.maxRecordLength) {
        this.badLength(capLen);
        return -1;
      }
      this.carryNeed = PCAP_RECORD_HEADER_LENGTH + capLen;
    }
    pos = this.gather(chunk, pos, this.carryNeed - this.carryLen);
    if (this.carryLen < this.carryNeed) return -1;
    this.carryLen = 0;
    this.emit(this.carry, 0, this.carryNeed - PCAP_RECORD_HEADER_LENGTH, this.le, null);
    return this.stopped ? -1 : pos;
  }

  /** The records are little-endian. */
  get littleEndian(): boolean {
    return this.le;
  }

  /** Largest captured length believed (a larger one stops the reader as corrupt). */
  get recordLengthLimit(): number {
    return this.maxRecordLength;
  }

  /** File offset of the next record to emit (the one being gathered, if any). */
  get nextRecordOffset(): number {
    return this.nextOffset;
  }

  /**
   * Forgets the part of a record gathered from the last chunk: the caller
   * will read the file on from nextRecordOffset itself (sparse reading),
   * and push later chunks from a record boundary.
   */
  dropGathered(): void {
    this.carryLen = 0;
    this.carryNeed = 0;
  }

  /**
   * Emits the record whose 16-byte header is at `pos` in `b`, its body
   * `b[pos + 16, pos + 16 + capLen)` (sparse reading: read on demand
   * through `lazy`), as the next record of the file.
   */
  emitRecord(b: Buffer, pos: number, capLen: number, lazy: LazyBytes | null): void {
    this.emit(b, pos, capLen, this.le, lazy);
  }

  /** Emits the record whose header is at `pos` in `b` (its body follows it in `b`). */
  private emit(b: Buffer, pos: number, capLen: number, le: boolean, lazy: LazyBytes | null): void {
    const f = this.frame;
    const sec = le ? u32le(b, pos) : u32be(b, pos);
    const sub = (le ? u32le(b, pos + 4) : u32be(b, pos + 4)) * this.subsecondScale;
    const origLen = le ? u32le(b, pos + 12) : u32be(b, pos + 12);
    f.number = ++this.frames;
    if (sub < 1e9) {
      f.tsSec = sec;
      f.tsNsec = sub;
    } else {
      // Out-of-range fraction in a sloppy writer: carry it into the seconds (said once, at the end).
      f.tsSec = sec + Math.floor(sub / 1e9);
      f.tsNsec = sub % 1e9;
      if (this.badFractions++ === 0) this.firstBadFraction = { frame: f.number, offset: this.nextOffset, fraction: sub / this.subsecondScale };
    }
    f.buf = b;
    f.start = pos + PCAP_RECORD_HEADER_LENGTH;
    f.end = f.start + capLen;
    // A record claiming fewer wire bytes than it holds: trust the captured bytes.
    f.origLen = origLen >= capLen ? origLen : capLen;
    f.byteOffset = this.nextOffset;
    f.lazy = lazy;
    this.nextOffset += PCAP_RECORD_HEADER_LENGTH + capLen;
    if (capLen >= SPARSE_MIN_RECORD) this.largeRecordBytes += capLen;
    this.opts.onFrame(f);
  }

  private badLength(capLen: number): void {
    this.fail(
      'bad-record-length',
      this.nextOffset,
      `frame ${this.frames + 1}: captured length ${capLen} exceeds the maximum of ${this.maxRecordLength} (snaplen ${this.header?.snaplen}); the file is corrupt from here`,
    );
  }

  /** Validates the file header (the first 24 bytes of `have`). */
  private start(have: Buffer): boolean {
    const magic = u32be(have, 0);
    let bigEndian: boolean;
    let nanosecond = false;
    switch (magic) {
      case MAGIC_MICRO_BE:
        bigEndian = true;
        break;
      case MAGIC_MICRO_LE:
        bigEndian = false;
        break;
      case MAGIC_NANO_BE:
        bigEndian = true;
        nanosecond = true;
        break;
      case MAGIC_NANO_LE:
        bigEndian = false;
        nanosecond = true;
        break;
      case MAGIC_KUZNETZOV_BE:
      case MAGIC_KUZNETZOV_LE:
        this.fail('unsupported-format', 0, 'the modified (Kuznetzov) pcap format is not supported; convert it with editcap -F pcap');
        return false;
      default:
        this.fail('not-pcap', 0, `not a pcap file: magic 0x${magic.toString(16).padStart(8, '0')}, expected a1b2c3d4 or a1b23c4d in either byte order`);
        return false;
    }
    const u16 = (o: number): number => (bigEndian ? have.readUInt16BE(o) : have.readUInt16LE(o));
    const u32 = (o: number): number => (bigEndian ? u32be(have, o) : u32le(have, o));
    const header: PcapFileHeader = {
      bigEndian,
      nanosecond,
      versionMajor: u16(4),
      versionMinor: u16(6),
      snaplen: u32(16),
      // The upper 16 bits may carry FCS information (LINKTYPE_FCS); the link type is the low 16.
      linkType: u32(20) & 0xffff,
    };
    if (header.versionMajor !== 2) {
      this.fail('unsupported-version', 4, `pcap version ${header.versionMajor}.${header.versionMinor}, expected 2.x`);
      return false;
    }
    this.header = header;
    this.le = !bigEndian;
    this.subsecondScale = nanosecond ? 1 : 1000;
    this.maxRecordLength = Math.max(MAX_RECORD_LENGTH, header.snaplen);
    this.frame.linkType = header.linkType;
    return true;
  }

  private fail(code: string, offset: number, message: string): void {
    this.stopped = true;
    this.carryLen = 0;
    this.opts.diag.report({ severity: 'error', code, file: this.opts.file, offset, message });
  }
}
