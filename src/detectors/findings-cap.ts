/**
 * At most so many findings of each kind are listed: a capture of thousands
 * of hosts gives a finding per host and detector (each detector follows up
 * to 10,000 groups), tens of thousands in all, each with its evidence. No
 * person reads the 1,001st unanswered-call finding, and holding them all
 * (and their JSON) grows with the number of hosts. The most severe and most
 * costly of each kind are kept (the ranking's order); the rest are counted
 * per kind and severity, so the verdict still counts every problem.
 *
 * Option `findingsMaxPerKind` (1000).
 */
import type { Finding } from './finding.js';

export const DEFAULT_FINDINGS_MAX_PER_KIND = 1_000;

/** Findings of one kind that were not listed. */
export interface NotListedCount {
  findings: number;
  /** Of them, problems (above info, not a limit of judgement) by severity. */
  errors: number;
  warnings: number;
  /** Of them, info findings. */
  notes: number;
}

export interface FindingsNotListed {
  /** Findings listed at most per kind. */
  maxPerKind: number;
  /** Per kind, those beyond it. */
  byKind: Record<string, NotListedCount>;
}

export class FindingsCap {
  private readonly byKind = new Map<string, NotListedCount>();

  readonly maxPerKind: number;

  constructor(maxPerKind: number = DEFAULT_FINDINGS_MAX_PER_KIND) {
    // At least one of each kind: a kind found is never hidden whole.
    this.maxPerKind = Math.max(1, Math.floor(maxPerKind));
  }

  /**
   * The first maxPerKind findings of each kind of a ranked list, in its
   * order; the others counted. The top of the union of lists is the top of
   * their tops, so lists may be cut one by one and then together.
   */
  keep(ranked: Finding[]): Finding[] {
    const seen = new Map<string, number>();
    const kept: Finding[] = [];
    for (const f of ranked) {
      const n = (seen.get(f.kind) ?? 0) + 1;
      seen.set(f.kind, n);
      if (n <= this.maxPerKind) kept.push(f);
      else this.count(f.kind, f);
    }
    return kept;
  }

  /** Adds counts carried over from an earlier cut (a report merged). */
  add(notListed: FindingsNotListed | undefined): void {
    if (notListed === undefined) return;
    for (const [kind, c] of Object.entries(notListed.byKind)) addCounts(this.entry(kind), c);
  }

  /** What was not listed, kinds in code-unit order; undefined when nothing. */
  notListed(): FindingsNotListed | undefined {
    if (this.byKind.size === 0) return undefined;
    const byKind: Record<string, NotListedCount> = {};
    for (const kind of [...this.byKind.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) byKind[kind] = this.byKind.get(kind)!;
    return { maxPerKind: this.maxPerKind, byKind };
  }

  private count(kind: string, f: Finding): void {
    const c = this.entry(kind);
    c.findings++;
    if (f.severity === 'info') c.notes++;
    else if (f.limitsJudgement === undefined) {
      if (f.severity === 'error') c.errors++;
      else c.warnings++;
    }
  }

  private entry(kind: string): NotListedCount {
    let c = this.byKind.get(kind);
    if (c === undefined) this.byKind.set(kind, (c = { findings: 0, errors: 0, warnings: 0, notes: 0 }));
    return c;
  }
}

/** All findings not listed, and of them the problems (errors and warnings) and notes. */
export function notListedTotals(n: FindingsNotListed | undefined): NotListedCount {
  const t: NotListedCount = { findings: 0, errors: 0, warnings: 0, notes: 0 };
  for (const c of Object.values(n?.byKind ?? {})) addCounts(t, c);
  return t;
}

function addCounts(to: NotListedCount, c: NotListedCount): void {
  to.findings += c.findings;
  to.errors += c.errors;
  to.warnings += c.warnings;
  to.notes += c.notes;
}
