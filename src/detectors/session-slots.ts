/**
 * session-slots (NFSv4.1+, RFC 8881 §2.10.6.1): misuse of a session's slot
 * table, followed per session and reported per client (its sessions inside):
 * - SEQUENCE refused with NFS4ERR_SEQ_MISORDERED (the sequence id is neither
 *   the slot's last one, a retry, nor the next one) or NFS4ERR_BADSLOT;
 * - a slot id at or beyond the fore channel's slot count (ca_maxrequests of
 *   the CREATE_SESSION reply, learnt from the transactions);
 * - a sequence-id gap: a new request on a slot whose sequence id is more than
 *   the last one the server accepted plus one.
 *
 * Options: `sessionSlots.maxSessions` (MAX_SESSIONS, at least 2): sessions
 * followed at most. Beyond, the least recently seen session without an
 * issue is forgotten first (it has nothing to report; only its slots'
 * sequence ids are lost), else the least recently seen one with issues,
 * counted in the last finding's `sessionsNotReported`. A session is never
 * evicted for itself: room is made before it is added. Slots 0 to
 * MAX_SLOTS_FOLLOWED - 1 are followed; the calls on others are counted in
 * their finding's `callsOnSlotsNotFollowed` (their sequence ids unchecked).
 */
import { noteNotReported } from './recent-groups.js';
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { cleanMetrics, listText, plural, sentences } from './wording.js';
import { compoundOf } from './session-recovery-loop.js';
import { LruList, type LruLinks } from '../memory/lru.js';
import { DEFAULT_ENTITY_BOUND, entityBoundOf } from '../memory/entity-bound.js';

export const KIND_SESSION_SLOTS = 'session-slots';

/**
 * Slot ids followed per session: 0 to 127. Their last accepted sequence
 * ids are kept in a typed array grown to the highest such slot used.
 * Until session 34 any 1,024 slots of a session were followed in a Map
 * (about 28 bytes a slot: 200 sessions of 1,024 slots took 5.8 MB).
 */
export const MAX_SLOTS_FOLLOWED = 128;
/** Sessions followed at most (`sessionSlots.maxSessions`). */
export const MAX_SESSIONS = DEFAULT_ENTITY_BOUND;
/** Words of a session's slot array before the sequence ids: a bitmap of the slots known. */
const KNOWN_WORDS = MAX_SLOTS_FOLLOWED / 32;

type SlotIssue = 'seq-misordered' | 'badslot' | 'beyond-table' | 'sequence-gap';

interface Issue {
  kind: SlotIssue;
  frame: FrameRef;
  what: string;
}

class SessionState implements LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  clientid?: string;
  foreSlots?: number;
  /**
   * The last sequence id the server accepted per followed slot: KNOWN_WORDS
   * words of a bitmap of the slots known, then one word per slot (as many
   * as the highest slot used needs, by powers of two). Made at the first.
   */
  slots: Uint32Array | undefined = undefined;
  /** Calls on slots beyond those followed. */
  notFollowed = 0;
  counts: Record<SlotIssue, number> = { 'seq-misordered': 0, badslot: 0, 'beyond-table': 0, 'sequence-gap': 0 };
  /** Transactions with at least one issue. */
  total = 0;
  first?: FrameRef;
  last?: FrameRef;
  /** The first issues, and the last one. */
  issues: Issue[] = [];
  lastIssue?: Issue;
  maxSlotSeen = -1;

  constructor(
    readonly sessionid: string,
    readonly client: string,
    readonly server: string,
  ) {}

  /** The last sequence id accepted on a followed slot, if any. */
  lastAccepted(slot: number): number | undefined {
    const a = this.slots;
    if (a === undefined || slot >= MAX_SLOTS_FOLLOWED || (a[slot >>> 5]! & (1 << (slot & 31))) === 0) return undefined;
    return a[KNOWN_WORDS + slot];
  }

  /** Records a sequence id the server accepted on a followed slot. */
  accepted(slot: number, seq: number): void {
    let a = this.slots;
    if (a === undefined || KNOWN_WORDS + slot >= a.length) {
      let n = 8;
      while (n <= slot) n *= 2;
      const grown = new Uint32Array(KNOWN_WORDS + n);
      if (a !== undefined) grown.set(a);
      this.slots = a = grown;
    }
    a[slot >>> 5]! |= 1 << (slot & 31);
    a[KNOWN_WORDS + slot] = seq;
  }
}

