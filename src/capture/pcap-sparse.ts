/**
 * Sparse reading of a classic pcap file: a large record (TSO/GRO frames of
 * up to 64 KB) is read only in part. Its record header and first
 * SPARSE_HEAD bytes (link, IP and TCP headers, and usually the RPC header
 * behind them) are read with it; the rest only where a layer above asks for
 * it (Frame.lazy.need: a record mark or an RPC header inside the frame, the
 * kept tail of a message), so the READ and WRITE data that the RPC layer
 * skips anyway is never copied out of the page cache. Every record header
 * is still read, so frame numbers, times and lengths are the file's own.
 *
 * Positioned reads, synchronous: one per large record (its header, with
 * the small records before it, in a small window) and one per range asked
 * for. The window doubles while it holds only small records; after a few
 * full windows of them the walk hands back to chunked reading (source.ts),
 * which overlaps the kernel's copy with the analysis.
 *
 * The walk emits only records complete within the file's size with a
 * believable length; anything else (the end of the file, a truncated or
 * corrupt record, a record larger than the window) is left to the chunked
 * reader, which reports it as before.
 */
import { readSync } from 'node:fs';
import { AnalysisBug } from '../internal-error.js';
import { u32be, u32le } from './bytes.js';
import type { LazyBytes } from './frame.js';
import { PCAP_RECORD_HEADER_LENGTH, SPARSE_MIN_RECORD, type PcapReader } from './pcap.js';

const RH = PCAP_RECORD_HEADER_LENGTH;
/** Bytes of a large record read with its header. */
export const SPARSE_HEAD = 512;
/** The window read after a large record: the small records before the next one, its header and head. */
const WINDOW_MIN = 2048;
/** Largest window (and largest record read sparsely, with its header). */
export const SPARSE_WINDOW_MAX = 1 << 20;
/** Full windows of small records in a row before the walk hands back to chunked reading. */
const SMALL_WINDOWS = 3;

/** What sparse reading read (for tests and the benchmark). */
export interface SparseReadStats {
  /** Bytes read from the file by the walk (windows and ranges asked for). */
  bytesRead: number;
  /** Positioned reads issued. */
  reads: number;
  /** Records emitted as sparse frames. */
  sparseRecords: number;
}

export function newSparseReadStats(): SparseReadStats {
  return { bytesRead: 0, reads: 0, sparseRecords: 0 };
}

export class SparsePcapWalk implements LazyBytes {
  private readonly win: Buffer = Buffer.allocUnsafeSlow(SPARSE_WINDOW_MAX);
  /** File offset of win[0], and how many bytes from there the window holds. */
  private winPos = 0;
  private winLen = 0;
  // --- the sparse record being emitted: its bytes are win[recStart, recEnd)
  private recStart = 0;
  private recEnd = 0;
  /** Positions of win read for it, as sorted, disjoint [lo, hi) pairs. */
  private ranges: number[] = [];
  readyEnd = 0;
  /** A read for a range asked for failed: thrown once the frame's callback returned. */
  private readError: unknown = undefined;

  constructor(
    private readonly fd: number,
    private readonly reader: PcapReader,
    private readonly file: string,
    readonly stats: SparseReadStats,
  ) {}

