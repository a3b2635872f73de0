/**
 * A detector's groups (one per client, server and whatever else makes an
 * incident), bounded: at most `max`, the least recently seen forgotten
 * first, what the forgotten ones counted summed so that the findings can
 * say so. The findings list the groups in the order they were made,
 * whatever the order of use.
 */
import { LruMap } from '../memory/lru.js';
import type { Finding } from './finding.js';

export class RecentGroups<G> {
  /** Groups by key, the least recently seen first, with the order they were made in. */
  private readonly groups = new LruMap<string, { seq: number; g: G }>();
  private made = 0;
  /** What the forgotten groups counted (`countOf` of each when it went). */
  notReported = 0;

  constructor(
    private readonly max: number,
    private readonly countOf: (g: G) => number,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  /** The group of `key`, now the most recently seen; `make` makes it when there is none (forgetting the least recently seen beyond `max`). */
  group(key: string, make: () => G): G {
    const e = this.groups.touch(key);
    if (e !== undefined) return e.g;
    if (this.groups.size >= this.max) this.notReported += this.countOf(this.groups.shift()![1].g);
    const g = make();
    this.groups.set(key, { seq: this.made++, g });
    return g;
  }

  /** The groups followed, in the order they were made. */
  inOrder(): G[] {
    return [...this.groups.values()].sort((a, b) => a.seq - b.seq).map((e) => e.g);
  }
}

/** Says in the last finding's metrics, under `metric`, how much was not reported (when anything was). */
export function noteNotReported<T extends Finding>(findings: T[], metric: string, n: number): T[] {
  if (n > 0 && findings.length > 0) findings[findings.length - 1]!.metrics[metric] = n;
  return findings;
}
