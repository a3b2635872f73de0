/**
 * The time series for a terminal and for plotting elsewhere (`nfsight
 * timeline`): a table with one line per interval (ops/s, MB/s, errors, TCP
 * retransmissions, and p50/p99 of the operations with most calls, as many
 * as the width allows), and CSV with one row per interval and per operation
 * in it. Rendering only formats what the report's timeline holds.
 */
import { groupDigits } from '../number-text.js';
import { isOther, otherLabel } from '../analysis/operation-cap.js';
import { formatInterval } from '../analysis/timeline-interval.js';
import type { TimelineInterval, TimelineSection, TimelineSeries } from './model.js';
import { DEFAULT_WIDTH, MIN_WIDTH, pad as padTo, shortenEnd, wrapText } from './terminal.js';

export interface TimelineTextOptions {
  /** Terminal width: nothing printed is wider (default DEFAULT_WIDTH). */
  width?: number;
  /** The file names for the heading. */
  files?: readonly string[];
}

/** Runs of at least this many intervals without a single frame print as one line. */
const QUIET_RUN = 3;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Latency in ms in at most 6 characters. */
export function formatMs(x: number | null): string {
  if (x === null) return '-';
  if (x < 10) return x.toFixed(3);
  if (x < 100) return x.toFixed(2);
  if (x < 1000) return x.toFixed(1);
  return x.toFixed(0);
}

function formatRate(x: number): string {
  if (x === 0) return '0';
  if (x < 10) return x.toFixed(2);
  if (x < 1000) return x.toFixed(1);
  return x.toFixed(0);
}

/** Milliseconds since the epoch of an interval start (seconds, possibly off by float noise). */
const msOf = (seconds: number): number => Math.round(seconds * 1000);

/** The interval's start as the table shows it: the time of day, with ms under 1 s intervals, and the date when the capture spans days. */
function timeLabel(seconds: number, intervalSeconds: number, withDate: boolean): string {
  const iso = new Date(msOf(seconds)).toISOString();
  const time = intervalSeconds < 1 ? iso.slice(11, 23) : iso.slice(11, 19);
  return withDate ? `${iso.slice(5, 10)} ${time}` : time;
}

/** Short operation names where unique among the series (`READ`), else their keys (`NFS v3 READ`); the OTHER series `other operations`. */
export function seriesLabels(ops: readonly TimelineSeries[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const s of ops) count.set(s.name, (count.get(s.name) ?? 0) + 1);
  return new Map(ops.map((s) => [s.key, isOther(s) ? otherLabel('series') : count.get(s.name) === 1 ? s.name : s.key]));
}

/** Every interval from the first through the last, those that saw nothing as undefined. */
function dense(t: TimelineSection): (TimelineInterval | undefined)[] {
  const out: (TimelineInterval | undefined)[] = new Array(t.count).fill(undefined);
  for (const iv of t.intervals) out[iv.index] = iv;
  return out;
}

const pad = (s: string, w: number): string => padTo(s, w, 'right');
const padEnd = (s: string, w: number): string => padTo(s, w);
const wrap = (text: string, width: number, indent = ''): string[] => wrapText(text, width, { firstIndent: '', indent });

/** The finding letters (a, b, …) whose evidence falls in each interval. */
function findingMarks(t: TimelineSection): Map<number, string> {
  const out = new Map<number, string>();
  if (t.start === null) return out;
  t.episodes.forEach((e, i) => {
    const letter = LETTERS[i] ?? '+';
    for (const m of e.marks) {
      const idx = Math.floor((msOf(m.seconds) - msOf(t.start!)) / msOf(t.intervalSeconds));
      const have = out.get(idx) ?? '';
      if (!have.includes(letter)) out.set(idx, have + letter);
    }
  });
  return out;
}

