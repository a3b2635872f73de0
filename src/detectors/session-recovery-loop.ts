/**
 * session-recovery-loop (NFSv4.1+, RFC 8881 §2.10.6, §8.4.2): a client's
 * SEQUENCE is refused with NFS4ERR_BADSESSION or NFS4ERR_DEADSESSION, and
 * the client recovers: DESTROY_SESSION / CREATE_SESSION, and when the client
 * id is gone too (CREATE_SESSION → NFS4ERR_STALE_CLIENTID) EXCHANGE_ID and
 * CREATE_SESSION again, until a CREATE_SESSION succeeds. Each such episode
 * is followed per client address (the client id changes across it), with
 * its steps, its frames and duration, and the calls that failed meanwhile
 * (what applications saw as EIO or a hang). Two or more episodes for one
 * client make a loop (error), with its period; a single one is a warning.
 *
 * Options:
 * - `sessionRecovery.loopEpisodes` (2): episodes for one client that make a loop.
 * - `sessionRecovery.maxEpisodeSeconds` (120): an episode not completed by a
 *   successful CREATE_SESSION within this time is closed as incomplete.
 * - `sessionRecovery.maxClients` (MAX_CLIENTS): clients followed at most.
 *   Every client followed has an episode to report; beyond, the least
 *   recently seen one is forgotten (never the one being added: room is made
 *   first), counted in the last finding's `clientsNotReported`. A client's
 *   episodes beyond MAX_EPISODES_KEPT are counted in all its metrics but
 *   listed in none, counted in its `episodesNotReported`.
 */
import { noteNotReported } from './recent-groups.js';
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { cadenceText, cleanMetrics, listText, plural, secondsText, sentences, timesText } from './wording.js';
import { groupBudgetOf, type GroupBudget } from './group-budget.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type EvidenceFrame, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { LruList, LruMap, type LruLinks } from '../memory/lru.js';
import { DEFAULT_ENTITY_BOUND, entityBoundOf } from '../memory/entity-bound.js';

export const KIND_SESSION_RECOVERY = 'session-recovery-loop';

const PROG_NFS = 100003;
/** Statuses that start a recovery episode (on SEQUENCE). */
const SESSION_LOST = new Set(['NFS4ERR_BADSESSION', 'NFS4ERR_DEADSESSION']);
/** Statuses a call fails with while its client recovers. */
const RECOVERY_FAILURES = new Set(['NFS4ERR_BADSESSION', 'NFS4ERR_DEADSESSION', 'NFS4ERR_STALE_CLIENTID']);
/** Ops of the recovery itself. */
const RECOVERY_OPS = new Set(['EXCHANGE_ID', 'CREATE_SESSION', 'DESTROY_SESSION', 'DESTROY_CLIENTID', 'BIND_CONN_TO_SESSION']);
/** Episodes kept in detail per client (all are counted): the first ones and the last. */
export const MAX_EPISODES_KEPT = 50;
/**
 * Clients followed at most (`sessionRecovery.maxClients`), the least
 * recently seen forgotten first. Until session 34 the first client without
 * an episode open was looked for from the oldest: when every client
 * followed had one, it walked them all and forgot the client just added.
 */
export const MAX_CLIENTS = DEFAULT_ENTITY_BOUND;

/** What a decoded NFSv4 COMPOUND reply says, op by op. */
export interface CompoundView {
  t: Transaction;
  /** The COMPOUND status. */
  status: string;
  ops: string[];
  /** Each op's status as far as the reply goes (ops after the first failure have none). */
  opStatus: (string | undefined)[];
  minorVersion: number;
  reply: FrameRef;
}

/** The transaction compoundOf saw last, and its view: several detectors ask in a row about the same transaction. */
let lastTransaction: Transaction | undefined;
let lastView: CompoundView | undefined;

