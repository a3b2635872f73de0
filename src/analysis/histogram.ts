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

function bucketOf(value: number): number {
  const i = Math.ceil(Math.log(value) / LN_GAMMA) - INDEX_OFFSET;
  return i < 0 ? 0 : i >= BUCKETS ? BUCKETS - 1 : i;
}

/** The value a bucket stands for: the point whose relative distance to both bounds is RELATIVE_ERROR. */
function bucketValue(index: number): number {
  return (2 * Math.pow(GAMMA, index + INDEX_OFFSET)) / (GAMMA + 1);
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  zeros = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  /** Records a latency in seconds (negative values, from clocks going backwards, count as 0). */
  record(seconds: number): void {
    this.count++;
    if (!(seconds > 0)) {
      this.zeros++;
      if (this.min > 0) this.min = 0;
      if (this.max < 0) this.max = 0;
      return;
    }
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
    this.counts[bucketOf(seconds)]!++;
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1) in seconds, within RELATIVE_ERROR of a
   * recorded value, clamped to the exact min and max; null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    // The rank of the wanted value among the sorted latencies (nearest-rank, 0-based).
    const rank = Math.max(0, Math.min(this.count - 1, Math.ceil(q * this.count) - 1));
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen > rank) return Math.min(this.max, Math.max(this.min, bucketValue(i)));
    }
    return this.max;
  }

  mean(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  /** Adds another histogram's latencies to this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.zeros += other.zeros;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return {
      relativeError: RELATIVE_ERROR,
      count: this.count,
      zeros: this.zeros,
      sum: this.sum,
      min: this.count > 0 ? this.min : null,
      max: this.count > 0 ? this.max : null,
      buckets,
    };
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
      h.counts[i] = c;
      inBuckets += c;
    }
    if (inBuckets + data.zeros !== data.count) throw new Error(`histogram counts do not add up: ${inBuckets} + ${data.zeros} ≠ ${data.count}`);
    h.count = data.count;
    h.zeros = data.zeros;
    h.sum = data.sum;
    h.min = data.min ?? Infinity;
    h.max = data.max ?? -Infinity;
    return h;
  }
}
