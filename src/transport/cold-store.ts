/**
 * Rows of numbers in pages of typed arrays, found by a connection key, in
 * an order of their own: the store of TCP connections that wait for
 * nothing ("cold" connections, tcp-reassembly.ts), which keeps no object
 * per connection (docs/memory.md, "100,000 live connections").
 *
 * A row is `ni` 32-bit integers and `nf` doubles, plus `nr` references; the
 * first {@link COLD_USER_I32} integers are the store's own (the key, the
 * hash chain, the list links). Rows are found by key through chained
 * hashing in an Int32Array of buckets (row + 1; 0 is empty), kept in one
 * doubly linked list in the order they were added (oldest first), and
 * reused through a free list. Pages of {@link COLD_PAGE} rows are made as
 * needed and kept: no copy of the rows when the store grows.
 */
import { KeyFields } from './conn-table.js';

const PAGE_BITS = 10;
/** Rows per page: row r is at index r & COLD_PAGE_MASK of page r >> COLD_PAGE_BITS. */
export const COLD_PAGE = 1 << PAGE_BITS;
const PAGE_MASK = COLD_PAGE - 1;
export const COLD_PAGE_BITS = PAGE_BITS;
export const COLD_PAGE_MASK = PAGE_MASK;

// The store's own integers of a row.
const I_CHAIN = 0;
const I_PREV = 1;
const I_NEXT = 2;
const I_HASH = 3;
const I_LO3 = 4;
const I_HI3 = 5;
const I_PORTS = 6;
/** The first integer of a row that is the user's. */
export const COLD_USER_I32 = 7;

const INITIAL_BUCKETS = 1024;

/**
 * A number read from a Float64Array, as a small integer when it is one. V8
 * hands a Float64Array's elements out as heap numbers, and one stored in a
 * field that has held only small integers turns that field of every object
 * of the class into a boxed double (16 bytes more each, measured: 14 per
 * connection); `x | 0` is a small integer.
 */
export function fromFloat(x: number): number {
  const i = x | 0;
  return i === x ? i : x;
}

export class ColdStore<R> {
  readonly i32: Int32Array[] = [];
  readonly f64: Float64Array[] = [];
  readonly refs: (R | undefined)[][] = [];
  /** Keys that are not IPv4 ones, by row. */
  private readonly wide = new Map<number, KeyFields>();
  private buckets = new Int32Array(INITIAL_BUCKETS);
  private mask = INITIAL_BUCKETS - 1;
  /** Rows in use. */
  size = 0;
  /** Rows made (in use or free). */
  private rows = 0;
  /** First free row, -1: none. */
  private free = -1;
  /** Oldest and newest row of the list, -1: empty. */
  head = -1;
  private tail = -1;

  constructor(
    /** Integers per row (the store's own included). */
    readonly ni: number,
    /** Doubles per row. */
    readonly nf: number,
    /** References per row. */
    readonly nr: number = 1,
  ) {}

  /** Bytes a row takes (its numbers and references, and its share of the buckets at most load). */
  get rowBytes(): number {
    return this.ni * 4 + this.nf * 8 + this.nr * 8 + Math.ceil(4 / 0.75);
  }

  /** A new row with key `k`, the newest of the list (its numbers and references are the caller's to write). */
  add(k: KeyFields): number {
    let row = this.free;
    if (row >= 0) {
      this.free = this.i32[row >> PAGE_BITS]![(row & PAGE_MASK) * this.ni + I_CHAIN]!;
    } else {
      row = this.rows++;
      if ((row & PAGE_MASK) === 0) {
        this.i32.push(new Int32Array(COLD_PAGE * this.ni));
        this.f64.push(new Float64Array(COLD_PAGE * this.nf));
        this.refs.push(new Array<R | undefined>(COLD_PAGE * this.nr).fill(undefined));
      }
    }
    const a = this.i32[row >> PAGE_BITS]!;
    const b = (row & PAGE_MASK) * this.ni;
    a[b + I_HASH] = k.hash;
    a[b + I_LO3] = k.lo3 | 0;
    a[b + I_HI3] = k.hi3 | 0;
    a[b + I_PORTS] = (k.loPort << 16) | k.hiPort;
    if (!k.narrow) this.wide.set(row, new KeyFields().copyFrom(k));
    // The hash chain.
    if (this.size >= (this.buckets.length >> 2) * 3) this.grow();
    const i = k.hash & this.mask;
    a[b + I_CHAIN] = this.buckets[i]! - 1;
    this.buckets[i] = row + 1;
    // The list: newest last.
    a[b + I_PREV] = this.tail;
    a[b + I_NEXT] = -1;
    if (this.tail >= 0) this.i32[this.tail >> PAGE_BITS]![(this.tail & PAGE_MASK) * this.ni + I_NEXT] = row;
    else this.head = row;
    this.tail = row;
    this.size++;
    return row;
  }

