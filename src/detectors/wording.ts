/**
 * Words shared by the detectors' titles and explanations, so every finding
 * reads the same way: counts with their nouns, durations and sizes with
 * sensible precision, lists that end with "and", sentences that end with a
 * period. Findings are prose for people: the numbers also go in metrics.
 */
import { groupDigits } from '../number-text.js';

/** "1 call", "3 calls" (or the plural given). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${groupDigits(n)} ${n === 1 ? word : pluralWord}`;
}

/** "once", "twice", "6 times". */
export function timesText(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : `${groupDigits(n)} times`;
}

/** Trailing zeros of a decimal fraction dropped: "1.50" → "1.5", "2.00" → "2", "500" stays. */
function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Seconds for prose: 3 significant digits below 10 s, one decimal below 100 s, whole seconds above. */
export function secondsText(x: number): string {
  const a = Math.abs(x);
  if (a === 0) return '0 s';
  if (a < 0.001) return `${(x * 1e6).toFixed(0)} µs`;
  if (a < 1) return `${trimZeros((x * 1000).toPrecision(3))} ms`;
  if (a < 10) return `${trimZeros(x.toPrecision(3))} s`;
  if (a < 100) return `${x.toFixed(1).replace(/\.0$/, '')} s`;
  return `${x.toFixed(0)} s`;
}

/** Bytes for prose: exact below 10 kB, else KiB / MiB / GiB with one decimal. */
export function bytesText(n: number): string {
  if (n < 10_240) return plural(n, 'byte');
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A percentage for prose: "0.4%", "12%". */
export function percentText(fraction: number): string {
  const p = fraction * 100;
  return `${p < 10 ? trimZeros(p.toPrecision(2)) : p.toFixed(0)}%`;
}

/** "a", "a and b", "a, b and c"; beyond `max` items: "a, b, c and 4 more". */
export function listText(items: readonly string[], max = 4): string {
  if (items.length === 0) return '';
  if (items.length === 1) return items[0]!;
  if (items.length <= max) return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return `${items.slice(0, max - 1).join(', ')} and ${items.length - max + 1} more`;
}

/** A list of intervals: "0.2, 0.4, 0.8 s" (the first and last few when long). */
export function intervalsText(intervals: readonly number[]): string {
  const f = (x: number): string => trimZeros(x < 10 ? x.toPrecision(3) : x.toFixed(1));
  const shown = intervals.length <= 8 ? intervals.map(f) : [...intervals.slice(0, 4).map(f), '…', ...intervals.slice(-3).map(f)];
  return `${shown.join(', ')} s`;
}

/** An xid as Wireshark shows it. */
export function xidText(xid: number): string {
  return `0x${xid.toString(16).padStart(8, '0')}`;
}

/** Upper-cases the first letter. */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Joins sentences: each capitalised and ended with a period (unless it ends with one of .!?). */
export function sentences(...parts: (string | false | undefined | '')[]): string {
  return parts
    .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    .map((p) => {
      const t = capitalize(p.trim());
      return /[.!?]$/.test(t) ? t : `${t}.`;
    })
    .join(' ');
}

/**
 * Metrics without empty values: empty strings and lists are left out, so
 * nothing renders as `restartSigns: `.
 */
export function cleanMetrics(m: Record<string, number | string | number[] | string[] | undefined>): Record<string, number | string | number[] | string[]> {
  const out: Record<string, number | string | number[] | string[]> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * How occurrences spread in time, from the intervals between them: "about
 * every 3.6 s" only when they are regular (each within half to twice the
 * median); otherwise grouped into bursts split at gaps longer than 3× the
 * median interval (and at least 10 s): "in 2 bursts, 110 s apart". A single
 * interval is "30 s apart".
 */
export function cadenceText(intervals: readonly number[]): { text: string; regular: boolean; bursts: number; periodSeconds: number | undefined } {
  if (intervals.length === 0) return { text: '', regular: false, bursts: 1, periodSeconds: undefined };
  if (intervals.length === 1) return { text: `${secondsText(intervals[0]!)} apart`, regular: false, bursts: 1, periodSeconds: undefined };
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  const regular = median > 0 && intervals.every((x) => x >= median / 2 && x <= median * 2);
  if (regular) return { text: `about every ${secondsText(median)}`, regular, bursts: 1, periodSeconds: median };
  const split = Math.max(3 * median, 10);
  const gaps = intervals.filter((x) => x > split);
  if (gaps.length === 0) return { text: `at irregular intervals (${intervalsText(intervals)})`, regular, bursts: 1, periodSeconds: undefined };
  return { text: burstsText(gaps), regular, bursts: gaps.length + 1, periodSeconds: undefined };
}

/**
 * Bursts told by the quiet gaps between them (end of one to start of the
 * next): "in 2 bursts, 11 s apart", "in 4 bursts about 30 s apart" when
 * the gaps are alike (within half to twice their median), else "in 5
 * bursts, 12 s to 95 s apart".
 */
export function burstsText(gaps: readonly number[]): string {
  const n = gaps.length + 1;
  if (gaps.length === 0) return '';
  if (gaps.length === 1) return `in 2 bursts, ${secondsText(gaps[0]!)} apart`;
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  if (median > 0 && gaps.every((x) => x >= median / 2 && x <= median * 2)) return `in ${n} bursts about ${secondsText(median)} apart`;
  return `in ${n} bursts, ${secondsText(sorted[0]!)} to ${secondsText(sorted[sorted.length - 1]!)} apart`;
}
