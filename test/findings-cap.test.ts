/**
 * The cap on findings per kind (src/detectors/findings-cap.ts): the worst
 * of each kind are listed, the rest counted, and the verdict still counts
 * every problem, in a report and in a merge of reports.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Finding } from '../src/detectors/finding.js';
import { FindingsCap } from '../src/detectors/findings-cap.js';
import { DetectorSet } from '../src/detectors/index.js';
import { buildVerdict } from '../src/detectors/verdict.js';
import { mergeReports } from '../src/report/merge.js';
import { renderFindingsText } from '../src/report/render-findings.js';
import { CAPTURES } from './helpers.js';

function finding(kind: string, severity: Finding['severity'], blocked: number, extra: Partial<Finding> = {}): Finding {
  return {
    kind,
    severity,
    title: `${kind} ${blocked}`,
    explanation: '',
    start: '2026-01-01T00:00:00.000000Z',
    end: '2026-01-01T00:00:01.000000Z',
    durationSeconds: 1,
    count: 1,
    impact: { blockedSeconds: blocked, calls: 1 },
    metrics: {},
    evidence: [],
    confidence: 'high',
    ...extra,
  } as Finding;
}

describe('findings cap per kind', () => {
  it('keeps the first of each kind of a ranked list and counts the others by severity', () => {
    const cap = new FindingsCap(2);
    const ranked = [
      finding('a', 'error', 9),
      finding('b', 'error', 8),
      finding('a', 'error', 7),
      finding('a', 'warning', 6),
      finding('a', 'warning', 5, { limitsJudgement: 'one direction only' }),
      finding('a', 'info', 4),
      finding('b', 'info', 3),
    ];
    const kept = cap.keep(ranked);
    expect(kept.map((f) => f.title)).toEqual(['a 9', 'b 8', 'a 7', 'b 3']);
    // The one limiting judgement is a finding, not a problem.
    expect(cap.notListed()).toEqual({ maxPerKind: 2, byKind: { a: { findings: 3, errors: 0, warnings: 1, notes: 1 } } });
    expect(new FindingsCap(2).notListed()).toBeUndefined();
    expect(new FindingsCap(0).maxPerKind).toBe(1);
  });

  it('the detector set lists the worst of each kind over all its detectors', () => {
    // Two detectors giving the same kind: the top of the union is kept.
    const one = { finish: () => [finding('x', 'warning', 1), finding('x', 'warning', 50), finding('y', 'info', 1)] };
    const two = { finish: () => [finding('x', 'error', 2), finding('x', 'warning', 3)] };
    const set = new DetectorSet({ formatTime: () => '' } as never, { findingsMaxPerKind: 2 }, [one, two] as never);
    const listed = set.findings();
    expect(listed.map((f) => f.title)).toEqual(['x 2', 'x 50', 'y 1']);
    expect(set.notListed()?.byKind).toEqual({ x: { findings: 2, errors: 0, warnings: 2, notes: 0 } });
  });

  it('released as found: the same findings and counts, and the set holds no detector and no timeline after', () => {
    const make = (): DetectorSet => {
      const one = { kind: 'x', finish: () => [finding('x', 'warning', 1), finding('x', 'warning', 50), finding('y', 'info', 1)], notReported: () => ({ groups: 3 }) };
      const two = { kind: 'z', finish: () => [finding('x', 'error', 2), finding('x', 'warning', 3)] };
      return new DetectorSet({ formatTime: () => '' } as never, { findingsMaxPerKind: 2 }, [one, two] as never);
    };
    const kept = make();
    const released = make();
    const detectorOf = { released: released.detectors[0]!, kept: kept.detectors[0]! };
    let timelineReleased = 0;
    released.timeline.release = () => void timelineReleased++;
    expect(released.findings(true)).toEqual(kept.findings());
    expect([released.notListed(), released.notReported()]).toEqual([kept.notListed(), kept.notReported()]);
    expect(released.notReported()).toEqual({ x: { groups: 3 } });
    expect([released.detectors.length, kept.detectors.length, timelineReleased]).toEqual([0, 2, 1]);
    // Nothing of the set reaches a detector any more.
    const reaches = (o: unknown, target: unknown, seen = new Set<unknown>()): boolean => {
      if (o === target) return true;
      if (typeof o !== 'object' || o === null || seen.has(o)) return false;
      seen.add(o);
      return Object.values(o).some((v) => reaches(v, target, seen));
    };
    expect(reaches(released, detectorOf.released)).toBe(false);
    expect(reaches(kept, detectorOf.kept)).toBe(true);
  });

  it('the verdict counts the problems not listed', () => {
    const cap = new FindingsCap(1);
    const listed = cap.keep([finding('a', 'error', 3), finding('a', 'error', 2), finding('a', 'warning', 1)]);
    const v = buildVerdict(listed, 10, cap.notListed());
    expect(v.summary).toBe('3 problems found (2 errors and 1 warning) in 10 RPC calls.');
    expect(v.problems).toHaveLength(1);
    expect(v.problemsNotListed).toBe(2);
  });

  it('on a real capture: the same verdict, the worst listed, the rest counted; a merge keeps the cap', async () => {
    const file = join(CAPTURES, 'nfsv40-pynfs-state-errors-cut.pcap');
    const all = await analyze(file);
    const capped = await analyze(file, { detectorOptions: { findingsMaxPerKind: 2 } });
    const kinds = (r: { findings: Finding[] }): number => r.findings.filter((f) => f.kind === 'state-errors').length;
    expect(kinds(all)).toBe(5);
    expect(all.findingsNotListed).toBeUndefined();
    expect(kinds(capped)).toBe(2);
    expect(capped.findingsNotListed?.byKind['state-errors']?.findings).toBe(3);
    expect(capped.verdict.summary).toBe(all.verdict.summary);
    expect(Object.keys(capped).filter((k) => !(k in all))).toEqual(['findingsNotListed']);
    // The two listed are the first two of the full ranking.
    const ofKind = (r: { findings: Finding[] }): string[] => r.findings.filter((f) => f.kind === 'state-errors').map((f) => f.title);
    expect(ofKind(capped)).toEqual(ofKind(all).slice(0, 2));

    const text = renderFindingsText(capped.findings, { verdict: capped.verdict, notListed: capped.findingsNotListed });
    expect(text).toContain('3 more state-errors');
    expect(text.replace(/\s+/g, ' ')).toContain('the 2 most severe and costly of each kind are kept');

    const copy = (): typeof capped => JSON.parse(JSON.stringify(capped)) as typeof capped;
    const merged = mergeReports([copy(), copy()]);
    expect(kinds(merged)).toBe(2);
    // 3 + 3 not listed in the two reports, and 2 more cut from the merged list of 4.
    expect(merged.findingsNotListed?.byKind['state-errors']?.findings).toBe(8);
    const problems = (r: typeof capped): number => r.verdict.problems.length + (r.verdict.problemsNotListed ?? 0);
    expect(problems(merged)).toBe(2 * problems(all));
  });
});
