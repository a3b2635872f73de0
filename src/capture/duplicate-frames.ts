/**
 * Frames that an input file shares with an earlier file of the same run:
 * the same capture given twice (a glob matching `cap.pcap` and a copy), or
 * two cuts of one capture that overlap (`editcap -r` 1-120 and 80-200).
 * Read twice, their TCP segments look like retransmissions (packet loss,
 * calls that "never reached the server") and their connections count
 * twice; each such frame is read once.
 *
 * A frame is a duplicate when an earlier file held a frame with the same
 * timestamp (to the file's resolution), the same captured and wire
 * lengths, and the same first FINGERPRINT_BYTES bytes (by a 32-bit hash):
 * one captured packet, not two (two packets that agree in all of that,
 * to the microsecond, do not occur on one link). Two captures taken at
 * once on different hosts or interfaces stamp their copies differently,
 * so they are both read, as before (the `files-overlap` warning says so).
 *
 * Only the frames that can have a copy later are remembered: those of a
 * file from the first frame time of the next file on (the files are read
 * in the order of their first frames), at most MAX_REMEMBERED in all, in
 * typed arrays (36 bytes each, with the hash table). Standard input is never peeked, so
 * with `-` among the inputs nothing is remembered.
 */
import { FNV_OFFSET, FNV_PRIME, HASH_SEED } from '../fnv.js';
import type { Frame } from './frame.js';
import { grownTo } from '../memory/typed-arrays.js';

/** Leading bytes of a frame compared (through a hash): link, IP and TCP headers, with sequence numbers and checksums. */
export const FINGERPRINT_BYTES = 128;
/** Frames remembered at most (36 bytes each with the table: 18 MB). */
export const MAX_REMEMBERED = 1 << 19;

/** A time as whole seconds and nanoseconds. */
export interface FrameTime {
  tsSec: number;
  tsNsec: number;
}

/** What was skipped in one file: how many frames, the first and last of them, and the file that held them first. */
export interface DuplicateRun {
  fileIndex: number;
  frames: number;
  first: number;
  last: number;
  /** The file index of the earlier file the first duplicate was found in. */
  originalFileIndex: number;
}

export class DuplicateFrameFilter {
  /** Frames skipped as duplicates, in all. */
  skipped = 0;
  /** Frames that could have had a copy in a later file but were not remembered (MAX_REMEMBERED reached). */
  notRemembered = 0;
  readonly runs: DuplicateRun[] = [];
  private sec = new Float64Array(0);
  private nsec = new Int32Array(0);
  private capLen = new Int32Array(0);
  private origLen = new Int32Array(0);
  private hash = new Int32Array(0);
  private file = new Int32Array(0);
  private count = 0;
  /** Open addressing: slot → index + 1 (0 empty). */
  private table = new Int32Array(0);
  /** The latest time remembered (as seconds and nanoseconds), for skipping lookups that cannot match. */
  private latestSec = -Infinity;
  private latestNsec = 0;

  /**
   * `nextFirst[i]`: the earliest first-frame time of the files read after
   * file i (undefined when unknown or none: nothing of file i is remembered).
   */
  constructor(
    private readonly nextFirst: readonly (FrameTime | undefined)[],
    /** MAX_REMEMBERED but in tests. */
    readonly maxRemembered = MAX_REMEMBERED,
  ) {}

  /** Whether any file can overlap a later one (else the filter has nothing to do). */
  get active(): boolean {
    return this.nextFirst.some((t) => t !== undefined);
  }

  /** True when the frame is a copy of a frame of an earlier file (skip it); remembers it when a later file may copy it. */
  duplicate(f: Frame): boolean {
    const sec = f.tsSec;
    const nsec = f.tsNsec;
    let h = -1;
    if (f.fileIndex > 0 && this.count > 0 && (sec < this.latestSec || (sec === this.latestSec && nsec <= this.latestNsec))) {
      h = this.fingerprint(f);
      const original = this.find(f, h);
      if (original >= 0) {
        this.skip(f, this.file[original]!);
        return true;
      }
    }
    const next = this.nextFirst[f.fileIndex];
    if (next !== undefined && (sec > next.tsSec || (sec === next.tsSec && nsec >= next.tsNsec))) {
      if (this.count >= this.maxRemembered) this.notRemembered++;
      else this.remember(f, h === -1 ? this.fingerprint(f) : h);
    }
    return false;
  }

