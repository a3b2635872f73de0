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
 * - `stateErrors.maxGroups` (10,000; `stateErrors.maxFindings` before): clients and
 *   statuses followed, each a finding (the first ones; the bursts of others are
 *   counted in `burstsNotReported`). A group lists its first MAX_BURSTS_DETAILED
 *   bursts one by one while fewer than MAX_DETAILED_TOTAL are held in all; its
 *   later bursts are folded into one tally (replies, ops, files, last reply).
 */
import { noteNotReported } from './recent-groups.js';
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { burstsText, cleanMetrics, plural, sentences } from './wording.js';
import { groupBudgetOf, type GroupBudget } from './group-budget.js';
import { MAX_EVIDENCE, evidence, fileLabel, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { RecoveryTracker, compoundOf, failedOp } from './session-recovery-loop.js';
import { LruMap } from '../memory/lru.js';
import { entityBoundOf } from '../memory/entity-bound.js';

export const KIND_STATE_ERRORS = 'state-errors';

const PROG_NFS = 100003;
const MAX_FILES = 20;

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
    cause: 'a server restart or failover the client did not reclaim its state after',
    check: 'check for a restart and for OPEN CLAIM_PREVIOUS in the grace period',
    severity: 'warning',
  },
  NFS4ERR_BAD_STATEID: {
    what: 'used a stateid the server does not know (never given, or already closed)',
    cause: 'a race between CLOSE and I/O, a client bug, or state the server discarded',
    check: 'look at the CLOSE, FREE_STATEID or DELEGRETURN before the failing calls',
    severity: 'warning',
  },
  NFS4ERR_OLD_STATEID: {
    what: 'used an outdated seqid of a stateid',
    cause: 'an OPEN or LOCK racing with I/O that carried the previous seqid',
    check: 'a few are harmless (the client retries); many mean contention on one file or a client bug',
    severity: 'warning',
  },
  NFS4ERR_EXPIRED: {
    what: 'used state of an expired lease: its opens and locks are gone',
    cause: 'a lease not renewed in time (network outage, client stall, a short lease time)',
    check: 'check the network and the client then; applications may have lost locks',
    severity: 'error',
  },
  NFS4ERR_ADMIN_REVOKED: {
    what: 'used state an administrator or the server revoked',
    cause: 'a revocation, such as a delegation not returned in time',
    check: 'check the server’s logs for revocations and failed CB_RECALLs',
    severity: 'error',
  },
  NFS4ERR_STALE_CLIENTID: {
    what: 'used a client id the server no longer knows',
    cause: 'a server restart or an expired client not yet re-established',
    check: 'check for a restart and for SETCLIENTID or EXCHANGE_ID soon after',
    severity: 'warning',
  },
  NFS4ERR_STALE: {
    what: 'used a file handle the server no longer recognises',
    cause: 'a file removed (maybe by another client) or an export changed or re-created',
    check: 'check for removals and export changes; applications saw ESTALE',
    severity: 'warning',
  },
  NFS3ERR_STALE: {
    what: 'used a file handle the server no longer recognises',
    cause: 'a file removed (maybe by another client) or an export changed or re-created',
    check: 'check for removals and export changes; applications saw ESTALE',
    severity: 'warning',
  },
};

/**
 * Replies of one client and status close together. Its lists are made at
 * their size (most hold one item), not grown from empty by a push that
 * reserves 17 slots (docs/memory.md, session 38).
 */
interface Burst {
  client: string;
  server: string;
  status: string;
  clientid?: string;
  sessionid?: string;
  count: number;
  first: FrameRef;
  last: FrameRef;
  /** Each op refused, followed by its count, in the order first refused. */
  ops: (string | number)[];
  /** Files named, MAX_FILES at most, in the order first named. */
  files: string[];
  moreFiles: boolean;
  evidence: Reply[];
  lastEv?: Reply;
}

/**
 * A refused call as evidence: its parts, the line made only for the replies
 * a finding lists (whatOf). A line made per reply was a string of several
 * joined pieces, each burst holding up to MAX_EVIDENCE of them: with
 * thousands of clients most of this detector's memory (docs/memory.md,
 * session 37). Its frame's fields are its own: one object less per reply
 * (session 38).
 */
interface Reply extends FrameRef {
  op: string;
  file: string | undefined;
  status: string;
  tag: string | undefined;
}

const whatOf = (e: Reply): string => `${e.op}${e.file !== undefined ? ` ${e.file}` : ''} → ${e.status}${e.tag !== undefined && e.tag !== '' ? ` (tag ${e.tag})` : ''}`;

const seconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;

/** Counts `k` more refusals of `op` in a burst's ops (op, count, op, count…). */
function addOp(ops: (string | number)[], op: string, k: number): void {
  for (let i = 0; i < ops.length; i += 2) {
    if (ops[i] === op) {
      ops[i + 1] = (ops[i + 1] as number) + k;
      return;
    }
  }
  ops.push(op, k);
}

