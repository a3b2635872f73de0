/**
 * Renders a report as text for a terminal, the answer first: what was read
 * (the capture's path, once), the verdict and the findings, then timing per
 * operation and the errors, then the breakdowns (clients, servers, files);
 * the capture's own figures (files, network and TCP, RPC counters,
 * unanswered calls) with `--details` or when asked for by section. Every
 * table and paragraph fits `width` columns (src/report/terminal.ts).
 * Rendering only formats what the report holds; it never recomputes.
 */
import type { FileRow, PeerRow, Report, TallyData, TrackedSection } from './model.js';
import { renderFindingsText } from './render-findings.js';
import { latencySparklines } from './render-sparkline.js';
import { renderRdmaText } from './render-rdma.js';
import { DEFAULT_WIDTH, fitTable, frameLabel, keyValues, wrapText, type ColumnSpec } from './terminal.js';
import { groupDigits } from '../number-text.js';
import { isOther, operationLabel, otherLabel, type OperationCap } from '../analysis/operation-cap.js';
import { byCodeUnits } from '../string-order.js';

export type BreakdownBy = 'op' | 'client' | 'server' | 'file';
export const BREAKDOWNS: readonly BreakdownBy[] = ['op', 'client', 'server', 'file'];
/** Rows shown per breakdown table without --top. */
export const DEFAULT_TOP = 10;

/**
 * The parts of the text report, in the order they are printed:
 * findings (the verdict and the findings), timing (per operation), errors
 * (by status and operation), clients, servers, files, rdma (NFS over RDMA:
 * printed only when the capture has RoCE traffic), capture (files read,
 * network and TCP), rpc (RPC counters and unanswered calls).
 */
export const REPORT_SECTIONS = ['findings', 'timing', 'errors', 'clients', 'servers', 'files', 'rdma', 'capture', 'rpc'] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
/** Printed without --details or --sections. */
export const DEFAULT_SECTIONS: readonly ReportSection[] = ['findings', 'timing', 'errors', 'clients', 'servers', 'files', 'rdma'];

export interface TextOptions {
  /** Colour the table borders and headings (only on a terminal, never with NO_COLOR). */
  color?: boolean;
  /**
   * Rows per breakdown table (operations, errors, clients, servers, files):
   * the N with most calls (files: also the N slowest by p99). Default DEFAULT_TOP;
   * with `details` and no `top`, every row.
   */
  top?: number;
  /** Which breakdown comes first: op (timing and errors, default), client, server or file. */
  by?: BreakdownBy;
  /** Columns to fit (default DEFAULT_WIDTH). */
  width?: number;
  /** The sections to print (default DEFAULT_SECTIONS; every section with `details`). */
  sections?: readonly ReportSection[];
  /** Every section, every operation row (NFSv4 ops too), every column that fits. */
  details?: boolean;
}

const num = groupDigits;

/** Bytes in short form: `512 B`, `1.5 MiB`. */
export function shortBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Bytes in binary units with the exact count, for the summaries. */
function bytes(n: number): string {
  return n < 1024 ? `${n} B` : `${shortBytes(n)} (${num(n)} B)`;
}

const ms = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
const rate = (bps: number | null): string => (bps === null ? '-' : `${shortBytes(Math.round(bps))}/s`);
const plural = (n: number, one: string, many = `${one}s`): string => `${num(n)} ${n === 1 ? one : many}`;

/** What every text section is given. */
interface Ctx {
  color: boolean;
  width: number;
  top: number;
  details: boolean;
  multiFile: boolean;
  /** Column headings left out for width, over the whole report (one note at the end). */
  dropped: Set<string>;
}

function table(ctx: Ctx, columns: readonly ColumnSpec[], rows: readonly (readonly string[])[]): string {
  const t = fitTable(columns, rows, { width: ctx.width, color: ctx.color, noteDropped: false });
  for (const d of t.dropped) ctx.dropped.add(d);
  return t.text;
}

/** A heading, wrapped to the width. */
function heading(ctx: Ctx, text: string): string {
  return wrapText(text, ctx.width).join('\n');
}

