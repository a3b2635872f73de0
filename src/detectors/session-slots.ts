/**
 * session-slots (NFSv4.1+, RFC 8881 §2.10.6.1): misuse of a session's slot
 * table, per session:
 * - SEQUENCE refused with NFS4ERR_SEQ_MISORDERED (the sequence id is neither
 *   the slot's last one, a retry, nor the next one) or NFS4ERR_BADSLOT;
 * - a slot id at or beyond the fore channel's slot count (ca_maxrequests of
 *   the CREATE_SESSION reply, learnt from the transactions);
 * - a sequence-id gap: a new request on a slot whose sequence id is more than
 *   the last one the server accepted plus one.
 *
 * Options: `sessionSlots.maxSessions` (10000): sessions followed at most.
 */
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type EvidenceFrame, type Finding } from './finding.js';
import { compoundOf } from './session-recovery-loop.js';
import { LruMap } from '../memory/lru.js';

export const KIND_SESSION_SLOTS = 'session-slots';

/** Slots followed per session at most. */
const MAX_SLOTS = 1024;

type SlotIssue = 'seq-misordered' | 'badslot' | 'beyond-table' | 'sequence-gap';

interface Issue {
  kind: SlotIssue;
  frame: FrameRef;
  what: string;
}

interface SessionState {
  sessionid: string;
  client: string;
  server: string;
  clientid?: string;
  foreSlots?: number;
  slots: Map<number, number>;
  counts: Record<SlotIssue, number>;
  /** Transactions with at least one issue. */
  total: number;
  first?: FrameRef;
  last?: FrameRef;
  /** The first issues, and the last one. */
  issues: Issue[];
  lastIssue?: Issue;
  maxSlotSeen: number;
}

