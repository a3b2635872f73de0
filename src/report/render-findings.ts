/**
 * Renders the detectors' findings for a terminal: one block per finding
 * with its explanation, metrics and the frames to look at in Wireshark,
 * wrapped and fitted to the width (src/report/terminal.ts).
 */
import type { Finding } from '../detectors/finding.js';
import { DEFAULT_WIDTH, fitTable, frameLabel, wrapText } from './terminal.js';

export interface FindingsTextOptions {
  /** Colour the severities and table borders. */
  color?: boolean;
  /** Columns to fit (default DEFAULT_WIDTH). */
  width?: number;
  /** Several input files were read: evidence frames name their file. */
  multiFile?: boolean;
}

function metricText(v: Finding['metrics'][string]): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? Number(x.toFixed(6)) : x)).join(', ');
  return typeof v === 'number' ? String(Number(v.toFixed(6))) : v;
}

export function renderFindingsText(findings: readonly Finding[], options: FindingsTextOptions | boolean = {}): string {
  const o: FindingsTextOptions = typeof options === 'boolean' ? { color: options } : options;
  const color = o.color ?? false;
  const width = o.width ?? DEFAULT_WIDTH;
  if (findings.length === 0) return 'Findings: none.\n';
  const out: string[] = [`Findings (${findings.length})`];
  const para = (text: string): void => {
    out.push(...wrapText(text, width, { indent: '   ' }));
  };
  findings.forEach((f, i) => {
    const sev = color ? (f.severity === 'error' ? '\u001b[31mERROR\u001b[39m' : f.severity === 'warning' ? '\u001b[33mWARNING\u001b[39m' : 'INFO') : f.severity.toUpperCase();
    out.push('');
    out.push(...wrapText(`${i + 1}. [${sev}] ${f.kind}: ${f.title}`, width, { firstIndent: '', indent: '   ' }));
    const who = [f.client && `client ${f.client}`, f.server && `server ${f.server}`, f.clientid && `clientid ${f.clientid}`, f.sessionid && `session ${f.sessionid}`, f.file && `file ${f.file}`]
      .filter(Boolean)
      .join(', ');
    if (who) para(who);
    para(`${f.start} → ${f.end} (${f.durationSeconds.toFixed(3)} s), ${f.count} occurrence${f.count === 1 ? '' : 's'}`);
    para(f.explanation);
    const metrics = Object.entries(f.metrics);
    if (metrics.length > 0) para(metrics.map(([k, v]) => `${k}: ${metricText(v)}`).join('; '));
    if (f.evidence.length > 0) {
      const t = fitTable(
        [{ head: 'frame' }, { head: 'time', drop: 1 }, { head: 'what', fit: 'wrap', min: 16 }],
        f.evidence.map((e) => [frameLabel(e.file, e.frame, o.multiFile ?? false), e.time, e.what]),
        { width: width - 3, color },
      );
      out.push(...t.text.split('\n').map((l) => `   ${l}`));
    }
  });
  return out.join('\n') + '\n';
}
