/**
 * The rules every finding's text follows (issue 11, issue 12 point 10),
 * checked on whatever findings a test produces: the explanation reads in at
 * most three lines at 100 columns (as `findings` prints it, indented), the
 * title in at most two; full sentences (a capital first, a period last, no
 * "time(s)", no "undefined" or "NaN"); no empty metric; and one finding per
 * client and incident: no two findings of one kind and severity for the same
 * client, server, file and status (or operation, or RPC error).
 */
import { expect } from 'vitest';
import type { Finding } from '../src/detectors/finding.js';
import { wrapText } from '../src/report/terminal.js';

const WIDTH = 100;
const INDENT = '   ';

export function findingTextProblems(findings: readonly Finding[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    const at = `${f.kind} "${f.title}"`;
    const lines = wrapText(f.explanation, WIDTH, { indent: INDENT }).length;
    if (lines > 3) problems.push(`${at}: explanation takes ${lines} lines at ${WIDTH} columns: ${f.explanation}`);
    const titleLines = wrapText(`1. WARNING ${f.title}`, WIDTH, { firstIndent: '', indent: INDENT }).length;
    if (titleLines > 2) problems.push(`${at}: title takes ${titleLines} lines`);
    for (const [name, text] of [['title', f.title], ['explanation', f.explanation], ['caveat', f.caveat ?? '']] as const) {
      if (/\(s\)|\bundefined\b|\bNaN\b|\s\.|\s,|  /.test(text)) problems.push(`${at}: ${name} reads badly: ${text}`);
    }
    if (!/^[A-Z0-9"'(]/.test(f.explanation) || !/[.!?]$/.test(f.explanation)) problems.push(`${at}: explanation is not sentences: ${f.explanation}`);
    for (const [k, v] of Object.entries(f.metrics)) {
      if (v === '' || (Array.isArray(v) && v.length === 0)) problems.push(`${at}: empty metric ${k}`);
    }
    const key = [f.kind, f.severity, f.client ?? '', f.server ?? '', f.file ?? '', String(f.metrics.status ?? ''), String(f.metrics.op ?? ''), String(f.metrics.error ?? '')].join('|');
    if (seen.has(key)) problems.push(`${at}: a second ${f.kind} finding for ${f.client ?? 'the same client'}`);
    seen.add(key);
  }
  return problems;
}

/** Checks the text rules on a report's findings and gives the report back. */
export function readable<T extends { findings: Finding[] }>(report: T): T {
  expect(findingTextProblems(report.findings)).toEqual([]);
  return report;
}
