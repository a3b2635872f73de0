/**
 * unanswered-call: calls the capture never saw answered, grouped per client,
 * server and operation, each explained by what the transport showed after
 * the call (see transport-timeline.ts), in this order:
 *
 * - `not-received`: the client's TCP resent the call's segments at growing
 *   intervals and the server never acknowledged them: the server never got
 *   the call (down, a partition, a firewall). Reported as soon as the
 *   pattern shows (two resends), whatever the wait, with the intervals;
 * - `reply-lost`: the server resent its reply and the client never
 *   acknowledged it (data left unacknowledged): the reply is lost between
 *   the capture point and the client;
 * - `capture-gap`: bytes of the server's direction are missing from the
 *   capture after the call: the reply may be among them (warning, low
 *   confidence — a capture problem, not a hung server);
 * - `resent`: the client resent the call with the same xid (its RPC timeout);
 * - `no-reply`: the call waited at least `unansweredTimeoutSeconds` (60)
 *   until its connection's end, or at least `unansweredEvidenceSeconds` (5)
 *   with TCP trouble on the connection (retransmissions, zero windows).
 * A call merely cut off by the end of the capture is not reported, nor
 * NLM's asynchronous procedures (*_MSG, *_RES), which expect no reply. Calls
 * outstanding when their connection was closed (FIN or RST) and nothing
 * else shows are the connections detector's (it follows their resends on a
 * new connection); calls on a connection of which the capture holds nothing
 * from the server are capture-quality's (one direction only).
 *
 * Severity error (`capture-gap`: warning). Bounded: a group per client,
 * server and operation (at most `unansweredMaxGroups`, 10000), a few frames
 * and xids kept per group.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import type { Transaction } from '../rpc/transaction.js';
import type { Direction } from '../transport/stream.js';
import { groupBudgetOf, type GroupBudget } from './group-budget.js';
import { appended } from '../memory/small-lists.js';
import { MAX_EVIDENCE, evidence, fileLabel, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import type { ConnectionTimeline, TransportEpisode } from './transport-timeline.js';
import { directionFrom, endpointText, frameCompare, later, operationOf, round, secondsFrom } from './transport-common.js';
import { bytesText, cleanMetrics, intervalsText, plural, secondsText, sentences, xidText } from './wording.js';
import { noteNotReported } from './recent-groups.js';
import { entityBoundOf } from '../memory/entity-bound.js';

export const KIND_UNANSWERED = 'unanswered-call';

/** Why a call got no reply, most telling first. */
export type UnansweredWhy = 'not-received' | 'reply-lost' | 'capture-gap' | 'resent' | 'no-reply';
const ORDER: UnansweredWhy[] = ['not-received', 'reply-lost', 'capture-gap', 'resent', 'no-reply'];

const PROG_NLM = 100021;
const NLM_TEST_MSG = 6;
const NLM_GRANTED_RES = 15;
const KEEP_CALLS = 5;
const KEEP_XIDS = 10;
const KEEP_EVIDENCE = 12;

interface Keyed {
  at: FrameRef;
  what: string;
}

interface Group {
  client: string;
  server: string;
  op: string;
  count: number;
  /** Calls by reason, in ORDER's order. */
  why: number[];
  calls: Keyed[];
  lastCall: Keyed | undefined;
  xids: string[];
  files: string[];
  offsets: number[];
  first: FrameRef;
  end: FrameRef;
  waitSeconds: number;
  /** The stall telling the story (client's resends for not-received, server's for reply-lost). */
  clientResendIntervals: number[];
  clientStallSeconds: number;
  clientTcpResends: number;
  serverResendIntervals: number[];
  serverStallSeconds: number;
  serverTcpResends: number;
  unackedBytes: number;
  gapBytes: number;
  gaps: number;
  resetBy: string[];
  rpcResends: number;
  unfinishedReplies: number;
  zeroWindows: number;
  evidence: Keyed[];
  connections: number[];
}

/**
 * Adds `v` to a small list of distinct values (KEEP_XIDS at most): a
 * group's lists are made at their size (most hold one value), where a Set
 * took about 150 bytes and a list grown from empty by push reserves 17
 * slots (docs/memory.md, session 38). Returns the list, a new one when it
 * was empty.
 */
function addDistinct<T>(list: T[], v: T): T[] {
  return list.length >= KEEP_XIDS || list.includes(v) ? list : appended(list, v);
}

