/**
 * capture-quality: what the capture itself lacks, so that nobody reads a
 * capture problem as an NFS problem (or a clean bill of health into a
 * capture that could not show one). One finding per problem:
 *
 * - no RPC traffic at all (with the busiest TCP ports as a hint for
 *   `--nfs-port`, and the usual causes: RPC-over-TLS, the wrong interface or
 *   a filter); limits the verdict;
 * - one direction only: connections carrying RPC on which the capture holds
 *   no segment at all from one side, grouped per client (their calls look
 *   unanswered only because the replies were not captured); limits the
 *   verdict when every RPC connection is so;
 * - bytes missing from the capture: stream bytes reassembly never got and
 *   data the receiver ACKed that the capture never saw — the capture
 *   dropped packets, kept apart from loss on the network (retransmissions,
 *   see network-health); limits the verdict above `captureLossLimitFraction`;
 * - snaplen cuts that hide operations or statuses (cuts of READ/WRITE data
 *   alone are harmless and only counted);
 * - the capture started mid-stream (replies whose calls it does not hold);
 * - time going backwards between frames;
 * - calls whose arguments and results are encrypted (RPCSEC_GSS privacy),
 *   and connections that turned to TLS (RPC-with-TLS, RFC 9289).
 *
 * Options: captureLossWarnFraction (0.001): missing bytes over stream bytes
 * above which capture loss is a warning (below: info, unless RPC messages
 * were lost); captureLossLimitFraction (0.01): above it nfsight says it
 * could not judge; captureMaxConnections (10000).
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import type { OrphanReply, Transaction } from '../rpc/transaction.js';
import { formatEndpoint, type TcpEvent } from '../transport/stream.js';
import { evidence, MAX_EVIDENCE, type Detector, type DetectorContext, type CaptureFacts, type DetectorOptions, type EvidenceFrame, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { FrameSeries, frameCompare, round, secondsFrom } from './transport-common.js';
import { bytesText, cleanMetrics, listText, percentText, plural, secondsText, sentences } from './wording.js';
import { entityBoundOf } from '../memory/entity-bound.js';

export const KIND_CAPTURE_QUALITY = 'capture-quality';

const RPC_GSS_SVC_PRIVACY = 3;
const RPCSEC_GSS = 6;
/** RFC 9289: the client's NULL probe carries AUTH_TLS; the server agrees with an AUTH_NONE verifier "STARTTLS" (8 bytes). */
const AUTH_TLS = 7;
const AUTH_NONE = 0;
const STARTTLS_LENGTH = 8;
/** Ports listed as hints when no RPC was found. */
const PORT_HINTS = 5;
const MAX_PORTS = 4096;

interface OneWay {
  client: string;
  /** Which side the capture holds nothing from. */
  silent: 'server' | 'client';
  servers: Set<string>;
  connections: number;
  calls: number;
  unanswered: number;
  orphanReplies: number;
  frames: FrameSeries;
}

interface Snaplen {
  callsCut: number;
  repliesCut: number;
  frames: { at: FrameRef; what: string }[];
}

/** A largest step back below this is a note (frames stamped on several CPUs), not a warning. */
const SMALL_STEP_BACK_SECONDS = 0.001;