/** The columns of a tally row; what goes first when the terminal is narrow is the least telling. */
const TALLY_COLUMNS: ColumnSpec[] = [
  { head: 'calls', align: 'right' },
  { head: 'errors', align: 'right' },
  { head: 'unans.', align: 'right', drop: 6 },
  { head: 'min ms', align: 'right', drop: 3 },
  { head: 'mean ms', align: 'right', drop: 4 },
  { head: 'p50 ms', align: 'right', drop: 7 },
  { head: 'p90 ms', align: 'right', drop: 5 },
  { head: 'p99 ms', align: 'right' },
  { head: 'max ms', align: 'right', drop: 8 },
  { head: 'read', align: 'right', drop: 2 },
  { head: 'written', align: 'right', drop: 2 },
  { head: 'throughput', align: 'right', drop: 1 },
];

function tallyCells(r: TallyData): string[] {
  const l = r.latency;
  return [
    num(r.calls),
    num(r.errors),
    num(r.unanswered),
    ms(l.min),
    ms(l.mean),
    ms(l.p50),
    ms(l.p90),
    ms(l.p99),
    ms(l.max),
    r.readBytes > 0 ? shortBytes(r.readBytes) : '-',
    r.writeBytes > 0 ? shortBytes(r.writeBytes) : '-',
    rate(r.throughput),
  ];
}

function topBy<T>(rows: readonly T[], n: number, score: (r: T) => number, key: (r: T) => string): T[] {
  return [...rows].sort((a, b) => score(b) - score(a) || byCodeUnits(key(a), key(b))).slice(0, n);
}
const shown = (n: number, total: number): string => (n < total ? ` (top ${n} of ${num(total)})` : '');
const evictedNote = (s: TrackedSection<unknown>, what: string): string =>
  s.evicted > 0 ? `${num(s.evicted)} least used ${what} not tracked (${num(s.evictedCalls)} calls) beyond ${num(s.maxTracked)}` : '';

/** When a table's OTHER rows count anything: how many, and beyond what. */
const foldedNote = (cap: OperationCap | undefined, what: string): string =>
  cap !== undefined && cap.folded > 0 ? `${num(cap.folded)} ${what} of the operations after the first ${num(cap.maxRows)} are counted together in the "other" rows` : '';

function timingSection(report: Report, ctx: Ctx): string[] {
  const all = report.operations ?? [];
  // NFSv4 ops (kind 'op') repeat their COMPOUNDs' figures op by op: details only.
  const ops = ctx.details ? all : all.filter((r) => r.kind !== 'op');
  if (ops.length === 0) return [];
  const picked = new Set(topBy(ops, ctx.top, (r) => r.calls, (r) => `${r.program}/${r.version}/${r.kind}/${r.name}`));
  const rows = ops.filter((r) => picked.has(r)); // the report's order: program, version, kind, name
  const note = foldedNote(report.operationsCap, 'calls');
  return [
    heading(ctx, `Timing by operation${shown(rows.length, ops.length)}: latency in ms from call to reply${ctx.details ? "; an NFSv4 op carries its COMPOUND's latency" : ''}`),
    table(ctx, [{ head: 'operation', min: 40 }, ...TALLY_COLUMNS], rows.map((r) => [operationLabel(r), ...tallyCells(r)])),
    ...(note ? [heading(ctx, note)] : []),
    ...(report.timeline ? latencySparklines(report.timeline, ctx.width) : []),
  ];
}

function errorsSection(report: Report, ctx: Ctx): string[] {
  const errs = report.errors ?? [];
  if (errs.length === 0) return [];
  const er = topBy(errs, ctx.top, (e) => e.count, (e) => `${e.program}/${e.version}/${e.status}/${e.op}`);
  const first = (f: { file: string; frame: number }): string => frameLabel(f.file, f.frame, ctx.multiFile);
  const note = foldedNote(report.errorsCap, 'error replies');
  return [
    heading(ctx, `Errors by status and operation${shown(er.length, errs.length)}`),
    table(
      ctx,
      [
        { head: 'status', min: 20 },
        { head: 'operation' },
        { head: 'count', align: 'right' },
        { head: 'program', drop: 2 },
        { head: 'first replies', fit: 'wrap', min: 14 },
      ],
      er.map((e) => [
        isOther(e) ? 'other errors' : e.status,
        isOther(e) ? otherLabel('series') : e.op,
        num(e.count),
        isOther(e) ? '-' : `${e.programName} v${e.version}`,
        e.first.map(first).join(', ') + (e.count > e.first.length ? ', …' : ''),
      ]),
    ),
    ...(note ? [heading(ctx, note)] : []),
  ];
}

