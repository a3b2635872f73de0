/**
 * Renders a report as tables for a terminal (cli-table3). Rendering only
 * formats what the report holds; it never recomputes.
 */
import Table from 'cli-table3';
import type { FileRow, PeerRow, Report, TallyData, TrackedSection } from './model.js';
import { renderFindingsText } from './render-findings.js';

export interface TextOptions {
  /** Colour the table borders and headings (only on a terminal, never with NO_COLOR). */
  color?: boolean;
  /**
   * Rows per breakdown table (errors, clients, servers, files; the operations
   * table too when given): the N with most calls (files: also the N slowest by p99).
   * Default: every operation row, DEFAULT_TOP rows elsewhere.
   */
  top?: number;
  /** Which breakdown comes first: op (the operations table, default), client, server or file. */
  by?: BreakdownBy;
}

export type BreakdownBy = 'op' | 'client' | 'server' | 'file';
export const BREAKDOWNS: readonly BreakdownBy[] = ['op', 'client', 'server', 'file'];
/** Rows shown per breakdown table without --top. */
export const DEFAULT_TOP = 10;

function table(head: string[], color: boolean): Table.Table {
  return new Table({ head, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
}

/** A two-column table of names and values, without a heading row. */
function keyValues(rows: [string, string][], color: boolean): string {
  const t = table([], color);
  t.push(...rows);
  return t.toString();
}

const num = (n: number): string => n.toLocaleString('en-US');

/** Bytes in binary units with the exact count, for the summary tables. */
function bytes(n: number): string {
  return n < 1024 ? `${n} B` : `${shortBytes(n)} (${num(n)} B)`;
}

export function renderReportText(report: Report, options: TextOptions = {}): string {
  const color = options.color ?? false;
  const out: string[] = [];
  const c = report.capture;

  out.push('Capture');
  const files = table(['file', 'format', 'frames', 'bytes', 'notes'], color);
  for (const f of c.files) {
    const notes: string[] = [];
    if (f.gzip) notes.push('gzip');
    if (f.timestampPrecision) notes.push(f.timestampPrecision);
    if (f.truncated) notes.push('cut short');
    if (f.failed) notes.push('stopped at an error');
    files.push([f.name, f.format, num(f.frames), num(f.bytes), notes.join(', ')]);
  }
  out.push(files.toString());

  out.push(
    keyValues(
      [
    ['frames', num(c.frames)],
    ['captured bytes', bytes(c.capturedBytes)],
    ['bytes on the wire', bytes(c.wireBytes)],
    ['frames cut by the snaplen', num(c.framesCutBySnaplen)],
    ['first frame', c.first ? `${c.first.time} (${c.first.file} #${c.first.frame})` : '-'],
    ['last frame', c.last ? `${c.last.time} (${c.last.file} #${c.last.frame})` : '-'],
    ['duration', `${c.durationSeconds.toFixed(6)} s`],
    ['link types', Object.entries(c.linkTypes).map(([k, v]) => `${k}: ${num(v)}`).join(', ') || '-'],
      ],
      color,
    ),
  );

  const n = report.network;
  const t = report.tcp;
  out.push('Network and transport');
  out.push(
    keyValues(
      [
    ['IPv4 / IPv6 packets', `${num(n.ipv4)} / ${num(n.ipv6)}`],
    ['non-IP frames', num(n.nonIp)],
    ['IP fragments (reassembled datagrams, dropped)', `${num(n.fragments)} (${num(n.reassembledDatagrams)}, ${num(n.fragmentsDropped)})`],
    ['TCP connections', num(t.connections)],
    ['TCP segments', num(t.segments)],
    ['TCP payload bytes', bytes(t.payloadBytes)],
    ['stream bytes delivered in order', bytes(t.deliveredBytes)],
    ['stream bytes missing from the capture', `${bytes(t.gapBytes)} in ${num(t.gaps)} gaps`],
    ['retransmitted bytes', bytes(t.retransmittedBytes)],
    ['UDP datagrams', `${num(report.udp.datagrams)} (${bytes(report.udp.payloadBytes)})`],
      ],
      color,
    ),
  );

  const events = Object.entries(t.events);
  if (events.length > 0) {
    out.push('TCP events');
    const ev = table(['event', 'count'], color);
    for (const [k, v] of events) ev.push([k, num(v)]);
    out.push(ev.toString());
  }
  if (t.refused.length > 0) {
    out.push('Refused connections (SYN answered by RST)');
    const rf = table(['client', 'server', 'RST frame', 'time'], color);
    for (const r of t.refused) rf.push([r.client, r.server, `${r.file} #${r.frame}`, r.time]);
    out.push(rf.toString());
  }

  const r = report.rpc;
  out.push('RPC');
  out.push(
    keyValues(
      [
        ['calls / replies', `${num(r.calls)} / ${num(r.replies)}`],
        ['answered calls', num(r.matched)],
        ['unanswered calls', num(r.unanswered)],
        ['replies without a call', num(r.repliesWithoutCall)],
        ['retransmitted calls / duplicate replies', `${num(r.retransmittedCalls)} / ${num(r.duplicateReplies)}`],
        ['messages cut by the capture', num(r.truncatedMessages)],
        ['bytes skipped to resynchronise', `${num(r.resyncSkippedBytes)} in ${num(r.resyncs)} resyncs`],
      ],
      color,
    ),
  );
  if (r.unansweredCalls.length > 0) {
    out.push(`Unanswered calls${r.unanswered > r.unansweredCalls.length ? ` (first ${r.unansweredCalls.length} of ${num(r.unanswered)})` : ''}`);
    const un = table(['call frame', 'time', 'xid', 'procedure', 'client', 'server', 'retransmits', 'reply'], color);
    for (const u of r.unansweredCalls) {
      const reply = u.unfinishedReplyFrame === null ? 'none seen' : `began #${u.unfinishedReplyFrame}, never completed`;
      un.push([`${u.file} #${u.frame}`, u.time, u.xid, u.procedureName, u.client, u.server, num(u.retransmits), reply]);
    }
    out.push(un.toString());
  }

  out.push(...renderBreakdowns(report, options));
  out.push(renderFindingsText(report.findings, color).trimEnd());

  const s = report.skipped;
  const d = report.diagnostics;
  out.push(
    `Skipped: ${num(s.frames)} frames not decodable, ${num(s.bytes)} stream bytes missing from the capture, ` +
      `${num(s.resyncBytes)} stream bytes passed over to find RPC messages. ` +
      `Diagnostics: ${num(d.errors)} errors, ${num(d.warnings)} warnings.`,
  );
  return out.join('\n') + '\n';
}

const ms = (x: number | null): string => (x === null ? '-' : x.toFixed(3));

/** Bytes in short form for wide tables. */
function shortBytes(n: number): string {
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

const rate = (bps: number | null): string => (bps === null ? '-' : `${shortBytes(Math.round(bps))}/s`);

/** The common columns of a tally row. */
const TALLY_HEAD = ['calls', 'errors', 'unans.', 'min ms', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'read', 'written', 'throughput'];
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

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
function topBy<T>(rows: readonly T[], n: number, score: (r: T) => number, key: (r: T) => string): T[] {
  return [...rows].sort((a, b) => score(b) - score(a) || cmpStr(key(a), key(b))).slice(0, n);
}
const shown = (n: number, total: number): string => (n < total ? ` (top ${n} of ${num(total)})` : '');
const evictedNote = (s: TrackedSection<unknown>, what: string): string =>
  s.evicted > 0 ? `${num(s.evicted)} least used ${what} not tracked (${num(s.evictedCalls)} calls) beyond ${num(s.maxTracked)}` : '';

/**
 * The per-operation sections: the operations table (NFSv4 ops indented under
 * their COMPOUND), the error table, clients, servers and files; the `by`
 * breakdown first, each limited to `top` rows.
 */
export function renderBreakdowns(report: Report, options: TextOptions = {}): string[] {
  const color = options.color ?? false;
  const top = options.top ?? DEFAULT_TOP;
  const by = options.by ?? 'op';
  const sections: Record<BreakdownBy, string[]> = { op: [], client: [], server: [], file: [] };

  const ops = report.operations ?? [];
  if (ops.length > 0) {
    const o = sections.op;
    const rows = options.top === undefined ? ops : topBy(ops, top, (r) => r.calls, (r) => `${r.program}/${r.version}/${r.name}`);
    o.push(`Operations${shown(rows.length, ops.length)} (latency from call to reply; an NFSv4 op carries its COMPOUND's latency)`);
    const t = table(['program', 'kind', 'operation', ...TALLY_HEAD], color);
    for (const r of rows) t.push([`${r.programName} v${r.version}`, r.kind, r.kind === 'op' ? `  ${r.name}` : r.name, ...tallyCells(r)]);
    o.push(t.toString());
    const errs = report.errors ?? [];
    if (errs.length > 0) {
      const er = topBy(errs, top, (e) => e.count, (e) => `${e.program}/${e.version}/${e.status}/${e.op}`);
      o.push(`Errors by status and operation${shown(er.length, errs.length)}`);
      const et = table(['program', 'status', 'operation', 'count', 'first replies (file #frame xid)'], color);
      for (const e of er) {
        et.push([`${e.programName} v${e.version}`, e.status, e.op, num(e.count), e.first.map((f) => `${f.file} #${f.frame} ${f.xid}`).join('\n')]);
      }
      o.push(et.toString());
    }
  }

  const peers = (sec: TrackedSection<PeerRow> | undefined, title: string, what: string, into: string[]): void => {
    if (sec === undefined || sec.rows.length === 0) return;
    const rows = topBy(sec.rows, top, (r) => r.calls, (r) => r.address);
    into.push(`${title}${shown(rows.length, sec.rows.length)}`);
    const t = table([what, ...TALLY_HEAD], color);
    for (const r of rows) t.push([r.address, ...tallyCells(r)]);
    into.push(t.toString());
    const note = evictedNote(sec, `${what}s`);
    if (note) into.push(note);
  };
  peers(report.clients, 'Clients (by address)', 'client', sections.client);
  peers(report.servers, 'Servers (by address:port)', 'server', sections.server);

  const files = report.files;
  if (files !== undefined && files.rows.length > 0) {
    const f = sections.file;
    const name = (r: FileRow): string => r.path ?? `fh ${r.fh.length > 24 ? `${r.fh.slice(0, 24)}…` : r.fh}`;
    const fileTable = (rows: FileRow[]): string => {
      const t = table(['file', 'ops', ...TALLY_HEAD], color);
      for (const r of rows) t.push([name(r), num(r.ops), ...tallyCells(r)]);
      return t.toString();
    };
    const byOps = topBy(files.rows, top, (r) => r.ops, (r) => r.fh);
    f.push(`Files by operations${shown(byOps.length, files.rows.length)}`);
    f.push(fileTable(byOps));
    const timed = files.rows.filter((r) => r.latency.p99 !== null);
    const byLatency = topBy(timed, top, (r) => r.latency.p99 ?? 0, (r) => r.fh);
    if (byLatency.length > 0) {
      f.push(`Files by latency (p99)${shown(byLatency.length, timed.length)}`);
      f.push(fileTable(byLatency));
    }
    const note = evictedNote(files, 'files');
    if (note) f.push(note);
  }

  const order: BreakdownBy[] = [by, ...BREAKDOWNS.filter((b) => b !== by)];
  return order.flatMap((b) => sections[b]);
}
