/**
 * A mergeable latency histogram with logarithmic buckets (in the manner of
 * DDSketch): any quantile it reports is within RELATIVE_ERROR of a latency
 * that was recorded, whatever the distribution, and two histograms merge by
 * adding their buckets — so reports of several captures combine exactly as
 * if the captures had been analysed together. Memory is a fixed typed array
 * per histogram, never the latencies themselves.
 */

/** The largest relative error of a reported quantile. */
export const RELATIVE_ERROR = 0.01;
/** Bucket growth factor: a bucket (γ^(i-1), γ^i] reported at its midpoint errs by at most RELATIVE_ERROR. */
const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);
/** The smallest latency told apart from zero: 1 ns. Smaller positive values land in the first bucket. */
const MIN_VALUE = 1e-9;
/** Latencies above MAX_VALUE seconds (about 31 years) land in the last bucket. */
const MAX_VALUE = 1e9;
const INDEX_OFFSET = Math.ceil(Math.log(MIN_VALUE) / LN_GAMMA);
const BUCKETS = Math.ceil(Math.log(MAX_VALUE) / LN_GAMMA) - INDEX_OFFSET + 1;

/** The serialised form carried in JSON reports: sparse buckets, exact count, sum, min and max. */
export interface HistogramData {
  /** Relative error the buckets were made for (so a reader can refuse a mismatched merge). */
  relativeError: number;
  count: number;
  /** Latencies of exactly 0 (reply in the same timestamp as the call). */
  zeros: number;
  sum: number;
  min: number | null;
  max: number | null;
  /** [bucket index, count] for the non-empty buckets, ascending. */
  buckets: [number, number][];
}

/** The rank of the q-quantile among `count` sorted values (nearest-rank, 0-based). */
function nearestRank(q: number, count: number): number {
  return Math.max(0, Math.min(count - 1, Math.ceil(q * count) - 1));
}

/** The last value bucketOf placed, and its bucket: a call's latency goes into several histograms in a row. */
let lastValue = NaN;
let lastBucket = 0;

function bucketOf(value: number): number {
  if (value === lastValue) return lastBucket;
  const i = Math.ceil(Math.log(value) / LN_GAMMA) - INDEX_OFFSET;
  lastValue = value;
  lastBucket = i < 0 ? 0 : i >= BUCKETS ? BUCKETS - 1 : i;
  return lastBucket;
}

/** The value a bucket stands for: the point whose relative distance to both bounds is RELATIVE_ERROR. */
export function bucketValue(index: number): number {
  return (2 * Math.pow(GAMMA, index + INDEX_OFFSET)) / (GAMMA + 1);
}

/**
 * Gives a histogram's JSON form its `buckets` list, [index, count] pairs,
 * made each time it is read from a packed copy of the non-empty buckets
 * (6 to 10 bytes each, where a list of pairs takes about 70): a report of
 * a wide capture holds 6,000 table histograms of up to 400 buckets and
 * 5,000 timeline cells, and writing it reads each list once
 * (docs/memory.md, "Wide captures"). An own enumerable property, so that
 * JSON.stringify, spreading and comparing see it as a list; assigning it
 * makes it a plain list.
 */
function packedBuckets<T extends object>(data: T, idx: Uint16Array, cnt: Uint32Array | Float64Array): T & { buckets: [number, number][] } {
  // The packed copy in properties that are not enumerable, the list's getter shared: objects of one shape, not dictionaries.
  Object.defineProperty(data, PACKED_INDEX, { value: idx });
  Object.defineProperty(data, PACKED_COUNT, { value: cnt });
  return Object.defineProperty(data, 'buckets', BUCKETS_PROPERTY) as T & { buckets: [number, number][] };
}

const PACKED_INDEX = Symbol('bucket indices');
const PACKED_COUNT = Symbol('bucket counts');

interface Packed {
  [PACKED_INDEX]: Uint16Array;
  [PACKED_COUNT]: Uint32Array | Float64Array;
}

