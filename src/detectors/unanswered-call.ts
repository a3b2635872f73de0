/**
 * unanswered-call: calls the capture never saw answered, grouped by server
 * and operation, with the TCP evidence of their connection.
 *
 * Rules. A call without a reply is reported when
 *   - its connection was reset (RST, either side) after the call, or
 *   - the client resent it with the same xid (it timed out waiting), or
 *   - it waited at least `unansweredTimeoutSeconds` (default 60) until its
 *     connection's reset or the last frame the detectors saw, or
 *   - the connection showed TCP trouble after the call (server
 *     retransmissions, zero windows) and the call waited at least
 *     `unansweredEvidenceSeconds` (default 5).
 * A call merely cut off by the end of the capture (a reply in flight when the
 * capture stopped) is not an incident and is not reported.
 *
 * Evidence per connection (bounded: `unansweredMaxConnections`, default
 * 10000, least recently active connections evicted): retransmissions per
 * direction since the last completed reply (first 8 and last frames), zero
 * windows, RSTs, bytes never acknowledged at the end (unacked-data), plus
 * from the transaction itself the client's resends and a reply that began
 * but never completed.
 *
 * The stall is measured from the server's first retransmission after the
 * call (the moment it started waiting for an ACK that never came), or else
 * from the call or the connection's last completed reply, whichever is
 * later, to the connection's RST or the last frame seen.
 *
 * Severity error.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import type { Transaction } from '../rpc/transaction.js';
import type { TcpEvent } from '../transport/stream.js';
import { MAX_EVIDENCE, evidence, fileLabel, type Detector, type DetectorContext, type DetectorOptions, type EvidenceFrame, type Finding } from './finding.js';
import { ConnectionTracker, directionFrom, endpointText, frameCompare, later, operationOf, round, secondsFrom } from './transport-common.js';

const KEEP_CALLS = 5;
const KEEP_XIDS = 10;
const KEEP_CONNS = 20;

interface Keyed {
  at: FrameRef;
  what: string;
}

interface Group {
  server: string;
  clients: Set<string>;
  op: string;
  count: number;
  calls: Keyed[];
  lastCall: Keyed | undefined;
  xids: string[];
  fhs: Set<string>;
  offsets: number[];
  clientResends: number;
  unfinishedReplies: number;
  unfinishedReplyBytes: number;
  conns: Set<number>;
  serverRetransmissions: number;
  retransmissionIntervals: number[];
  unackedBytes: number;
  zeroWindows: number;
  resets: number;
  resetBy: Set<string>;
  stallSeconds: number;
  waitSeconds: number;
  end: FrameRef;
  evidence: Keyed[];
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function hex(xid: number): string {
  return `0x${xid.toString(16).padStart(8, '0')}`;
}

export class UnansweredCallDetector implements Detector {
  readonly kind = 'unanswered-call';
  private readonly timeout: number;
  private readonly evidenceSeconds: number;
  private readonly tracker: ConnectionTracker;
  private lastSeen: FrameRef | undefined;
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.timeout = options['unansweredTimeoutSeconds'] ?? 60;
    this.evidenceSeconds = options['unansweredEvidenceSeconds'] ?? 5;
    this.tracker = new ConnectionTracker(options['unansweredMaxConnections'] ?? 10_000);
  }

  onTcpEvent(e: TcpEvent): void {
    this.tracker.event(e);
    this.see(e.at);
  }

  onTransaction(t: Transaction): void {
    this.tracker.transaction(t);
    if (t.reply) this.see(t.reply.lastFrame);
  }

  private see(at: FrameRef): void {
    if (this.lastSeen === undefined || frameCompare(at, this.lastSeen) > 0) this.lastSeen = snapshotFrameRef(at);
  }

  onUnanswered(t: Transaction): void {
    const call = t.call.frame;
    const c = t.connId >= 0 ? this.tracker.get(t.connId) : undefined;
    const reset = c?.firstReset !== undefined && frameCompare(c.firstReset.at, call) >= 0 ? c.firstReset : undefined;
    const end = reset?.at ?? later(later(c?.lastSeen, this.lastSeen), t.retransmitFrames[t.retransmitFrames.length - 1]) ?? call;
    const waited = Math.max(0, secondsFrom(call, end));
    const serverDir = c ? directionFrom(c.conn, t.server) : undefined;
    const sd = c && serverDir !== undefined ? c.dirs[serverDir] : undefined;
    const afterCall = (f: FrameRef): boolean => frameCompare(f, call) > 0;
    const retrans = sd ? sd.retransmissions.frames().filter(afterCall) : [];
    const retransCount = sd ? (sd.retransmissions.first.length > 0 && afterCall(sd.retransmissions.first[0]!) ? sd.retransmissions.count : retrans.length) : 0;
    const zeroWindows = c ? c.dirs[0].zeroWindows.count + c.dirs[1].zeroWindows.count : 0;
    const trouble = retransCount > 0 || zeroWindows > 0;
    const report = reset !== undefined || t.retransmits > 0 || waited >= this.timeout || (trouble && waited >= this.evidenceSeconds);
    if (!report) return;

    const op = operationOf(t);
    const server = endpointText(t.server);
    const key = `${server}|${op}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = {
        server,
        clients: new Set(),
        op,
        count: 0,
        calls: [],
        lastCall: undefined,
        xids: [],
        fhs: new Set(),
        offsets: [],
        clientResends: 0,
        unfinishedReplies: 0,
        unfinishedReplyBytes: 0,
        conns: new Set(),
        serverRetransmissions: 0,
        retransmissionIntervals: [],
        unackedBytes: 0,
        zeroWindows: 0,
        resets: 0,
        resetBy: new Set(),
        stallSeconds: 0,
        waitSeconds: 0,
        end,
        evidence: [],
      };
      this.groups.set(key, g);
    }
    g.count++;
    if (g.clients.size < KEEP_CONNS) g.clients.add(t.client.addr);
    const callWhat = `${op} call xid ${hex(t.xid)}, never answered`;
    const keyed = { at: snapshotFrameRef(call), what: callWhat };
    if (g.calls.length < KEEP_CALLS) g.calls.push(keyed);
    else g.lastCall = keyed;
    if (g.xids.length < KEEP_XIDS) g.xids.push(hex(t.xid));
    const fh = t.decoded?.call?.fh;
    if (fh !== undefined && g.fhs.size < KEEP_CONNS) g.fhs.add(fileLabel(this.ctx, fh));
    const off = t.decoded?.call?.offset;
    if (off !== undefined && g.offsets.length < KEEP_XIDS) g.offsets.push(off);
    g.waitSeconds = Math.max(g.waitSeconds, waited);
    if (frameCompare(end, g.end) > 0) g.end = snapshotFrameRef(end);
    if (t.retransmits > 0) {
      g.clientResends += t.retransmits;
      if (g.evidence.length < MAX_EVIDENCE) {
        const rf = t.retransmitFrames;
        if (rf[0]) g.evidence.push({ at: rf[0], what: `client resent ${op} xid ${hex(t.xid)} (same xid)` });
        if (rf.length > 1) g.evidence.push({ at: rf[rf.length - 1]!, what: `client resent ${op} xid ${hex(t.xid)} again (${t.retransmits} resends)` });
      }
    }
    if (t.unfinishedReply) {
      g.unfinishedReplies++;
      g.unfinishedReplyBytes += t.unfinishedReply.bytesSent;
      if (g.evidence.length < MAX_EVIDENCE)
        g.evidence.push({ at: t.unfinishedReply.firstFrame, what: "reply began, never completed" });
    }
    // Stall: from the server's first retransmission after the call, else from the call / last reply.
    const stallStart = retrans[0] ?? later(call, c?.lastReply) ?? call;
    g.stallSeconds = Math.max(g.stallSeconds, Math.max(0, secondsFrom(stallStart, end)));

    // Connection evidence, once per connection.
    if (c === undefined || g.conns.has(t.connId) || g.conns.size >= KEEP_CONNS) return;
    g.conns.add(t.connId);
    g.serverRetransmissions += retransCount;
    for (let i = 1; i < retrans.length && g.retransmissionIntervals.length < 16; i++) {
      // Only consecutive kept frames (the first 8): the last one may follow a hidden run.
      if (i < (sd?.retransmissions.first.length ?? 0)) g.retransmissionIntervals.push(round(secondsFrom(retrans[i - 1]!, retrans[i]!)));
    }
    if (retrans.length > 0 && g.evidence.length < MAX_EVIDENCE) {
      g.evidence.push({ at: retrans[0]!, what: 'server retransmission (first), never acknowledged' });
      if (retrans.length > 1) g.evidence.push({ at: retrans[retrans.length - 1]!, what: `server retransmission (last, ${retransCount} in all)` });
    }
    if (sd !== undefined && sd.unackedBytes > 0) {
      g.unackedBytes += sd.unackedBytes;
    }
    g.zeroWindows += zeroWindows;
    for (const d of c.dirs) {
      const z = d.zeroWindows.first[0];
      if (z && afterCall(z) && g.evidence.length < MAX_EVIDENCE) g.evidence.push({ at: z, what: 'zero window' });
    }
    if (reset !== undefined) {
      g.resets++;
      const by = serverDir === undefined ? 'a side' : reset.direction === serverDir ? 'the server' : 'the client';
      g.resetBy.add(by);
      if (g.evidence.length < MAX_EVIDENCE) g.evidence.push({ at: reset.at, what: `RST from ${by}` });
    }
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.groups.values()) out.push(this.finding(g));
    return out;
  }

  private finding(g: Group): Finding {
    const ev: Keyed[] = [...g.calls, ...(g.lastCall ? [g.lastCall] : []), ...g.evidence];
    ev.sort((a, b) => frameCompare(a.at, b.at));
    // Keep the first and last and as many in between as fit.
    const kept = ev.length <= MAX_EVIDENCE ? ev : [...ev.slice(0, MAX_EVIDENCE - 1), ev[ev.length - 1]!];
    const frames: EvidenceFrame[] = kept.map((k) => evidence(this.ctx, k.at, k.what, formatFrameTime));
    const first = g.calls[0]!.at;
    const start = formatFrameTime(first);
    const last = later(g.end, kept[kept.length - 1]?.at) ?? g.end;
    const calls = g.count === 1 ? `a ${g.op} call` : `${g.count} ${g.op} calls`;
    const clientText = g.clients.size === 1 ? [...g.clients][0]! : `${g.clients.size} clients`;
    const neverAcked = g.serverRetransmissions > 0 && g.unackedBytes > 0;
    const resetBy = [...g.resetBy].join(' and ');
    let title: string;
    let explanation: string;
    if (neverAcked) {
      title = `${g.op} never answered: the server sent the reply, the client never acknowledged it (${g.serverRetransmissions} server retransmissions)`;
      explanation =
        `${cap(calls)} from ${clientText} to ${g.server} got no complete reply. ` +
        'The server sent the reply, the client never acknowledged it: packets from the server are being dropped on the way to the client (firewall, MTU, NIC). ' +
        `The server retransmitted the same data ${g.serverRetransmissions} times (backing off) and ${g.unackedBytes} bytes it sent were never acknowledged; ` +
        'the capture saw those packets, so they are lost between the capture point and the client\'s TCP stack (a firewall or iptables rule on the client, a path MTU or fragmentation problem, NIC or driver drops). ' +
        `The connection stalled for ${round(g.stallSeconds, 3)} s` +
        (g.resets > 0 ? ` until ${resetBy} reset it.` : '.') +
        ' Check the client host firewall, the path MTU (large segments lost, small ones pass) and NIC drop counters.';
    } else if (g.resets > 0) {
      title = `${g.op} never answered: the connection was reset by ${resetBy}`;
      explanation =
        `${cap(calls)} from ${clientText} to ${g.server} got no reply before ${resetBy} reset the connection (after ${round(g.waitSeconds, 3)} s). ` +
        (g.unfinishedReplies > 0 ? 'A reply had begun but never completed. ' : '') +
        'A client that gives up (soft mount timeout, killed process) or a server that drops the connection (restart, overload, idle timeout) both look like this; the RST frame says which side ended it.';
    } else if (g.clientResends > 0) {
      title = `${g.op} never answered: the client resent it ${g.clientResends} times`;
      explanation =
        `${cap(calls)} from ${clientText} to ${g.server} got no reply although the client resent the same xid ${g.clientResends} times (its timeo/retrans expired). ` +
        'The server did not answer: overloaded, hung (check its nfsd threads and the backing storage), or its replies are lost on the way back.';
    } else {
      title = `${g.op} never answered (waited ${round(g.waitSeconds, 3)} s)`;
      explanation =
        `${cap(calls)} from ${clientText} to ${g.server} got no reply for ${round(g.waitSeconds, 3)} s while the capture went on. ` +
        (g.serverRetransmissions > 0 || g.zeroWindows > 0 ? 'The connection showed TCP trouble (retransmissions or zero windows). ' : '') +
        'The server may be hung or overloaded (nfsd threads, storage), or its replies are lost.';
    }
    const metrics: Finding['metrics'] = {
      calls: g.count,
      xids: g.xids,
      waitSeconds: round(g.waitSeconds),
      stallSeconds: round(g.stallSeconds),
      serverRetransmissions: g.serverRetransmissions,
      unacknowledgedBytes: g.unackedBytes,
      zeroWindows: g.zeroWindows,
      resets: g.resets,
      clientResends: g.clientResends,
      unfinishedReplies: g.unfinishedReplies,
      unfinishedReplyBytes: g.unfinishedReplyBytes,
    };
    if (g.retransmissionIntervals.length > 0) metrics['retransmissionIntervals'] = g.retransmissionIntervals;
    if (g.offsets.length > 0) metrics['offsets'] = g.offsets;
    const f: Finding = {
      kind: this.kind,
      severity: 'error',
      title,
      explanation,
      server: g.server,
      start,
      end: formatFrameTime(last),
      durationSeconds: round(Math.max(0, secondsFrom(first, last))),
      count: g.count,
      evidence: frames,
      metrics,
    };
    if (g.clients.size === 1) f.client = [...g.clients][0]!;
    if (g.fhs.size === 1) f.file = [...g.fhs][0]!;
    return f;
  }
}
