/**
 * Renders the detectors' findings for a terminal: one block per finding
 * with its explanation, metrics and the frames to look at in Wireshark.
 */
import Table from 'cli-table3';
import type { Finding } from '../detectors/finding.js';

function metricText(v: Finding['metrics'][string]): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? Number(x.toFixed(6)) : x)).join(', ');
  return typeof v === 'number' ? String(Number(v.toFixed(6))) : v;
}

export function renderFindingsText(findings: readonly Finding[], color = false): string {
  if (findings.length === 0) return 'Findings: none.\n';
  const out: string[] = [`Findings (${findings.length})`];
  findings.forEach((f, i) => {
    const sev = color ? (f.severity === 'error' ? '\u001b[31mERROR\u001b[39m' : f.severity === 'warning' ? '\u001b[33mWARNING\u001b[39m' : 'INFO') : f.severity.toUpperCase();
    out.push('');
    out.push(`${i + 1}. [${sev}] ${f.kind}: ${f.title}`);
    const who = [f.client && `client ${f.client}`, f.server && `server ${f.server}`, f.clientid && `clientid ${f.clientid}`, f.sessionid && `session ${f.sessionid}`, f.file && `file ${f.file}`]
      .filter(Boolean)
      .join(', ');
    if (who) out.push(`   ${who}`);
    out.push(`   ${f.start} → ${f.end} (${f.durationSeconds.toFixed(3)} s), ${f.count} occurrence${f.count === 1 ? '' : 's'}`);
    out.push(`   ${f.explanation}`);
    const metrics = Object.entries(f.metrics);
    if (metrics.length > 0) out.push(`   ${metrics.map(([k, v]) => `${k}: ${metricText(v)}`).join('; ')}`);
    if (f.evidence.length > 0) {
      const t = new Table({ head: ['frame', 'time', 'what'], style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] } });
      for (const e of f.evidence) t.push([`${e.file} #${e.frame}`, e.time, e.what]);
      out.push(t.toString());
    }
  });
  return out.join('\n') + '\n';
}
