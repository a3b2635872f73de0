/**
 * One bound for the groups of several detectors together.
 *
 * Each detector bounds what it follows (10,000 groups, clients or servers
 * by default), and each bound is reached only on captures of thousands of
 * hosts; but there all are reached together: a replayed 6 GB capture held
 * 62 MB in five detectors still filling their bounds (docs/memory.md,
 * session 38), where at most 1,000 findings of a kind are listed. This
 * budget bounds their sum: a detector may always hold its first `floor`
 * groups (as many as are listed of a kind, so that none is starved by
 * another's flood), and more only while the detectors together hold fewer
 * than `limit`. Beyond, a detector that keeps its first groups counts what
 * it leaves out as its own bound does, and one that forgets its least
 * recently seen entity forgets one to make room for the next. What each
 * detector left out is counted by it, as for its own bound, and how much of
 * that the shared bound refused beside it (`bySharedBound` under the
 * detector's kind in the report's notReported).
 *
 * Groups are counted as they are opened, never estimated in bytes: a
 * group's size is bounded by its detector (evidence, files and bursts
 * capped), so a count bounds the bytes too. The detectors sharing it never
 * let a group go before the end (one that forgets an entity puts the next
 * in its place), so nothing is given back. Its limit, `detectorsMaxGroups`,
 * is the entity bound by default (src/memory/entity-bound.ts).
 */

export class GroupBudget {
  private held = 0;
  private readonly refusedByKind = new Map<string, number>();

  constructor(
    readonly limit: number = Infinity,
    readonly floor: number = Infinity,
  ) {}

  /**
   * Whether a detector holding `own` groups may open one more:
   * counted when it may. Refused only beyond its floor with the limit
   * reached; the refusal counted under `kind` when given (a detector that
   * may ask again for the same group gives none).
   */
  admit(own: number, kind?: string): boolean {
    if (own >= this.floor && this.held >= this.limit) {
      if (kind !== undefined) this.refusedByKind.set(kind, (this.refusedByKind.get(kind) ?? 0) + 1);
      return false;
    }
    this.held++;
    return true;
  }

  /** A detector opened a group without asking (it had nothing to forget to make room). */
  take(): void {
    this.held++;
  }

  /** What the bound refused a detector kind: each refusal one thing it left out (a call, a burst, a client…). */
  refused(kind: string): number {
    return this.refusedByKind.get(kind) ?? 0;
  }

  /** Groups held now, by all the detectors sharing the budget. */
  get total(): number {
    return this.held;
  }
}

/** The budget of a detector's context, or one of its own that never refuses (a detector made alone, as tests do). */
export function groupBudgetOf(ctx: { groups?: GroupBudget }): GroupBudget {
  return ctx.groups ?? new GroupBudget();
}
