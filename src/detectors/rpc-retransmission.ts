/**
 * rpc-retransmission: calls the client sent again with the same xid (its
 * RPC timeout, the `timeo`/`retrans` mount options, expired), and replies
 * the server sent more than once, grouped per client address, server and
 * operation. Metrics: calls concerned, resends, how many were finally
 * answered, the intervals between the first send and each resend, the final
 * latencies, duplicate replies.
 *
 * Options: retransmissionMaxGroups (MAX_GROUPS): groups followed at most;
 * beyond, the least recently seen group is forgotten and its calls counted
 * in the last finding's `callsNotReported`. Severity warning.
 */
import type { FrameRef } from '../capture/frame.js';
import { snapshotFrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import type { Transaction } from '../rpc/transaction.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { intervalsText, plural, secondsText, sentences, timesText } from './wording.js';
import { endpointText, frameCompare, operationOf, round, secondsFrom } from './transport-common.js';
import { noteNotReported, RecentGroups } from './recent-groups.js';
import { DEFAULT_ENTITY_BOUND, entityBoundOf } from '../memory/entity-bound.js';

const KEEP = 32;
const KEEP_DETAILED_CALLS = 3;
/**
 * Groups (client address, server, operation) followed at most. A capture of
 * 100,000 UDP clients each resending one call held 100,000 groups here
 * (576 MB of peak RSS, docs/memory.md).
 */
export const MAX_GROUPS = DEFAULT_ENTITY_BOUND;

interface Keyed {
  at: FrameRef;
  what: string;
}

interface Group {
  client: string;
  server: string;
  op: string;
  calls: number;
  resends: number;
  answered: number;
  unanswered: number;
  duplicateReplies: number;
  intervals: number[];
  latencies: number[];
  xids: string[];
  first: FrameRef;
  last: FrameRef;
  evidence: Keyed[];
  lastEvidence: Keyed[];
}

const hex = (xid: number): string => `0x${xid.toString(16).padStart(8, '0')}`;

export class RpcRetransmissionDetector implements Detector {
  readonly kind = 'rpc-retransmission';
  /** Groups by key (beyond the cap, the calls of those forgotten in `notReported`). */
  private readonly groups: RecentGroups<Group>;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.groups = new RecentGroups(options['retransmissionMaxGroups'] ?? entityBoundOf(options), (g) => g.calls);
  }

  /** Groups followed now. */
  get groupCount(): number {
    return this.groups.size;
  }

  onTransaction(t: Transaction): void {
    this.add(t);
  }

  onUnanswered(t: Transaction): void {
    this.add(t);
  }

  private add(t: Transaction): void {
    if (t.retransmits === 0 && t.duplicateReplies === 0) return;
    const op = operationOf(t);
    const client = t.client.addr;
    const server = endpointText(t.server);
    const key = `${client}|${server}|${op}`;
    const call = snapshotFrameRef(t.call.frame);
    const g = this.groups.group(key, () => ({ client, server, op, calls: 0, resends: 0, answered: 0, unanswered: 0, duplicateReplies: 0, intervals: [], latencies: [], xids: [], first: call, last: call, evidence: [], lastEvidence: [] }));
    g.calls++;
    g.resends += t.retransmits;
    g.duplicateReplies += t.duplicateReplies;
    if (t.reply) g.answered++;
    else g.unanswered++;
    if (g.xids.length < KEEP) g.xids.push(hex(t.xid));
    if (frameCompare(call, g.first) < 0) g.first = call;
    const ev: Keyed[] = [{ at: call, what: `${op} call xid ${hex(t.xid)}` }];
    let prev: FrameRef = t.call.frame;
    t.retransmitFrames.forEach((f, i) => {
      if (g.intervals.length < KEEP) g.intervals.push(round(secondsFrom(prev, f)));
      prev = f;
      ev.push({ at: snapshotFrameRef(f), what: `resend ${i + 1} of xid ${hex(t.xid)} (same xid)` });
    });
    let end: FrameRef = prev;
    if (t.reply) {
      if (g.latencies.length < KEEP) g.latencies.push(round(t.latency));
      end = t.reply.frame;
      ev.push({ at: snapshotFrameRef(t.reply.frame), what: `reply to xid ${hex(t.xid)}${t.duplicateReplies > 0 ? ` (then ${t.duplicateReplies} duplicate replies)` : ''}` });
    }
    if (frameCompare(end, g.last) > 0) g.last = snapshotFrameRef(end);
    if (g.calls <= KEEP_DETAILED_CALLS) g.evidence.push(...ev);
    else g.lastEvidence = ev;
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ callsNotReported: this.groups.notReported });
  }

  finish(): Finding[] {
    return noteNotReported(this.groups.inOrder().map((g) => this.finding(g)), 'callsNotReported', this.groups.notReported);
  }

  private finding(g: Group): Finding {
    const all = [...g.evidence, ...g.lastEvidence].sort((a, b) => frameCompare(a.at, b.at));
    const kept = all.length <= MAX_EVIDENCE ? all : [...all.slice(0, MAX_EVIDENCE - 1), all[all.length - 1]!];
    const one = g.calls === 1;
    const title =
      g.resends > 0
        ? `${g.op} resent with the same xid: ${plural(g.calls, 'call')}, ${plural(g.resends, 'resend')} (client RPC timeouts)`
        : `${g.op}: ${plural(g.duplicateReplies, 'duplicate reply', 'duplicate replies')} from the server`;
    const explanation =
      g.resends > 0
        ? sentences(
            `${one ? `a ${g.op} call` : plural(g.calls, `${g.op} call`)} timed out on the client and ${one ? 'was' : 'were'} resent with the same xid ${timesText(g.resends)} (${intervalsText(g.intervals.slice(0, 8))} apart)`,
            g.unanswered === 0
              ? one ? `it was answered after ${secondsText(g.latencies[0]!)}` : `all were answered, after up to ${secondsText(Math.max(...g.latencies))}`
              : `${plural(g.unanswered, 'call')} never got a reply in the capture`,
            g.duplicateReplies > 0 && `the server answered ${timesText(g.duplicateReplies)} more than once`,
            'the client resends when no reply comes in time (timeo, retrans): a slow server, or lost calls or replies',
          )
        : sentences(
            `${one ? `a ${g.op} call was` : `${plural(g.calls, `${g.op} call`)} were`} answered more than once (${plural(g.duplicateReplies, 'duplicate reply', 'duplicate replies')}) with no resend seen`,
            'the resend was not captured, or the server replayed a reply from its duplicate request cache',
          );
    return {
      kind: this.kind,
      severity: 'warning',
      title,
      explanation,
      client: g.client,
      server: g.server,
      start: formatFrameTime(g.first),
      end: formatFrameTime(g.last),
      durationSeconds: round(Math.max(0, secondsFrom(g.first, g.last))),
      count: g.calls,
      evidence: kept.map((k) => evidence(this.ctx, k.at, k.what, formatFrameTime)),
      metrics: {
        op: g.op,
        calls: g.calls,
        resends: g.resends,
        answered: g.answered,
        unanswered: g.unanswered,
        duplicateReplies: g.duplicateReplies,
        resendIntervals: g.intervals,
        latencies: g.latencies,
        xids: g.xids,
      },
    };
  }
}
