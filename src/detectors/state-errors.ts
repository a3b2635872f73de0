/**
 * state-errors: replies saying the client used state the server no longer
 * has or never gave (RFC 7530 §9.1, RFC 8881 §8.2): NFS4ERR_STALE_STATEID,
 * NFS4ERR_BAD_STATEID, NFS4ERR_OLD_STATEID, NFS4ERR_EXPIRED,
 * NFS4ERR_ADMIN_REVOKED, NFS4ERR_STALE_CLIENTID (outside a session recovery
 * episode, which session-recovery-loop reports), and stale file handles
 * (NFS4ERR_STALE, NFS3ERR_STALE). Replies of one client with one status
 * close together (each within `stateErrors.burstSeconds` of the previous)
 * make one finding, with the count, first and last frames and the files.
 *
 * Options:
 * - `stateErrors.burstSeconds` (5): gap that ends a burst.
 * - `stateErrors.maxFindings` (500): findings kept at most (further bursts are counted in the last one's metrics).
 */
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { MAX_EVIDENCE, evidence, fileLabel, type Detector, type DetectorContext, type DetectorOptions, type EvidenceFrame, type Finding } from './finding.js';
import { RecoveryTracker, compoundOf, failedOp } from './session-recovery-loop.js';
import { LruMap } from '../memory/lru.js';

export const KIND_STATE_ERRORS = 'state-errors';

const PROG_NFS = 100003;
const MAX_FILES = 20;
const MAX_OPEN_BURSTS = 10_000;

const V4_STATUSES = new Set([
  'NFS4ERR_STALE_STATEID',
  'NFS4ERR_BAD_STATEID',
  'NFS4ERR_OLD_STATEID',
  'NFS4ERR_EXPIRED',
  'NFS4ERR_ADMIN_REVOKED',
  'NFS4ERR_STALE_CLIENTID',
  'NFS4ERR_STALE',
]);

/** What each status means and what to check, in plain words. */
const MEANING: Record<string, { what: string; cause: string; check: string; severity: 'warning' | 'error' }> = {
  NFS4ERR_STALE_STATEID: {
    what: 'used a stateid from before the server restarted',
    cause: 'the server restarted (or failed over) and the client did not reclaim its opens and locks, or reclaimed them late',
    check: 'check for a server restart or failover at that time and whether the client went through reclaim (OPEN with CLAIM_PREVIOUS in the grace period).',
    severity: 'warning',
  },
  NFS4ERR_BAD_STATEID: {
    what: 'used a stateid the server does not know (never handed out, or already closed / freed)',
    cause: 'a client bug, a race between CLOSE and I/O on the same file, or state the server discarded',
    check: 'look at the stateid in the failing calls and at the CLOSE / FREE_STATEID / DELEGRETURN before them.',
    severity: 'warning',
  },
  NFS4ERR_OLD_STATEID: {
    what: 'used an outdated version (seqid) of a stateid',
    cause: 'concurrent OPEN / LOCK on the same file by one owner raced with I/O that still carried the previous seqid',
    check: 'a few are harmless (the client retries with the new seqid); many point to a client bug or heavy contention on one file.',
    severity: 'warning',
  },
  NFS4ERR_EXPIRED: {
    what: "used state of an expired lease: the server dropped the client's opens and locks",
    cause: 'the client did not renew its lease in time (network outage, client stall, clock problems, lease time too short)',
    check: "check the network and client around that time, the server's lease time, and whether applications lost locks (data written under a lost lock may conflict).",
    severity: 'error',
  },
  NFS4ERR_ADMIN_REVOKED: {
    what: 'used state an administrator (or the server) revoked',
    cause: 'an administrator revoked the state, or the server revoked it (e.g. a delegation not returned in time)',
    check: "check the server's logs for revocations and callback (CB_RECALL) failures.",
    severity: 'error',
  },
  NFS4ERR_STALE_CLIENTID: {
    what: 'used a client id the server no longer knows',
    cause: 'the server restarted or expired the client, and the client has not yet established a new client id',
    check: "check for a server restart and whether the client recovered (SETCLIENTID / EXCHANGE_ID then CONFIRM / CREATE_SESSION) soon after.",
    severity: 'warning',
  },
  NFS4ERR_STALE: {
    what: 'used a file handle the server no longer recognises',
    cause: 'the file was removed (possibly by another client), the export was changed or re-created, or the server changed its file handles (filesystem replaced, fsid changed)',
    check: 'check whether the files were removed or the export changed; applications saw ESTALE.',
    severity: 'warning',
  },
  NFS3ERR_STALE: {
    what: 'used a file handle the server no longer recognises',
    cause: 'the file was removed (possibly by another client), the export was changed or re-created, or the server changed its file handles (filesystem replaced, fsid changed)',
    check: 'check whether the files were removed or the export changed; applications saw ESTALE.',
    severity: 'warning',
  },
};

interface Burst {
  client: string;
  server: string;
  status: string;
  clientid?: string;
  sessionid?: string;
  count: number;
  first: FrameRef;
  last: FrameRef;
  ops: Map<string, number>;
  files: Set<string>;
  moreFiles: boolean;
  evidence: { frame: FrameRef; what: string }[];
  lastEv?: { frame: FrameRef; what: string };
}

const seconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;

