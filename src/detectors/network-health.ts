/**
 * network-health: what TCP shows of the network between a client and a
 * server, per direction, and what it did to the RPC calls. One finding per
 * client, server and incident kind, its connections and episodes inside:
 *
 * - `loss`: segments retransmitted (the repeats of one segment and the
 *   recovery right after are counted once: they are a stall) at a rate
 *   above `netLossRate` (default 0.005 of the direction's data segments)
 *   and at least `netLossMinSegments` (5) of them; segments that arrived
 *   after a hole ("previous segment not captured") are counted with them;
 * - `reordering`: out-of-order segments above `netReorderRate` (0.01) and
 *   `netReorderMinSegments` (10), and more of them than retransmissions
 *   (out-of-order segments also follow loss, when the retransmission fills
 *   the hole);
 * - `stall`: a segment resent again and again without an ACK (the RTO
 *   backoff series, with its intervals) for at least `netStallSeconds` (1 s);
 *   error from `netStallErrorSeconds` (60 s);
 * - `zero-window`: a side advertising a zero window (its application — the
 *   NFS client reading replies, or nfsd reading calls — stopped reading) for
 *   at least `netZeroWindowSeconds` (0.2 s) in all; which side, how long,
 *   how often.
 * Each incident lists the calls whose latency overlaps its episodes and the
 * slowest of them. The figures are Wireshark's tcp.analysis flags (see
 * tcp-analysis.ts). Defaults stay quiet on a healthy LAN capture.
 *
 * State: a group per (client address, server address, incident), at most
 * `netMaxGroups` (10000); a connection's figures are folded into its group
 * at its end, from the shared transport timeline.
 */