export class SessionSlotsDetector implements Detector {
  readonly kind = KIND_SESSION_SLOTS;
  private readonly sessions = new LruMap<string, SessionState>();
  private readonly maxSessions: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.maxSessions = options['sessionSlots.maxSessions'] ?? 10_000;
  }

  private session(sessionid: string, t: Transaction): SessionState {
    let s = this.sessions.get(sessionid);
    if (s === undefined) {
      s = {
        sessionid,
        client: t.client.addr,
        server: t.server.addr,
        slots: new Map(),
        counts: { 'seq-misordered': 0, badslot: 0, 'beyond-table': 0, 'sequence-gap': 0 },
        total: 0,
        issues: [],
        maxSlotSeen: -1,
      };
      this.sessions.set(sessionid, s);
      if (this.sessions.size > this.maxSessions) {
        // Drop the oldest session without issues, else the oldest.
        let victim: string | undefined;
        for (const [k, v] of this.sessions) {
          if (v.total === 0) {
            victim = k;
            break;
          }
        }
        this.sessions.delete(victim ?? this.sessions.oldest()![0]);
      }
    }
    return s;
  }

  onTransaction(t: Transaction): void {
    const c = compoundOf(t);
    if (c === undefined) return;
    // CREATE_SESSION: learn the fore channel's slot count.
    const ci = c.ops.indexOf('CREATE_SESSION');
    if (ci >= 0 && c.opStatus[ci] === 'NFS4_OK') {
      const res = resultAt(t.decoded?.reply?.results, ci);
      const sessionid = typeof res?.sessionid === 'string' ? res.sessionid : undefined;
      const fore = res?.foreChannel as { maxRequests?: unknown } | undefined;
      if (sessionid !== undefined) {
        const s = this.session(sessionid, t);
        if (typeof fore?.maxRequests === 'number') s.foreSlots = fore.maxRequests;
        const args = argsAt(t.decoded?.call?.args, ci);
        if (typeof args?.clientid === 'string') s.clientid = args.clientid;
      }
    }
    if (c.ops[0] !== 'SEQUENCE') return;
    const a = t.nfs4;
    const args = argsAt(t.decoded?.call?.args, 0);
    const sessionid = a?.sessionid ?? (typeof args?.sessionid === 'string' ? args.sessionid : undefined);
    const slot = a?.slotid ?? (typeof args?.slotid === 'number' ? args.slotid : undefined);
    const seq = a?.sequenceid ?? (typeof args?.sequenceid === 'number' ? args.sequenceid : undefined);
    if (sessionid === undefined || slot === undefined || seq === undefined) return;
    const status = c.opStatus[0] ?? c.status;
    // A session the server does not know is for session-recovery-loop, not a slot issue.
    if (status === 'NFS4ERR_BADSESSION' || status === 'NFS4ERR_DEADSESSION') return;
    const s = this.session(sessionid, t);
    s.clientid ??= a?.clientid;
    const found: Issue[] = [];
    const where = t.reply!.frame;
    const about = t.decoded?.call?.mainOp ?? 'SEQUENCE';
    if (status === 'NFS4ERR_SEQ_MISORDERED') {
      const last = s.slots.get(slot);
      found.push({ kind: 'seq-misordered', frame: where, what: `${about}: slot ${slot} seq ${seq}${last !== undefined ? ` (last accepted ${last})` : ''} → NFS4ERR_SEQ_MISORDERED` });
    }
    if (status === 'NFS4ERR_BADSLOT') found.push({ kind: 'badslot', frame: where, what: `${about}: slot ${slot} → NFS4ERR_BADSLOT` });
    if (s.foreSlots !== undefined && slot >= s.foreSlots) {
      found.push({ kind: 'beyond-table', frame: t.call.frame, what: `${about}: slot ${slot} beyond the table of ${s.foreSlots} slot${s.foreSlots === 1 ? '' : 's'} (→ ${status})` });
    }
    const last = s.slots.get(slot);
    if (last !== undefined) {
      const ahead = (seq - last) >>> 0;
      if (ahead > 1 && ahead < 0x80000000) {
        found.push({ kind: 'sequence-gap', frame: t.call.frame, what: `${about}: slot ${slot} seq ${seq} after ${last} (${ahead - 1} skipped) → ${status}` });
      }
    }
    if (status === 'NFS4_OK' && (s.slots.has(slot) || s.slots.size < MAX_SLOTS)) s.slots.set(slot, seq);
    if (slot > s.maxSlotSeen) s.maxSlotSeen = slot;
    if (found.length === 0) return;
    s.total++;
    s.first ??= found[0]!.frame;
    s.last = found[0]!.frame;
    for (const f of found) {
      s.counts[f.kind]++;
      if (s.issues.length < MAX_EVIDENCE - 1) s.issues.push(f);
      else s.lastIssue = f;
    }
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const s of this.sessions.values()) {
      if (s.total === 0 || s.first === undefined || s.last === undefined) continue;
      out.push(this.finding(s));
    }
    return out;
  }

  private finding(s: SessionState): Finding {
    const c = s.counts;
    const parts: string[] = [];
    if (c['seq-misordered'] > 0) parts.push(`${c['seq-misordered']} NFS4ERR_SEQ_MISORDERED`);
    if (c.badslot > 0) parts.push(`${c.badslot} NFS4ERR_BADSLOT`);
    if (c['beyond-table'] > 0) parts.push(`${c['beyond-table']} slot id${c['beyond-table'] === 1 ? '' : 's'} beyond the table`);
    if (c['sequence-gap'] > 0) parts.push(`${c['sequence-gap']} sequence-id gap${c['sequence-gap'] === 1 ? '' : 's'}`);
    const explain: string[] = [
      `Client ${s.client}'s requests on session ${s.sessionid} did not follow the session's slot rules: ${parts.join(', ')}.`,
      'Each slot carries one request at a time, and each new request on a slot must carry the slot\'s last sequence id plus one (a retry the same one); slot ids must stay below the slot count the server granted in CREATE_SESSION.',
    ];
    if (c['seq-misordered'] > 0 || c['sequence-gap'] > 0) {
      explain.push('Misordered or skipped sequence ids mean the client and the server disagree about a slot: a client bug, a request the client gave up on (interrupted, timed out) and reused the slot for, or a server that lost its reply cache.');
    }
    if (c.badslot > 0 || c['beyond-table'] > 0) {
      explain.push('Slot ids beyond the table mean the client ignored the slot count (or a later highest_slotid reduction) the server announced.');
    }
    explain.push('Refused requests are retried or fail: look at the frames below, the client\'s kernel version (known slot-table bugs), and whether the server shrank the slot table (SEQUENCE replies\' target_highest_slotid).');
    const severity = c['seq-misordered'] + c.badslot > 0 ? 'warning' : 'info';
    const ev: EvidenceFrame[] = s.issues.map((i) => evidence(this.ctx, i.frame, i.what, formatFrameTime));
    if (s.lastIssue !== undefined) ev.push(evidence(this.ctx, s.lastIssue.frame, s.lastIssue.what, formatFrameTime));
    const metrics: Finding['metrics'] = {
      seqMisordered: c['seq-misordered'],
      badSlot: c.badslot,
      slotBeyondTable: c['beyond-table'],
      sequenceGaps: c['sequence-gap'],
      highestSlotSeen: s.maxSlotSeen,
    };
    if (s.foreSlots !== undefined) metrics.foreChannelSlots = s.foreSlots;
    const f: Finding = {
      kind: this.kind,
      severity,
      title: `Session slot misuse on ${s.sessionid.slice(0, 16)}… (client ${s.client}): ${parts.join(', ')}`,
      explanation: explain.join(' '),
      client: s.client,
      server: s.server,
      sessionid: s.sessionid,
      start: formatFrameTime(s.first!),
      end: formatFrameTime(s.last!),
      durationSeconds: Math.round((s.last!.tsSec - s.first!.tsSec + (s.last!.tsNsec - s.first!.tsNsec) / 1e9) * 1e6) / 1e6,
      count: s.total,
      evidence: ev,
      metrics,
    };
    if (s.clientid !== undefined) f.clientid = s.clientid;
    return f;
  }
}

function argsAt(args: unknown, i: number): Record<string, unknown> | undefined {
  const ops = (args as { ops?: unknown } | undefined)?.ops;
  if (!Array.isArray(ops)) return undefined;
  const a = (ops[i] as { args?: unknown } | undefined)?.args;
  return typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : undefined;
}

function resultAt(results: unknown, i: number): Record<string, unknown> | undefined {
  const ops = (results as { ops?: unknown } | undefined)?.ops;
  if (!Array.isArray(ops)) return undefined;
  const r = (ops[i] as { result?: unknown } | undefined)?.result;
  return typeof r === 'object' && r !== null ? (r as Record<string, unknown>) : undefined;
}
