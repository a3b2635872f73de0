/**
 * The operations table as CSV (RFC 4180: comma-separated, CRLF line ends,
 * fields with a comma, a quote or a line break quoted, quotes doubled), one
 * header row then one row per operation row of the report, in its order.
 * Latencies in milliseconds; throughput in bytes per second; empty for none.
 */
import type { OperationRow, Report } from './model.js';

export const CSV_COLUMNS = [
  'kind',
  'program',
  'program_name',
  'version',
  'procedure',
  'op',
  'name',
  'calls',
  'answered',
  'unanswered',
  'errors',
  'min_ms',
  'mean_ms',
  'p50_ms',
  'p90_ms',
  'p99_ms',
  'max_ms',
  'read_bytes',
  'write_bytes',
  'first_seconds',
  'last_seconds',
  'throughput_bytes_per_second',
] as const;

/** One CSV field (RFC 4180 §2.6-2.7). */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cells(r: OperationRow): (string | number | null)[] {
  const l = r.latency;
  return [
    r.kind,
    r.program,
    r.programName,
    r.version,
    r.procedure,
    r.op,
    r.name,
    r.calls,
    r.answered,
    r.unanswered,
    r.errors,
    l.min,
    l.mean,
    l.p50,
    l.p90,
    l.p99,
    l.max,
    r.readBytes,
    r.writeBytes,
    r.firstSeconds,
    r.lastSeconds,
    r.throughput,
  ];
}

export function renderOperationsCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of report.operations) lines.push(cells(r).map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}