function peersSection(sec: TrackedSection<PeerRow> | undefined, title: string, what: string, ctx: Ctx): string[] {
  if (sec === undefined || sec.rows.length === 0) return [];
  const rows = topBy(sec.rows, ctx.top, (r) => r.calls, (r) => r.address);
  const out = [heading(ctx, `${title}${shown(rows.length, sec.rows.length)}`), table(ctx, [{ head: what, min: 21 }, ...TALLY_COLUMNS], rows.map((r) => [r.address, ...tallyCells(r)]))];
  const note = evictedNote(sec, `${what}s`);
  if (note) out.push(heading(ctx, note));
  return out;
}

function filesSection(report: Report, ctx: Ctx): string[] {
  const files = report.files;
  if (files === undefined || files.rows.length === 0) return [];
  const name = (r: FileRow): string => r.path ?? `fh ${r.fh}`;
  const fileTable = (rows: FileRow[]): string =>
    table(ctx, [{ head: 'file', min: 24 }, { head: 'ops', align: 'right', drop: 6 }, ...TALLY_COLUMNS], rows.map((r) => [name(r), num(r.ops), ...tallyCells(r)]));
  const out: string[] = [];
  const byOps = topBy(files.rows, ctx.top, (r) => r.ops, (r) => r.fh);
  out.push(heading(ctx, `Files by operations${shown(byOps.length, files.rows.length)}`), fileTable(byOps));
  const timed = files.rows.filter((r) => r.latency.p99 !== null);
  const byLatency = topBy(timed, ctx.top, (r) => r.latency.p99 ?? 0, (r) => r.fh);
  // The same rows in another order say nothing new.
  const sameRows = byLatency.length === byOps.length && byLatency.every((r) => byOps.includes(r));
  if (byLatency.length > 0 && (ctx.details || !sameRows)) {
    out.push(heading(ctx, `Files by latency (p99)${shown(byLatency.length, timed.length)}`), fileTable(byLatency));
  }
  const note = evictedNote(files, 'files');
  if (note) out.push(heading(ctx, note));
  return out;
}

/** The first lines: what was read (each path once), when, and how much RPC it held. */
function headerLines(report: Report, ctx: Ctx): string[] {
  const c = report.capture;
  const out: string[] = [];
  if (c.files.length === 1) out.push(...wrapText(`Capture ${c.files[0]!.name}`, ctx.width));
  else {
    // Older reports (merged) carry no givenPosition: they were read as given.
    const reordered = c.files.some((f, i) => f.givenPosition !== undefined && f.givenPosition !== i + 1);
    out.push(...wrapText(`Capture of ${c.files.length} files, read in this order${reordered ? ' (by their first frames, not as given)' : ''}:`, ctx.width));
    c.files.forEach((f, i) => {
      const span = f.firstTime && f.lastTime ? `: ${f.firstTime.slice(11, -1)} → ${f.lastTime.slice(11, -1)}` : '';
      out.push(...wrapText(`${i + 1}. ${f.name}${span}`, ctx.width, { firstIndent: '  ', indent: '     ' }));
    });
  }
  // The end's date is left out when it is the start's.
  const end = (a: string, b: string): string => (a.slice(0, 11) === b.slice(0, 11) ? b.slice(11) : b);
  const span = c.first && c.last ? `, ${c.first.time} → ${end(c.first.time, c.last.time)} (${c.durationSeconds.toFixed(3)} s)` : '';
  const r = report.rpc;
  const peers = `${plural(report.clients?.rows.length ?? 0, 'client')}, ${plural(report.servers?.rows.length ?? 0, 'server')}`;
  const rpc = r.calls > 0 ? `${plural(r.calls, 'RPC call')} (${num(r.matched)} answered, ${num(r.unanswered)} unanswered), ${peers}` : 'no RPC calls';
  out.push(...wrapText(`${plural(c.frames, 'frame')}${span}; ${rpc}.`, ctx.width));
  if (c.framesOutsideTimeWindow > 0) out.push(...wrapText(`${plural(c.framesOutsideTimeWindow, 'frame')} outside --time-window left out.`, ctx.width));
  if ((c.framesInEarlierFile ?? 0) > 0) out.push(...wrapText(`${plural(c.framesInEarlierFile!, 'frame')} also in an earlier file read once.`, ctx.width));
  return out;
}