export class UnansweredCallDetector implements Detector {
  readonly kind = KIND_UNANSWERED;
  private readonly timeout: number;
  private readonly evidenceSeconds: number;
  private readonly maxGroups: number;
  /** Unanswered calls of groups beyond `maxGroups` (the first are kept): counted, not reported. */
  private callsNotReported = 0;
  private readonly groups = new Map<string, Group>();
  private readonly budget: GroupBudget;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.budget = groupBudgetOf(ctx);
    this.timeout = options['unansweredTimeoutSeconds'] ?? 60;
    this.evidenceSeconds = options['unansweredEvidenceSeconds'] ?? 5;
    this.maxGroups = options['unansweredMaxGroups'] ?? entityBoundOf(options);
  }

  onUnanswered(t: Transaction): void {
    // NLM's asynchronous procedures (*_MSG, *_RES) expect no RPC reply.
    if (t.program === PROG_NLM && t.procedure >= NLM_TEST_MSG && t.procedure <= NLM_GRANTED_RES) return;
    const call = t.call.frame;
    const tl = this.ctx.timeline?.get(t.connId);
    // Unanswered calls come when their connection ends (or the capture): now is its end.
    const end = later(later(this.ctx.lastFrame?.(), tl?.lastSeen), t.retransmitFrames[t.retransmitFrames.length - 1]) ?? call;
    const waited = Math.max(0, secondsFrom(call, end));
    const serverDir = tl !== undefined ? directionFrom(tl.conn, t.server) : undefined;
    if (tl !== undefined && serverDir !== undefined && tl.conn.segments[serverDir] === 0 && tl.conn.segments[serverDir ^ 1]! > 0) return;

    const after = tl !== undefined ? tl.during(t.call.firstFrame, end).filter((e) => frameCompare(e.start, t.call.firstFrame) >= 0 || e.open) : [];
    const clientDir = serverDir === undefined ? undefined : ((serverDir ^ 1) as Direction);
    const stallOf = (dir: Direction | undefined): TransportEpisode | undefined =>
      dir === undefined ? undefined : after.filter((e) => e.kind === 'retransmission-stall' && e.dir === dir).sort((a, b) => b.count - a.count)[0];
    const clientStall = stallOf(clientDir);
    const serverStall = stallOf(serverDir);
    const gapEps = after.filter((e) => e.kind === 'capture-gap' && e.dir === serverDir);
    const zeroWindows = after.filter((e) => e.kind === 'zero-window').length;
    const reset = this.resetAfter(tl, call, serverDir);
    const fin = tl !== undefined ? later(tl.counters[0].fin, tl.counters[1].fin) : undefined;
    const closed = reset !== undefined || (fin !== undefined && frameCompare(fin, call) > 0);
    const unacked = tl !== undefined && serverDir !== undefined ? tl.counters[serverDir].unackedBytes : 0;
    const trouble = serverStall !== undefined || zeroWindows > 0 || (tl !== undefined && serverDir !== undefined && tl.resendsDuring(serverDir, call, end).count > 0);

    let why: UnansweredWhy | undefined;
    if (clientStall !== undefined && clientStall.count >= 2) why = 'not-received';
    else if (serverStall !== undefined && unacked > 0) why = 'reply-lost';
    else if (gapEps.length > 0) why = 'capture-gap';
    else if (closed) return;
    else if (t.retransmits > 0) why = 'resent';
    else if (waited >= this.timeout || (trouble && waited >= this.evidenceSeconds)) why = 'no-reply';
    if (why === undefined) return;

    const op = operationOf(t);
    const server = endpointText(t.server);
    const key = `${t.client.addr}|${server}|${op}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= this.maxGroups || !this.budget.admit(this.groups.size, this.kind)) {
        this.callsNotReported++;
        return;
      }
      g = {
        client: t.client.addr,
        server,
        op,
        count: 0,
        why: ORDER.map(() => 0),
        calls: [],
        lastCall: undefined,
        xids: [],
        files: [],
        offsets: [],
        first: snapshotFrameRef(call),
        end: snapshotFrameRef(end),
        waitSeconds: 0,
        clientResendIntervals: [],
        clientStallSeconds: 0,
        clientTcpResends: 0,
        serverResendIntervals: [],
        serverStallSeconds: 0,
        serverTcpResends: 0,
        unackedBytes: 0,
        gapBytes: 0,
        gaps: 0,
        resetBy: [],
        rpcResends: 0,
        unfinishedReplies: 0,
        zeroWindows: 0,
        evidence: [],
        connections: [],
      };
      this.groups.set(key, g);
    }
    g.count++;
    g.why[ORDER.indexOf(why)]!++;
    const keyed = { at: snapshotFrameRef(call), what: `${op} call xid ${xidText(t.xid)}, never answered` };
    if (g.calls.length < KEEP_CALLS) g.calls.push(keyed);
    else g.lastCall = keyed;
    if (g.xids.length < KEEP_XIDS) g.xids.push(xidText(t.xid));
    const fh = t.decoded?.call?.fh;
    if (fh !== undefined) g.files = addDistinct(g.files, fileLabel(this.ctx, fh));
    const off = t.decoded?.call?.offset;
    if (off !== undefined && g.offsets.length < KEEP_XIDS) g.offsets.push(off);
    if (frameCompare(call, g.first) < 0) g.first = snapshotFrameRef(call);
    if (frameCompare(end, g.end) > 0) g.end = snapshotFrameRef(end);
    g.waitSeconds = Math.max(g.waitSeconds, waited);
    g.zeroWindows += zeroWindows;
    const ev = (at: FrameRef, what: string): void => {
      if (g!.evidence.length < KEEP_EVIDENCE) g!.evidence.push({ at: snapshotFrameRef(at), what });
    };
    if (t.retransmits > 0) {
      g.rpcResends += t.retransmits;
      const rf = t.retransmitFrames;
      ev(rf[0]!, `client resent ${op} xid ${xidText(t.xid)} (same xid)`);
      if (rf.length > 1) ev(rf[rf.length - 1]!, `client resent ${op} xid ${xidText(t.xid)} again (${t.retransmits} resends)`);
    }
    if (t.unfinishedReply) {
      g.unfinishedReplies++;
      ev(t.unfinishedReply.firstFrame, 'reply began, never completed');
    }
    // The connection's evidence, once per connection.
    if (g.connections.includes(t.connId)) return;
    g.connections = addDistinct(g.connections, t.connId);
    // A stall whose data was never acknowledged lasted until the connection's end (now).
    const stallSeconds = (ep: TransportEpisode, dir: Direction): number => secondsFrom(ep.start, tl!.counters[dir].unackedBytes > 0 ? end : ep.end);
    if (clientStall !== undefined) {
      g.clientTcpResends += clientStall.count;
      g.clientStallSeconds = Math.max(g.clientStallSeconds, stallSeconds(clientStall, clientDir!));
      if (g.clientResendIntervals.length === 0) g.clientResendIntervals = clientStall.intervals;
      const f = clientStall.frames.frames();
      ev(f[0]!, `client TCP resent the call's segment (first of ${clientStall.count}), never acknowledged`);
      if (f.length > 1) ev(f[f.length - 1]!, `client TCP resent it again (last, +${secondsText(secondsFrom(clientStall.start, clientStall.end))})`);
    }
    if (serverStall !== undefined) {
      g.serverTcpResends += serverStall.count;
      g.serverStallSeconds = Math.max(g.serverStallSeconds, stallSeconds(serverStall, serverDir!));
      if (g.serverResendIntervals.length === 0) g.serverResendIntervals = serverStall.intervals;
      const f = serverStall.frames.frames();
      ev(f[0]!, `server retransmission (first of ${serverStall.count}), never acknowledged`);
      if (f.length > 1) ev(f[f.length - 1]!, `server retransmission (last, ${serverStall.count} in all)`);
    }
    g.unackedBytes += unacked;
    for (const gap of gapEps) {
      g.gapBytes += gap.bytes;
      g.gaps += gap.count;
      ev(gap.start, `${bytesText(gap.bytes)} of the server's stream missing from the capture`);
    }
    if (reset !== undefined) {
      g.resetBy = addDistinct(g.resetBy, reset.by);
      ev(reset.at, `RST from ${reset.by}`);
    }
  }

  /** The first RST of the connection after the call, and which side sent it. */
  private resetAfter(tl: ConnectionTimeline | undefined, call: FrameRef, serverDir: Direction | undefined): { at: FrameRef; by: string } | undefined {
    if (tl === undefined) return undefined;
    let best: { at: FrameRef; by: string } | undefined;
    for (const dir of [0, 1] as const) {
      const r = tl.counters[dir].rst;
      if (r === undefined || frameCompare(r, call) < 0) continue;
      const by = serverDir === undefined ? 'one side' : dir === serverDir ? 'the server' : 'the client';
      if (best === undefined || frameCompare(r, best.at) < 0) best = { at: r, by };
    }
    return best;
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ callsNotReported: this.callsNotReported });
  }

  finish(): Finding[] {
    return noteNotReported(
      [...this.groups.values()].map((g) => this.finding(g)),
      'callsNotReported',
      this.callsNotReported,
    );
  }

  private finding(g: Group): Finding {
    const why = ORDER.find((_, i) => g.why[i]! > 0)!;
    const n = g.count;
    const calls = n === 1 ? `the ${g.op} call` : `${n} ${g.op} calls`;
    const resetBy = g.resetBy.join(' and ');
    let title: string;
    let explanation: string;
    switch (why) {
      case 'not-received':
        title = `${g.op} never reached the server: the client resent it ${plural(g.clientTcpResends, 'time')}, never acknowledged`;
        explanation = sentences(
          `the client's TCP resent ${n === 1 ? 'the call' : 'the calls'} at growing intervals (${intervalsText(g.clientResendIntervals)}) for ${secondsText(g.clientStallSeconds)} and ${g.server} acknowledged nothing: it never received ${n === 1 ? 'it' : 'them'}`,
          'the server is down or unreachable: a network partition, a firewall dropping, a routing change',
        );
        break;
      case 'reply-lost':
        title = `${g.op} never answered: the server sent the reply, the client never acknowledged it (${plural(g.serverTcpResends, 'server retransmission')})`;
        explanation = sentences(
          `the server resent its reply at growing intervals (${intervalsText(g.serverResendIntervals)}) and ${bytesText(g.unackedBytes)} stayed unacknowledged${resetBy !== '' ? ` until ${resetBy} reset the connection` : ''}`,
          'the packets reach the capture point but not the client: a firewall on the client, a path MTU problem, NIC drops',
        );
        break;
      case 'capture-gap':
        title = `${g.op} not answered in the capture: its reply may be in the ${bytesText(g.gapBytes)} the capture lost`;
        explanation = sentences(
          `${calls} from ${g.client} got no reply the capture could see, but ${plural(g.gaps, 'gap')} of the server's stream fell after ${n === 1 ? 'it' : 'them'}`,
          'this is a capture problem (see capture-quality), not evidence of a hung server',
        );
        break;
      case 'resent':
        title = `${g.op} never answered although the client resent it ${plural(g.rpcResends, 'time')} (same xid)`;
        explanation = sentences(
          `${calls} from ${g.client} timed out on the client and went out again with the same xid, and no reply came`,
          'the server is overloaded or hung (nfsd threads, storage), or its replies are lost on the way back',
        );
        break;
      default:
        title = `${g.op} never answered in ${secondsText(g.waitSeconds)}`;
        explanation = sentences(
          `${calls} from ${g.client} got no reply while the capture went on${g.serverTcpResends > 0 || g.zeroWindows > 0 ? ', with TCP trouble on the connection' : ' and TCP shows nothing wrong'}`,
          'the server is hung or overloaded (nfsd threads, storage), or its replies are lost',
        );
    }
    const ev: Keyed[] = [...g.calls, ...(g.lastCall ? [g.lastCall] : []), ...g.evidence].sort((a, b) => frameCompare(a.at, b.at));
    const kept = ev.length <= MAX_EVIDENCE ? ev : [...ev.slice(0, MAX_EVIDENCE - 1), ev[ev.length - 1]!];
    const last = later(g.end, kept[kept.length - 1]?.at) ?? g.end;
    const stall = why === 'not-received' ? g.clientStallSeconds : why === 'reply-lost' ? g.serverStallSeconds : 0;
    const f: Finding = {
      kind: this.kind,
      severity: why === 'capture-gap' ? 'warning' : 'error',
      title,
      explanation,
      client: g.client,
      server: g.server,
      start: formatFrameTime(g.first),
      end: formatFrameTime(last),
      durationSeconds: round(Math.max(0, secondsFrom(g.first, last))),
      count: n,
      evidence: kept.map((k) => evidence(this.ctx, k.at, k.what, formatFrameTime)),
      metrics: cleanMetrics({
        calls: n,
        xids: g.xids,
        why: ORDER.flatMap((w, i) => (g.why[i]! > 0 ? [`${w} ×${g.why[i]}`] : [])),
        waitSeconds: round(g.waitSeconds),
        stallSeconds: stall > 0 ? round(stall) : undefined,
        clientTcpResends: g.clientTcpResends || undefined,
        clientResendIntervals: g.clientResendIntervals,
        serverRetransmissions: g.serverTcpResends || undefined,
        retransmissionIntervals: g.serverResendIntervals,
        unacknowledgedBytes: g.unackedBytes || undefined,
        missingBytes: g.gapBytes || undefined,
        resets: g.resetBy.length > 0 ? g.resetBy.join(', ') : undefined,
        clientResends: g.rpcResends || undefined,
        unfinishedReplies: g.unfinishedReplies || undefined,
        zeroWindows: g.zeroWindows || undefined,
        offsets: g.offsets,
      }),
      impact: { blockedSeconds: round(g.waitSeconds), calls: n },
    };
    if (why === 'capture-gap') {
      f.confidence = 'low';
      f.caveat = 'The reply may be in the bytes the capture lost: the call may well have been answered.';
    }
    if (g.files.length === 1) f.file = g.files[0]!;
    return f;
  }
}
