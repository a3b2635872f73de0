/**
 * grace-period: operations a server refused during its grace period
 * (NFS4ERR_GRACE; NLM's denied-grace-period) and retried by the client.
 *
 * One finding per retried operation (client address, server, op, file):
 * each attempt, the intervals between them and their schedule, the time
 * the client was blocked (the first refused call → the reply of the
 * successful retry); with the server's grace episode as observed (first to
 * last grace reply from that server, reclaim traffic: OPEN CLAIM_PREVIOUS,
 * RECLAIM_COMPLETE, NLM reclaims) and the signs of a server restart shortly
 * before it (an RST sent by the server, NFS4ERR_STALE_CLIENTID, a silence
 * of the server after which traffic resumed).
 *
 * Options: blockedErrorSeconds (60): error severity above it;
 * retryMaxGapSeconds (300): a longer pause ends a retry sequence and a
 * server's grace episode; graceRestartWindowSeconds (120): how long before
 * the first grace reply restart signs count; graceSilenceSeconds (5): the
 * shortest silence of a server counted as a restart sign; graceMaxServers
 * (MAX_SERVERS): servers followed at most, with a grace episode and
 * without; retryMaxAttemptsHeld (MAX_ATTEMPTS_HELD): attempts whose
 * times are kept, in all sequences.
 */
