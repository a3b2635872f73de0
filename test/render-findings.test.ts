/**
 * The verdict and findings as text: the answer first, one line per problem
 * with its frames, everything within the width.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { renderFindingsText, renderVerdictText } from '../src/report/render-findings.js';
import { displayWidth } from '../src/report/terminal.js';
import { CAPTURES } from './helpers.js';

describe('the verdict as text', () => {
  it('captures/unanswered-read-tail.pcap at 80 columns: summary, then one line per problem ending with its frames', async () => {
    const r = await analyze(join(CAPTURES, 'unanswered-read-tail.pcap'));
    const lines = renderVerdictText(r.verdict, { width: 80 }).trimEnd().split('\n');
    expect(lines[0]).toBe(`Verdict: ${r.verdict.summary}`);
    expect(lines).toHaveLength(1 + r.verdict.problems.length);
    r.verdict.problems.forEach((p, i) => {
      const line = lines[i + 1]!;
      expect(line.startsWith(`   ${i + 1}. ${p.severity.toUpperCase()} `)).toBe(true);
      expect(line.endsWith(`(${p.frames.slice(0, 3).map((f) => `#${f.frame}`).join(', ')})`)).toBe(true);
      expect(displayWidth(line)).toBeLessThanOrEqual(80);
    });
    // The unanswered READ (frame 66, tshark: V3 READ Call xid 0x351ccd70) comes first.
    expect(lines[1]).toMatch(/^ {3}1\. ERROR READ .*\(#66, /);
  });

  it('30 problems at 80 columns: the first 10 in text, then "… and 20 more problems"', () => {
    const problems = Array.from({ length: 30 }, (_, i) => ({ severity: 'error' as const, kind: 'unanswered-call', text: `READ call ${i + 1} never answered`, confidence: 'high' as const, impact: 30 - i, frames: [{ file: 'a.pcap', frame: i + 1 }] }));
    const verdict = { status: 'problems' as const, summary: '30 problems.', notJudged: [], problems, notes: 0 };
    const lines = renderVerdictText(verdict, { width: 80 }).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 10 + 1);
    expect(lines[10]).toBe('   10. ERROR READ call 10 never answered  (#10)');
    expect(lines[11]).toBe('   … and 20 more problems (all in --format json)');
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80);
  });

  it('text shows at most 5 findings of each kind and severity, then counts the rest; the others keep their numbers', () => {
    const finding = (i: number, kind: string, severity: 'error' | 'warning') => ({
      kind, severity, title: `${kind} ${i}`, explanation: 'A sentence.', start: '2026-11-22T02:55:08.000000Z', end: '2026-11-22T02:55:09.000000Z',
      durationSeconds: 1, count: 1, metrics: {}, evidence: [], server: `10.0.0.${i}:2049`,
    });
    // 12 unanswered-call errors, then one warning, then 1,200 state-errors warnings.
    const findings = [
      ...Array.from({ length: 12 }, (_, i) => finding(i + 1, 'unanswered-call', 'error')),
      finding(13, 'slow-ops', 'warning'),
      ...Array.from({ length: 1200 }, (_, i) => finding(i + 14, 'state-errors', 'warning')),
    ] as unknown as Parameters<typeof renderFindingsText>[0];
    const text = renderFindingsText(findings, { width: 80 });
    const titles = text.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(titles).toEqual([
      '1. ERROR unanswered-call 1', '2. ERROR unanswered-call 2', '3. ERROR unanswered-call 3', '4. ERROR unanswered-call 4', '5. ERROR unanswered-call 5',
      '13. WARNING slow-ops 13',
      '14. WARNING state-errors 14', '15. WARNING state-errors 15', '16. WARNING state-errors 16', '17. WARNING state-errors 17', '18. WARNING state-errors 18',
    ]);
    expect(text.startsWith('Findings (1213)\n')).toBe(true);
    const tail = text.trimEnd().split('\n').slice(-2).map((l) => l.trim()).join(' ');
    expect(tail).toBe('Not shown: 7 more unanswered-call errors, 1,195 more state-errors warnings (at most 5 of each kind and severity here; all in --format json).');
    for (const l of text.split('\n')) expect(displayWidth(l)).toBeLessThanOrEqual(80);
  });

  it('a verdict that could not judge says why, and findings open with the verdict', async () => {
    const verdict = { status: 'not-judged' as const, summary: 'Not judged: the capture holds no NFS or RPC traffic.', notJudged: ['the capture holds no NFS or RPC traffic'], problems: [], notes: 0 };
    const text = renderFindingsText([], { width: 80, verdict });
    expect(text).toBe('Verdict: Not judged: the capture holds no NFS or RPC traffic.\n\nFindings: none.\n');
  });
});
