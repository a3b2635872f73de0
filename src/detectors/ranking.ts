/**
 * How findings are ranked (severity, then impact: time blocked × calls
 * affected), and the small parsers the ranking and the detector set share.
 */
import type { Finding } from './finding.js';

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };

/** Time blocked × calls affected (the calls count at least once). */
export function impactScore(f: Finding): number {
  const i = f.impact ?? { blockedSeconds: f.durationSeconds, calls: f.count };
  return i.blockedSeconds * Math.max(1, i.calls);
}

/** Most severe first; within a severity, the highest impact; then by start time, kind and title. */
export function rankFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) ||
      impactScore(b) - impactScore(a) ||
      (a.start < b.start ? -1 : a.start > b.start ? 1 : 0) ||
      (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
      (a.title < b.title ? -1 : a.title > b.title ? 1 : 0),
  );
}

/** Seconds since the epoch of an ISO 8601 UTC time with a fraction (as findings carry). */
export function isoSeconds(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (m === null) return Number.NaN;
  return Date.parse(`${m[1]}Z`) / 1000 + (m[2] ? Number(m[2]) / 10 ** m[2].length : 0);
}

/** The address of "addr:port" / "[v6]:port" (or of a bare address). */
export function addressOf(endpoint: string): string {
  if (endpoint.startsWith('[')) return endpoint.slice(1, endpoint.indexOf(']'));
  const colons = endpoint.split(':').length - 1;
  return colons === 1 ? endpoint.slice(0, endpoint.indexOf(':')) : endpoint;
}