export class StateErrorsDetector implements Detector {
  readonly kind = KIND_STATE_ERRORS;
  private readonly open = new LruMap<string, Burst>();
  private readonly done: Burst[] = [];
  private dropped = 0;
  private readonly recovery: RecoveryTracker;
  private readonly burstSeconds: number;
  private readonly maxFindings: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.burstSeconds = options['stateErrors.burstSeconds'] ?? 5;
    this.maxFindings = options['stateErrors.maxFindings'] ?? 500;
    this.recovery = new RecoveryTracker(options['sessionRecovery.maxEpisodeSeconds'] ?? 120);
  }

  onTransaction(t: Transaction): void {
    if (t.program !== PROG_NFS || t.reply === undefined) return;
    const reply = t.decoded?.reply;
    if (reply === undefined) return;
    if (t.version === 3) {
      if (reply.status !== 'NFS3ERR_STALE') return;
      const op = t.decoded?.call?.mainOp ?? '?';
      const fh = t.decoded?.call?.fh;
      this.add(t, 'NFS3ERR_STALE', op, fh !== undefined ? [fh] : []);
      return;
    }
    const c = compoundOf(t);
    if (c === undefined) return;
    const recovering = this.recovery.feed(c);
    const status = c.status;
    if (!V4_STATUSES.has(status)) return;
    if (status === 'NFS4ERR_STALE_CLIENTID' && recovering) return;
    const op = failedOp(c);
    const files: string[] = [];
    const attr = t.nfs4?.ops;
    if (attr !== undefined) {
      // The failing op's file, else the last file the COMPOUND named.
      const failing = attr.find((o) => o.status === status);
      const f = failing?.path ?? failing?.fh;
      if (f !== undefined) files.push(f);
      else {
        for (let i = attr.length - 1; i >= 0; i--) {
          const g = attr[i]!.path ?? attr[i]!.fh;
          if (g !== undefined) {
            files.push(g);
            break;
          }
        }
      }
    }
    this.add(t, status, op, files);
  }

  private add(t: Transaction, status: string, op: string, handles: string[]): void {
    const files = handles.map((f) => fileLabel(this.ctx, f));
    const key = `${t.client.addr}|${status}`;
    const at = t.reply!.frame;
    let b = this.open.get(key);
    if (b !== undefined && seconds(at) - seconds(b.last) > this.burstSeconds) {
      this.close(key, b);
      b = undefined;
    }
    if (b === undefined) {
      b = { client: t.client.addr, server: t.server.addr, status, count: 0, first: at, last: at, ops: new Map(), files: new Set(), moreFiles: false, evidence: [] };
      this.open.set(key, b);
      if (this.open.size > MAX_OPEN_BURSTS) {
        const [k, v] = this.open.oldest()!;
        this.close(k, v);
      }
    }
    b.count++;
    b.last = at;
    if (t.nfs4?.clientid !== undefined) b.clientid ??= t.nfs4.clientid;
    if (t.nfs4?.sessionid !== undefined) b.sessionid ??= t.nfs4.sessionid;
    b.ops.set(op, (b.ops.get(op) ?? 0) + 1);
    for (const f of files) {
      if (b.files.size < MAX_FILES) b.files.add(f);
      else if (!b.files.has(f)) b.moreFiles = true;
    }
    const tag = t.decoded?.call?.tag;
    const what = `${op}${files[0] !== undefined ? ` ${files[0]}` : ''} → ${status}${tag !== undefined && tag !== '' ? ` (tag ${tag})` : ''}`;
    const e = { frame: at, what };
    if (b.evidence.length < MAX_EVIDENCE - 1) b.evidence.push(e);
    else b.lastEv = e;
  }

  private close(key: string, b: Burst): void {
    this.open.delete(key);
    if (this.done.length < this.maxFindings) this.done.push(b);
    else this.dropped++;
  }

  finish(): Finding[] {
    for (const [k, b] of [...this.open]) this.close(k, b);
    return this.done.map((b, i) => this.finding(b, i === this.done.length - 1 ? this.dropped : 0));
  }

  private finding(b: Burst, dropped: number): Finding {
    const m = MEANING[b.status]!;
    const ops = [...b.ops].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([op, n]) => `${op} ×${n}`);
    const files = [...b.files];
    const n = b.count;
    const explanation =
      `${n === 1 ? 'One call' : `${n} calls`} of client ${b.client} ${n === 1 ? 'was' : 'were'} refused with ${b.status}: the client ${m.what}. ` +
      `Likely cause: ${m.cause}. What to check next: ${m.check}` +
      (files.length > 0 ? ` Files involved: ${files.slice(0, 5).join(', ')}${files.length > 5 || b.moreFiles ? ', …' : ''}.` : '');
    const ev: EvidenceFrame[] = b.evidence.map((e) => evidence(this.ctx, e.frame, e.what, formatFrameTime));
    if (b.lastEv !== undefined) ev.push(evidence(this.ctx, b.lastEv.frame, b.lastEv.what, formatFrameTime));
    const metrics: Finding['metrics'] = { status: b.status, replies: n, ops, files };
    if (dropped > 0) metrics.burstsNotReported = dropped;
    const f: Finding = {
      kind: this.kind,
      severity: m.severity,
      title: `${b.status} ×${n} for client ${b.client}${files.length === 1 ? ` on ${files[0]}` : files.length > 1 ? ` on ${files.length}${b.moreFiles ? '+' : ''} files` : ''}`,
      explanation,
      client: b.client,
      server: b.server,
      start: formatFrameTime(b.first),
      end: formatFrameTime(b.last),
      durationSeconds: Math.round((seconds(b.last) - seconds(b.first)) * 1e6) / 1e6,
      count: n,
      evidence: ev,
      metrics,
    };
    if (b.clientid !== undefined) f.clientid = b.clientid;
    if (b.sessionid !== undefined) f.sessionid = b.sessionid;
    if (files.length === 1) f.file = files[0]!;
    return f;
  }
}