const BUCKETS_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: Packed): [number, number][] {
    const idx = this[PACKED_INDEX];
    const cnt = this[PACKED_COUNT];
    const out: [number, number][] = new Array(idx.length);
    for (let j = 0; j < idx.length; j++) out[j] = [idx[j]!, cnt[j]!];
    return out;
  },
  set(this: Packed, v: [number, number][]) {
    Object.defineProperty(this, 'buckets', { value: v, writable: true, enumerable: true, configurable: true });
  },
};

const NS_PER_SECOND = 1e9;

/** What both histograms keep besides their buckets: count, zeros, sum, min and max. */
abstract class HistogramBase {
  count = 0;
  zeros = 0;
  /**
   * The sum in whole nanoseconds (latencies are differences of capture
   * times, to the nanosecond at most): exact, so the sum is the same in
   * whatever order cells are recorded and merged (a timeline coarsened
   * earlier or later, a merged report) where a sum of seconds differed in
   * its last bit.
   */
  private sumNs = 0;
  min = Infinity;
  max = -Infinity;

  /** Counts one latency in the bucket of this base index. */
  protected abstract addToBucket(index: number): void;

  /**
   * Records a latency in seconds. A negative one (a reply stamped before its
   * call: the capture's clock stepped back) is no measurement and is left out;
   * the capture-quality finding on time going backwards counts them.
   */
  record(seconds: number): void {
    if (seconds < 0) return;
    this.count++;
    if (!(seconds > 0)) {
      this.zeros++;
      if (this.min > 0) this.min = 0;
      if (this.max < 0) this.max = 0;
      return;
    }
    this.sumNs += Math.round(seconds * NS_PER_SECOND);
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
    this.addToBucket(bucketOf(seconds));
  }

  /** The latencies' sum, in seconds. */
  get sum(): number {
    return this.sumNs / NS_PER_SECOND;
  }

  /** Sets the sum from a report's (seconds). */
  protected setSum(seconds: number): void {
    this.sumNs = Math.round(seconds * NS_PER_SECOND);
  }

  /** Adds the other's count, zeros, sum, min and max (the buckets are each class's own). */
  protected mergeTotals(other: HistogramBase): void {
    this.count += other.count;
    this.zeros += other.zeros;
    this.sumNs += other.sumNs;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}

/** A histogram's bucket counts: bytes while every count fits, then 16 and 32 bits, then doubles. */
type Counts = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** The largest count a bucket of these counts holds. */
function largestCount(c: Counts): number {
  return c instanceof Uint8Array ? 0xff : c instanceof Uint16Array ? 0xffff : c instanceof Uint32Array ? 0xffffffff : Infinity;
}

/** Counts of `n` buckets of the same kind as `c`. */
function sameKind(c: Counts, n: number): Counts {
  return c instanceof Uint8Array ? new Uint8Array(n) : c instanceof Uint16Array ? new Uint16Array(n) : c instanceof Uint32Array ? new Uint32Array(n) : new Float64Array(n);
}

export class LatencyHistogram extends HistogramBase {
  /**
   * Counts of buckets [lo, lo + counts.length): only the range the recorded
   * latencies span is stored (grown by doubling), so a histogram costs a few
   * hundred bytes to a few KB, not the 16 KiB of all BUCKETS, and none until
   * a positive latency is recorded (tables keep one per client, server and
   * file). Counts are bytes while every bucket holds fewer than 256 (the
   * client, server and file tables hold 6,000 histograms on a wide
   * capture, most of their buckets counting a few calls: a quarter of the
   * memory of 32-bit counts, docs/memory.md); a bucket that would pass
   * what its array holds turns the array into 16-bit, then 32-bit counts,
   * and one past 2^32 − 1, or a count that is not a whole number (a merged
   * report's), into doubles.
   */
  private counts: Counts | null = null;
  /** The largest count the counts' array holds. */
  private most = 0;
  private lo = 0;

  protected addToBucket(index: number): void {
    this.add(index, 1);
  }

  /** Bytes this histogram holds (for memory accounting). */
  get bytes(): number {
    return 96 + (this.counts === null ? 0 : this.counts.byteLength + 96);
  }

  private add(i: number, n: number): void {
    let c = this.counts;
    if (c === null || i < this.lo || i >= this.lo + c.length) c = this.cover(i);
    const k = i - this.lo;
    const v = c[k]! + n;
    if (v > this.most || v !== Math.floor(v)) c = this.widen(v);
    c[k] = v;
  }