  /**
   * Emits the records from file offset `pos` (a record boundary) on, while
   * they are complete within the first `size` bytes of the file. Returns
   * the offset of the first record not emitted, for the chunked reader.
   * Throws a read error as it is; wraps what the frame callback throws in
   * an AnalysisBug, as the chunked reader does.
   */
  walk(pos: number, size: number, progress: ((bytes: number) => void) | undefined): number {
    const reader = this.reader;
    const le = reader.littleEndian;
    const limit = reader.recordLengthLimit;
    const win = this.win;
    let w = WINDOW_MIN;
    let afterLarge = true;
    let fullSmall = 0;
    let reported = pos;
    this.winPos = pos;
    this.winLen = 0;
    while (!reader.stopped) {
      let rel = pos - this.winPos;
      if (rel + RH > this.winLen) {
        if (pos + RH > size) break;
        if (afterLarge) {
          w = WINDOW_MIN;
        } else {
          if (w < SPARSE_WINDOW_MAX) w *= 2;
          else if (++fullSmall >= SMALL_WINDOWS) break;
        }
        afterLarge = false;
        if (!this.fill(pos, Math.min(w, size - pos))) break;
        rel = 0;
      }
      const capLen = le ? u32le(win, rel + 8) : u32be(win, rel + 8);
      const recEnd = pos + RH + capLen;
      // A length the chunked reader must judge, or a record the file does not hold whole.
      if (capLen > limit || recEnd > size) break;
      if (rel + RH + capLen <= this.winLen) {
        this.emit(rel, capLen, null);
        pos = recEnd;
      } else if (capLen < SPARSE_MIN_RECORD) {
        // A small record beyond the window: read on from it.
        if (!this.fill(pos, Math.min(Math.max(w, RH + capLen), size - pos)) || RH + capLen > this.winLen) break;
      } else {
        if (rel + RH + capLen > win.length) {
          if (RH + capLen > win.length) break;
          if (!this.fill(pos, WINDOW_MIN)) break;
          rel = 0;
        }
        const start = rel + RH;
        const end = start + capLen;
        let ready = start + SPARSE_HEAD;
        if (ready > end) ready = end;
        if (this.winLen < ready) {
          this.readInto(this.winLen, ready, this.winPos + this.winLen);
          this.winLen = ready;
        }
        this.recStart = start;
        this.recEnd = end;
        this.readyEnd = this.winLen;
        const r = this.ranges;
        r.length = 2;
        r[0] = start;
        r[1] = this.winLen;
        this.stats.sparseRecords++;
        this.emit(rel, capLen, this);
        if (this.readError !== undefined) {
          const e = this.readError;
          this.readError = undefined;
          throw e;
        }
        pos = recEnd;
        afterLarge = true;
        fullSmall = 0;
      }
      if (progress !== undefined && pos - reported >= SPARSE_WINDOW_MAX) {
        reported = pos;
        progress(pos);
      }
    }
    return pos;
  }

  /** The record at window position `rel`: emitted, the reader's offset moved past it. */
  private emit(rel: number, capLen: number, lazy: LazyBytes | null): void {
    const reader = this.reader;
    try {
      reader.emitRecord(this.win, rel, capLen, lazy);
    } catch (err) {
      throw err instanceof AnalysisBug ? err : new AnalysisBug(this.file, reader.frames, err);
    }
    reader.bytesRead = reader.nextRecordOffset;
  }

  /** Reads `n` bytes of the file from `pos` into the window's start; false when none came. */
  private fill(pos: number, n: number): boolean {
    this.winPos = pos;
    this.winLen = 0;
    const got = this.readSome(0, n, pos);
    this.winLen = got;
    return got >= RH;
  }

  /** Reads win[from, to) from file offset `pos`, whole (a short read is an error). */
  private readInto(from: number, to: number, pos: number): void {
    const got = this.readSome(from, to - from, pos);
    if (got < to - from) throw new Error(`the file ended at byte ${pos + got} while it was read (was it cut meanwhile?)`);
  }

  private readSome(at: number, n: number, pos: number): number {
    let got = 0;
    while (got < n) {
      const k = readSync(this.fd, this.win, at + got, n - got, pos + got);
      this.stats.reads++;
      if (k === 0) break;
      got += k;
    }
    this.stats.bytesRead += got;
    return got;
  }

  // -------------------------------------------------------------------------
  // LazyBytes: the sparse record being emitted

  need(from: number, to: number): void {
    if (from < this.recStart) from = this.recStart;
    if (to > this.recEnd) to = this.recEnd;
    if (from >= to) return;
    const r = this.ranges;
    // Usually within the head, or within a range read already.
    for (let i = 0; i < r.length; i += 2) if (r[i]! <= from && to <= r[i + 1]!) return;
    let p = from;
    for (let i = 0; i < r.length && p < to; i += 2) {
      const lo = r[i]!;
      const hi = r[i + 1]!;
      if (hi <= p) continue;
      if (lo >= to) break;
      if (lo > p) this.readRange(p, lo);
      p = hi;
    }
    if (p < to) this.readRange(p, to);
    this.addRange(from, to);
  }

  private readRange(from: number, to: number): void {
    try {
      this.readInto(from, to, this.winPos + from);
    } catch (err) {
      // Not the caller's fault: zeros for now, the error once the frame is done.
      this.win.fill(0, from, to);
      this.readError ??= err;
    }
  }

  /** Marks win[from, to) read, merging the ranges it touches. */
  private addRange(from: number, to: number): void {
    const r = this.ranges;
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < r.length; i += 2) {
      const lo = r[i]!;
      const hi = r[i + 1]!;
      if (hi < from) {
        out.push(lo, hi);
      } else if (lo > to) {
        if (!placed) {
          out.push(from, to);
          placed = true;
        }
        out.push(lo, hi);
      } else {
        if (lo < from) from = lo;
        if (hi > to) to = hi;
      }
    }
    if (!placed) out.push(from, to);
    this.ranges = out;
  }
}
