/**
 * The intervals of the time series: their lengths, how a time maps to an
 * interval, how a length is read from the command line, and the ladder the
 * automatic choice climbs.
 *
 * Lengths are whole nanoseconds, at least 1 ms, and either divide one
 * second (1, 2, 10, 100, 250, 500 ms…) or are a whole number of seconds.
 * Intervals are aligned on multiples of their length since the epoch, so
 * the intervals of two captures line up, and an interval k times as long
 * is exactly k intervals joined: re-bucketing and merging never split one.
 */

export const NS_PER_SECOND = 1_000_000_000;
const MS = 1_000_000;
/** The shortest interval: 1 ms. */
export const MIN_INTERVAL_NS = MS;

/**
 * The lengths the automatic choice climbs, each a multiple of the one
 * before (so climbing re-buckets exactly): 1, 2, 10, 20, 100, 200 ms, 1, 2,
 * 10, 20 s, 1, 2, 10, 20 min, 1, 2, 6, 12 h, 1 day; then doubling.
 */
export const LADDER_NS: readonly number[] = [
  1, 2, 10, 20, 100, 200, 1000, 2000, 10_000, 20_000, 60_000, 120_000, 600_000, 1_200_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000,
  86_400_000,
].map((ms) => ms * MS);

/** Whether `ns` is a usable interval length (see the module comment). */
export function isValidInterval(ns: number): boolean {
  if (!Number.isSafeInteger(ns) || ns < MIN_INTERVAL_NS) return false;
  return ns <= NS_PER_SECOND ? NS_PER_SECOND % ns === 0 : ns % NS_PER_SECOND === 0;
}

/** The index (since the epoch) of the interval holding a time. */
export function intervalIndex(intervalNs: number, tsSec: number, tsNsec: number): number {
  if (intervalNs <= NS_PER_SECOND) {
    const perSecond = NS_PER_SECOND / intervalNs;
    return tsSec * perSecond + Math.floor(tsNsec / intervalNs);
  }
  return Math.floor(tsSec / (intervalNs / NS_PER_SECOND));
}

/**
 * The next longer length that is a multiple of `ns`: the first such step of
 * the ladder, else twice as long.
 */
export function nextInterval(ns: number): number {
  for (const l of LADDER_NS) if (l > ns && l % ns === 0) return l;
  return ns * 2;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The shortest length both are whole multiples of. */
export function commonInterval(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

/** Thrown for a length that cannot be read or used. */
export class IntervalSyntaxError extends Error {}

/**
 * A length as `<number><unit>`, unit ms, s, m (minutes) or h, or plain
 * seconds: `100ms`, `1s`, `30s`, `1m`, `1h`, `0.5`. Returns nanoseconds;
 * throws IntervalSyntaxError naming what is wrong.
 */
export function parseInterval(s: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min|h)?\s*$/i.exec(s);
  if (!m) throw new IntervalSyntaxError(`not an interval: ${s} (use 100ms, 1s, 1m, 1h)`);
  const unit = (m[2] ?? 's').toLowerCase();
  const scale = unit === 'ms' ? MS : unit === 's' ? NS_PER_SECOND : unit === 'h' ? 3600 * NS_PER_SECOND : 60 * NS_PER_SECOND;
  const ns = Math.round(Number(m[1]) * scale);
  if (ns < MIN_INTERVAL_NS) throw new IntervalSyntaxError(`interval too short: ${s} (at least 1ms)`);
  if (!isValidInterval(ns)) {
    throw new IntervalSyntaxError(`interval ${s} neither divides a second nor is a whole number of seconds (e.g. 100ms, 250ms, 1s, 90s)`);
  }
  return ns;
}

/** A length for people: `100ms`, `1s`, `90s`, `2m`, `6h`, `1d`. */
export function formatInterval(ns: number): string {
  if (ns < NS_PER_SECOND) return `${ns / MS}ms`;
  const s = ns / NS_PER_SECOND;
  if (s % 86_400 === 0) return `${s / 86_400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