/** Adds a file a burst named: MAX_FILES are kept, more are only said to be. */
function addFile(b: Burst, f: string): void {
  if (b.files.includes(f)) return;
  if (b.files.length < MAX_FILES) b.files.push(f);
  else b.moreFiles = true;
}

/** Bursts of one client and status listed one by one, at most. */
export const MAX_BURSTS_DETAILED = 20;
/** Bursts listed one by one in all groups, at most (a group's first always is). */
export const MAX_DETAILED_TOTAL = 5000;

/** A client's bursts of one status: the first in detail, the later ones folded into `tail` (a tally of `folded` bursts). */
interface Group {
  bursts: Burst[];
  tail?: Burst;
  folded: number;
}

export class StateErrorsDetector implements Detector {
  readonly kind = KIND_STATE_ERRORS;
  private readonly open = new LruMap<string, Burst>();
  /** Groups by client and status, in the order of their first burst's end. */
  private readonly groups = new Map<string, Group>();
  private detailed = 0;
  private dropped = 0;
  private readonly recovery: RecoveryTracker;
  private readonly burstSeconds: number;
  private readonly maxGroups: number;
  /** Bursts open at once at most (the oldest closed beyond). */
  private readonly maxOpenBursts: number;
  private readonly budget: GroupBudget;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.budget = groupBudgetOf(ctx);
    this.burstSeconds = options['stateErrors.burstSeconds'] ?? 5;
    this.maxGroups = options['stateErrors.maxGroups'] ?? options['stateErrors.maxFindings'] ?? entityBoundOf(options);
    this.maxOpenBursts = entityBoundOf(options);
    this.recovery = new RecoveryTracker(options['sessionRecovery.maxEpisodeSeconds'] ?? 120, options['sessionRecovery.maxClients'] ?? entityBoundOf(options));
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
    const now = seconds(at);
    // Bursts with no reply for burstSeconds are over: closed now, least recently
    // active first, so that those held open are the ones still going (thousands
    // of clients each refused once held a burst each until the end).
    for (let o = this.open.oldest(); o !== undefined && now - seconds(o[1].last) > this.burstSeconds; o = this.open.oldest()) this.close(o[0], o[1]);
    let b = this.open.touch(key);
    if (b !== undefined && now - seconds(b.last) > this.burstSeconds) {
      // Over though newer than the oldest open (time went backwards in the capture).
      this.close(key, b);
      b = undefined;
    }
    if (b === undefined) {
      b = { client: t.client.addr, server: t.server.addr, status, count: 0, first: at, last: at, ops: [op, 0], files: files.length > 0 ? [files[0]!] : [], moreFiles: false, evidence: [] };
      this.open.set(key, b);
      if (this.open.size > this.maxOpenBursts) {
        const [k, v] = this.open.oldest()!;
        this.close(k, v);
      }
    }
    b.count++;
    b.last = at;
    if (t.nfs4?.clientid !== undefined) b.clientid ??= t.nfs4.clientid;
    if (t.nfs4?.sessionid !== undefined) b.sessionid ??= t.nfs4.sessionid;
    addOp(b.ops, op, 1);
    for (const f of files) addFile(b, f);
    const e: Reply = { fileIndex: at.fileIndex, number: at.number, tsSec: at.tsSec, tsNsec: at.tsNsec, op, file: files[0], status, tag: t.decoded?.call?.tag };
    if (b.evidence.length === 0) b.evidence = [e];
    else if (b.evidence.length < MAX_EVIDENCE - 1) b.evidence.push(e);
    else b.lastEv = e;
  }

  private close(key: string, b: Burst): void {
    this.open.delete(key);
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= this.maxGroups || !this.budget.admit(this.groups.size, this.kind)) {
        this.dropped++;
        return;
      }
      // A group's first burst is always listed.
      this.groups.set(key, { bursts: [b], folded: 0 });
      this.detailed++;
      return;
    }
    if (g.bursts.length < MAX_BURSTS_DETAILED && this.detailed < MAX_DETAILED_TOTAL) {
      if (b.evidence.length > 1) {
        // A later burst shows its first reply, and its last if it ends the finding (finding()): the others go.
        b.lastEv ??= b.evidence[b.evidence.length - 1];
        b.evidence = [b.evidence[0]!];
      }
      g.bursts.push(b);
      this.detailed++;
      return;
    }
    g.folded++;
    const t = g.tail;
    if (t === undefined) {
      // The first burst folded becomes the tally; its evidence is not kept (the last reply is).
      b.lastEv ??= b.evidence[b.evidence.length - 1];
      b.evidence = [];
      g.tail = b;
      return;
    }
    t.count += b.count;
    t.last = b.last;
    t.lastEv = b.lastEv ?? b.evidence[b.evidence.length - 1];
    t.clientid ??= b.clientid;
    t.sessionid ??= b.sessionid;
    for (let i = 0; i < b.ops.length; i += 2) addOp(t.ops, b.ops[i] as string, b.ops[i + 1] as number);
    for (const f of b.files) addFile(t, f);
    t.moreFiles ||= b.moreFiles;
  }

  /** Bursts still open, each held with its evidence (docs/memory.md). */
  get openBursts(): number {
    return this.open.size;
  }

  /** After finish(): the bursts beyond those kept, and the recovery episodes forgotten (their STALE_CLIENTID replies judged as outside one). */
  notReported(): NotReportedCounts {
    return positiveCounts({ burstsNotReported: this.dropped, recoveriesForgotten: this.recovery.forgotten });
  }

  finish(): Finding[] {
    for (const [k, b] of [...this.open]) this.close(k, b);
    // One finding per client and status, its bursts inside.
    const out = [...this.groups.values()].map((g) => this.finding(g));
    return noteNotReported(out, 'burstsNotReported', this.dropped);
  }

  private finding(g: Group): Finding {
    const bursts = g.bursts;
    const tail = g.tail;
    const b0 = bursts[0]!;
    const last = tail ?? bursts[bursts.length - 1]!;
    const burstCount = bursts.length + g.folded;
    const m = MEANING[b0.status]!;
    const opCounts = new Map<string, number>();
    const fileSet = new Set<string>();
    let moreFiles = false;
    let n = 0;
    for (const b of tail !== undefined ? [...bursts, tail] : bursts) {
      n += b.count;
      for (let i = 0; i < b.ops.length; i += 2) opCounts.set(b.ops[i] as string, (opCounts.get(b.ops[i] as string) ?? 0) + (b.ops[i + 1] as number));
      for (const f of b.files) if (fileSet.size < MAX_FILES) fileSet.add(f);
      moreFiles ||= b.moreFiles;
    }
    const ops = [...opCounts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([op, k]) => `${op} ×${k}`);
    const files = [...fileSet];
    // The first burst in full (as far as it fits), the first reply of each later one, and the last reply.
    const items: Reply[] = [];
    const room = MAX_EVIDENCE - 1 - Math.min(burstCount - 1, MAX_EVIDENCE / 2);
    items.push(...b0.evidence.slice(0, Math.max(1, room)));
    for (const b of bursts.slice(1)) if (items.length < MAX_EVIDENCE - 1) items.push(b.evidence[0]!);
    const lastItem = last.lastEv ?? last.evidence[last.evidence.length - 1]!;
    if (items[items.length - 1] !== lastItem) items.push(lastItem);
    // The quiet gaps between bursts (each burst ends after burstSeconds without a reply of its status).
    const spread = burstsText(bursts.slice(1).map((b, i) => seconds(b.first) - seconds(bursts[i]!.last)));
    const filesText = files.length === 0 ? '' : files.length === 1 ? ` on ${files[0]}` : ` on ${files.length}${moreFiles ? '+' : ''} files`;
    const f: Finding = {
      kind: this.kind,
      severity: m.severity,
      title: `${b0.status} ×${n} for client ${b0.client}${filesText}${burstCount > 1 ? ` in ${burstCount} bursts` : ''}`,
      explanation: sentences(`${n === 1 ? 'a call was' : `${plural(n, 'call')} were`} refused${spread !== '' ? ` ${spread}` : ''}: the client ${m.what}`, `likely ${m.cause}; ${m.check}`),
      client: b0.client,
      server: b0.server,
      start: formatFrameTime(b0.first),
      end: formatFrameTime(last.last),
      durationSeconds: Math.round((seconds(last.last) - seconds(b0.first)) * 1e6) / 1e6,
      count: n,
      evidence: items.map((e) => evidence(this.ctx, e, whatOf(e), formatFrameTime)),
      metrics: cleanMetrics({
        status: b0.status,
        replies: n,
        bursts: burstCount,
        burstReplies:
          burstCount > 1
            ? [
                ...bursts.map((b) => `${formatFrameTime(b.first)}: ${b.count}`),
                ...(tail !== undefined ? [`${formatFrameTime(tail.first)} → ${formatFrameTime(tail.last)}: ${tail.count} in ${plural(g.folded, 'more burst')}`] : []),
              ]
            : undefined,
        ops,
        files,
      }),
      impact: { blockedSeconds: 0, calls: n },
    };
    const clientid = bursts.find((b) => b.clientid !== undefined)?.clientid ?? tail?.clientid;
    const sessionid = bursts.find((b) => b.sessionid !== undefined)?.sessionid ?? tail?.sessionid;
    if (clientid !== undefined) f.clientid = clientid;
    if (sessionid !== undefined) f.sessionid = sessionid;
    if (files.length === 1) f.file = files[0]!;
    return f;
  }
}