export class SessionSlotsDetector implements Detector {
  readonly kind = KIND_SESSION_SLOTS;
  /** Sessions by id, in the order first seen (findings list them so). */
  private readonly sessions = new Map<string, SessionState>();
  /** Sessions without an issue, and with one: each least recently seen first. */
  private readonly clean = new LruList<SessionState>();
  private readonly troubled = new LruList<SessionState>();
  private readonly maxSessions: number;
  /** Sessions with issues forgotten beyond maxSessions. */
  private sessionsNotReportedCount = 0;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.maxSessions = Math.max(2, options['sessionSlots.maxSessions'] ?? entityBoundOf(options));
  }

  /** The session, made the most recently seen; a new one once there is room. */
  private session(sessionid: string, t: Transaction): SessionState {
    let s = this.sessions.get(sessionid);
    if (s !== undefined) {
      (s.total === 0 ? this.clean : this.troubled).touch(s);
      return s;
    }
    if (this.sessions.size >= this.maxSessions) {
      // The least recently seen session without issues (nothing to report), else with.
      let victim = this.clean.shift();
      if (victim === null) {
        victim = this.troubled.shift()!;
        this.sessionsNotReportedCount++;
      }
      this.sessions.delete(victim.sessionid);
    }
    s = new SessionState(sessionid, t.client.addr, t.server.addr);
    this.sessions.set(sessionid, s);
    this.clean.push(s);
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
    const last = s.lastAccepted(slot);
    if (slot >= MAX_SLOTS_FOLLOWED) s.notFollowed++;
    if (status === 'NFS4ERR_SEQ_MISORDERED') {
      found.push({ kind: 'seq-misordered', frame: where, what: `${about}: slot ${slot} seq ${seq}${last !== undefined ? ` (last accepted ${last})` : ''} → NFS4ERR_SEQ_MISORDERED` });
    }
    if (status === 'NFS4ERR_BADSLOT') found.push({ kind: 'badslot', frame: where, what: `${about}: slot ${slot} → NFS4ERR_BADSLOT` });
    if (s.foreSlots !== undefined && slot >= s.foreSlots) {
      found.push({ kind: 'beyond-table', frame: t.call.frame, what: `${about}: slot ${slot} beyond the table of ${s.foreSlots} slot${s.foreSlots === 1 ? '' : 's'} (→ ${status})` });
    }
    if (last !== undefined) {
      const ahead = (seq - last) >>> 0;
      if (ahead > 1 && ahead < 0x80000000) {
        found.push({ kind: 'sequence-gap', frame: t.call.frame, what: `${about}: slot ${slot} seq ${seq} after ${last} (${ahead - 1} skipped) → ${status}` });
      }
    }
    if (status === 'NFS4_OK' && slot < MAX_SLOTS_FOLLOWED) s.accepted(slot, seq);
    if (slot > s.maxSlotSeen) s.maxSlotSeen = slot;
    if (found.length === 0) return;
    if (s.total === 0) {
      this.clean.remove(s);
      this.troubled.push(s);
    }
    s.total++;
    s.first ??= found[0]!.frame;
    s.last = found[0]!.frame;
    for (const f of found) {
      s.counts[f.kind]++;
      if (s.issues.length < MAX_EVIDENCE - 1) s.issues.push(f);
      else s.lastIssue = f;
    }
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ sessionsNotReported: this.sessionsNotReportedCount });
  }

  finish(): Finding[] {
    // One finding per client and server, its sessions inside, in the order first seen.
    const groups = new Map<string, SessionState[]>();
    for (const s of this.sessions.values()) {
      if (s.total === 0 || s.first === undefined || s.last === undefined) continue;
      const key = `${s.client}|${s.server}`;
      const list = groups.get(key) ?? [];
      list.push(s);
      groups.set(key, list);
    }
    const out = [...groups.values()].map((list) => this.finding(list));
    noteNotReported(out, 'sessionsNotReported', this.sessionsNotReportedCount);
    return out;
  }

  private finding(list: SessionState[]): Finding {
    const s0 = list[0]!;
    const c: Record<SlotIssue, number> = { 'seq-misordered': 0, badslot: 0, 'beyond-table': 0, 'sequence-gap': 0 };
    let total = 0;
    let notFollowed = 0;
    let first = s0.first!;
    let last = s0.last!;
    const issues: Issue[] = [];
    for (const s of list) {
      for (const k of Object.keys(c) as SlotIssue[]) c[k] += s.counts[k];
      total += s.total;
      notFollowed += s.notFollowed;
      if (seconds(s.first!) < seconds(first)) first = s.first!;
      if (seconds(s.last!) > seconds(last)) last = s.last!;
      issues.push(...s.issues, ...(s.lastIssue !== undefined ? [s.lastIssue] : []));
    }
    // Several sessions: their issues in frame order (one session keeps the order found).
    if (list.length > 1) issues.sort((a, b) => a.frame.number - b.frame.number);
    // The first issues, and the last one.
    const shown = issues.length <= MAX_EVIDENCE ? issues : [...issues.slice(0, MAX_EVIDENCE - 1), issues[issues.length - 1]!];
    const parts: string[] = [];
    if (c['seq-misordered'] > 0) parts.push(`${c['seq-misordered']} NFS4ERR_SEQ_MISORDERED`);
    if (c.badslot > 0) parts.push(`${c.badslot} NFS4ERR_BADSLOT`);
    if (c['beyond-table'] > 0) parts.push(plural(c['beyond-table'], 'slot id') + ' beyond the table');
    if (c['sequence-gap'] > 0) parts.push(plural(c['sequence-gap'], 'sequence-id gap'));
    const sessions = list.length === 1 ? 'its session' : `${list.length} of its sessions`;
    const disagree = c['seq-misordered'] > 0 || c['sequence-gap'] > 0;
    const beyond = c.badslot > 0 || c['beyond-table'] > 0;
    const explanation = sentences(
      `the client broke the slot rules of ${sessions}`,
      disagree && 'client and server disagree about a slot: a client bug, a slot reused after an interrupted call, or a lost reply cache',
      beyond && 'it used slots beyond the count the server granted',
      "check the client's kernel for slot bugs",
    );
    const severity = c['seq-misordered'] + c.badslot > 0 ? 'warning' : 'info';
    const fore = list.map((s) => s.foreSlots).filter((x): x is number => x !== undefined);
    const metrics = cleanMetrics({
      seqMisordered: c['seq-misordered'],
      badSlot: c.badslot,
      slotBeyondTable: c['beyond-table'],
      sequenceGaps: c['sequence-gap'],
      highestSlotSeen: Math.max(...list.map((s) => s.maxSlotSeen)),
      foreChannelSlots: fore.length > 0 ? Math.min(...fore) : undefined,
      sessions: list.length > 1 ? list.map((s) => s.sessionid) : undefined,
      callsOnSlotsNotFollowed: notFollowed > 0 ? notFollowed : undefined,
    });
    const f: Finding = {
      kind: this.kind,
      severity,
      title: `Session slot misuse by client ${s0.client}: ${listText(parts)}`,
      explanation,
      client: s0.client,
      server: s0.server,
      start: formatFrameTime(first),
      end: formatFrameTime(last),
      durationSeconds: Math.round((seconds(last) - seconds(first)) * 1e6) / 1e6,
      count: total,
      evidence: shown.map((i) => evidence(this.ctx, i.frame, list.length > 1 ? `session ${sessionLabel(list, i)} ${i.what}` : i.what, formatFrameTime)),
      metrics,
    };
    if (list.length === 1) f.sessionid = s0.sessionid;
    const clientid = list.find((s) => s.clientid !== undefined)?.clientid;
    if (clientid !== undefined) f.clientid = clientid;
    return f;
  }
}

const seconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;

/** The session an issue belongs to, by the first 8 hex digits of its id. */
function sessionLabel(list: readonly SessionState[], issue: Issue): string {
  const s = list.find((x) => x.issues.includes(issue) || x.lastIssue === issue);
  return s !== undefined ? `${s.sessionid.slice(0, 8)}…` : '?';
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
