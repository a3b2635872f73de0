/**
 * Combines the JSON reports of several captures into one (`nfsight merge`):
 * counts add; latency histograms merge bucket by bucket, so percentiles are
 * those of the captures analysed together (within the histogram's 1%);
 * operations, errors, clients, servers and files are keyed and combined
 * (the operations, errors and time series within the largest of the
 * reports' caps: beyond it, in OTHER rows);
 * the capture sections are concatenated (files listed in order, first and
 * last frame over all, duration from the earliest to the latest frame);
 * listed items (unanswered calls, orphan replies, refused connections,
 * diagnostics, error frames) are concatenated in the order of the reports,
 * up to each list's cap; findings are concatenated and ranked again, and the
 * verdict is made again from them; the time series are joined interval by
 * interval (at a length both are multiples of), their histograms merged,
 * and the findings' episodes made again from the merged findings.
 *
 * Input is validated: a report of another schema version or with a section
 * missing or damaged throws an Error naming the report and what is wrong.
 * sameCapture() tells when two reports hold the same capture (the CLI
 * refuses to merge them: every call would count twice).
 */
import { OperationStats } from '../analysis/op-stats.js';
import { rankFindings } from '../detectors/ranking.js';
import { emptyRdmaSection, mergeRdmaSections } from '../analysis/rdma-summary.js';
import { buildVerdict } from '../detectors/verdict.js';
import { DEFAULT_FINDINGS_MAX_PER_KIND, FindingsCap } from '../detectors/findings-cap.js';
import type { NotReportedByDetector } from '../detectors/finding.js';
import { MAX_TIMELINE_SERIES, Timeline } from '../analysis/timeline.js';
import { MAX_OPERATIONS } from '../analysis/operation-cap.js';
import { REPORT_SCHEMA_VERSION, type FrameLocation, type Report } from './model.js';

/** Caps of the listed items, as the analysis keeps them. */
const LISTED = 100;
const DIAGNOSTICS_KEPT = 200;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks the shape of one parsed report; throws naming what is wrong. */
export function validateReport(r: unknown, label: string): asserts r is Report {
  if (!isObj(r)) throw new Error(`${label}: not a JSON object`);
  if (!isObj(r['tool']) || r['tool']['name'] !== 'nfsight') throw new Error(`${label}: not an nfsight report (no tool.name "nfsight")`);
  const version = r['schemaVersion'];
  if (version !== REPORT_SCHEMA_VERSION) {
    const by = typeof r['tool']['version'] === 'string' ? ` by nfsight ${r['tool']['version']}` : '';
    const older = typeof version === 'number' && version < REPORT_SCHEMA_VERSION;
    throw new Error(
      `${label}: a report of schemaVersion ${JSON.stringify(version)}, made${by}${older ? ' (older)' : ''}; this nfsight reads schemaVersion ${REPORT_SCHEMA_VERSION}: make the report again with nfsight report --format json`,
    );
  }
  for (const k of ['capture', 'network', 'tcp', 'udp', 'rpc', 'skipped', 'diagnostics', 'clients', 'servers', 'files', 'timeline']) {
    if (!isObj(r[k])) throw new Error(`${label}: section "${k}" missing or not an object`);
  }
  for (const k of ['operations', 'errors', 'findings']) {
    if (!Array.isArray(r[k])) throw new Error(`${label}: section "${k}" missing or not a list`);
  }
  const notListed = r['findingsNotListed'];
  if (notListed !== undefined && (!isObj(notListed) || typeof notListed['maxPerKind'] !== 'number' || !isObj(notListed['byKind']))) {
    throw new Error(`${label}: findingsNotListed is not {maxPerKind, byKind}`);
  }
  const notReported = r['notReported'];
  if (notReported !== undefined && (!isObj(notReported) || !Object.values(notReported).every((c) => isObj(c) && Object.values(c).every((n) => typeof n === 'number')))) {
    throw new Error(`${label}: notReported is not {detector: {what: count}}`);
  }
  const cap = r['capture'] as Obj;
  if (!Array.isArray(cap['files'])) throw new Error(`${label}: capture.files is not a list`);
  const rpc = r['rpc'] as Obj;
  for (const k of ['unansweredCalls', 'orphanReplies']) {
    if (!Array.isArray(rpc[k])) throw new Error(`${label}: rpc.${k} is not a list`);
  }
}

/**
 * When two of the (validated) reports hold the same capture file (the same
 * name, size, frames and first frame): a sentence naming them; else
 * undefined.
 */