  /** The counts in an array that holds `v`, from now on. */
  private widen(v: number): Counts {
    const c = this.counts!;
    if (c instanceof Float64Array) return c;
    const next =
      v !== Math.floor(v) || v > 0xffffffff ? Float64Array.from(c) : v > 0xffff ? Uint32Array.from(c) : Uint16Array.from(c);
    this.most = largestCount(next);
    return (this.counts = next);
  }

  /** Makes the stored range include bucket i. */
  private cover(i: number): Counts {
    const old = this.counts;
    if (old === null) {
      const lo = Math.max(0, Math.min(i - 16, BUCKETS - 64));
      this.lo = lo;
      this.most = 0xff;
      return (this.counts = new Uint8Array(64));
    }
    const oldHi = this.lo + old.length;
    let lo = Math.min(this.lo, i);
    let hi = Math.max(oldHi, i + 1);
    // What is needed and an eighth more (at least 8 buckets): a histogram's
    // range widens only when a latency falls outside all seen so far, which
    // for latencies of one distribution happens about ln(count) times;
    // doubling instead left the 6,000 table histograms of a wide capture
    // a third empty on average (13 MB of counts at 300 MB, docs/memory.md).
    const want = Math.min(BUCKETS, hi - lo + Math.max(8, (hi - lo) >> 3));
    if (i < this.lo) lo = Math.max(0, hi - want);
    else hi = Math.min(BUCKETS, lo + want);
    if (hi - lo < want) {
      lo = Math.max(0, Math.min(lo, BUCKETS - want));
      hi = Math.min(BUCKETS, lo + want);
    }
    const next = sameKind(old, hi - lo);
    next.set(old, this.lo - lo);
    this.lo = lo;
    return (this.counts = next);
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1) in seconds, within RELATIVE_ERROR of a
   * recorded value, clamped to the exact min and max; null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = nearestRank(q, this.count);
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    const c = this.counts;
    if (c !== null) {
      for (let k = 0; k < c.length; k++) {
        seen += c[k]!;
        if (seen > rank) return Math.min(this.max, Math.max(this.min, bucketValue(k + this.lo)));
      }
    }
    return this.max;
  }