function captureSection(report: Report, ctx: Ctx): string[] {
  const c = report.capture;
  const out: string[] = [heading(ctx, 'Capture files')];
  out.push(
    table(
      ctx,
      [{ head: 'file', min: 30 }, { head: 'format' }, { head: 'frames', align: 'right' }, { head: 'bytes', align: 'right' }, { head: 'notes', fit: 'wrap', drop: 1 }],
      c.files.map((f) => {
        const notes: string[] = [];
        if (f.gzip) notes.push('gzip');
        if (f.timestampPrecision) notes.push(f.timestampPrecision);
        if (f.truncated) notes.push('cut short');
        if (f.failed) notes.push('stopped at an error');
        return [f.name, f.format, num(f.frames), num(f.bytes), notes.join(', ')];
      }),
    ),
  );
  const at = (l: { time: string; file: string; frame: number } | undefined): string => (l ? `${l.time} (${frameLabel(l.file, l.frame, ctx.multiFile)})` : '-');
  out.push(
    ...keyValues(
      [
        ['frames', num(c.frames)],
        ['captured bytes', bytes(c.capturedBytes)],
        ['bytes on the wire', bytes(c.wireBytes)],
        ['frames cut by the snaplen', num(c.framesCutBySnaplen)],
        ['first frame', at(c.first)],
        ['last frame', at(c.last)],
        ['duration', `${c.durationSeconds.toFixed(6)} s`],
        ['link types', Object.entries(c.linkTypes).map(([k, v]) => `${k}: ${num(v)}`).join(', ') || '-'],
      ],
      ctx.width,
      '  ',
    ),
  );
  const n = report.network;
  const t = report.tcp;
  out.push(heading(ctx, 'Network and transport'));
  out.push(
    ...keyValues(
      [
        ['IPv4 / IPv6 packets', `${num(n.ipv4)} / ${num(n.ipv6)}`],
        ['non-IP frames', num(n.nonIp)],
        ['IP fragments', `${num(n.fragments)} (${num(n.reassembledDatagrams)} datagrams reassembled, ${num(n.fragmentsDropped)} dropped)`],
        ['TCP connections', num(t.connections)],
        ['TCP segments', num(t.segments)],
        ['TCP payload bytes', bytes(t.payloadBytes)],
        ['delivered in order', bytes(t.deliveredBytes)],
        ['missing from capture', `${bytes(t.gapBytes)} in ${plural(t.gaps, 'gap')}`],
        ['retransmitted bytes', bytes(t.retransmittedBytes)],
        ['TCP events', Object.entries(t.events).map(([k, v]) => `${k}: ${num(v)}`).join(', ') || 'none'],
        ['UDP datagrams', `${num(report.udp.datagrams)} (${bytes(report.udp.payloadBytes)})`],
      ],
      ctx.width,
      '  ',
    ),
  );
  if (t.refused.length > 0) {
    const more = t.refusedNotListed ?? 0;
    out.push(heading(ctx, `Refused connections (SYN answered by RST${more > 0 ? `; first ${t.refused.length} of ${num(t.refused.length + more)}` : ''})`));
    out.push(
      table(
        ctx,
        [{ head: 'RST frame' }, { head: 'time', drop: 1 }, { head: 'client' }, { head: 'server' }],
        t.refused.map((r) => [frameLabel(r.file, r.frame, ctx.multiFile), r.time, r.client, r.server]),
      ),
    );
  }
  return out;
}