export function sameCapture(reports: readonly Report[], labels?: readonly string[]): string | undefined {
  const label = (i: number): string => labels?.[i] ?? `report ${i + 1}`;
  const holder = new Map<string, number>();
  for (let i = 0; i < reports.length; i++) {
    for (const f of reports[i]!.capture.files) {
      if (f.frames === 0) continue;
      const key = JSON.stringify([f.name.split('/').pop(), f.bytes, f.frames, f.firstTime ?? null]);
      const j = holder.get(key);
      if (j !== undefined && j !== i) return `${label(i)} and ${label(j)} are both reports of ${f.name} (${f.frames} frames): merged, its calls would count twice`;
      holder.set(key, i);
    }
  }
  return undefined;
}

/** Adds the numeric fields of `b` to `a` (a copy); other fields come from `a`. */
function addNumbers<T extends object>(a: T, b: T, what: string): T {
  const out = { ...a } as Obj;
  for (const [k, v] of Object.entries(b as Obj)) {
    if (typeof v !== 'number') continue;
    const mine = out[k];
    if (mine !== undefined && typeof mine !== 'number') throw new Error(`${what}.${k}: not a number in every report`);
    out[k] = (typeof mine === 'number' ? mine : 0) + v;
  }
  return out as T;
}

function addRecords(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const m = new Map<string, number>(Object.entries(a));
  for (const [k, v] of Object.entries(b)) m.set(k, (m.get(k) ?? 0) + v);
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}

/** Two reports' detector drop counts added, per detector (in name order); undefined when neither has any. */
function addNotReported(a: NotReportedByDetector | undefined, b: NotReportedByDetector | undefined): NotReportedByDetector | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const out: NotReportedByDetector = {};
  for (const kind of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) out[kind] = addRecords(a[kind] ?? {}, b[kind] ?? {});
  return out;
}

/** Whole seconds since the epoch and the fraction of a FrameLocation's ISO time (micro- or nanosecond fraction). */
function timeOf(l: FrameLocation): [number, number] {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(l.time);
  if (m === null) throw new Error(`bad frame time ${JSON.stringify(l.time)}`);
  return [Date.parse(`${m[1]}Z`) / 1000, m[2] ? Number(m[2]) / 10 ** m[2].length : 0];
}
/** Seconds from a to b (exact to the nanosecond). */
function secondsFrom(a: FrameLocation, b: FrameLocation): number {
  const [sa, fa] = timeOf(a);
  const [sb, fb] = timeOf(b);
  return sb - sa + (fb - fa);
}

/** The memory sections: what each run dropped adds up; the limit and peak are the largest (reports made before the budget have none). */
function mergeMemory(a: Report['memory'] | undefined, b: Report['memory'] | undefined): { memory?: Report['memory'] } {
  if (a === undefined || b === undefined) {
    const one = a ?? b;
    return one === undefined ? {} : { memory: one };
  }
  return {
    memory: {
      limitBytes: Math.max(a.limitBytes, b.limitBytes),
      peakBytes: Math.max(a.peakBytes, b.peakBytes),
      dropped: addNumbers(a.dropped, b.dropped, 'memory.dropped'),
    },
  };
}

