/**
 * rpc-errors: replies refusing a call at the RPC layer — PROG_UNAVAIL,
 * PROG_MISMATCH (with the versions supported), PROC_UNAVAIL, GARBAGE_ARGS,
 * SYSTEM_ERR, RPC_MISMATCH, AUTH_ERROR (with its auth_stat, RPCSEC_GSS
 * CREDPROBLEM / CTXPROBLEM included) — and NFSv4's
 * NFS4ERR_MINOR_VERS_MISMATCH. One finding per (server, program, error).
 *
 * Severity: error for GARBAGE_ARGS, SYSTEM_ERR and AUTH_ERROR other than
 * RPCSEC_GSS_CREDPROBLEM / CTXPROBLEM (which clients recover from by
 * renewing their context); warning for the version and program probes
 * (PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, RPC_MISMATCH, minor version
 * mismatch), which clients commonly send while negotiating. No thresholds.
 * At most the entity bound's groups (the first; src/memory/entity-bound.ts);
 * the error replies of others are counted in the last finding's
 * `errorsNotReported`.
 */
import { programName, procedureName } from '../../decoders/programs.js';
import { acceptStatName, authStatName, rejectStatName } from '../../decoders/rpc.js';
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { formatEndpoint } from '../transport/stream.js';
import { groupBudgetOf, type GroupBudget } from './group-budget.js';
import { evidence, MAX_EVIDENCE, type Detector, type DetectorContext, type DetectorOptions, type EvidenceFrame, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { listText, plural, sentences } from './wording.js';
import { noteNotReported } from './recent-groups.js';
import { frameSeconds, micro } from './retry-schedule.js';
import { entityBoundOf } from '../memory/entity-bound.js';

const MAX_LISTED = 20;

interface Group {
  server: string;
  program: number;
  error: string;
  count: number;
  first: FrameRef;
  last: FrameRef;
  clients: Set<string>;
  versions: Set<number>;
  procedures: Set<string>;
  supported: Set<string>;
  minorVersions: Set<number>;
  evidence: EvidenceFrame[];
  lastEvidence: EvidenceFrame | undefined;
}

const EXPLAIN: Record<string, string> = {
  PROG_UNAVAIL: 'the server does not offer this RPC program on this port (service not running or not registered)',
  PROG_MISMATCH: 'the server runs the program but not the version asked for',
  PROC_UNAVAIL: 'the server does not know the procedure asked for',
  GARBAGE_ARGS: 'the server could not decode the arguments (a client bug, a corrupted message, or a protocol disagreement)',
  SYSTEM_ERR: 'the server failed internally (memory allocation, a system error)',
  RPC_MISMATCH: 'the server does not speak the RPC version the call used',
  AUTH_ERROR: 'the server refused the credentials',
  NFS4ERR_MINOR_VERS_MISMATCH: 'the server does not support the NFSv4 minor version of the COMPOUND (clients probe the highest and fall back)',
};

function errorOf(t: Transaction): { error: string; detail: string | undefined } | undefined {
  const h = t.reply?.header;
  if (!h) return undefined;
  if (h.replyStat === 0) {
    if (h.acceptStat !== undefined && h.acceptStat >= 1 && h.acceptStat <= 5) {
      const error = acceptStatName(h.acceptStat);
      return { error, detail: h.acceptStat === 2 && h.mismatch ? `${h.mismatch.low}-${h.mismatch.high}` : undefined };
    }
    if (t.decoded?.reply?.status === 'NFS4ERR_MINOR_VERS_MISMATCH') return { error: 'NFS4ERR_MINOR_VERS_MISMATCH', detail: undefined };
    return undefined;
  }
  if (h.replyStat === 1 && h.rejectStat !== undefined) {
    if (h.rejectStat === 1) return { error: `AUTH_ERROR ${h.authStat === undefined ? '?' : authStatName(h.authStat)}`, detail: undefined };
    return { error: rejectStatName(h.rejectStat), detail: h.mismatch ? `${h.mismatch.low}-${h.mismatch.high}` : undefined };
  }
  return undefined;
}

export class RpcErrorsDetector implements Detector {
  readonly kind = 'rpc-errors';
  private readonly groups = new Map<string, Group>();
  /** Error replies of groups beyond maxGroups (the first are kept), not reported. */
  errorsNotReported = 0;

  private readonly budget: GroupBudget;

  /** Groups followed at most (the first): the entity bound. */
  private readonly maxGroups: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.budget = groupBudgetOf(ctx);
    this.maxGroups = entityBoundOf(options);
  }

  onTransaction(t: Transaction): void {
    const e = errorOf(t);
    if (!e || !t.reply) return;
    const server = formatEndpoint(t.server);
    const key = `${server}|${t.program}|${e.error}`;
    let g = this.groups.get(key);
    if (!g) {
      if (this.groups.size >= this.maxGroups || !this.budget.admit(this.groups.size, this.kind)) {
        this.errorsNotReported++;
        return;
      }
      g = { server, program: t.program, error: e.error, count: 0, first: t.call.frame, last: t.reply.frame, clients: new Set(), versions: new Set(), procedures: new Set(), supported: new Set(), minorVersions: new Set(), evidence: [], lastEvidence: undefined };
      this.groups.set(key, g);
    }
    g.count++;
    g.last = t.reply.frame;
    if (g.clients.size < MAX_LISTED) g.clients.add(t.client.addr);
    if (g.versions.size < MAX_LISTED) g.versions.add(t.version);
    const proc = t.decoded?.call?.mainOp ?? procedureName(t.program, t.version, t.procedure);
    if (g.procedures.size < MAX_LISTED) g.procedures.add(proc);
    if (e.detail !== undefined && g.supported.size < MAX_LISTED) g.supported.add(e.detail);
    const minor = t.decoded?.call?.minorVersion;
    if (e.error === 'NFS4ERR_MINOR_VERS_MISMATCH' && minor !== undefined && g.minorVersions.size < MAX_LISTED) g.minorVersions.add(minor);
    const what = `${programName(t.program)} v${t.version}${minor !== undefined && t.program === 100003 && t.version === 4 ? `.${minor}` : ''} ${proc} → ${e.error}${e.detail ? ` (supported ${e.detail})` : ''}`;
    const ev = evidence(this.ctx, t.reply.frame, what, formatFrameTime);
    if (g.evidence.length < MAX_EVIDENCE - 1) g.evidence.push(ev);
    else g.lastEvidence = ev;
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ errorsNotReported: this.errorsNotReported });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.groups.values()) {
      const base = g.error.startsWith('AUTH_ERROR') ? 'AUTH_ERROR' : g.error;
      const gssRecoverable = g.error === 'AUTH_ERROR RPCSEC_GSS_CREDPROBLEM' || g.error === 'AUTH_ERROR RPCSEC_GSS_CTXPROBLEM';
      const severe = base === 'GARBAGE_ARGS' || base === 'SYSTEM_ERR' || (base === 'AUTH_ERROR' && !gssRecoverable);
      const prog = programName(g.program);
      const versions = [...g.versions].sort((a, b) => a - b);
      const metrics: Finding['metrics'] = {
        error: g.error,
        program: g.program,
        programName: prog,
        versions,
        procedures: [...g.procedures],
        clients: [...g.clients],
      };
      if (g.supported.size > 0) metrics.supported = [...g.supported];
      if (g.minorVersions.size > 0) metrics.minorVersions = [...g.minorVersions].sort((a, b) => a - b);
      const supported = g.supported.size > 0 ? `the server supports versions ${listText([...g.supported])}` : '';
      const minors = g.minorVersions.size > 0 ? `minor ${g.minorVersions.size === 1 ? 'version' : 'versions'} asked: ${listText([...g.minorVersions].sort((a, b) => a - b).map(String))}` : '';
      const authHint = base === 'AUTH_ERROR'
        ? gssRecoverable
          ? 'with RPCSEC_GSS the client should set up a new context; repeated errors mean expired Kerberos credentials or a server that lost the context (restart)'
          : "check the export's sec= options, the uid/gid mapping, the Kerberos keytab and clocks"
        : '';
      out.push({
        kind: this.kind,
        severity: severe ? 'error' : 'warning',
        title: `${g.count} × ${g.error} from ${prog} v${versions.join('/')} on ${g.server}`,
        explanation: sentences(`the server ${g.server} answered ${plural(g.count, `${prog} call`)} with ${g.error}: ${EXPLAIN[base] ?? 'an RPC-level error'}`, supported, minors, authHint),
        server: g.server,
        ...(g.clients.size === 1 ? { client: [...g.clients][0]! } : {}),
        start: formatFrameTime(g.first),
        end: formatFrameTime(g.last),
        durationSeconds: micro(frameSeconds(g.last) - frameSeconds(g.first)),
        count: g.count,
        evidence: g.lastEvidence ? [...g.evidence, g.lastEvidence] : g.evidence,
        metrics,
      });
    }
    return noteNotReported(out, 'errorsNotReported', this.errorsNotReported);
  }
}
