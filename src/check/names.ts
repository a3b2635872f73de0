/**
 * The names a rules file may use, so that a misspelt one is refused with
 * the nearest valid name instead of matching nothing and passing: the
 * procedures and NFSv4 ops nfsight names (and `COMPOUND(OP)` rows), the
 * statuses its decoders give (NFSv3, NFSv4, MOUNT, NLM, NSM, NFS_ACL, RPC
 * accept, reject and auth statuses), the programs, the finding kinds.
 */
import { aclStatusName } from '../../decoders/nfsacl.js';
import { MOUNTSTAT3_CODES, mountstat3Name } from '../../decoders/mount.js';
import { NFSSTAT3_CODES, nfsstat3Name } from '../../decoders/nfs3.js';
import { nfs4OpName } from '../../decoders/nfs4.js';
import { nfs4StatusName } from '../../decoders/nfs4-status.js';
import { NLM4_STATS, NLM_STATS } from '../../decoders/nlm.js';
import { resStatName } from '../../decoders/nsm.js';
import { PROG_MOUNT, PROG_NFS, PROG_NFS_ACL, PROG_NLM, PROG_NSM, PROG_PORTMAP, PROG_RQUOTA, procedureName, programInfo, programName } from '../../decoders/programs.js';
import { acceptStatName, authStatName, rejectStatName } from '../../decoders/rpc.js';
import { DetectorSet } from '../detectors/index.js';

const PROGRAMS = [PROG_PORTMAP, PROG_NFS, PROG_MOUNT, PROG_RQUOTA, PROG_NLM, PROG_NSM, PROG_NFS_ACL];

/** Names from a numbering: every number below `limit` whose name is not the number itself (or `unknown(n)`). */
function named(limit: number, name: (n: number) => string): string[] {
  const out: string[] = [];
  for (let n = 0; n < limit; n++) {
    const s = name(n);
    if (s !== String(n) && !/\(\d+\)$|^OP_\d+$/.test(s)) out.push(s);
  }
  return out;
}

let ops: Set<string> | undefined;
/** Operation names (upper case): procedures of every program nfsight knows, NFSv4 ops, `COMPOUND(OP)`. */
export function operationNames(): Set<string> {
  if (ops) return ops;
  const out = new Set<string>();
  for (const p of PROGRAMS) for (const v of programInfo(p)?.versions ?? []) for (const n of named(64, (x) => procedureName(p, v, x))) out.add(n);
  for (const n of named(2, (x) => procedureName(0, 0, x, true))) out.add(n);
  for (const op of named(100, nfs4OpName)) {
    out.add(op);
    out.add(`COMPOUND(${op})`);
  }
  ops = new Set([...out].map((s) => s.toUpperCase()));
  return ops;
}

let statuses: Set<string> | undefined;
/** Status names (upper case) as the errors table gives them. */
export function statusNames(): Set<string> {
  if (statuses) return statuses;
  const out = [
    ...NFSSTAT3_CODES.map(nfsstat3Name),
    ...named(10_200, nfs4StatusName),
    ...MOUNTSTAT3_CODES.map(mountstat3Name),
    ...NLM4_STATS,
    ...NLM_STATS,
    ...named(8, resStatName),
    ...named(100, (n) => aclStatusName(2, n)),
    ...named(16, acceptStatName),
    ...named(4, rejectStatName),
    ...named(32, authStatName),
  ];
  statuses = new Set(out.map((s) => s.toUpperCase()));
  return statuses;
}

/** Program names (upper case), besides numbers. */
export function programNames(): Set<string> {
  return new Set([...PROGRAMS.map((p) => programName(p)), 'NFS_CB'].map((s) => s.toUpperCase()));
}

let kinds: Set<string> | undefined;
/** The kinds of finding the detectors give. */
export function findingKinds(): Set<string> {
  kinds ??= new Set(new DetectorSet({ fileName: () => '' }).detectors.map((d) => d.kind));
  return kinds;
}

/** Edit distance (insertions, deletions, substitutions, transpositions of neighbours). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `name` (case-insensitive; ties: the shorter, then
 * the first in order), when it is near: within an edit of one per two
 * characters, or holding the name whole (`grace` → `grace-period`).
 * Undefined when none is.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const want = name.toUpperCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const up = c.toUpperCase();
    const dist = want.length >= 3 && up.includes(want) ? 0.5 : distance(want, up);
    if (dist < bestD || (dist === bestD && best !== undefined && c.length < best.length)) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= Math.max(1, Math.floor(want.length / 2)) ? best : undefined;
}

/** Generic forms of names nfsight gives to numbers it has no name for. */
export const GENERIC_OPERATION = /^(\d+|OP_\d+|COMPOUND\(OP_\d+\))$/i;
export const GENERIC_STATUS = /^(\w+\(\d+\)|ACCEPT_STAT_\d+|AUTH_ERROR:\w+|MSG_DENIED:\d+|UNKNOWN)$/i;

/**
 * Undefined when `value` is one of `known` (upper case) or matches
 * `generic`; else the complaint: `unknown operation "RAED" (nearest: READ)`.
 */
export function unknownName(value: string, what: string, known: Set<string>, generic?: RegExp): string | undefined {
  if (known.has(value.toUpperCase()) || generic?.test(value)) return undefined;
  const near = nearestName(value, known);
  return `unknown ${what} ${JSON.stringify(value)}${near ? ` (nearest: ${near})` : ''}`;
}
