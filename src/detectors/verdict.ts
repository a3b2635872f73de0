/**
 * The verdict: the answer a report opens with. The findings above info,
 * ranked by impact (time blocked × calls affected; see rankFindings), each
 * in one line with its key frames; "No problems found" only when nfsight
 * could judge — RPC traffic present, both directions seen, no significant
 * capture loss (capture-quality findings carrying `limitsJudgement` say
 * otherwise) — and else what it could not judge, and why.
 */
import type { Finding, FindingConfidence, FindingSeverity, NotReportedByDetector } from './finding.js';
import { impactScore, rankFindings } from './ranking.js';
import { plural } from './wording.js';
import { groupDigits } from '../number-text.js';
import { notListedTotals, type FindingsNotListed } from './findings-cap.js';

/** Frames listed per verdict line. */
export const VERDICT_FRAMES = 4;

export interface VerdictLine {
  severity: FindingSeverity;
  kind: string;
  /** The finding's title: one line. */
  text: string;
  confidence: FindingConfidence;
  /** Time blocked × calls affected. */
  impact: number;
  /** The first key frames of the finding's evidence. */
  frames: { file: string; frame: number }[];
}

export interface Verdict {
  /**
   * `problems`: findings above info (nfsight may still have been unable to
   * judge part of it: see notJudged); `no-problems`: it could judge and found
   * none; `not-judged`: it found nothing but could not judge.
   */
  status: 'problems' | 'no-problems' | 'not-judged';
  /** One sentence. */
  summary: string;
  /** What nfsight could not judge, and why (empty when it could judge). */
  notJudged: string[];
  /** Findings above info, ranked, one line each. */
  problems: VerdictLine[];
  /** Problems beyond findingsMaxPerKind of their kind: counted in the summary, not listed (absent when none). */
  problemsNotListed?: number;
  /** Info findings (not listed here). */
  notes: number;
}

/**
 * What the detectors' bounds left out that they would have reported: the
 * counts named `…NotReported` (calls, denials, errors, lossy connections…),
 * not the evidence or context they forgot (`…Forgotten`, `…NotFollowed`).
 * Undefined when there is none.
 */
export function leftOutReason(notReported: NotReportedByDetector | undefined): string | undefined {
  if (notReported === undefined) return undefined;
  const parts: string[] = [];
  for (const [kind, counts] of Object.entries(notReported)) {
    const n = Object.entries(counts).reduce((sum, [name, c]) => (name.endsWith('NotReported') ? sum + c : sum), 0);
    if (n > 0) parts.push(`${kind} ${groupDigits(n)}`);
  }
  return parts.length > 0 ? `the detectors' bounds left out what they would have reported (${parts.join(', ')}; see notReported)` : undefined;
}

/** The verdict on ranked or unranked findings; `calls` is the number of RPC calls in the capture. */
export function buildVerdict(findings: readonly Finding[], calls: number, notListed?: FindingsNotListed, notReported?: NotReportedByDetector): Verdict {
  const ranked = rankFindings([...findings]);
  const notJudged = [...new Set(ranked.map((f) => f.limitsJudgement).filter((x): x is string => x !== undefined))];
  // A verdict without problems cannot vouch for what was left out.
  const leftOut = leftOutReason(notReported);
  if (leftOut !== undefined) notJudged.push(leftOut);
  // Findings that keep nfsight from judging are told in notJudged, not as problems.
  const above = ranked.filter((f) => f.severity !== 'info' && f.limitsJudgement === undefined);
  const problems: VerdictLine[] = above.map((f) => ({
    severity: f.severity,
    kind: f.kind,
    text: f.title,
    confidence: f.confidence ?? 'high',
    impact: Number(impactScore(f).toFixed(6)),
    frames: f.evidence.slice(0, VERDICT_FRAMES).map((e) => ({ file: e.file, frame: e.frame })),
  }));
  // Findings beyond findingsMaxPerKind of their kind are not listed, but counted here.
  const unlisted = notListedTotals(notListed);
  const notes = ranked.filter((f) => f.severity === 'info').length + unlisted.notes;
  let status: Verdict['status'];
  let summary: string;
  if (problems.length > 0) {
    status = 'problems';
    const listedErrors = problems.filter((p) => p.severity === 'error').length;
    const errors = listedErrors + unlisted.errors;
    const warnings = problems.length - listedErrors + unlisted.warnings;
    const counts = [errors > 0 ? plural(errors, 'error') : '', warnings > 0 ? plural(warnings, 'warning') : ''].filter(Boolean).join(' and ');
    summary = `${plural(errors + warnings, 'problem')} found (${counts}) in ${plural(calls, 'RPC call')}.`;
  } else if (notJudged.length > 0) {
    status = 'not-judged';
    summary = `Not judged: ${notJudged.join('; ')}.`;
  } else {
    status = 'no-problems';
    summary = `No problems found in ${plural(calls, 'RPC call')}.`;
  }
  return { status, summary, notJudged, problems, ...(unlisted.errors + unlisted.warnings > 0 ? { problemsNotListed: unlisted.errors + unlisted.warnings } : {}), notes };
}