export function renderTimelineText(t: TimelineSection, options: TimelineTextOptions = {}): string {
  const width = Math.max(MIN_WIDTH, options.width ?? DEFAULT_WIDTH);
  const out: string[] = [];
  const interval = formatInterval(Math.round(t.intervalSeconds * 1e9));
  if (t.start === null || t.count === 0) return 'Timeline: the capture holds no frames\n';
  const first = new Date(msOf(t.start)).toISOString();
  const endMs = msOf(t.start) + t.count * msOf(t.intervalSeconds);
  const last = new Date(endMs).toISOString();
  const withDate = first.slice(0, 10) !== new Date(endMs - 1).toISOString().slice(0, 10);
  const how = t.auto ? 'chosen for the capture' : t.requestedSeconds !== null
    ? `${formatInterval(Math.round(t.requestedSeconds * 1e9))} asked, grown to stay within 4,000 intervals`
    : 'as asked';
  const clock = (iso: string): string => iso.slice(11, t.intervalSeconds < 1 ? 23 : 19);
  out.push(...wrap(`Timeline ${first.slice(0, 10)} ${clock(first)} to ${withDate ? `${last.slice(0, 10)} ` : ''}${clock(last)} UTC: ${t.count} intervals of ${interval} (${how})`, width));
  const f = t.filter;
  if (f !== null) {
    const parts = [f.op ? `op ${f.op}` : '', f.client ? `client ${f.client.addr}${f.client.port !== undefined ? `:${f.client.port}` : ''}` : '', f.server ? `server ${f.server.addr}${f.server.port !== undefined ? `:${f.server.port}` : ''}` : ''].filter(Boolean);
    out.push(...wrap(`Only calls of ${parts.join(', ')}; TCP events of the connections that match the client and server.`, width));
  }

  // The fixed columns (the least needed dropped first when the width is short),
  // then as many operations (p50 and p99) as fit, then the findings' letters.
  const timeW = timeLabel(t.start, t.intervalSeconds, withDate).length;
  const sec = t.intervalSeconds;
  const marks = findingMarks(t);
  interface Column {
    head: string;
    width: number;
    /** Dropped in this order (higher first) when the width is short; 0 never. */
    drop: number;
    cell: (iv: TimelineInterval | undefined, k: number) => string;
  }
  const fixed: Column[] = [
    { head: 'ops/s', width: 7, drop: 0, cell: (iv) => formatRate((iv?.calls ?? 0) / sec) },
    { head: 'MB/s', width: 7, drop: 2, cell: (iv) => formatRate(((iv?.readBytes ?? 0) + (iv?.writeBytes ?? 0)) / 1e6 / sec) },
    { head: 'err', width: 5, drop: 1, cell: (iv) => String(iv?.errors ?? 0) },
  ];
  const withUnanswered = t.intervals.some((iv) => iv.unanswered > 0);
  if (withUnanswered) fixed.push({ head: 'unans', width: 5, drop: 3, cell: (iv) => String(iv?.unanswered ?? 0) });
  fixed.push({ head: 'retr', width: 5, drop: 4, cell: (iv) => String(iv?.tcp['retransmission'] ?? 0) });
  if (t.episodes.length > 0) fixed.push({ head: 'find', width: 4, drop: 5, cell: (_iv, k) => marks.get(k) ?? '' });
  const widthOf = (cols: Column[]): number => timeW + cols.reduce((a, c) => a + c.width + 1, 0);
  let kept = fixed;
  for (let d = 5; d >= 1 && widthOf(kept) > width; d--) kept = kept.filter((c) => c.drop !== d);
  const opW = 6;
  const fit = Math.max(0, Math.floor((width - widthOf(kept)) / (2 * (opW + 1))));
  const labels = seriesLabels(t.operations);
  const shown = t.operations.filter((s) => s.calls > 0).slice(0, fit);
  const opCols: Column[] = shown.flatMap((s) => {
    const point = (iv: TimelineInterval | undefined) => iv?.ops.find((p) => p.op === s.key)?.latency;
    return [
      { head: 'p50', width: opW, drop: 0, cell: (iv: TimelineInterval | undefined) => formatMs(point(iv)?.p50 ?? null) },
      { head: 'p99', width: opW, drop: 0, cell: (iv: TimelineInterval | undefined) => formatMs(point(iv)?.p99 ?? null) },
    ];
  });
  // The findings' letters stay last.
  const find = kept.filter((c) => c.head === 'find');
  const columns = [...kept.filter((c) => c.head !== 'find'), ...opCols, ...find];
  if (shown.length > 0) {
    const over = [padEnd('', timeW), ...kept.filter((c) => c.head !== 'find').map((c) => ' '.repeat(c.width))];
    for (const s of shown) over.push(pad(shortenEnd(labels.get(s.key)!, 2 * opW + 1), 2 * opW + 1));
    out.push(over.join(' ').trimEnd());
  }
  out.push([padEnd('time (UTC)', timeW), ...columns.map((c) => pad(c.head, c.width))].join(' '));

  const row = (k: number, iv: TimelineInterval | undefined): string =>
    [padEnd(timeLabel(t.start! + k * sec, sec, withDate), timeW), ...columns.map((c) => pad(c.cell(iv, k), c.width))].join(' ').trimEnd();
  let quiet = 0;
  const flushQuiet = (at: number): void => {
    if (quiet >= QUIET_RUN) {
      const from = padEnd(timeLabel(t.start! + (at - quiet) * sec, sec, withDate), timeW);
      out.push(...wrap(`${from} … ${quiet} intervals (${formatSpan(quiet * sec)}) without a frame`, width, ' '.repeat(timeW + 1)));
    } else {
      for (let k = at - quiet; k < at; k++) out.push(row(k, undefined));
    }
    quiet = 0;
  };
  dense(t).forEach((iv, k) => {
    if (iv === undefined) {
      quiet++;
      return;
    }
    flushQuiet(k);
    out.push(row(k, iv));
  });
  flushQuiet(t.count);

  const notes: string[] = [];
  notes.push(
    [
      'ops/s: calls sent',
      'MB/s: NFS data read and written',
      'err: error replies',
      'unans: calls sent then never answered',
      'retr: TCP retransmissions',
    ]
      .filter((n) => columns.some((c) => n.startsWith(`${c.head}:`)))
      .concat(shown.length > 0 ? ['p50/p99: latency in ms of the replies in the interval'] : [])
      .join('; ') + '.',
  );
  const hidden = t.operations.length - shown.length;
  if (hidden > 0) notes.push(`${hidden} more operation${hidden === 1 ? '' : 's'} not shown (a wider terminal shows more; --op selects one; --format csv has all).`);
  const cap = t.operationsCap;
  if (cap !== undefined && cap.folded > 0) notes.push(`${groupDigits(cap.folded)} calls of the operations after the first ${groupDigits(cap.maxRows)} are counted together as ${otherLabel('series')}.`);
  for (const n of notes) out.push(...wrap(n, width));
  if (t.episodes.length > 0) {
    out.push(...wrap(find.length > 0 ? 'Findings (find column: the intervals holding their evidence frames):' : 'Findings:', width));
    // The lettered findings; those beyond are marked + in the find column and counted here.
    const at = (seconds: number): string => {
      const iso = new Date(msOf(seconds)).toISOString();
      return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 23)}` : iso.slice(11, 23);
    };
    t.episodes.slice(0, LETTERS.length).forEach((e, i) => {
      out.push(...wrap(`${LETTERS[i]} ${at(e.start)}${withDate ? ' to ' : '-'}${at(e.end)} ${e.severity} ${e.kind}: ${e.title}`, width, '  '));
    });
    const more = t.episodes.length - LETTERS.length;
    if (more > 0) out.push(...wrap(`+ ${more} more finding${more === 1 ? '' : 's'} (nfsight findings lists them all).`, width, '  '));
  }
  return out.join('\n') + '\n';
}

function formatSpan(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${Number(seconds.toFixed(1))} s`;
  if (seconds < 7200) return `${Number((seconds / 60).toFixed(1))} min`;
  return `${Number((seconds / 3600).toFixed(1))} h`;
}

