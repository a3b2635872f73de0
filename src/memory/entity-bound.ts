/**
 * How many entities (connections, hosts, sessions, detector groups) each
 * bounded table follows at once, from the memory limit.
 *
 * The budget (budget.ts) bounds buffered state in bytes. Beside it, tables
 * keyed by a host, a connection or a group are bounded by a count: the TCP
 * layer's open and closed connections, the NFSv4 clients and sessions, each
 * detector's groups and the detectors' groups together, the transport
 * timeline's connections. A count is 10,000 at the default limit (64M) and
 * below it follows `--max-memory` in proportion, so that the one option
 * bounds what a capture of thousands of hosts makes grow too: at 64M such a
 * capture's run holds about 100 MB of these tables (docs/memory.md), at 16M
 * a quarter of the entries. Above the default the counts stay at 10,000: a
 * larger limit is asked for to drop less buffered state, and these tables,
 * outside the budget's bytes, would grow in proportion beside it (a 4G limit
 * would let them take several gigabytes). Each table still says what it left
 * out, as at its own bound.
 */

import { DEFAULT_MAX_MEMORY } from './budget.js';

/** Entities followed per table at the default memory limit. */
export const DEFAULT_ENTITY_BOUND = 10_000;

/** The fewest followed whatever the limit (1M gives 156). */
export const MIN_ENTITY_BOUND = 100;

/** The count for a memory limit in bytes: in proportion below the default, never below MIN_ENTITY_BOUND nor above DEFAULT_ENTITY_BOUND. */
export function entityBoundFor(maxMemory: number = DEFAULT_MAX_MEMORY): number {
  if (!(maxMemory > 0) || maxMemory >= DEFAULT_MAX_MEMORY) return DEFAULT_ENTITY_BOUND;
  return Math.max(MIN_ENTITY_BOUND, Math.round((DEFAULT_ENTITY_BOUND * maxMemory) / DEFAULT_MAX_MEMORY));
}

/** A table's bound from options keyed as the detectors' are: its own key, else `entityBound`, else the default. */
export function entityBoundOf(options: Readonly<Record<string, number | undefined>>): number {
  return options['entityBound'] ?? DEFAULT_ENTITY_BOUND;
}