/** Merges two validated reports. */
function mergeTwo(a: Report, b: Report): Report {
  const ca = a.capture;
  const cb = b.capture;
  const firsts = [ca.first, cb.first].filter((x): x is FrameLocation => x !== undefined);
  const lasts = [ca.last, cb.last].filter((x): x is FrameLocation => x !== undefined);
  const first = firsts.sort((x, y) => secondsFrom(y, x))[0];
  const last = lasts.sort((x, y) => secondsFrom(x, y))[0];
  const capture: Report['capture'] = {
    ...addNumbers(ca, cb, 'capture'),
    files: [...ca.files, ...cb.files],
    linkTypes: addRecords(ca.linkTypes, cb.linkTypes),
    durationSeconds: first && last ? Number(secondsFrom(first, last).toFixed(9)) : 0,
  };
  delete capture.first;
  delete capture.last;
  if (first) capture.first = first;
  if (last) capture.last = last;
  const da = a.diagnostics;
  const db = b.diagnostics;
  const items = [...da.items, ...db.items];
  // The per-kind cap holds for the merged list too; what either report did not list is still counted.
  const cap = new FindingsCap(Math.max(a.findingsNotListed?.maxPerKind ?? DEFAULT_FINDINGS_MAX_PER_KIND, b.findingsNotListed?.maxPerKind ?? DEFAULT_FINDINGS_MAX_PER_KIND));
  cap.add(a.findingsNotListed);
  cap.add(b.findingsNotListed);
  const findings = cap.keep(rankFindings([...a.findings, ...b.findings]));
  const findingsNotListed = cap.notListed();
  const calls = a.rpc.calls + b.rpc.calls;
  const notReported = addNotReported(a.notReported, b.notReported);
  const { findingsNotListed: _a, notReported: _n, ...rest } = a;
  const refused = [...a.tcp.refused, ...b.tcp.refused];
  return {
    ...rest,
    verdict: buildVerdict(findings, calls, findingsNotListed, notReported),
    capture,
    network: addNumbers(a.network, b.network, 'network'),
    tcp: {
      ...addNumbers(a.tcp, b.tcp, 'tcp'),
      events: addRecords(a.tcp.events, b.tcp.events),
      refused: refused.slice(0, LISTED),
      // Reports made before the cap have no refusedNotListed (and list every refused connection).
      refusedNotListed: (a.tcp.refusedNotListed ?? 0) + (b.tcp.refusedNotListed ?? 0) + Math.max(0, refused.length - LISTED),
    },
    udp: addNumbers(a.udp, b.udp, 'udp'),
    rdma: mergeRdmaSections(a.rdma ?? emptyRdmaSection(), b.rdma ?? emptyRdmaSection()),
    rpc: {
      ...addNumbers(a.rpc, b.rpc, 'rpc'),
      unansweredCalls: [...a.rpc.unansweredCalls, ...b.rpc.unansweredCalls].slice(0, LISTED),
      orphanReplies: [...a.rpc.orphanReplies, ...b.rpc.orphanReplies].slice(0, LISTED),
    },
    skipped: addNumbers(a.skipped, b.skipped, 'skipped'),
    ...mergeMemory(a.memory, b.memory),
    findings,
    ...(findingsNotListed !== undefined ? { findingsNotListed } : {}),
    ...(notReported !== undefined ? { notReported } : {}),
    diagnostics: {
      errors: da.errors + db.errors,
      warnings: da.warnings + db.warnings,
      byCode: addRecords(da.byCode, db.byCode),
      items: items.slice(0, DIAGNOSTICS_KEPT),
      omitted: da.omitted + db.omitted + Math.max(0, items.length - DIAGNOSTICS_KEPT),
    },
  };
}

/**
 * Combines reports of several captures (parsed JSON, in the order given).
 * Throws an Error naming the report (`report 2`) and what is wrong when one
 * is not a valid report of this schema version.
 */
export function mergeReports(reports: readonly unknown[], labels?: readonly string[]): Report {
  if (reports.length === 0) throw new Error('no reports to merge');
  const label = (i: number): string => labels?.[i] ?? `report ${i + 1}`;
  reports.forEach((r, i) => validateReport(r, label(i)));
  const rs = reports as readonly Report[];
  // The merged tables keep the largest cap of the reports': what is beyond it is folded into OTHER rows.
  const capOr = (m: number | undefined, otherwise: number): number => (Number.isInteger(m) ? m! : otherwise);
  const maxOperations = Math.max(...rs.flatMap((r) => [r.operationsCap?.maxRows, r.errorsCap?.maxRows].map((m) => capOr(m, MAX_OPERATIONS))));
  // The time series have a cap of their own (fewer: a series costs a cell per interval).
  const maxSeries = Math.max(...rs.map((r) => capOr(r.timeline.operationsCap?.maxRows, MAX_TIMELINE_SERIES)));

  let stats: OperationStats | undefined;
  rs.forEach((r, i) => {
    let s: OperationStats;
    try {
      s = OperationStats.fromJSON(r, { maxOperations });
    } catch (e) {
      throw new Error(`${label(i)}: ${(e as Error).message}`);
    }
    if (stats === undefined) stats = s;
    else stats.merge(s);
  });
  let timeline: Timeline | undefined;
  rs.forEach((r, i) => {
    let t: Timeline;
    try {
      t = Timeline.fromJSON(r.timeline, maxSeries);
    } catch (e) {
      throw new Error(`${label(i)}: ${(e as Error).message}`);
    }
    if (timeline === undefined) timeline = t;
    else timeline.merge(t);
  });
  let out = rs[0]!;
  for (let i = 1; i < rs.length; i++) {
    try {
      out = mergeTwo(out, rs[i]!);
    } catch (e) {
      throw new Error(`${label(i)}: ${(e as Error).message}`);
    }
  }
  timeline!.setFindings(out.findings);
  return { ...out, schemaVersion: REPORT_SCHEMA_VERSION, ...stats!.toJSON(), timeline: timeline!.toJSON() };
}