import { appended, NO_ITEMS } from '../memory/small-lists.js';
import { noteNotReported } from './recent-groups.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint, type TcpEvent } from '../transport/stream.js';
import type { FrameRef } from '../capture/frame.js';
import { LruMap } from '../memory/lru.js';
import { formatFrameTime } from '../report/time.js';
import { groupBudgetOf, type GroupBudget } from './group-budget.js';
import { evidence, MAX_EVIDENCE, type Detector, type DetectorContext, type DetectorOptions, type EvidenceFrame, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { listText, secondsText, sentences, timesText } from './wording.js';
import { analyzeSchedule, mergeRetryFindings, retryText, type RetryFinding, frameSeconds, micro, RetryTracker, scheduleMetrics, sequenceEvidence, type RetrySequence } from './retry-schedule.js';
import { DEFAULT_ENTITY_BOUND, entityBoundOf } from '../memory/entity-bound.js';

const GRACE_STATUSES = new Set(['NFS4ERR_GRACE', 'NLM4_DENIED_GRACE_PERIOD', 'LCK_DENIED_GRACE_PERIOD']);
/** Restart signs kept per server. */
const MAX_SIGNS = 100;
/**
 * Endpoints whose RSTs are kept, the most recent senders (any endpoint
 * sends them, not only servers), and RSTs kept per endpoint, the latest.
 * Until session 34 the first 10,000 senders were kept with 100 RSTs each
 * (128 bytes per RST: up to 124 MB), and a server first resetting after
 * them was never heard.
 */
export const MAX_RST_SENDERS = 1000;
const MAX_RSTS_PER_SENDER = 32;
/**
 * Servers followed at most without a grace episode, and at most with one:
 * beyond, the least recently seen server without one is forgotten, with
 * its signs (a server answering calls is seen at each of them; one silent
 * for a restart is among the most recent again when it answers, and its
 * signs are read only once its grace episode starts). About 380 bytes a
 * server: a capture of 120,500 servers held 45.7 MB here (docs/memory.md).
 */
export const MAX_SERVERS = DEFAULT_ENTITY_BOUND;

interface Episode {
  first: FrameRef;
  last: FrameRef;
  firstTime: number;
  lastTime: number;
  replies: number;
}

interface Silence {
  seconds: number;
  /** Last frame before it, and the first call after it. */
  before: FrameRef;
  after: FrameRef;
  endTime: number;
  newConnection: boolean;
}

interface ServerState {
  episodes: Episode[];
  reclaimOpens: number[];
  reclaimCompletes: number[];
  nlmReclaims: number[];
  staleClientid: { at: FrameRef; time: number }[];
  silences: Silence[];
  lastTime: number;
  lastFrame: FrameRef | undefined;
  lastConnId: number;
}

/**
 * A server without any sign yet: its lists the shared empty one until its
 * first sign. Most of the 10,000 servers followed have none, and six empty
 * lists were 192 of a state's 734 bytes (6 GB replay, docs/memory.md,
 * session 39).
 */
function newServerState(): ServerState {
  return { episodes: NO_ITEMS, reclaimOpens: NO_ITEMS, reclaimCompletes: NO_ITEMS, nlmReclaims: NO_ITEMS, staleClientid: NO_ITEMS, silences: NO_ITEMS, lastTime: -Infinity, lastFrame: undefined, lastConnId: -2 };
}

/** `list` with `item` added (the oldest dropped beyond MAX_SIGNS); the caller keeps what it returns (a list of its own for the first). */
function pushBounded<T>(list: T[], item: T): T[] {
  if (list.length >= MAX_SIGNS) list.shift();
  return appended(list, item);
}

const ADVICE = 'check why the server restarted, and its grace time (nfsv4gracetime, Grace_Period)';

export class GracePeriodDetector implements Detector {
  readonly kind = 'grace-period';
  private readonly tracker: RetryTracker;
  /** Servers without a grace episode, least recently seen first. */
  private readonly servers = new LruMap<string, ServerState>();
  /** Servers without a grace episode forgotten (beyond maxServers, least recently seen first) with their restart signs. */
  private serversForgotten = 0;
  /** Servers with one (kept: their findings read them at the end). */
  private readonly graceServers = new Map<string, ServerState>();
  /** RSTs by sender endpoint, the least recent sender first. */
  private readonly rsts = new LruMap<string, { at: FrameRef; time: number }[]>();
  private readonly blockedErrorSeconds: number;
  private readonly maxGap: number;
  private readonly restartWindow: number;
  private readonly silenceSeconds: number;
  private readonly maxServers: number;
  private readonly budget: GroupBudget;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.blockedErrorSeconds = options.blockedErrorSeconds ?? 60;
    this.maxGap = options.retryMaxGapSeconds ?? 300;
    this.restartWindow = options.graceRestartWindowSeconds ?? 120;
    this.silenceSeconds = options.graceSilenceSeconds ?? 5;
    this.maxServers = options.graceMaxServers ?? entityBoundOf(options);
    this.budget = groupBudgetOf(ctx);
    this.tracker = new RetryTracker((s) => GRACE_STATUSES.has(s), this.maxGap, options.retryMaxAttemptsHeld, entityBoundOf(options));
  }

  /** Servers followed (with and without a grace episode). */
  get followedServers(): number {
    return this.servers.size + this.graceServers.size;
  }

  private server(addr: string): ServerState {
    let s = this.graceServers.get(addr) ?? this.servers.touch(addr);
    if (!s) {
      if (this.servers.size >= this.maxServers) {
        this.servers.shift();
        this.serversForgotten++;
      }
      s = newServerState();
      this.servers.set(addr, s);
    }
    return s;
  }

  /** A server's first grace episode: it moves to those kept, while there is room. */
  private startedGrace(addr: string, s: ServerState): void {
    // Servers with an episode are groups of the detectors' shared bound; those without, a few hundred bytes each, are not.
    if (this.graceServers.size >= this.maxServers || !this.servers.has(addr) || !this.budget.admit(this.graceServers.size)) return;
    this.servers.delete(addr);
    this.graceServers.set(addr, s);
  }

  onTransaction(t: Transaction): void {
    if (!t.reply) return;
    const s = this.server(t.server.addr);
    const callTime = frameSeconds(t.call.frame);
    const replyTime = frameSeconds(t.reply.frame);
    // Silences of the server: a gap in its traffic, after which traffic resumed.
    if (s.lastFrame && callTime - s.lastTime >= this.silenceSeconds) {
      this.forgetIdleSilences(s);
      s.silences = pushBounded(s.silences, { seconds: micro(callTime - s.lastTime), before: s.lastFrame, after: t.call.frame, endTime: callTime, newConnection: t.connId !== s.lastConnId });
    }
    if (replyTime >= s.lastTime) {
      s.lastTime = replyTime;
      s.lastFrame = t.reply.frame;
    }
    s.lastConnId = t.connId;

    const call = t.decoded?.call;
    const reply = t.decoded?.reply;
    if (call && t.program === 100003 && t.version === 4) {
      const argOps = (call.args as { ops?: { op: string; args: Record<string, unknown> }[] } | undefined)?.ops ?? [];
      for (const o of argOps) {
        const claim = o.op === 'OPEN' ? (o.args?.claim as { type?: unknown } | undefined) : undefined;
        if (claim?.type === 'CLAIM_PREVIOUS') s.reclaimOpens = pushBounded(s.reclaimOpens, callTime);
        if (o.op === 'RECLAIM_COMPLETE') s.reclaimCompletes = pushBounded(s.reclaimCompletes, callTime);
      }
    }
    if (call && t.program === 100021 && (call.args as { reclaim?: unknown } | undefined)?.reclaim === true) s.nlmReclaims = pushBounded(s.nlmReclaims, callTime);
    if (reply && (reply.status === 'NFS4ERR_STALE_CLIENTID' || reply.opStatus?.includes('NFS4ERR_STALE_CLIENTID'))) {
      s.staleClientid = pushBounded(s.staleClientid, { at: t.reply.frame, time: replyTime });
    }

    const seq = this.tracker.onTransaction(t);
    if (seq) {
      const ep = s.episodes[s.episodes.length - 1];
      if (ep && replyTime - ep.lastTime <= this.maxGap) {
        ep.last = t.reply.frame;
        ep.lastTime = replyTime;
        ep.replies++;
      } else if (s.episodes.length < MAX_SIGNS) {
        s.episodes = appended(s.episodes, { first: t.reply.frame, last: t.reply.frame, firstTime: replyTime, lastTime: replyTime, replies: 1 });
        if (s.episodes.length === 1) this.startedGrace(t.server.addr, s);
      }
    }
  }

  /**
   * A silence is a sign of a restart only for a grace episode that starts
   * within restartWindow after it (see finding()). One that ended longer
   * ago than that before the server's latest traffic, with no episode
   * starting in its window, can be a sign of nothing to come (episodes
   * start at replies, in capture order): it is forgotten, so that a busy
   * server's list holds the last restartWindow's silences and those before
   * its episodes, not the last MAX_SIGNS of a long capture (2,000 servers
   * × 100 silences each, with their frames, on a capture of an hour).
   */
  private forgetIdleSilences(s: ServerState): void {
    // In place and without closures: on a wide capture a server is silent
    // before most of its calls, and this runs for each of them.
    const list = s.silences;
    const horizon = s.lastTime - this.restartWindow;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const x = list[i]!;
      if (x.endTime >= horizon || this.signOfEpisode(s, x)) list[kept++] = x;
    }
    if (kept < list.length) list.length = kept;
  }

  /** Whether one of the server's grace episodes starts within restartWindow after the silence. */
  private signOfEpisode(s: ServerState, x: Silence): boolean {
    const episodes = s.episodes;
    for (let i = 0; i < episodes.length; i++) {
      const start = episodes[i]!.firstTime;
      if (start >= x.endTime && start - x.endTime <= this.restartWindow) return true;
    }
    return false;
  }

  onTcpEvent(e: TcpEvent): void {
    if (e.kind !== 'rst') return;
    // Only RSTs the server's endpoint sent count: clients commonly close with an RST.
    const sender = formatEndpoint(e.direction === 0 ? e.conn.a : e.conn.b);
    let list = this.rsts.touch(sender);
    if (!list) {
      if (this.rsts.size >= MAX_RST_SENDERS) this.rsts.shift();
      list = [];
      this.rsts.set(sender, list);
    }
    if (list.length >= MAX_RSTS_PER_SENDER) list.shift();
    list.push({ at: { ...e.at }, time: frameSeconds(e.at) });
  }

  /** After finish(): the retry sequences beyond those held, and the servers whose restart signs were forgotten. */
  notReported(): NotReportedCounts {
    return positiveCounts({ sequencesNotReported: this.tracker.dropped, serversForgotten: this.serversForgotten });
  }

  finish(): Finding[] {
    const out = mergeRetryFindings(
      this.tracker.finish().map((seq) => this.finding(seq)),
      { kind: this.kind, verb: 'blocked', by: "by the server's grace period", advice: ADVICE },
    );
    return noteNotReported(out, 'sequencesNotReported', this.tracker.dropped);
  }

  private finding(seq: RetrySequence): RetryFinding {
    const sched = analyzeSchedule(seq);
    const addr = seq.server.startsWith('[') ? seq.server.slice(1, seq.server.lastIndexOf(']')) : seq.server.slice(0, seq.server.lastIndexOf(':'));
    // Read, not made: a server forgotten (beyond maxServers) has no signs left.
    const s = this.graceServers.get(addr) ?? this.servers.get(addr) ?? newServerState();
    const firstAttempt = seq.attempts[0]!;
    const firstReplyTime = frameSeconds(firstAttempt.reply);
    const ep = s.episodes.find((e) => e.firstTime <= firstReplyTime && firstReplyTime <= e.lastTime) ?? s.episodes[0];
    const from = (ep?.firstTime ?? firstReplyTime) - this.restartWindow;
    const to = ep?.lastTime ?? firstReplyTime;
    const inWindow = (x: number): boolean => x >= from && x <= to;

    const signs: string[] = [];
    const signEvidence: EvidenceFrame[] = [];
    const beforeGrace = (x: number): boolean => x >= from && x <= (ep?.firstTime ?? firstReplyTime);
    const rsts = (this.rsts.get(seq.server) ?? []).filter((r) => beforeGrace(r.time));
    if (rsts.length > 0) {
      signs.push(`the server reset TCP connections ${timesText(rsts.length)}`);
      signEvidence.push(evidence(this.ctx, rsts[0]!.at, 'TCP RST from the server', formatFrameTime));
    }
    const stale = s.staleClientid.filter((r) => inWindow(r.time));
    if (stale.length > 0) {
      signs.push(`NFS4ERR_STALE_CLIENTID ×${stale.length}`);
      signEvidence.push(evidence(this.ctx, stale[0]!.at, 'NFS4ERR_STALE_CLIENTID (server lost its client state)', formatFrameTime));
    }
    const silences = s.silences.filter((x) => beforeGrace(x.endTime));
    const silence = silences.reduce<Silence | undefined>((best, x) => (!best || x.seconds > best.seconds ? x : best), undefined);
    if (silence) {
      signs.push(`server silent ${secondsText(silence.seconds)}${silence.newConnection ? ', then traffic on a new connection' : ''}`);
      signEvidence.push(evidence(this.ctx, silence.before, `last server traffic before ${silence.seconds.toFixed(1)} s of silence`, formatFrameTime));
      signEvidence.push(evidence(this.ctx, silence.after, `traffic resumes after ${silence.seconds.toFixed(1)} s${silence.newConnection ? ' (new connection)' : ''}`, formatFrameTime));
    }
    const reclaimOpens = s.reclaimOpens.filter(inWindow).length;
    const reclaimCompletes = s.reclaimCompletes.filter(inWindow).length;
    const nlmReclaims = s.nlmReclaims.filter(inWindow).length;

    const ev = [...signEvidence.slice(0, 4), ...sequenceEvidence(this.ctx, seq, MAX_EVIDENCE - Math.min(4, signEvidence.length))];
    ev.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.frame - b.frame));

    const metrics = scheduleMetrics(seq, sched);
    if (ep) {
      metrics.graceWindowSeconds = micro(ep.lastTime - ep.firstTime);
      metrics.serverGraceReplies = ep.replies;
      metrics.graceWindowStart = formatFrameTime(ep.first);
      metrics.graceWindowEnd = formatFrameTime(ep.last);
    }
    metrics.reclaimOpens = reclaimOpens;
    metrics.reclaimCompletes = reclaimCompletes;
    if (nlmReclaims > 0) metrics.nlmReclaims = nlmReclaims;
    if (signs.length > 0) metrics.restartSigns = signs;
    if (silence) metrics.silenceSeconds = silence.seconds;

    const end = seq.end ? seq.end.reply : seq.attempts[seq.attempts.length - 1]!.reply;
    const fileText = seq.file !== '' ? ` ${seq.file}` : '';
    const cause = signs.length > 0 ? `it had restarted (${listText(signs)}) and allowed only reclaims` : 'it had restarted before the capture and allowed only reclaims';
    const explanation = sentences(`the server answered ${seq.error} ${timesText(seq.errors)}: ${cause}`, retryText(seq, sched), ADVICE);

    const f: Finding = {
      kind: this.kind,
      severity: sched.blockedSeconds > this.blockedErrorSeconds ? 'error' : 'warning',
      title: `${seq.op}${fileText} ${sched.blockedSeconds >= 0.05 ? `blocked ${secondsText(sched.blockedSeconds)}` : 'refused'} by the server's grace period (${seq.errors} × ${seq.error})`,
      explanation,
      client: seq.client,
      server: seq.server,
      start: formatFrameTime(firstAttempt.call),
      end: formatFrameTime(end),
      durationSeconds: sched.blockedSeconds,
      count: sched.attempts,
      evidence: ev,
      metrics,
    };
    if (seq.clientid !== undefined) f.clientid = seq.clientid;
    if (seq.file !== '') f.file = seq.file;
    return { finding: f, seq, sched, cause };
  }
}
