/**
 * A keyed table of tallies (the report's clients, servers and files) that
 * keeps at most `max` rows, a little more between trims: when over, the
 * least used go (fewest calls, then the last in key order), counted in
 * `evicted` and `evictedCalls`. So memory does not grow with the capture,
 * and the rows kept are the same whatever the order the keys came in.
 */
import type { MemoryAccount } from '../memory/budget.js';
import { byCodeUnits } from '../string-order.js';

/** What a row must say for the table to choose which rows to keep. */
export interface CountedRow {
  calls: number;
}

/** Estimated heap bytes of a table row besides its key (its tallies and a histogram of typical spread; docs/memory.md). */
export const ROW_BYTES = 900;

export function rowBytes(key: string): number {
  return ROW_BYTES + 2 * key.length;
}


export class BoundedTable<T extends CountedRow> {
  readonly map = new Map<string, T>();
  evicted = 0;
  evictedCalls = 0;
  /** Estimated bytes of the rows (accounted in `account`). */
  bytes = 0;
  /** A trim's calls of every row, and keys of the tied rows (kept between trims). */
  private calls = new Float64Array(0);
  private readonly ties: string[] = [];
  /** Rows held at most: `max` and a quarter more (at least 16), so that a trim's cost spreads over many new keys. */
  private readonly most: number;

  constructor(
    readonly max: number,
    private readonly account?: MemoryAccount,
  ) {
    this.most = max + Math.max(16, max >> 2);
  }

  /**
   * The row of `key`, made when new. A new row is made after the trim it
   * may need, not before: it is about to be counted, and evicted at zero
   * calls its call was counted nowhere, neither in a row nor in
   * `evictedCalls` (until 2026-12-04: on a capture of 950,000 calls to
   * 690,000 files, 691,380 files evicted for 690,000 calls).
   */
  get(key: string, make: () => T): T {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.most) this.trim();
      v = make();
      this.map.set(key, v);
      this.charge(rowBytes(key));
    }
    return v;
  }

  private charge(n: number): void {
    this.bytes += n;
    this.account?.add(n);
  }

  trim(): void {
    this.trimTo(this.max);
  }

  /**
   * Keeps the `n` most used rows (most calls, then first in key order);
   * returns how many were dropped. Without sorting the rows: the calls of
   * the n-th row are found among the calls sorted as numbers, and only the
   * rows with exactly that many calls are ordered by key, as far as it takes
   * to find the last of them that stays (kthSmallest). Sorting every row by
   * calls and key with a comparator, at every trim, took 8% of the CPU on a
   * capture of 3,000 clients touching 950,000 files, where most rows have
   * one call.
   */
  trimTo(n: number): number {
    const size = this.map.size;
    if (size <= n) return 0;
    let least = Infinity;
    /** Of the rows with `least` calls, the last key kept (undefined: none kept). */
    let lastTie: string | undefined;
    // The rows are walked with forEach: iterating entries made a [key, row] pair for each.
    if (n > 0) {
      if (this.calls.length < size) this.calls = new Float64Array(size + (size >> 2));
      const calls = this.calls;
      let i = 0;
      this.map.forEach((row) => {
        calls[i++] = row.calls;
      });
      const sorted = calls.subarray(0, size).sort();
      least = sorted[size - n]!;
      let above = size - n + 1;
      while (above < size && sorted[above] === least) above++;
      // Rows with more calls than `least`: size - above; the rest of the n come from the ties.
      const keepTies = n - (size - above);
      // Written over, not emptied: emptying an array gives up its backing store.
      const ties = this.ties;
      let count = 0;
      this.map.forEach((row, key) => {
        if (row.calls === least) ties[count++] = key;
      });
      lastTie = kthSmallest(ties, keepTies - 1, count);
      // No evicted key stays reachable from here.
      ties.fill('', 0, count);
    }
    const before = this.map.size;
    this.map.forEach((row, key) => {
      const calls = row.calls;
      if (calls > least || (calls === least && lastTie !== undefined && key <= lastTie)) return;
      this.map.delete(key);
      this.charge(-rowBytes(key));
      this.evicted++;
      this.evictedCalls += calls;
    });
    return before - this.map.size;
  }

  /** Rows after trimming, sorted by key. */
  sorted(): [string, T][] {
    this.trim();
    return [...this.map.entries()].sort((a, b) => byCodeUnits(a[0], b[0]));
  }
}

/**
 * The key that would be at index `k` of the first `length` keys sorted
 * (0 ≤ k < length), in about 3·length comparisons where sorting takes
 * length·log2(length) (Hoare's selection, the pivot a median of three).
 * Reorders those keys.
 */
export function kthSmallest(keys: string[], k: number, length = keys.length): string {
  let lo = 0;
  let hi = length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // Median of three to keys[mid], the pivot.
    if (keys[mid]! < keys[lo]!) swap(keys, mid, lo);
    if (keys[hi]! < keys[lo]!) swap(keys, hi, lo);
    if (keys[hi]! < keys[mid]!) swap(keys, hi, mid);
    const pivot = keys[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[i]! < pivot) i++;
      while (pivot < keys[j]!) j--;
      if (i <= j) swap(keys, i++, j--);
    }
    // Now keys[lo..j] ≤ pivot ≤ keys[i..hi], and keys between j and i equal the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return keys[k]!;
  }
  return keys[k]!;
}

function swap(a: string[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