export const TIMELINE_CSV_COLUMNS = [
  'start',
  'start_seconds',
  'interval_seconds',
  'op',
  'calls',
  'ops_per_second',
  'answered',
  'errors',
  'unanswered',
  'read_bytes',
  'write_bytes',
  'mb_per_second',
  'p50_ms',
  'p90_ms',
  'p99_ms',
  'max_ms',
  'frames',
  'wire_bytes',
  'rpc_retransmits',
  'tcp_retransmissions',
  'tcp_zero_windows',
  'tcp_gaps',
] as const;

const csvValue = (v: string | number | null): string => {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * CSV: for every interval from the first through the last, a row for all
 * operations together (op empty; intervals that saw nothing as zeros), then
 * a row per operation seen in it (frames and TCP columns empty there).
 */
export function renderTimelineCsv(t: TimelineSection): string {
  const lines = [TIMELINE_CSV_COLUMNS.join(',')];
  if (t.start === null) return lines.join('\r\n') + '\r\n';
  const sec = t.intervalSeconds;
  const rows = dense(t);
  rows.forEach((iv, k) => {
    // Intervals are whole milliseconds: their starts are exact in ms.
    const ms = msOf(t.start!) + k * msOf(sec);
    const start = ms / 1000;
    const iso = new Date(ms).toISOString();
    const line = (op: string, c: { calls: number; answered: number; errors: number; unanswered: number; readBytes: number; writeBytes: number; latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null } } | undefined, wire: TimelineInterval | undefined): string =>
      [
        iso,
        start,
        sec,
        op,
        c?.calls ?? 0,
        Number(((c?.calls ?? 0) / sec).toFixed(3)),
        c?.answered ?? 0,
        c?.errors ?? 0,
        c?.unanswered ?? 0,
        c?.readBytes ?? 0,
        c?.writeBytes ?? 0,
        Number((((c?.readBytes ?? 0) + (c?.writeBytes ?? 0)) / 1e6 / sec).toFixed(6)),
        c?.latency.p50 ?? null,
        c?.latency.p90 ?? null,
        c?.latency.p99 ?? null,
        c?.latency.max ?? null,
        op === '' ? (wire?.frames ?? 0) : null,
        op === '' ? (wire?.wireBytes ?? 0) : null,
        op === '' ? (wire?.rpcRetransmits ?? 0) : null,
        op === '' ? (wire?.tcp['retransmission'] ?? 0) : null,
        op === '' ? (wire?.tcp['zero-window'] ?? 0) : null,
        op === '' ? (wire?.tcp['gap'] ?? 0) : null,
      ]
        .map(csvValue)
        .join(',');
    lines.push(line('', iv, iv));
    for (const o of iv?.ops ?? []) lines.push(line(o.op, o, undefined));
  });
  return lines.join('\r\n') + '\r\n';
}