  mean(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  /** Adds another histogram's latencies to this one. */
  merge(other: LatencyHistogram): void {
    const oc = other.counts;
    if (oc !== null) {
      for (let k = 0; k < oc.length; k++) if (oc[k]! > 0) this.add(k + other.lo, oc[k]!);
    }
    this.mergeTotals(other);
  }

  /** The JSON form (its `buckets` list made when read: packedBuckets). */
  toJSON(): HistogramData {
    const c = this.counts;
    let n = 0;
    if (c !== null) for (let k = 0; k < c.length; k++) if (c[k]! > 0) n++;
    const idx = new Uint16Array(n);
    const cnt = c instanceof Float64Array ? new Float64Array(n) : new Uint32Array(n);
    if (c !== null) {
      for (let k = 0, j = 0; k < c.length; k++) {
        if (c[k]! > 0) {
          idx[j] = k + this.lo;
          cnt[j++] = c[k]!;
        }
      }
    }
    return packedBuckets(
      {
        relativeError: RELATIVE_ERROR,
        count: this.count,
        zeros: this.zeros,
        sum: this.sum,
        min: this.count > 0 ? this.min : null,
        max: this.count > 0 ? this.max : null,
      },
      idx,
      cnt,
    );
  }

  /**
   * Rebuilds a histogram from its JSON form; throws (a usage error for the
   * caller to report) when the data was made with other buckets or is damaged.
   */
  static fromJSON(data: HistogramData): LatencyHistogram {
    if (data.relativeError !== RELATIVE_ERROR) {
      throw new Error(`histogram made for a relative error of ${data.relativeError}, expected ${RELATIVE_ERROR}`);
    }
    const h = new LatencyHistogram();
    let inBuckets = 0;
    for (const [i, c] of data.buckets) {
      if (!Number.isInteger(i) || i < 0 || i >= BUCKETS || !(c >= 0)) throw new Error(`bad histogram bucket [${i}, ${c}]`);
      if (c > 0) h.add(i, c);
      inBuckets += c;
    }
    if (inBuckets + data.zeros !== data.count) throw new Error(`histogram counts do not add up: ${inBuckets} + ${data.zeros} ≠ ${data.count}`);
    h.count = data.count;
    h.zeros = data.zeros;
    h.setSum(data.sum);
    h.min = data.min ?? Infinity;
    h.max = data.max ?? -Infinity;
    return h;
  }
}

/** A CompactHistogram bucket's index is its packed number over PACK, its count the rest. */
const PACK = 2 ** 40;
const EMPTY: number[] = [];
const indexOf = (packed: number): number => Math.floor(packed / PACK);
const countOf = (packed: number): number => packed % PACK;

/** Buckets a CompactHistogram keeps at most before it halves its resolution. */
export const COMPACT_MAX_BUCKETS = 32;

/** The serialised CompactHistogram: HistogramData whose buckets are at `level` (each spans 2^level base buckets). */
export interface CompactHistogramData extends HistogramData {
  /** Resolution level: 0 is LatencyHistogram's buckets; each level doubles a bucket's width (and about doubles relativeError). */
  level: number;
}

/** Relative error of a quantile at a collapse level: (γ_L − 1) / (γ_L + 1) with γ_L = γ^(2^L). */
export function compactRelativeError(level: number): number {
  const g = Math.pow(GAMMA, 2 ** level);
  return Number(((g - 1) / (g + 1)).toPrecision(12));
}

/**
 * A small histogram for the many cells of a time series (an operation in
 * one interval): the same log buckets as LatencyHistogram, kept sparse, and
 * at most COMPACT_MAX_BUCKETS of them. When a new value needs one more, the
 * resolution halves (neighbouring buckets pairwise joined, as UDDSketch
 * does), so memory is bounded whatever the values while quantiles keep a
 * known relative error: 1% at level 0, about 2% at level 1, 4% at level 2…
 * 32 buckets hold latencies within a factor of 1.8 of each other at level 0
 * (1%), of 12 at level 2 (4%), of 140 at level 3 (8%), of 20,000 at level
 * 4 (16%).
 * Two merge by joining to the coarser level and adding.
 */
export class CompactHistogram extends HistogramBase {
  /**
   * The buckets, ascending: each one number, its index at `level` times
   * 2^40 plus its count (indices are below 2^12, so both fit a double
   * exactly for counts below 2^40), in an array of exactly as many
   * elements. A time series holds tens of thousands of these (an operation
   * in one interval each): index and count as two elements, in an array
   * grown by push (which reserves half as much again, and 16), cost about
   * 550 bytes a cell on the 1 GB replay (docs/memory.md, session 38).
   */
  private b: number[] = EMPTY;
  level = 0;

  /** Buckets held. */
  private get size(): number {
    return this.b.length;
  }

  protected addToBucket(index: number): void {
    this.add(index >> this.level, 1);
  }

  /** Adds `c` to bucket `j` (at the current level), collapsing when the bucket is new and there is no room. */
  private add(j: number, c: number): void {
    for (;;) {
      const b = this.b;
      const key = j * PACK;
      let lo = 0;
      let hi = b.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (b[mid]! < key) lo = mid + 1;
        else hi = mid;
      }
      if (lo < b.length && b[lo]! < key + PACK) {
        b[lo]! += c;
        return;
      }
      if (b.length < COMPACT_MAX_BUCKETS) {
        // A new array of exactly one more (new buckets are few next to the values counted in them).
        const n = b.length;
        const nb: number[] = new Array<number>(n + 1);
        for (let k = 0; k < lo; k++) nb[k] = b[k]!;
        nb[lo] = key + c;
        for (let k = lo; k < n; k++) nb[k + 1] = b[k]!;
        this.b = nb;
        return;
      }
      this.collapse();
      j >>= 1;
    }
  }

