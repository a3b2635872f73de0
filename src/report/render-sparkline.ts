/**
 * Latency over time in a few lines of text, for the text report: one
 * sparkline per operation (the busiest), each character the highest p99 of
 * the intervals it covers, on a log scale between the operation's lowest
 * and highest p99; a blank where no reply came (an operation answered in
 * one character's intervals only is left out). Drawn only where it fits
 * (at least MIN_CELLS characters of line) and where there is time to show
 * (more than one interval). Only formats the report's timeline.
 */
import type { TimelineSection } from './model.js';
import { formatMs, seriesLabels } from './render-timeline.js';
import { displayWidth, pad, shortenEnd, wrapText } from './terminal.js';

const LEVELS = '▁▂▃▄▅▆▇█';
/** Operations drawn at most. */
export const SPARKLINES = 6;
/** Narrower than this, a sparkline tells nothing: none is drawn. */
const MIN_CELLS = 16;
const LABEL = 14;

/** The sparkline lines (heading first), or none when they do not fit or there is no time to show. */
export function latencySparklines(t: TimelineSection, width: number): string[] {
  if (t.start === null || t.count < 2) return [];
  const series = t.operations.filter((s) => t.intervals.some((iv) => iv.ops.some((o) => o.op === s.key && o.latency.p99 !== null))).slice(0, SPARKLINES);
  if (series.length === 0) return [];
  const labels = seriesLabels(t.operations);
  const start = new Date(Math.round(t.start * 1000)).toISOString();
  const end = new Date(Math.round((t.start + t.count * t.intervalSeconds) * 1000)).toISOString();
  const clock = (iso: string): string => iso.slice(11, t.intervalSeconds < 1 ? 23 : 19);
  const heading = wrapText(`Latency over time (p99 per interval, log scale), ${clock(start)} to ${clock(end)} UTC`, width);
  const rangeW = 17; // " 0.123–12345 ms"
  // Room for the usual range; narrower when a range is wider (a latency of days), down to MIN_CELLS.
  let cells = Math.min(t.count, width - 2 - LABEL - 1 - rangeW);
  for (;;) {
    if (cells < MIN_CELLS) return [];
    const lines = series.flatMap((s) => sparkline(t, s.key, labels.get(s.key)!, cells));
    const over = Math.max(0, ...lines.map((l) => displayWidth(l) - width));
    if (over === 0) return lines.length > 0 ? [...heading, ...lines] : [];
    cells -= over;
  }
}

/** One operation's line over `cells` characters, or none when it shows no change over time. */
function sparkline(t: TimelineSection, key: string, label: string, cells: number): string[] {
  // The highest p99 among the intervals each character covers.
  const col = new Array<number | null>(cells).fill(null);
  for (const iv of t.intervals) {
    const p = iv.ops.find((o) => o.op === key)?.latency.p99 ?? null;
    if (p === null) continue;
    const k = Math.min(cells - 1, Math.floor((iv.index * cells) / t.count));
    col[k] = Math.max(col[k] ?? 0, p);
  }
  const values = col.filter((x): x is number => x !== null);
  // A single mark shows no change over time.
  if (values.length < 2) return [];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const level = (x: number): string => {
    if (hi <= lo || x <= 0 || lo <= 0) return LEVELS[hi > 0 && x >= hi ? 7 : 0]!;
    return LEVELS[Math.round(((Math.log(x) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * 7)]!;
  };
  const spark = col.map((x) => (x === null ? ' ' : level(x))).join('');
  const range = lo === hi ? `${formatMs(lo)} ms` : `${formatMs(lo)}–${formatMs(hi)} ms`;
  return [`  ${pad(shortenEnd(label, LABEL), LABEL)} ${spark} ${range}`];
}