import type { FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { formatEndpoint, type Direction, type TcpEvent } from '../transport/stream.js';
import { groupBudgetOf, type GroupBudget } from './group-budget.js';
import { evidence, MAX_EVIDENCE, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import type { ConnectionTimeline, OverlappingCall, TransportEpisode } from './transport-timeline.js';
import { FrameSeries, frameCompare, round, secondsFrom } from './transport-common.js';
import { cleanMetrics, intervalsText, percentText, plural, secondsText, sentences, xidText } from './wording.js';
import { groupDigits } from '../number-text.js';
import { appended, NO_ITEMS } from '../memory/small-lists.js';
import { entityBoundOf } from '../memory/entity-bound.js';

export const KIND_NETWORK_HEALTH = 'network-health';

type Incident = 'loss' | 'reordering' | 'stall' | 'zero-window';
type Side = 'client' | 'server';

/** Episodes kept per group (the longest). */
const KEEP_EPISODES = 8;
/** Per-connection lines kept per group. */
const KEEP_LINES = 8;

interface DirFigures {
  dataSegments: number;
  retransmissions: number;
  lostSegments: number;
  outOfOrder: number;
  dupAcks: number;
}

/** Frames of loss and of reordering kept from the start of a group, for its evidence (and the last). */
const SAMPLES_FIRST = 6;

/** What a sampled segment was, by the side that sent it (one string each, not one per segment kept). */
const SAMPLE_WHAT: Record<Side, Record<'retransmission' | 'lost-segment' | 'out-of-order', string>> = {
  client: {
    retransmission: 'client retransmission',
    'lost-segment': 'client segment after one lost before the capture point',
    'out-of-order': 'client segment out of order',
  },
  server: {
    retransmission: 'server retransmission',
    'lost-segment': 'server segment after one lost before the capture point',
    'out-of-order': 'server segment out of order',
  },
};


function countConnection(g: Group, connId: number): void {
  if (g.lastConnection === connId) return;
  g.lastConnection = connId;
  g.connections++;
}

const noFigures = (): DirFigures => ({ dataSegments: 0, retransmissions: 0, lostSegments: 0, outOfOrder: 0, dupAcks: 0 });

interface KeptEpisode {
  side: Side;
  start: FrameRef;
  end: FrameRef;
  seconds: number;
  count: number;
  intervals: number[];
  frames: FrameRef[];
  calls: number;
  worst: OverlappingCall | undefined;
  unresolved: boolean;
}

const SIDES = ['client', 'server'] as const;

/** Whether either direction of a connection resent, lost or reordered segments (repeated resends of one segment counted once). */
function isLossy(c: ConnectionTimeline): boolean {
  for (const k of c.counters) if (k.retransmissions - k.repeatedResends + k.lostSegments + k.outOfOrder > 0) return true;
  return false;
}

interface Group {
  client: string;
  server: string;
  incident: Incident;
  /**
   * Connections concerned, counted once each: all of a connection's figures
   * and episodes come in one fold at its end, so the last one counted is
   * enough to tell (a set of their ids grew with a capture's connections).
   */
  connections: number;
  lastConnection: number;
  /** Figures per side that sent the segments (loss, reordering). */
  from: Record<Side, DirFigures>;
  lines: string[];
  firstFrame: FrameRef | undefined;
  lastFrame: FrameRef | undefined;
  /** Episodes (stall, zero-window): all counted, the longest kept. */
  episodes: number;
  seconds: number;
  calls: number;
  bySide: Record<Side, number>;
  kept: KeptEpisode[];
  worst: OverlappingCall | undefined;
  /** Calls on the connections concerned (loss, reordering). */
  connCalls: number;
  /** Loss and reordering: the first and last such segments. */
  /** Evidence samples: of the losses (retransmissions, lost segments), and of the reordering. */
  samples: FrameSeries;
  reorderSamples: FrameSeries;
  /** What each of the series' first frames was, in their order, and what their last was. */
  sampleWhat: string[];
  reorderWhat: string[];
  lastWhat: string;
  lastReorderWhat: string;
}

export class NetworkHealthDetector implements Detector {
  readonly kind = KIND_NETWORK_HEALTH;
  private readonly lossRate: number;
  private readonly lossMin: number;
  private readonly reorderRate: number;
  private readonly reorderMin: number;
  private readonly stallSeconds: number;
  private readonly stallErrorSeconds: number;
  private readonly zeroWindowSeconds: number;
  private readonly maxGroups: number;
  /** Lossy connections and stall or zero-window episodes of client-server pairs beyond `maxGroups` (the first are kept): counted, not reported. */
  private connectionsNotReported = 0;
  private episodesNotReported = 0;
  private readonly groups = new Map<string, Group>();
  /** Loss and reordering figures per (client, server), before the thresholds are applied at the end. */
  private readonly pairs = new Map<string, Group>();

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.lossRate = options['netLossRate'] ?? 0.005;
    this.lossMin = options['netLossMinSegments'] ?? 5;
    this.reorderRate = options['netReorderRate'] ?? 0.01;
    this.reorderMin = options['netReorderMinSegments'] ?? 10;
    this.stallSeconds = options['netStallSeconds'] ?? 1;
    this.stallErrorSeconds = options['netStallErrorSeconds'] ?? 60;
    this.zeroWindowSeconds = options['netZeroWindowSeconds'] ?? 0.2;
    this.maxGroups = options['netMaxGroups'] ?? entityBoundOf(options);
    this.budget = groupBudgetOf(ctx);
  }

  private readonly budget: GroupBudget;

  onTcpEvent(e: TcpEvent): void {
    const c = this.ctx.timeline?.get(e.conn.id);
    if (c === undefined) return;
    if (e.kind === 'connection-end') {
      this.fold(c);
      return;
    }
    if (e.kind !== 'retransmission' && e.kind !== 'lost-segment' && e.kind !== 'out-of-order' && e.kind !== 'dup-ack') return;
    // Counted as they come (segments of a closed connection still arrive and are analysed).
    const g = this.group(this.pairs, c.client().addr, c.server().addr, 'loss');
    if (g === undefined) return;
    const side: Side = e.direction === c.clientDirection() ? 'client' : 'server';
    const other: Side = side === 'client' ? 'server' : 'client';
    if (e.kind === 'dup-ack') {
      g.from[other].dupAcks++;
      return;
    }
    const f = g.from[side];
    // A repeat of a segment already resent (an RTO backoff series) is one loss, and a stall of its own.
    if (e.kind === 'retransmission' && c.counters[e.direction].lastWasRepeat) return;
    if (e.kind === 'retransmission') f.retransmissions++;
    else if (e.kind === 'lost-segment') f.lostSegments++;
    else f.outOfOrder++;
    // Sample frames for the evidence: the first few and the last.
    const what = SAMPLE_WHAT[side][e.kind];
    const series = e.kind === 'out-of-order' ? g.reorderSamples : g.samples;
    if (e.kind === 'out-of-order') {
      if (series.first.length < SAMPLES_FIRST) g.reorderWhat = appended(g.reorderWhat, what);
      g.lastReorderWhat = what;
    } else {
      if (series.first.length < SAMPLES_FIRST) g.sampleWhat = appended(g.sampleWhat, what);
      g.lastWhat = what;
    }
    series.add(e.at);
    // The series' copy of the frame serves as the group's first or last too (frame references are replaced, never changed).
    const at = series.last!;
    if (g.firstFrame === undefined || frameCompare(at, g.firstFrame) < 0) g.firstFrame = at;
    if (g.lastFrame === undefined || frameCompare(at, g.lastFrame) > 0) g.lastFrame = at;
  }

  private sampleEvidence(g: Group, reordering = false): Finding['evidence'] {
    const series = reordering ? g.reorderSamples : g.samples;
    const frames = series.frames();
    const whats = reordering ? g.reorderWhat : g.sampleWhat;
    const last = reordering ? g.lastReorderWhat : g.lastWhat;
    return frames.map((at, i) => evidence(this.ctx, at, i === frames.length - 1 && series.count > series.first.length ? last : (whats[i] ?? 'segment'), formatFrameTime));
  }

  private group(map: Map<string, Group>, client: string, server: string, incident: Incident): Group | undefined {
    const key = `${client}|${server}|${incident}`;
    let g = map.get(key);
    if (g === undefined) {
      // Episodes are groups of the detectors' shared bound; pairs (a few hundred bytes each, most never a finding) are not.
      if (map.size >= this.maxGroups || (map === this.groups && !this.budget.admit(map.size, this.kind))) return undefined;
      g = {
        client,
        server,
        incident,
        connections: 0,
        lastConnection: -1,
        from: { client: noFigures(), server: noFigures() },
        lines: [],
        firstFrame: undefined,
        lastFrame: undefined,
        episodes: 0,
        seconds: 0,
        calls: 0,
        bySide: { client: 0, server: 0 },
        kept: [],
        worst: undefined,
        connCalls: 0,
        samples: new FrameSeries(SAMPLES_FIRST),
        reorderSamples: new FrameSeries(SAMPLES_FIRST),
        sampleWhat: NO_ITEMS,
        reorderWhat: NO_ITEMS,
        lastWhat: 'segment',
        lastReorderWhat: 'segment',
      };
      map.set(key, g);
    }
    return g;
  }

  /** A connection ended: its figures and episodes go to their groups. */
  private fold(c: ConnectionTimeline): void {
    const clientDir = c.clientDirection();
    const client = c.client().addr;
    const server = c.server().addr;
    const conn = c.conn;
    const g = this.group(this.pairs, client, server, 'loss');
    const lossy = isLossy(c);
    if (g === undefined) {
      if (lossy) this.connectionsNotReported++;
    } else {
      for (const side of SIDES) {
        const dir = side === 'client' ? clientDir : clientDir ^ 1;
        g.from[side].dataSegments += conn.dataSegments[dir];
      }
      if (lossy) {
        countConnection(g, conn.id);
        g.connCalls += c.calls;
        // The line is written only if kept (a hostile capture's connections are many).
        if (g.lines.length < KEEP_LINES) g.lines.push(this.lossLine(c, clientDir));
      }
    }
    for (const ep of c.episodes) {
      if (ep.kind === 'capture-gap') continue;
      const seconds = Math.max(0, secondsFrom(ep.start, ep.end));
      const side: Side = ep.dir === clientDir ? 'client' : 'server';
      if (ep.kind === 'retransmission-stall') {
        if (seconds < this.stallSeconds) continue;
        this.addEpisode(this.group(this.groups, client, server, 'stall'), ep, side, seconds, conn.id);
      } else {
        this.addEpisode(this.group(this.groups, client, server, 'zero-window'), ep, side, seconds, conn.id);
      }
    }
  }

  /** "client ⇄ server: client→server N retransmitted, N lost, N out of order of N data segments; …" */
  private lossLine(c: ConnectionTimeline, clientDir: Direction): string {
    const parts: string[] = [];
    for (const side of SIDES) {
      const dir = side === 'client' ? clientDir : clientDir ^ 1;
      const k = c.counters[dir];
      const resent = k.retransmissions - k.repeatedResends;
      if (resent + k.lostSegments + k.outOfOrder > 0) {
        parts.push(
          `${side}→${side === 'client' ? 'server' : 'client'} ${resent} retransmitted, ${k.lostSegments} lost, ${k.outOfOrder} out of order of ${c.conn.dataSegments[dir]} data segments`,
        );
      }
    }
    return `${formatEndpoint(c.client())} ⇄ ${formatEndpoint(c.server())}: ${parts.join('; ')}`;
  }

  private addEpisode(g: Group | undefined, ep: TransportEpisode, side: Side, seconds: number, connId: number): void {
    if (g === undefined) {
      this.episodesNotReported++;
      return;
    }
    countConnection(g, connId);
    g.episodes++;
    g.seconds += seconds;
    g.calls += ep.calls;
    g.bySide[side]++;
    if (g.firstFrame === undefined || frameCompare(ep.start, g.firstFrame) < 0) g.firstFrame = ep.start;
    if (g.lastFrame === undefined || frameCompare(ep.end, g.lastFrame) > 0) g.lastFrame = ep.end;
    if (ep.worst !== undefined && (g.worst === undefined || ep.worst.seconds > g.worst.seconds)) g.worst = ep.worst;
    const kept: KeptEpisode = { side, start: ep.start, end: ep.end, seconds, count: ep.count, intervals: ep.intervals, frames: ep.frames.frames(), calls: ep.calls, worst: ep.worst, unresolved: ep.unresolved === true };
    g.kept.push(kept);
    g.kept.sort((a, b) => b.seconds - a.seconds || frameCompare(a.start, b.start));
    if (g.kept.length > KEEP_EPISODES) g.kept.pop();
  }

  /**
   * With the connections whose timelines the shared transport timeline let go
   * while they were live (more than timelineMaxConnections live at once):
   * their loss and stalls before that are not judged.
   */
  notReported(): NotReportedCounts {
    return positiveCounts({
      connectionsNotReported: this.connectionsNotReported,
      episodesNotReported: this.episodesNotReported,
      connectionTimelinesNotReported: this.ctx.timeline?.evicted ?? 0,
    });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.pairs.values()) {
      const loss = this.lossFinding(g);
      if (loss !== undefined) out.push(loss);
      const reorder = this.reorderFinding(g);
      if (reorder !== undefined) out.push(reorder);
    }
    for (const g of this.groups.values()) {
      const f = g.incident === 'stall' ? this.stallFinding(g) : this.zeroWindowFinding(g);
      if (f !== undefined) out.push(f);
    }
    return out;
  }

  private finding(g: Group, severity: Finding['severity'], title: string, explanation: string, count: number, ev: Finding['evidence'], metrics: Record<string, number | string | number[] | string[] | undefined>): Finding {
    const first = g.firstFrame!;
    const last = g.lastFrame ?? first;
    return {
      kind: this.kind,
      severity,
      title,
      explanation,
      client: g.client,
      server: g.server,
      start: formatFrameTime(first),
      end: formatFrameTime(last),
      durationSeconds: round(Math.max(0, secondsFrom(first, last))),
      count,
      evidence: ev.slice(0, MAX_EVIDENCE),
      metrics: cleanMetrics(metrics),
    };
  }

  /** The worst direction's loss, when above the thresholds. */
  private lossFinding(g: Group): Finding | undefined {
    // Retransmissions measure loss; lost segments alone may be reordering, or the capture's own loss.
    const sides = (['server', 'client'] as const).filter((s) => {
      const f = g.from[s];
      return f.retransmissions >= this.lossMin && f.dataSegments > 0 && f.retransmissions / f.dataSegments >= this.lossRate;
    });
    if (sides.length === 0) return undefined;
    const rate = (s: Side): number => g.from[s].retransmissions / Math.max(1, g.from[s].dataSegments);
    const worst = sides.sort((a, b) => rate(b) - rate(a))[0]!;
    const rates = (['server', 'client'] as const).filter((s) => g.from[s].retransmissions > 0).map((s) => `${percentText(rate(s))} from the ${s}`);
    const retrans = g.from.client.retransmissions + g.from.server.retransmissions;
    const lost = g.from.client.lostSegments + g.from.server.lostSegments;
    const finding = this.finding(
      g,
      'warning',
      `Packet loss between ${g.client} and ${g.server}: ${plural(retrans, 'segment')} resent (${rates.join(', ')})`,
      sentences(
        `TCP resent ${plural(retrans, 'segment')} on ${plural(g.connections, 'connection')} carrying ${plural(g.connCalls, 'call')}, ${groupDigits(lost)} of them lost before the capture point`,
        'each loss costs a round trip or a retransmission timeout: check the links, the switch and NIC error counters, and the MTU',
      ),
      retrans,
      this.sampleEvidence(g),
      {
        retransmissions: retrans,
        lostSegments: lost,
        outOfOrder: g.from.client.outOfOrder + g.from.server.outOfOrder,
        duplicateAcks: g.from.client.dupAcks + g.from.server.dupAcks,
        serverDataSegments: g.from.server.dataSegments,
        serverRetransmissions: g.from.server.retransmissions,
        serverLostSegments: g.from.server.lostSegments,
        clientDataSegments: g.from.client.dataSegments,
        clientRetransmissions: g.from.client.retransmissions,
        clientLostSegments: g.from.client.lostSegments,
        worstRate: round(rate(worst)),
        connections: g.connections,
        callsOnThem: g.connCalls,
        perConnection: g.lines,
      },
    );
    finding.impact = { blockedSeconds: 0, calls: g.connCalls };
    return finding;
  }

  private reorderFinding(g: Group): Finding | undefined {
    const ooo = g.from.client.outOfOrder + g.from.server.outOfOrder;
    const retrans = g.from.client.retransmissions + g.from.server.retransmissions;
    const data = g.from.client.dataSegments + g.from.server.dataSegments;
    if (ooo < this.reorderMin || data === 0 || ooo / data < this.reorderRate || ooo <= retrans) return undefined;
    const finding = this.finding(
      g,
      'warning',
      `Reordering between ${g.client} and ${g.server}: ${plural(ooo, 'segment')} out of order (${percentText(ooo / data)})`,
      sentences(
        'segments arrived out of order without being lost: a path split over several links (ECMP, link aggregation) or NIC queues',
        'TCP takes reordering for loss (duplicate ACKs, fast retransmissions) and slows down: check the load balancing on the path',
      ),
      ooo,
      this.sampleEvidence(g, true),
      { outOfOrder: ooo, retransmissions: retrans, dataSegments: data, connections: g.connections, perConnection: g.lines },
    );
    finding.impact = { blockedSeconds: 0, calls: g.connCalls };
    return finding;
  }

  private episodeEvidence(g: Group, what: (e: KeptEpisode, i: number, n: number) => string): Finding['evidence'] {
    const items: { at: FrameRef; what: string }[] = [];
    for (const e of g.kept) {
      e.frames.forEach((at, i) => items.push({ at, what: what(e, i, e.frames.length) }));
      if (e.unresolved) items.push({ at: e.end, what: 'connection ended, the data still unacknowledged' });
      if (e.worst !== undefined) {
        items.push({ at: e.worst.call, what: `${e.worst.op} call xid ${xidText(e.worst.xid)}, waiting during it` });
        if (e.worst.reply !== undefined) items.push({ at: e.worst.reply, what: `${e.worst.op} reply after ${secondsText(e.worst.seconds)}` });
      }
    }
    items.sort((a, b) => frameCompare(a.at, b.at));
    const uniq = items.filter((x, i) => i === 0 || frameCompare(items[i - 1]!.at, x.at) !== 0);
    const kept = uniq.length <= MAX_EVIDENCE ? uniq : [...uniq.slice(0, MAX_EVIDENCE - 1), uniq[uniq.length - 1]!];
    return kept.map((x) => evidence(this.ctx, x.at, x.what, formatFrameTime));
  }

  private stallFinding(g: Group): Finding | undefined {
    if (g.episodes === 0) return undefined;
    const longest = g.kept[0]!;
    // The addresses are in the finding's client and server.
    const sender = longest.side === 'server' ? 'the server' : 'the client';
    const peer = longest.side === 'server' ? 'the client' : 'the server';
    const worst = g.worst;
    const f = this.finding(
      g,
      longest.seconds >= this.stallErrorSeconds ? 'error' : 'warning',
      // Several stalls are counted in the title: the explanation holds the longest's intervals and the calls, within three lines.
      `${g.episodes > 1 ? `${g.episodes} TCP stalls, ${secondsText(g.seconds)} in all; the longest, ${secondsText(longest.seconds)}` : `TCP stall of ${secondsText(longest.seconds)}`}: ${sender} resent a segment ${longest.count} times ${longest.unresolved ? 'and it was never acknowledged' : 'before it was acknowledged'}`,
      sentences(
        `${sender} resent ${g.episodes > 1 ? 'it' : 'the same data'} at growing intervals (${intervalsText(longest.intervals)}) ${longest.unresolved ? `and ${peer} never acknowledged it` : `before ${peer} acknowledged it`}`,
        worst !== undefined ? `${waitedText(g.calls, worst)} ${worst.reply !== undefined ? `took ${secondsText(worst.seconds)}` : 'was never answered'}` : 'no call was waiting',
        `packets were lost ${g.calls > 1 ? '' : 'on the path '}(firewall, link down, MTU black hole) or ${peer} stopped`,
      ),
      g.episodes,
      this.episodeEvidence(g, (e, i, n) => (i === 0 ? `${e.side} retransmission (first of ${e.count}), not acknowledged` : i === n - 1 ? `${e.side} retransmission (last, +${secondsText(e.seconds)})` : `${e.side} retransmission`)),
      {
        stalls: g.episodes,
        stallSeconds: round(g.seconds),
        longestStallSeconds: round(longest.seconds),
        longestStallResends: longest.count,
        rtoIntervals: longest.intervals,
        serverStalls: g.bySide.server,
        clientStalls: g.bySide.client,
        callsDuring: g.calls,
        slowestCall: worst !== undefined ? `${worst.op} xid ${xidText(worst.xid)} frame ${worst.call.number}: ${worst.seconds} s` : undefined,
        connections: g.connections,
      },
    );
    f.impact = { blockedSeconds: round(g.seconds), calls: g.calls };
    return f;
  }

  private zeroWindowFinding(g: Group): Finding | undefined {
    if (g.episodes === 0 || g.seconds < this.zeroWindowSeconds) return undefined;
    const side: Side = g.bySide.server >= g.bySide.client ? 'server' : 'client';
    const both = g.bySide.server > 0 && g.bySide.client > 0;
    const longest = g.kept[0]!;
    const who = both ? 'the client and the server' : side === 'server' ? `the server ${g.server}` : `the client ${g.client}`;
    const why =
      side === 'server'
        ? 'the server stopped reading calls: nfsd threads busy or storage too slow to absorb the writes'
        : 'the client stopped reading replies: the client host is overloaded or its application is slow to consume data';
    const worst = g.worst;
    const f = this.finding(
      g,
      g.seconds >= 1 ? 'warning' : 'info',
      `Zero window: ${who} stopped reading for ${secondsText(g.seconds)} in ${plural(g.episodes, 'episode')} (longest ${secondsText(longest.seconds)})`,
      sentences(
        `${who} advertised a zero TCP window, so the other side had to stop sending; ${why}`,
        worst !== undefined ? `${waitedText(g.calls, worst)} took ${secondsText(worst.seconds)}` : '',
      ),
      g.episodes,
      this.episodeEvidence(g, (e, i, n) => (i === 0 ? `${e.side} window closed (zero window)` : i === n - 1 ? `${e.side} window open again after ${secondsText(e.seconds)}` : `${e.side} window still zero`)),
      {
        episodes: g.episodes,
        zeroWindowSeconds: round(g.seconds),
        longestSeconds: round(longest.seconds),
        serverEpisodes: g.bySide.server,
        clientEpisodes: g.bySide.client,
        callsDuring: g.calls,
        longestEpisodes: g.kept.map((e) => `${e.side} ${formatFrameTime(e.start)} ${round(e.seconds)} s, ${e.calls} calls`),
        connections: g.connections,
      },
    );
    f.impact = { blockedSeconds: round(g.seconds), calls: g.calls };
    return f;
  }
}

/** "READ xid 0x… waited meanwhile and" (one call), "3 calls waited meanwhile; the slowest, READ xid 0x…," (several). */
function waitedText(calls: number, worst: { op: string; xid: number }): string {
  const call = `${worst.op} xid ${xidText(worst.xid)}`;
  return calls === 1 ? `${call} waited meanwhile and` : `${plural(calls, 'call')} waited; the slowest, ${call},`;
}