  /** The row whose key is `k`, -1: none. */
  find(k: KeyFields): number {
    const ni = this.ni;
    const lo3 = k.lo3 | 0;
    const hi3 = k.hi3 | 0;
    const ports = (k.loPort << 16) | k.hiPort;
    const hash = k.hash;
    for (let row = this.buckets[hash & this.mask]! - 1; row >= 0; ) {
      const a = this.i32[row >> PAGE_BITS]!;
      const b = (row & PAGE_MASK) * ni;
      if (a[b + I_HASH] === hash && a[b + I_LO3] === lo3 && a[b + I_HI3] === hi3 && a[b + I_PORTS] === ports) {
        const w = this.wide.get(row);
        if (w === undefined ? k.narrow : sameWide(w, k)) return row;
      }
      row = a[b + I_CHAIN]!;
    }
    return -1;
  }

  /** Reference `n` of a row. */
  ref(row: number, n = 0): R {
    return this.refs[row >> PAGE_BITS]![(row & PAGE_MASK) * this.nr + n]!;
  }

  setRef(row: number, n: number, v: R): void {
    this.refs[row >> PAGE_BITS]![(row & PAGE_MASK) * this.nr + n] = v;
  }

  /** Copies the key of a row into `k` (hash included). */
  keyOf(row: number, k: KeyFields): void {
    const w = this.wide.get(row);
    if (w !== undefined) {
      k.copyFrom(w);
      return;
    }
    const a = this.i32[row >> PAGE_BITS]!;
    const b = (row & PAGE_MASK) * this.ni;
    const ports = a[b + I_PORTS]!;
    k.version = 4;
    k.lo0 = k.lo1 = k.lo2 = 0;
    k.hi0 = k.hi1 = k.hi2 = 0;
    k.lo3 = a[b + I_LO3]! >>> 0;
    k.hi3 = a[b + I_HI3]! >>> 0;
    k.loPort = ports >>> 16;
    k.hiPort = ports & 0xffff;
    k.hash = a[b + I_HASH]!;
  }

  /** Removes a row (from the table and the list); it becomes free. */
  remove(row: number): void {
    const ni = this.ni;
    const a = this.i32[row >> PAGE_BITS]!;
    const b = (row & PAGE_MASK) * ni;
    // The hash chain.
    const i = a[b + I_HASH]! & this.mask;
    let prev = -1;
    for (let r = this.buckets[i]! - 1; r >= 0; ) {
      const ra = this.i32[r >> PAGE_BITS]!;
      const rb = (r & PAGE_MASK) * ni;
      const next = ra[rb + I_CHAIN]!;
      if (r === row) {
        if (prev < 0) this.buckets[i] = next + 1;
        else this.i32[prev >> PAGE_BITS]![(prev & PAGE_MASK) * ni + I_CHAIN] = next;
        break;
      }
      prev = r;
      r = next;
    }
    // The list.
    const p = a[b + I_PREV]!;
    const n = a[b + I_NEXT]!;
    if (p >= 0) this.i32[p >> PAGE_BITS]![(p & PAGE_MASK) * ni + I_NEXT] = n;
    else this.head = n;
    if (n >= 0) this.i32[n >> PAGE_BITS]![(n & PAGE_MASK) * ni + I_PREV] = p;
    else this.tail = p;
    if (this.wide.size > 0) this.wide.delete(row);
    const refs = this.refs[row >> PAGE_BITS]!;
    for (let n = 0, r = (row & PAGE_MASK) * this.nr; n < this.nr; n++) refs[r + n] = undefined;
    a[b + I_CHAIN] = this.free;
    this.free = row;
    this.size--;
  }

  /** Rows in use, in list order (oldest first). The store may not change during the iteration. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let row = this.head; row >= 0; row = this.i32[row >> PAGE_BITS]![(row & PAGE_MASK) * this.ni + I_NEXT]!) yield row;
  }

  private grow(): void {
    const n = this.buckets.length * 2;
    const buckets = new Int32Array(n);
    const mask = n - 1;
    const ni = this.ni;
    for (let i = 0; i < this.buckets.length; i++) {
      for (let row = this.buckets[i]! - 1; row >= 0; ) {
        const a = this.i32[row >> PAGE_BITS]!;
        const b = (row & PAGE_MASK) * ni;
        const next = a[b + I_CHAIN]!;
        const j = a[b + I_HASH]! & mask;
        a[b + I_CHAIN] = buckets[j]! - 1;
        buckets[j] = row + 1;
        row = next;
      }
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}

function sameWide(w: KeyFields, k: KeyFields): boolean {
  return (
    w.version === k.version && w.lo0 === k.lo0 && w.lo1 === k.lo1 && w.lo2 === k.lo2 && w.lo3 === k.lo3 && w.loPort === k.loPort &&
    w.hi0 === k.hi0 && w.hi1 === k.hi1 && w.hi2 === k.hi2 && w.hi3 === k.hi3 && w.hiPort === k.hiPort
  );
}
