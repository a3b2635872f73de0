/**
 * Renders a report as tables for a terminal (cli-table3). Rendering only
 * formats what the report holds; it never recomputes.
 */
import Table from 'cli-table3';
import type { Report } from './model.js';

export interface TextOptions {
  /** Colour the table borders and headings (only on a terminal, never with NO_COLOR). */
  color?: boolean;
}

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

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]} (${num(n)} B)`;
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
  if (r.byProcedure.length > 0) {
    const ms = (x: number | null): string => (x === null ? '-' : (x * 1000).toFixed(3));
    const procs = table(['program', 'version', 'procedure', 'calls', 'answered', 'RPC errors', 'min ms', 'mean ms', 'max ms'], color);
    for (const p of r.byProcedure) {
      procs.push([p.programName, String(p.version), p.procedureName, num(p.calls), num(p.answered), num(p.rpcErrors), ms(p.minSeconds), ms(p.meanSeconds), ms(p.maxSeconds)]);
    }
    out.push(procs.toString());
  }
  if (r.unansweredCalls.length > 0) {
    out.push(`Unanswered calls${r.unanswered > r.unansweredCalls.length ? ` (first ${r.unansweredCalls.length} of ${num(r.unanswered)})` : ''}`);
    const un = table(['call frame', 'time', 'xid', 'procedure', 'client', 'server', 'retransmits', 'reply'], color);
    for (const u of r.unansweredCalls) {
      const reply = u.unfinishedReplyFrame === null ? 'none seen' : `began #${u.unfinishedReplyFrame}, never completed`;
      un.push([`${u.file} #${u.frame}`, u.time, u.xid, u.procedureName, u.client, u.server, num(u.retransmits), reply]);
    }
    out.push(un.toString());
  }

  const s = report.skipped;
  const d = report.diagnostics;
  out.push(
    `Skipped: ${num(s.frames)} frames not decodable, ${num(s.bytes)} stream bytes missing from the capture, ` +
      `${num(s.resyncBytes)} stream bytes passed over to find RPC messages. ` +
      `Diagnostics: ${num(d.errors)} errors, ${num(d.warnings)} warnings.`,
  );
  return out.join('\n') + '\n';
}