/** The answered NFSv4 COMPOUND a transaction is, or undefined (the same view for the same transaction asked again: read-only). */
export function compoundOf(t: Transaction): CompoundView | undefined {
  if (t.program !== PROG_NFS || t.version !== 4 || t.procedure !== 1 || t.reply === undefined) return undefined;
  if (t === lastTransaction && lastView !== undefined && lastView.reply === t.reply.frame && lastView.ops === t.decoded?.call?.ops) return lastView;
  const view = makeCompoundView(t);
  lastTransaction = t;
  lastView = view;
  return view;
}

function makeCompoundView(t: Transaction): CompoundView | undefined {
  const call = t.decoded?.call;
  const reply = t.decoded?.reply;
  // A COMPOUND reply always has a status (UNKNOWN when unreadable).
  if (call === undefined || reply === undefined || reply.status === null) return undefined;
  const ops = call.ops;
  const opStatus = ops.map((_, i) => (reply.ops?.[i] === ops[i] ? reply.opStatus?.[i] : undefined));
  return { t, status: reply.status, ops, opStatus, minorVersion: call.minorVersion ?? 0, reply: t.reply!.frame };
}

/** The op a COMPOUND failed on (its last answered op whose status is not OK), or its main op. */
export function failedOp(c: CompoundView): string {
  for (let i = c.opStatus.length - 1; i >= 0; i--) {
    const s = c.opStatus[i];
    if (s !== undefined && s !== 'NFS4_OK') return c.ops[i]!;
  }
  return c.t.decoded?.call?.mainOp ?? c.ops[0] ?? '?';
}

/** The status of a COMPOUND's SEQUENCE (its first op), when it has one. */
export function sequenceStatus(c: CompoundView): string | undefined {
  return c.ops[0] === 'SEQUENCE' ? c.opStatus[0] : undefined;
}

/** The ops of the recovery a COMPOUND carries, with their statuses (the COMPOUND's when the op was not reached). */
function recoverySteps(c: CompoundView): { op: string; status: string }[] {
  const out: { op: string; status: string }[] = [];
  c.ops.forEach((op, i) => {
    if (RECOVERY_OPS.has(op)) out.push({ op, status: c.opStatus[i] ?? `not reached (${c.status})` });
  });
  return out;
}

export const shortStatus = (s: string): string => s.replace(/^NFS4ERR_/, '').replace(/^NFS3ERR_/, '');

/**
 * Whether each client address is inside a recovery episode: from a SEQUENCE
 * refused with BADSESSION / DEADSESSION to a successful CREATE_SESSION.
 * Shared with state-errors (which leaves out STALE_CLIENTID inside one).
 */
export class RecoveryTracker {
  private readonly open = new LruMap<string, number>();
  /** Clients inside an episode forgotten (beyond maxClients, the earliest first): their later calls count as outside one. */
  forgotten = 0;
  private readonly maxClients: number;
  constructor(
    private readonly maxEpisodeSeconds = 120,
    maxClients = MAX_CLIENTS,
  ) {
    this.maxClients = Math.max(1, maxClients);
  }

  /** Feeds a COMPOUND; returns whether its client was recovering when it completed (this one included). */
  feed(c: CompoundView): boolean {
    const key = c.t.client.addr;
    const now = seconds(c.reply);
    const started = this.open.get(key);
    const lost = SESSION_LOST.has(sequenceStatus(c) ?? '') || SESSION_LOST.has(c.status);
    if (started !== undefined && now - started > this.maxEpisodeSeconds && !lost) this.open.delete(key);
    if (lost && !this.open.has(key)) {
      this.open.set(key, now);
      if (this.open.size > this.maxClients) {
        this.open.shift();
        this.forgotten++;
      }
    }
    const inside = this.open.has(key);
    if (inside && createSessionOk(c)) this.open.delete(key);
    return inside;
  }
}

function createSessionOk(c: CompoundView): boolean {
  const i = c.ops.indexOf('CREATE_SESSION');
  return i >= 0 && c.opStatus[i] === 'NFS4_OK';
}

const seconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;

interface Step {
  op: string;
  status: string;
  frame: FrameRef;
  /** The COMPOUND's main op (what the step's call was about). */
  about: string;
}

interface Episode {
  start: FrameRef;
  end: FrameRef;
  steps: Step[];
  completed: boolean;
  staleClientid: boolean;
  /** Calls (not of the recovery) that failed during the episode, by op. */
  failed: Map<string, number>;
  failedCalls: number;
  /** Frames of those failures, first few. */
  failedFrames: Step[];
}

interface ClientState extends LruLinks {
  client: string;
  server: string;
  clientids: Set<string>;
  sessionids: Set<string>;
  open?: Episode;
  /** The first MAX_EPISODES_KEPT - 1 episodes, and the last. */
  episodes: Episode[];
  total: number;
  /** Over all episodes, kept or not. */
  staleEpisodes: number;
  incompleteEpisodes: number;
  blockedSeconds: number;
  first?: FrameRef;
  last?: FrameRef;
  /** Sum of the intervals between episode starts, and the intervals (first ones kept). */
  intervals: number[];
  intervalSum: number;
  lastStart?: FrameRef;
  failedCalls: number;
  failed: Map<string, number>;
}

const MAX_STEPS = 40;

export class SessionRecoveryLoopDetector implements Detector {
  readonly kind = KIND_SESSION_RECOVERY;
  /** Clients by address, in the order first followed (findings come so). */
  private readonly clients = new Map<string, ClientState>();
  /** The same, least recently seen first. */
  private readonly recent = new LruList<ClientState>();
  private readonly loopEpisodes: number;
  private readonly maxEpisodeSeconds: number;
  private readonly maxClients: number;
  /** Clients forgotten beyond maxClients. */
  private clientsNotReportedCount = 0;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.loopEpisodes = options['sessionRecovery.loopEpisodes'] ?? 2;
    this.maxEpisodeSeconds = options['sessionRecovery.maxEpisodeSeconds'] ?? 120;
    this.maxClients = Math.max(1, options['sessionRecovery.maxClients'] ?? entityBoundOf(options));
    this.budget = groupBudgetOf(ctx);
  }

  private readonly budget: GroupBudget;

  onTransaction(t: Transaction): void {
    const c = compoundOf(t);
    if (c === undefined) return;
    const key = t.client.addr;
    let st = this.clients.get(key);
    const seqStatus = sequenceStatus(c);
    const lost = SESSION_LOST.has(seqStatus ?? '');
    if (st !== undefined) this.recent.touch(st);
    else {
      if (!lost) return;
      // At its bound, or beyond its floor with the detectors' groups at theirs: the least recently seen
      // makes room. The first client is always followed (there is none to forget).
      if (this.clients.size === 0) this.budget.take();
      else if (this.clients.size >= this.maxClients || !this.budget.admit(this.clients.size, this.kind)) {
        const victim = this.recent.shift()!;
        this.clients.delete(victim.client);
        this.clientsNotReportedCount++;
      }
      st = {
        lruPrev: null,
        lruNext: null,
        client: key,
        server: t.server.addr,
        clientids: new Set(),
        sessionids: new Set(),
        episodes: [],
        total: 0,
        staleEpisodes: 0,
        incompleteEpisodes: 0,
        blockedSeconds: 0,
        intervals: [],
        intervalSum: 0,
        failedCalls: 0,
        failed: new Map(),
      };
      this.clients.set(key, st);
      this.recent.push(st);
    }
    const now = c.reply;
    if (st.open !== undefined && seconds(now) - seconds(st.open.end) > this.maxEpisodeSeconds) this.close(st, false);
    if (st.open === undefined) {
      if (!lost) return;
      st.open = {
        start: t.call.frame,
        end: now,
        steps: [],
        completed: false,
        staleClientid: false,
        failed: new Map(),
        failedCalls: 0,
        failedFrames: [],
      };
    }
    const ep = st.open;
    ep.end = now;
    if (t.nfs4?.clientid !== undefined && st.clientids.size < 20) st.clientids.add(t.nfs4.clientid);
    if (t.nfs4?.sessionid !== undefined && st.sessionids.size < 20) st.sessionids.add(t.nfs4.sessionid);
    const about = t.decoded?.call?.mainOp ?? c.ops[0] ?? '?';
    const steps = recoverySteps(c);
    if (steps.length === 0 && RECOVERY_FAILURES.has(c.status)) {
      const op = failedOp(c);
      const step: Step = { op, status: c.status, frame: now, about };
      // The call that opened the episode is its first step; the others are failures meanwhile.
      if (ep.steps.length === 0) ep.steps.push(step);
      if (!RECOVERY_OPS.has(about)) {
        ep.failedCalls++;
        ep.failed.set(about, (ep.failed.get(about) ?? 0) + 1);
        if (ep.failedFrames.length < 5) ep.failedFrames.push(step);
      }
    }
    for (const s of steps) {
      // Built field by field: a spread gave each step a hidden class of its own (18,497 on a 3 GB capture, 3.4 MB).
      if (ep.steps.length < MAX_STEPS) ep.steps.push({ op: s.op, status: s.status, frame: now, about });
      if (s.status === 'NFS4ERR_STALE_CLIENTID') ep.staleClientid = true;
    }
    if (createSessionOk(c)) this.close(st, true);
  }

  private close(st: ClientState, completed: boolean): void {
    const ep = st.open;
    if (ep === undefined) return;
    st.open = undefined;
    ep.completed = completed;
    st.total++;
    if (ep.staleClientid) st.staleEpisodes++;
    if (!completed) st.incompleteEpisodes++;
    st.blockedSeconds += round(seconds(ep.end) - seconds(ep.start));
    st.first ??= ep.start;
    st.last = ep.end;
    if (st.lastStart !== undefined) {
      const d = seconds(ep.start) - seconds(st.lastStart);
      st.intervalSum += d;
      if (st.intervals.length < MAX_EPISODES_KEPT) st.intervals.push(round(d));
    }
    st.lastStart = ep.start;
    st.failedCalls += ep.failedCalls;
    for (const [op, n] of ep.failed) st.failed.set(op, (st.failed.get(op) ?? 0) + n);
    if (st.episodes.length < MAX_EPISODES_KEPT) st.episodes.push(ep);
    else st.episodes[st.episodes.length - 1] = ep; // keep the last one
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ clientsNotReported: this.clientsNotReportedCount });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const st of this.clients.values()) {
      this.close(st, false);
      if (st.total === 0 || st.first === undefined || st.last === undefined) continue;
      out.push(this.finding(st));
    }
    noteNotReported(out, 'clientsNotReported', this.clientsNotReportedCount);
    return out;
  }

  private finding(st: ClientState): Finding {
    const loop = st.total >= this.loopEpisodes;
    const stale = st.staleEpisodes;
    const incomplete = st.incompleteEpisodes;
    const durations = st.episodes.map((e) => round(seconds(e.end) - seconds(e.start)));
    const failed = [...st.failed].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([op, n]) => `${op} ×${n}`);
    const first = st.episodes[0]!;
    const cause = first.steps[0] !== undefined ? first.steps[0].status : 'NFS4ERR_BADSESSION';
    // The cadence told from the intervals themselves: regular, or bursts.
    const cadence = cadenceText(st.intervals);

    const title = loop
      ? `Session recovery loop: client ${st.client} lost its session ${st.total} times${cadence.text !== '' ? ` ${cadence.text}` : ''}`
      : `Session lost and ${first.completed ? 'recovered' : 'not recovered in the capture'}: client ${st.client} (${shortStatus(cause)})`;
    const explanation = sentences(
      loop
        ? `the server refused the client's session ${st.total} times (SEQUENCE → ${cause})${stale > 0 ? `, ${timesText(stale)} with its client id gone too (EXCHANGE_ID again)` : ''}`
        : `the server refused the session (SEQUENCE → ${cause}); the client ${first.staleClientid ? 'had lost its client id too and recovered with EXCHANGE_ID' : 'created a new session'}${first.completed ? ` in ${secondsText(durations[0] ?? 0)}` : ', but no CREATE_SESSION succeeded'}`,
      st.failedCalls > 0 ? `${plural(st.failedCalls, 'call')} failed (${listText(failed, 3)}): applications saw EIO or stalls` : '',
      stale > 0 ? 'the server lost its state: look for a restart, failover or lease expiry then' : 'the server dropped the session: look for resource pressure or connection loss on it',
    );

    const metrics = cleanMetrics({
      episodes: st.total,
      bursts: cadence.bursts > 1 ? cadence.bursts : undefined,
      periodSeconds: cadence.periodSeconds !== undefined ? round(cadence.periodSeconds) : undefined,
      intervalsSeconds: st.intervals,
      staleClientidEpisodes: stale,
      incompleteEpisodes: incomplete,
      failedCalls: st.failedCalls,
      failedOps: failed,
      episodeDurationsSeconds: durations,
      episodeSteps: st.episodes.map((e, i) => `#${i + 1} ${formatFrameTime(e.start)}: ` + e.steps.map((s) => `${s.op} → ${shortStatus(s.status)} (frame ${s.frame.number})`).join(', ')),
      clientids: [...st.clientids],
      sessionids: [...st.sessionids],
      episodesNotReported: st.total > st.episodes.length ? st.total - st.episodes.length : undefined,
    });

    const finding: Finding = {
      kind: this.kind,
      severity: loop ? 'error' : 'warning',
      title,
      explanation,
      client: st.client,
      server: st.server,
      start: formatFrameTime(st.first!),
      end: formatFrameTime(st.last!),
      durationSeconds: round(seconds(st.last!) - seconds(st.first!)),
      count: st.total,
      evidence: this.evidence(st.episodes),
      metrics,
      impact: { blockedSeconds: round(st.blockedSeconds), calls: st.failedCalls + st.total },
    };
    return finding;
  }

  /** The steps of the first and last episodes, the first step of the others, and a failure or two. */
  private evidence(episodes: Episode[]): EvidenceFrame[] {
    const ev = (s: Step, n: number): EvidenceFrame =>
      evidence(this.ctx, s.frame, `episode ${n}: ${s.about !== s.op ? `${s.about} ` : ''}${s.op} → ${s.status}`, formatFrameTime);
    const picked: { ep: number; s: Step }[] = [];
    episodes.forEach((e, i) => {
      const all = i === 0 || i === episodes.length - 1;
      const steps = all ? e.steps : e.steps.slice(0, 1);
      for (const s of steps) picked.push({ ep: i, s });
      const okStep = e.steps.find((s) => s.op === 'CREATE_SESSION' && s.status === 'NFS4_OK');
      if (!all && okStep !== undefined) picked.push({ ep: i, s: okStep });
    });
    // Failures meanwhile: the first one not already a step.
    const f = episodes.flatMap((e, i) => e.failedFrames.map((s) => ({ ep: i, s }))).find((x) => !picked.some((p) => p.s.frame === x.s.frame));
    if (f !== undefined) picked.push(f);
    const seen = new Set<string>();
    const uniq = picked
      .sort((a, b) => seconds(a.s.frame) - seconds(b.s.frame) || a.s.frame.number - b.s.frame.number)
      .filter((p) => {
        const k = `${p.s.frame.fileIndex}:${p.s.frame.number}:${p.s.op}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    if (uniq.length > MAX_EVIDENCE) uniq.splice(MAX_EVIDENCE - 1, uniq.length - MAX_EVIDENCE);
    return uniq.map((p) => ev(p.s, p.ep + 1));
  }
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