export class CaptureQualityDetector implements Detector {
  readonly kind = KIND_CAPTURE_QUALITY;
  private readonly warnFraction: number;
  private readonly limitFraction: number;
  private readonly maxConnections: number;
  /** Connections seen in one direction only whose client and silent side make a group beyond `maxConnections`: counted, not reported. */
  private oneWayNotReported = 0;
  /** Connections that ended, carrying RPC, and those of them seen one way only, per client and silent side. */
  private rpcConnections = 0;
  private oneWayConnections = 0;
  private readonly oneWay = new Map<string, OneWay>();
  /** Segments per server port of connections without RPC (hints for --nfs-port). */
  private readonly otherPorts = new Map<number, number>();
  /** Capture loss. */
  private readonly gaps = new FrameSeries(6);
  private gapBytes = 0;
  private readonly ackedUnseen = new FrameSeries(4);
  private ackedUnseenBytes = 0;
  private snaplenGapBytes = 0;
  private readonly lossConnections = new Set<number>();
  /** A connection with loss came when `lossConnections` was full: their number is a lower bound. */
  private lossConnectionsBeyond = false;
  private readonly lossEvidence: { at: FrameRef; what: string }[] = [];
  /** Replies without their call on connections the capture joined mid-stream, per connection (those seen one way only left out). */
  private readonly midstreamOrphans = new Map<number, { count: number; first: FrameRef }>();
  private readonly snaplen: Snaplen = { callsCut: 0, repliesCut: 0, frames: [] };
  private encryptedCalls = 0;
  /** RPC-with-TLS (RFC 9289): AUTH_TLS probes, connections the server switched to TLS, the first of them. */
  private tlsProbes = 0;
  private tlsConnections = 0;
  private readonly tls: { at: FrameRef; server: string }[] = [];
  private firstEncrypted: FrameRef | undefined;
  private calls = 0;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.warnFraction = options['captureLossWarnFraction'] ?? 0.001;
    this.limitFraction = options['captureLossLimitFraction'] ?? 0.01;
    this.maxConnections = options['captureMaxConnections'] ?? entityBoundOf(options);
  }

  onTcpEvent(e: TcpEvent): void {
    switch (e.kind) {
      case 'gap':
        this.gapBytes += e.bytes;
        this.gaps.add(e.at, e.bytes);
        this.noteLoss(e, `${bytesText(e.bytes)} missing from the capture`);
        break;
      case 'ack-lost-segment':
        this.ackedUnseenBytes += e.bytes;
        this.ackedUnseen.add(e.at, e.bytes);
        this.noteLoss(e, 'ACKs data the capture never saw');
        break;
      case 'snaplen-gap':
        this.snaplenGapBytes += e.bytes;
        break;
      case 'connection-end':
        this.connectionEnded(e);
        break;
      default:
        break;
    }
  }

  private noteLoss(e: TcpEvent, what: string): void {
    if (this.lossConnections.size < this.maxConnections) this.lossConnections.add(e.conn.id);
    else if (!this.lossConnections.has(e.conn.id)) this.lossConnectionsBeyond = true;
    if (this.lossEvidence.length < 6) this.lossEvidence.push({ at: snapshotFrameRef(e.at), what });
    else this.lossEvidence[6 - 1] = { at: snapshotFrameRef(e.at), what: `${what} (last)` };
  }

  private connectionEnded(e: TcpEvent): void {
    const c = this.ctx.timeline?.get(e.conn.id);
    const conn = e.conn;
    const carriesRpc = c !== undefined && c.calls + c.orphanReplies > 0;
    if (!carriesRpc) {
      const server = c?.server() ?? (conn.a.port < conn.b.port ? conn.a : conn.b);
      if (this.otherPorts.has(server.port) || this.otherPorts.size < MAX_PORTS) {
        this.otherPorts.set(server.port, (this.otherPorts.get(server.port) ?? 0) + conn.segments[0] + conn.segments[1]);
      }
      return;
    }
    this.rpcConnections++;
    const clientDir = c.clientDirection();
    const fromClient = conn.segments[clientDir];
    const fromServer = conn.segments[clientDir ^ 1]!;
    if (fromClient > 0 && fromServer > 0) return;
    if (fromClient === 0 && fromServer === 0) return;
    this.oneWayConnections++;
    // Its replies without calls are the missing direction's doing, not a mid-stream start.
    this.midstreamOrphans.delete(conn.id);
    const silent = fromServer === 0 ? 'server' : 'client';
    const client = c.client().addr;
    const key = `${client}|${silent}`;
    let g = this.oneWay.get(key);
    if (g === undefined) {
      if (this.oneWay.size >= this.maxConnections) {
        this.oneWayNotReported++;
        return;
      }
      g = { client, silent, servers: new Set(), connections: 0, calls: 0, unanswered: 0, orphanReplies: 0, frames: new FrameSeries(4) };
      this.oneWay.set(key, g);
    }
    g.connections++;
    if (g.servers.size < 20) g.servers.add(formatEndpoint(c.server()));
    g.calls += c.calls;
    g.unanswered += c.calls - c.answered;
    g.orphanReplies += c.orphanReplies;
    g.frames.add(conn.firstFrame);
  }

  onTransaction(t: Transaction): void {
    this.see(t);
    const call = t.decoded?.call;
    const reply = t.decoded?.reply;
    const callCut = call?.stop?.reason === 'truncated' && (call.ops.length === 0 || call.mainOp === '');
    const replyCut = t.reply !== undefined && t.reply.missing > 0 && (reply === undefined || reply.status === 'UNKNOWN' || (reply.stop?.reason === 'truncated' && reply.ops !== undefined && reply.ops.length < (call?.ops.length ?? 0)));
    if (callCut) this.snaplenCut(t.call.frame, 'call cut before its operation');
    if (replyCut) this.snaplenCut(t.reply!.frame, 'reply cut before its status');
    if (callCut) this.snaplen.callsCut++;
    if (replyCut) this.snaplen.repliesCut++;
  }

  onUnanswered(t: Transaction): void {
    this.see(t);
  }

  onOrphanReply(r: OrphanReply): void {
    const c = this.ctx.timeline?.get(r.connId);
    if (c === undefined || !c.conn.midstream) return;
    const m = this.midstreamOrphans.get(r.connId);
    if (m !== undefined) m.count++;
    else if (this.midstreamOrphans.size < this.maxConnections) this.midstreamOrphans.set(r.connId, { count: 1, first: snapshotFrameRef(r.frame) });
  }

  private see(t: Transaction): void {
    this.calls++;
    if (t.cred.flavor === AUTH_TLS && t.procedure === 0) {
      this.tlsProbes++;
      const verf = t.reply?.header.verf;
      // The server said STARTTLS: what follows on the connection is TLS.
      if (t.transport === 'tcp' && verf !== undefined && verf.flavor === AUTH_NONE && verf.length === STARTTLS_LENGTH && t.reply!.header.acceptStat === 0) {
        if (this.tls.length < MAX_EVIDENCE) this.tls.push({ at: snapshotFrameRef(t.reply!.frame), server: formatEndpoint(t.server) });
        this.tlsConnections++;
      }
    }
    const gss = t.cred.gss;
    if (t.cred.flavor === RPCSEC_GSS && gss !== undefined && gss.service === RPC_GSS_SVC_PRIVACY && gss.proc === 0) {
      this.encryptedCalls++;
      this.firstEncrypted ??= snapshotFrameRef(t.call.frame);
    }
  }

  private snaplenCut(at: FrameRef, what: string): void {
    if (this.snaplen.frames.length < 4) this.snaplen.frames.push({ at: snapshotFrameRef(at), what });
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ oneWayConnectionsNotReported: this.oneWayNotReported });
  }

  finish(): Finding[] {
    const facts = this.ctx.facts?.();
    const out: Finding[] = [];
    if (facts !== undefined && facts.rpcCalls + facts.rpcReplies === 0) {
      out.push(this.noRpc(facts.frames, facts.first, facts.last, facts.tcpSegments, facts.udpDatagrams));
      if (facts.timeBackwards > 0) out.push(this.timeBackwards(facts));
      return out;
    }
    out.push(...this.oneWayFindings());
    const loss = this.lossFinding();
    if (loss !== undefined) out.push(loss);
    if (facts !== undefined && facts.framesCutBySnaplen > 0 && this.snaplen.callsCut + this.snaplen.repliesCut + facts.rpcHeadersCut > 0) {
      out.push(this.snaplenFinding(facts.framesCutBySnaplen, facts.rpcHeadersCut, facts.rpcHeadersCutFirst));
    }
    if (this.midstreamOrphans.size > 0) out.push(this.midstreamFinding());
    if (facts !== undefined && facts.timeBackwards > 0) out.push(this.timeBackwards(facts));
    if (facts !== undefined && facts.packetCopies > 0) out.push(this.copiesFinding(facts));
    if (this.encryptedCalls > 0) out.push(this.encryptedFinding());
    if (this.tlsConnections > 0) out.push(this.tlsFinding());
    return out;
  }

  private base(severity: Finding['severity'], title: string, explanation: string, first: FrameRef, last: FrameRef, count: number, ev: EvidenceFrame[], metrics: Finding['metrics']): Finding {
    return {
      kind: this.kind,
      severity,
      title,
      explanation,
      start: formatFrameTime(first),
      end: formatFrameTime(last),
      durationSeconds: round(Math.max(0, secondsFrom(first, last))),
      count,
      evidence: ev.slice(0, MAX_EVIDENCE),
      metrics: cleanMetrics(metrics),
    };
  }

  private noRpc(frames: number, first: FrameRef | undefined, last: FrameRef | undefined, tcpSegments: number, udpDatagrams: number): Finding {
    const ports = [...this.otherPorts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, PORT_HINTS);
    const busiest = ports[0]?.[0];
    const at = first ?? { fileIndex: 0, number: 0, tsSec: 0, tsNsec: 0 };
    const f = this.base(
      'warning',
      frames === 0 ? 'The capture holds no frames' : 'No NFS or RPC traffic in the capture',
      frames === 0
        ? 'There is nothing to analyse: check that the capture was started on the right interface and ran while the mount was used.'
        : sentences(
            `nfsight found no ONC RPC message in ${plural(frames, 'frame')}`,
            busiest !== undefined ? `if NFS runs on a port other than 2049 (the busiest here: ${busiest}), name it with --nfs-port` : 'if NFS runs on a port other than 2049, name it with --nfs-port',
            'NFS over TLS is unreadable here; else the capture interface or its filter missed the NFS traffic',
          ),
      at,
      last ?? at,
      0,
      first !== undefined ? [evidence(this.ctx, first, 'first frame of the capture', formatFrameTime)] : [],
      { frames, tcpSegments, udpDatagrams, busiestTcpPorts: ports.map(([p]) => p), segmentsPerPort: ports.map(([, n]) => n) },
    );
    f.limitsJudgement = frames === 0 ? 'the capture holds no frames' : 'the capture holds no NFS or RPC traffic';
    return f;
  }

  private oneWayFindings(): Finding[] {
    const out: Finding[] = [];
    const all = this.rpcConnections > 0 && this.oneWayConnections === this.rpcConnections;
    for (const g of this.oneWay.values()) {
      const frames = g.frames.frames();
      const servers = [...g.servers];
      const serverSide = g.silent === 'server';
      const f = this.base(
        'warning',
        serverSide
          ? `Only ${g.client}'s packets are in the capture on ${plural(g.connections, 'connection')}: no reply could be seen`
          : `Only the server's packets are in the capture on ${plural(g.connections, 'connection')} of ${g.client}: no call could be seen`,
        sentences(
          serverSide
            ? `the capture holds no segment from ${listText(servers, 2)} on ${g.connections === 1 ? 'this connection' : 'these connections'}, so ${plural(g.unanswered, 'call')} only look unanswered`
            : `the capture holds no segment from ${g.client} on ${g.connections === 1 ? 'this connection' : 'these connections'}, so ${plural(g.orphanReplies, 'reply', 'replies')} have no call`,
          'the capture saw one direction only: a mirror port copying one way, asymmetric routing, or a filter on one address',
        ),
        frames[0]!,
        frames[frames.length - 1]!,
        g.connections,
        frames.map((at, i) => evidence(this.ctx, at, i === 0 ? `first segment of a connection seen one way only` : 'connection seen one way only', formatFrameTime)),
        { connections: g.connections, calls: g.calls, unansweredCalls: g.unanswered, repliesWithoutCall: g.orphanReplies, servers },
      );
      f.client = g.client;
      if (servers.length === 1) f.server = servers[0]!;
      if (all) f.limitsJudgement = 'the capture holds one direction of the traffic only';
      out.push(f);
    }
    return out;
  }

  private lossFinding(): Finding | undefined {
    if (this.gaps.count === 0 && this.ackedUnseen.count === 0) return undefined;
    const facts = this.ctx.facts?.();
    // ACKed-unseen bytes run to the end of what was contiguous: the gaps measure the loss, when reassembly saw them.
    const missing = this.gapBytes > 0 ? this.gapBytes : this.ackedUnseenBytes;
    const streamBytes = (facts?.tcpDeliveredBytes ?? 0) + missing;
    const fraction = streamBytes > 0 ? missing / streamBytes : 1;
    const rpcLost = (facts?.resyncs ?? 0) > 0;
    const severity = fraction >= this.warnFraction || rpcLost ? 'warning' : 'info';
    const ev = [...this.lossEvidence].sort((a, b) => frameCompare(a.at, b.at));
    const first = ev[0]!.at;
    const last = ev[ev.length - 1]!.at;
    const f = this.base(
      severity,
      `The capture lost ${bytesText(missing)} (${percentText(fraction)} of the stream bytes) in ${plural(Math.max(this.gaps.count, this.ackedUnseen.count), 'gap')}`,
      sentences(
        `receivers acknowledged data the capture never saw, on ${this.lossConnectionsBeyond ? 'at least ' : ''}${plural(this.lossConnections.size, 'connection')}: the capturing host dropped packets (buffer too small, CPU, slow disk), not the network`,
        rpcLost ? `RPC messages were lost with them (${plural(facts?.resyncs ?? 0, 'resynchronisation')}): some calls look unanswered and some replies have no call` : 'findings near the gaps are weakened',
      ),
      first,
      last,
      Math.max(this.gaps.count, this.ackedUnseen.count),
      ev.map((e) => evidence(this.ctx, e.at, e.what, formatFrameTime)),
      {
        missingBytes: missing,
        gaps: this.gaps.count,
        gapBytes: this.gapBytes,
        ackedUnseenSegments: this.ackedUnseen.count,
        ackedUnseenBytes: this.ackedUnseenBytes,
        missingFraction: round(fraction),
        connections: this.lossConnections.size,
        rpcResyncs: facts?.resyncs ?? 0,
      },
    );
    if (fraction >= this.limitFraction) f.limitsJudgement = `the capture lost ${percentText(fraction)} of the stream bytes`;
    return f;
  }

  /**
   * Calls cut before their operation, replies before their status, and
   * messages cut before their RPC header was whole (a Linux `-i any`
   * capture at `-s 96` keeps 24 bytes of RPC: the procedure number is lost,
   * and no call is counted at all).
   */
  private snaplenFinding(framesCut: number, headersCut: number, firstHeaderCut: FrameRef | undefined): Finding {
    const s = this.snaplen;
    const cut = [...s.frames];
    if (headersCut > 0 && firstHeaderCut !== undefined) {
      cut.push({ at: firstHeaderCut, what: 'RPC message cut before its header' });
      cut.sort((a, b) => frameCompare(a.at, b.at));
    }
    const ev = cut.slice(0, 4).map((x) => evidence(this.ctx, x.at, x.what, formatFrameTime));
    const first = cut[0]!.at;
    const last = cut[Math.min(cut.length, 4) - 1]!.at;
    const parts: string[] = [];
    if (s.callsCut + s.repliesCut > 0) {
      parts.push(`${s.callsCut > 0 ? plural(s.callsCut, 'call') : ''}${s.callsCut > 0 && s.repliesCut > 0 ? ' and ' : ''}${s.repliesCut > 0 ? plural(s.repliesCut, 'reply', 'replies') : ''} before ${s.repliesCut > 0 ? 'their status' : 'their operation'}`);
    }
    if (headersCut > 0) parts.push(`${plural(headersCut, 'RPC message')} before their header`);
    return this.base(
      'warning',
      `The snaplen cut ${parts.join('; ')}`,
      sentences(
        `the capture kept only the start of ${plural(framesCut, 'frame')}, too little to show every operation and status: their errors and names are unknown`,
        ...(headersCut > 0 ? [`${plural(headersCut, 'message')} lost even the RPC header's procedure number, and count as no call or reply`] : []),
        'capture with a larger snaplen (tcpdump -s 0) to see them',
      ),
      first,
      last,
      s.callsCut + s.repliesCut + headersCut,
      ev,
      { framesCutBySnaplen: framesCut, callsCut: s.callsCut, repliesCut: s.repliesCut, ...(headersCut > 0 ? { messagesCutBeforeHeader: headersCut } : {}), snaplenGapBytes: this.snaplenGapBytes },
    );
  }

  private midstreamFinding(): Finding {
    const conns = [...this.midstreamOrphans.values()].sort((a, b) => frameCompare(a.first, b.first));
    const replies = conns.reduce((n, c) => n + c.count, 0);
    const at = conns[0]!.first;
    return this.base(
      'info',
      `The capture started mid-stream: ${plural(replies, 'reply', 'replies')} without ${replies === 1 ? 'its' : 'their'} call`,
      sentences(
        `${conns.length === 1 ? 'a connection was' : `${conns.length} connections were`} already open when the capture started: calls sent before it cannot be timed`,
        'start the capture before the workload to time every call',
      ),
      at,
      conns[conns.length - 1]!.first,
      replies,
      conns.slice(0, 4).map((c) => evidence(this.ctx, c.first, 'first reply without its call on its connection', formatFrameTime)),
      { repliesWithoutCall: replies, connections: conns.length },
    );
  }

  private copiesFinding(facts: CaptureFacts): Finding {
    const n = facts.packetCopies;
    const { copy, original } = facts.firstPacketCopy!;
    return this.base(
      'warning',
      `${n === 1 ? 'A packet was' : `${plural(n, 'packet')} were`} captured twice: each read once`,
      sentences(
        'the capture saw the same IP packets twice, microseconds apart: tcpdump -i any on a host with a bond, bridge or VLAN interface, or a mirror port copying both directions',
        'Wireshark shows the copies as retransmissions and duplicate ACKs; capture on one interface',
      ),
      copy,
      facts.lastPacketCopy!,
      n,
      [
        evidence(this.ctx, original, 'a packet', formatFrameTime),
        evidence(this.ctx, copy, 'the same packet again (the first copy)', formatFrameTime),
        ...(n > 1 ? [evidence(this.ctx, facts.lastPacketCopy!, 'the last copy', formatFrameTime)] : []),
      ],
      { packetCopies: n },
    );
  }

  private timeBackwards(facts: CaptureFacts): Finding {
    const count = facts.timeBackwards;
    const first = facts.timeBackwardsFirst!;
    const early = facts.repliesBeforeCall;
    const frames = [{ at: first, what: 'earlier than the frame before it' }];
    if (early > 0) {
      const at = facts.firstReplyBeforeCall!;
      if (frameCompare(at, first) === 0) frames[0]!.what += ', a reply stamped before its call';
      else frames.push({ at, what: 'a reply stamped before its call' });
    }
    frames.sort((a, b) => frameCompare(a.at, b.at));
    const step = facts.timeBackwardsMaxSeconds;
    const left = early === 0 ? '' : early === 1 ? ' (one reply stamped before its call is left out of the timing figures)' : ` (${plural(early, 'reply', 'replies')} stamped before their calls are left out of the timing figures)`;
    // Steps of microseconds are how `-i any` and multi-queue NICs stamp packets on several CPUs: a note.
    const small = step < SMALL_STEP_BACK_SECONDS;
    return this.base(
      small ? 'info' : 'warning',
      `Time goes backwards ${count === 1 ? 'once' : `${count} times`} in the capture (by up to ${secondsText(step)})`,
      small
        ? sentences(
            'frames are a little out of time order: tcpdump -i any, or a NIC with several queues, stamps packets on several CPUs',
            `no latency or interval is off by more than ${secondsText(step)}${left}`,
          )
        : sentences(
            'frames are not in time order: the capture was merged from several sources, or the capturing host stepped its clock',
            `latencies and intervals across the step are wrong${left}; sort the frames (reordercap) or capture on one host`,
          ),
      first,
      first,
      count,
      frames.map((x) => evidence(this.ctx, x.at, x.what, formatFrameTime)),
      { framesBackwards: count, largestStepBackSeconds: round(facts.timeBackwardsMaxSeconds), ...(early > 0 ? { repliesBeforeCall: early } : {}) },
    );
  }

  private tlsFinding(): Finding {
    const n = this.tlsConnections;
    const servers = [...new Set(this.tls.map((x) => x.server))];
    const f = this.base(
      'warning',
      `${n === 1 ? 'A connection' : `${plural(n, 'connection')}`} to ${listText(servers)} switched to TLS (RPC-with-TLS): ${n === 1 ? 'its' : 'their'} NFS traffic is encrypted`,
      sentences(
        `the server answered the client's AUTH_TLS probe with STARTTLS (RFC 9289, mount option xprtsec=tls): what follows on ${n === 1 ? 'that connection' : 'those connections'} is TLS, whose calls nfsight cannot read or time`,
        'to see the calls, reproduce the problem on a mount without xprtsec=tls',
      ),
      this.tls[0]!.at,
      this.tls[this.tls.length - 1]!.at,
      n,
      this.tls.slice(0, 4).map((x) => evidence(this.ctx, x.at, 'STARTTLS: the connection turns to TLS', formatFrameTime)),
      { tlsConnections: n, servers },
    );
    // Nothing but the probes in the clear: no call could be judged.
    if (this.calls === this.tlsProbes) f.limitsJudgement = 'the NFS traffic is encrypted (RPC-with-TLS)';
    return f;
  }

  private encryptedFinding(): Finding {
    const at = this.firstEncrypted!;
    return this.base(
      'info',
      `${plural(this.encryptedCalls, 'call')} of ${this.calls} use RPCSEC_GSS privacy (krb5p): operations and statuses hidden`,
      sentences('their arguments and results are encrypted: nfsight times them but cannot name their operations, files or errors'),
      at,
      at,
      this.encryptedCalls,
      [evidence(this.ctx, at, 'first encrypted call', formatFrameTime)],
      { encryptedCalls: this.encryptedCalls, calls: this.calls },
    );
  }
}
