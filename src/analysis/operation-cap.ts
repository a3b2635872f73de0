/**
 * The cap on distinct operations. The per-operation tables (the report's
 * operations and errors, the time series' operations, the slow-ops
 * detector) had a row per (program, version, procedure) — or NFSv4 op,
 * status — seen: a capture calling 100,000 of them (RPC calls to random
 * programs, NFS calls with random procedure numbers) made 100,000 rows
 * each, 600 MB of heap and a 180 MB report (docs/memory.md, session 34).
 * Now the first `maxRows` operations seen get rows of their own; the calls
 * of any operation after them are counted together in a row named OTHER
 * (one per kind), so that the tables' totals still add up, and the report
 * says how many were (`folded`). Real captures call a few dozen operations.
 */
import { isKnownProcedure } from '../../decoders/programs.js';
import type { OperationKind } from './op-stats.js';

/** Distinct operations with a row of their own, at most, per table. */
export const MAX_OPERATIONS = 1_000;

/** The name, program name, op and status of the rows that count the operations beyond the cap. */
export const OTHER = 'OTHER';

/** What a capped table says of itself in the report. */
export interface OperationCap {
  /** Rows of their own at most (the OTHER rows besides). */
  maxRows: number;
  /** Calls (errors table: error replies) counted in the OTHER rows, those of operations that came after `maxRows` others had rows. */
  folded: number;
}

/**
 * Rows by key, at most `maxRows` of them: `get` makes a new one while
 * there is room, and says undefined once the table is full (the caller
 * counts the call in its OTHER row), unless the caller says the row is
 * made beyond the cap (the operations table: operations nfsight knows by
 * name, a few hundred at most, so a COMMIT first seen after a flood of
 * unknown procedures still has its row).
 */
export class CappedRows<V> {
  readonly rows = new Map<string, V>();

  constructor(readonly maxRows: number) {
    if (!(maxRows >= 0)) throw new Error(`not a number of operations: ${maxRows}`);
  }

  /** `beyondCap`, asked only when the table is full: whether this row is made all the same. */
  get(key: string, make: () => V, beyondCap?: () => boolean): V | undefined {
    let v = this.rows.get(key);
    if (v === undefined) {
      if (this.rows.size >= this.maxRows && beyondCap?.() !== true) return undefined;
      v = make();
      this.rows.set(key, v);
    }
    return v;
  }
}

/** NFSv4 (and callback) ops nfsight has no name for are named by their number. */
const UNNAMED_OP = /^(CB_)?OP_\d+$/;

/** An operation nfsight knows by name: its procedure, and its NFSv4 op (COMPOUND main op or op) when it has one. */
export function isNamedOperation(program: number, version: number, procedure: number, op: string | null, isCallback: boolean): boolean {
  return isKnownProcedure(program, version, procedure, isCallback) && (op === null || !UNNAMED_OP.test(op));
}

/** Whether a row of the operations, errors or time series tables is an OTHER row. */
export function isOther(r: { programName: string }): boolean {
  return r.programName === OTHER;
}

const OTHER_LABELS: Record<OperationKind | 'series', string> = {
  procedure: 'other procedures',
  compound: 'other COMPOUNDs',
  op: 'other NFSv4 ops',
  series: 'other operations',
};

/** How an OTHER row is shown: `other procedures`, `other COMPOUNDs`, `other NFSv4 ops`; a time series: `other operations`. */
export function otherLabel(kind: OperationKind | 'series'): string {
  return OTHER_LABELS[kind];
}

/** `NFS v3 READ`, `NFS v4 COMPOUND(OPEN)`; an NFSv4 op indented under the COMPOUNDs; an OTHER row by its label. */
export function operationLabel(r: { kind: OperationKind; programName: string; version: number; name: string }): string {
  const name = isOther(r) ? otherLabel(r.kind) : r.name;
  if (r.kind === 'op') return `  ${name}`;
  return isOther(r) ? name : `${r.programName} v${r.version} ${name}`;
}

/** A report's cap of a table (`what`); a report made before the cap has none: `maxRows` then. */
export function capOf(x: unknown, what: string, maxRows: number): OperationCap {
  if (x === undefined) return { maxRows, folded: 0 };
  const c = x as OperationCap;
  if (typeof c !== 'object' || c === null || !Number.isInteger(c.maxRows) || !(c.maxRows >= 0) || typeof c.folded !== 'number' || !(c.folded >= 0)) {
    throw new Error(`${what} is not a cap ({maxRows, folded})`);
  }
  return { maxRows: c.maxRows, folded: c.folded };
}