  /** Halves the resolution: bucket j joins j >> 1. */
  private collapse(): void {
    const from = this.b;
    let n = 0;
    for (let i = 0; i < from.length; i++) if (i === 0 || indexOf(from[i]!) >> 1 !== indexOf(from[i - 1]!) >> 1) n++;
    const b: number[] = new Array<number>(n);
    let k = -1;
    for (let i = 0; i < from.length; i++) {
      const j = indexOf(from[i]!) >> 1;
      if (k >= 0 && indexOf(b[k]!) === j) b[k]! += countOf(from[i]!);
      else b[++k] = j * PACK + countOf(from[i]!);
    }
    this.b = b;
    this.level++;
  }

  /** The relative error of the quantiles at the current level. */
  relativeError(): number {
    return compactRelativeError(this.level);
  }

  /** The q-quantile in seconds (nearest rank), within relativeError() of a recorded value, clamped to min and max; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = nearestRank(q, this.count);
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    const width = 2 ** this.level;
    const gL = Math.pow(GAMMA, width);
    const b = this.b;
    for (let i = 0; i < b.length; i++) {
      seen += countOf(b[i]!);
      if (seen > rank) {
        // Bucket j spans base buckets [j·w, (j+1)·w − 1]: the point at equal relative distance from its bounds.
        const top = (indexOf(b[i]!) + 1) * width - 1;
        const v = (2 * Math.pow(GAMMA, top + INDEX_OFFSET)) / (1 + gL);
        return Math.min(this.max, Math.max(this.min, v));
      }
    }
    return this.max;
  }

  merge(other: CompactHistogram): void {
    while (this.level < other.level) this.collapse();
    const ob = other.b;
    for (let i = 0; i < ob.length; i++) {
      // add() may collapse this one further: the index at the current level each time.
      this.add(indexOf(ob[i]!) >> (this.level - other.level), countOf(ob[i]!));
    }
    this.mergeTotals(other);
  }

  /** The JSON form (its `buckets` list made when read: packedBuckets). */
  toJSON(): CompactHistogramData {
    const n = this.size;
    const idx = new Uint16Array(n);
    const cnt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      idx[i] = indexOf(this.b[i]!);
      cnt[i] = countOf(this.b[i]!);
    }
    return packedBuckets(
      {
        relativeError: this.relativeError(),
        level: this.level,
        count: this.count,
        zeros: this.zeros,
        sum: this.sum,
        min: this.count > 0 ? this.min : null,
        max: this.count > 0 ? this.max : null,
      },
      idx,
      cnt,
    );
  }

  /** Rebuilds one from its JSON form; throws naming what is wrong. */
  static fromJSON(data: CompactHistogramData): CompactHistogram {
    if (typeof data !== 'object' || data === null) throw new Error('histogram missing');
    const h = new CompactHistogram();
    if (!Number.isInteger(data.level) || data.level < 0 || data.level > 12) throw new Error(`bad histogram level ${JSON.stringify(data.level)}`);
    if (data.relativeError !== compactRelativeError(data.level)) {
      throw new Error(`histogram of level ${data.level} with a relative error of ${data.relativeError}, expected ${compactRelativeError(data.level)}`);
    }
    if (!Array.isArray(data.buckets) || data.buckets.length > COMPACT_MAX_BUCKETS) throw new Error('bad histogram buckets');
    h.level = data.level;
    let inBuckets = 0;
    let prev = -1;
    const packed: number[] = new Array<number>(data.buckets.length);
    h.b = packed;
    let k = 0;
    for (const b of data.buckets) {
      const [j, c] = Array.isArray(b) ? b : [NaN, NaN];
      if (!Number.isInteger(j) || j <= prev || j >= BUCKETS || !Number.isInteger(c) || !(c! > 0) || c! >= PACK) throw new Error(`bad histogram bucket [${j}, ${c}]`);
      packed[k++] = j! * PACK + c!;
      inBuckets += c!;
      prev = j!;
    }
    if (!(data.zeros >= 0) || inBuckets + data.zeros !== data.count) throw new Error(`histogram counts do not add up: ${inBuckets} + ${data.zeros} ≠ ${data.count}`);
    h.count = data.count;
    h.zeros = data.zeros;
    h.setSum(typeof data.sum === 'number' ? data.sum : 0);
    h.min = data.min ?? Infinity;
    h.max = data.max ?? -Infinity;
    return h;
  }
}