  private fingerprint(f: Frame): number {
    let end = Math.min(f.end, f.start + FINGERPRINT_BYTES);
    // A sparse frame has its headers read at least.
    if (f.lazy !== null && f.lazy.readyEnd < end) end = f.lazy.readyEnd;
    const b = f.buf;
    // Seeded: the frames are the capture's to choose, and the table probes linearly (src/fnv.ts HASH_SEED).
    let h = Math.imul(FNV_OFFSET ^ HASH_SEED ^ (f.end - f.start), FNV_PRIME);
    for (let i = f.start; i < end; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
    return h;
  }

  private find(f: Frame, h: number): number {
    const t = this.table;
    const mask = t.length - 1;
    for (let slot = (h ^ f.tsNsec) & mask; ; slot = (slot + 1) & mask) {
      const i = t[slot]! - 1;
      if (i < 0) return -1;
      // A copy in an earlier file only: a file's own repeated frames (a packet seen on two interfaces of `-i any`) are its own.
      if (this.hash[i] === h && this.nsec[i] === f.tsNsec && this.sec[i] === f.tsSec && this.capLen[i] === f.end - f.start && this.origLen[i] === (f.origLen | 0) && this.file[i]! < f.fileIndex) return i;
    }
  }

  private remember(f: Frame, h: number): void {
    if (this.count === this.sec.length) this.grow();
    const i = this.count++;
    this.sec[i] = f.tsSec;
    this.nsec[i] = f.tsNsec;
    this.capLen[i] = f.end - f.start;
    this.origLen[i] = f.origLen | 0;
    this.hash[i] = h;
    this.file[i] = f.fileIndex;
    this.place(i);
    if (f.tsSec > this.latestSec || (f.tsSec === this.latestSec && f.tsNsec > this.latestNsec)) {
      this.latestSec = f.tsSec;
      this.latestNsec = f.tsNsec;
    }
  }

  private place(i: number): void {
    const t = this.table;
    const mask = t.length - 1;
    let slot = (this.hash[i]! ^ this.nsec[i]!) & mask;
    while (t[slot] !== 0) slot = (slot + 1) & mask;
    t[slot] = i + 1;
  }

  private grow(): void {
    const size = Math.min(this.maxRemembered, Math.max(1024, 2 * this.sec.length));
    this.sec = grownTo(this.sec, size);
    this.nsec = grownTo(this.nsec, size);
    this.capLen = grownTo(this.capLen, size);
    this.origLen = grownTo(this.origLen, size);
    this.hash = grownTo(this.hash, size);
    this.file = grownTo(this.file, size);
    // At most half full; a power of two, for the mask.
    this.table = new Int32Array(1 << Math.ceil(Math.log2(2 * size)));
    for (let i = 0; i < this.count; i++) this.place(i);
  }

  private skip(f: Frame, originalFileIndex: number): void {
    this.skipped++;
    const run = this.runs[this.runs.length - 1];
    if (run !== undefined && run.fileIndex === f.fileIndex) {
      run.frames++;
      run.last = f.number;
    } else this.runs.push({ fileIndex: f.fileIndex, frames: 1, first: f.number, last: f.number, originalFileIndex });
  }
}

/**
 * For each file in reading order, the earliest first-frame time of the
 * files read after it (what DuplicateFrameFilter remembers from).
 */
export function laterFirstTimes(firstTimes: readonly (FrameTime | undefined)[]): (FrameTime | undefined)[] {
  const out: (FrameTime | undefined)[] = new Array(firstTimes.length).fill(undefined);
  let min: FrameTime | undefined;
  for (let i = firstTimes.length - 1; i >= 0; i--) {
    out[i] = min;
    const t = firstTimes[i];
    if (t !== undefined && (min === undefined || t.tsSec < min.tsSec || (t.tsSec === min.tsSec && t.tsNsec < min.tsNsec))) min = t;
  }
  return out;
}