function rpcSection(report: Report, ctx: Ctx): string[] {
  const r = report.rpc;
  const out: string[] = [heading(ctx, 'RPC')];
  out.push(
    ...keyValues(
      [
        ['calls / replies', `${num(r.calls)} / ${num(r.replies)}`],
        ['answered calls', num(r.matched)],
        ['unanswered calls', num(r.unanswered)],
        ['replies without a call', num(r.repliesWithoutCall)],
        ['retransmitted calls', num(r.retransmittedCalls)],
        ['duplicate replies', num(r.duplicateReplies)],
        ['messages cut by the capture', num(r.truncatedMessages)],
        ['resynchronisations', `${plural(r.resyncs, 'resync')}, ${num(r.resyncSkippedBytes)} bytes skipped`],
      ],
      ctx.width,
      '  ',
    ),
  );
  if (r.unansweredCalls.length > 0) {
    out.push(heading(ctx, `Unanswered calls${r.unanswered > r.unansweredCalls.length ? ` (first ${r.unansweredCalls.length} of ${num(r.unanswered)})` : ''}`));
    out.push(
      table(
        ctx,
        [
          { head: 'call frame' },
          { head: 'time', drop: 2 },
          { head: 'xid', drop: 4 },
          { head: 'procedure' },
          { head: 'client', drop: 3 },
          { head: 'server', drop: 5 },
          { head: 'retrans.', align: 'right', drop: 1 },
          { head: 'reply', fit: 'wrap', min: 12 },
        ],
        r.unansweredCalls.map((u) => [
          frameLabel(u.file, u.frame, ctx.multiFile),
          u.time,
          u.xid,
          u.procedureName,
          u.client,
          u.server,
          num(u.retransmits),
          u.unfinishedReplyFrame === null ? 'none seen' : `began #${u.unfinishedReplyFrame}, never completed`,
        ]),
      ),
    );
  }
  return out;
}

/** The last line: what could not be analysed, and where more is. */
function footerLines(report: Report, ctx: Ctx, sections: readonly ReportSection[]): string[] {
  const s = report.skipped;
  const d = report.diagnostics;
  const out = wrapText(
    `Skipped: ${plural(s.frames, 'frame')} not decodable, ${num(s.bytes)} stream bytes missing from the capture, ` +
      `${num(s.resyncBytes)} stream bytes passed over to find RPC messages. Diagnostics: ${plural(d.errors, 'error')}, ${plural(d.warnings, 'warning')}.`,
    ctx.width,
  );
  if (ctx.dropped.size > 0) {
    out.push(...wrapText(`Columns left out to fit ${ctx.width} columns: ${[...ctx.dropped].join(', ')} (a wider terminal or COLUMNS shows them; --format json has everything).`, ctx.width));
  }
  const hidden = REPORT_SECTIONS.filter((x) => !sections.includes(x));
  if (hidden.length > 0) out.push(...wrapText(`More: --details, or --sections ${hidden.join(',')}.`, ctx.width));
  return out;
}

export function renderReportText(report: Report, options: TextOptions = {}): string {
  const details = options.details ?? false;
  const sections = options.sections ?? (details ? REPORT_SECTIONS : DEFAULT_SECTIONS);
  const ctx: Ctx = {
    color: options.color ?? false,
    width: options.width ?? DEFAULT_WIDTH,
    top: options.top ?? (details ? Number.MAX_SAFE_INTEGER : DEFAULT_TOP),
    details,
    multiFile: report.capture.files.length > 1,
    dropped: new Set(),
  };
  const blocks: string[] = [headerLines(report, ctx).join('\n')];
  const want = (s: ReportSection): boolean => sections.includes(s);
  if (want('findings')) blocks.push(renderFindingsText(report.findings, { color: ctx.color, width: ctx.width, multiFile: ctx.multiFile, verdict: report.verdict, notListed: report.findingsNotListed, notReported: report.notReported }).trimEnd());
  const breakdown: Record<BreakdownBy, string[]> = {
    op: [...(want('timing') ? timingSection(report, ctx) : []), ...(want('errors') ? errorsSection(report, ctx) : [])],
    client: want('clients') ? peersSection(report.clients, 'Clients (by address)', 'client', ctx) : [],
    server: want('servers') ? peersSection(report.servers, 'Servers (by address:port)', 'server', ctx) : [],
    file: want('files') ? filesSection(report, ctx) : [],
  };
  const by = options.by ?? 'op';
  for (const b of [by, ...BREAKDOWNS.filter((x) => x !== by)]) if (breakdown[b].length > 0) blocks.push(breakdown[b].join('\n'));
  if (want('rdma') && report.rdma !== undefined) {
    const rdma = renderRdmaText(report.rdma, { ...ctx, dropped: ctx.dropped, bytes: shortBytes });
    if (rdma.length > 0) blocks.push(rdma.join('\n'));
  }
  if (want('capture')) blocks.push(captureSection(report, ctx).join('\n'));
  if (want('rpc')) blocks.push(rpcSection(report, ctx).join('\n'));
  blocks.push(footerLines(report, ctx, sections).join('\n'));
  return blocks.join('\n\n') + '\n';
}
