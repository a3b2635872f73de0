/**
 * rdma-transport: trouble on RDMA queue pairs, per connection.
 *
 * - NAKs and retransmissions: the receiver NAKed packets (PSN sequence
 *   error: packets lost on the fabric; the sender goes back and sends them
 *   again), or the capture saw requester packets again. Lossy RoCE needs
 *   PFC/ECN; every go-back-N resends everything after the loss. Severity
 *   warning.
 * - Remote access / invalid request / operational NAKs: an RDMA operation
 *   the receiver refused (a bad R_Key or address: the connection is torn
 *   down). Severity error.
 * - RNR NAKs: the receiver had no receive buffer posted (receiver not
 *   ready): the sender waits and retries. Severity warning.
 * - PSN gaps: requester packets the capture never saw while the receiver
 *   did (it acknowledged beyond them): the capture lost them, not the
 *   network. Severity info; messages across the gap are incomplete.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { LruMap } from '../memory/lru.js';
import type { RdmaEvent } from '../transport/roce.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { round, secondsFrom } from './transport-common.js';
import { entityBoundOf } from '../memory/entity-bound.js';

interface Series {
  count: number;
  packets: number;
  names: Map<string, number>;
  frames: { at: FrameRef; what: string }[];
  first: FrameRef;
  last: FrameRef;
}

interface ConnTrouble {
  client: string;
  server: string;
  describe: string;
  loss: Series | undefined;
  access: Series | undefined;
  rnr: Series | undefined;
  gaps: Series | undefined;
}

function add(s: Series | undefined, e: RdmaEvent, what: string): Series {
  const out: Series = s ?? { count: 0, packets: 0, names: new Map(), frames: [], first: snapshotFrameRef(e.at), last: snapshotFrameRef(e.at) };
  out.count++;
  out.packets += e.count;
  out.last = snapshotFrameRef(e.at);
  if (e.name !== '') out.names.set(e.name, (out.names.get(e.name) ?? 0) + 1);
  if (out.frames.length < MAX_EVIDENCE) out.frames.push({ at: snapshotFrameRef(e.at), what });
  return out;
}

function names(s: Series): string {
  return [...s.names.entries()].map(([k, v]) => `${k} ×${v}`).join(', ');
}

export class RdmaTransportDetector implements Detector {
  readonly kind = 'rdma-transport';
  private readonly conns = new LruMap<number, ConnTrouble>();
  /** Connections forgotten with their loss and NAK events (beyond 10,000, the oldest first). */
  private connectionsNotReported = 0;

  /** Connections followed at most (the oldest forgotten, counted). */
  private readonly maxConns: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.maxConns = entityBoundOf(options);
  }

  onRdmaEvent(e: RdmaEvent): void {
    if (e.conn === undefined) return;
    if (e.kind !== 'nak' && e.kind !== 'retransmission' && e.kind !== 'rnr-nak' && e.kind !== 'psn-gap') return;
    let c = this.conns.get(e.conn.id);
    if (c === undefined) {
      c = { client: e.client, server: e.server, describe: e.conn.describe(), loss: undefined, access: undefined, rnr: undefined, gaps: undefined };
      this.conns.set(e.conn.id, c);
      if (this.conns.size > this.maxConns) {
        this.conns.shift();
        this.connectionsNotReported++;
      }
    }
    const side = e.direction === 0 ? 'client → server' : 'server → client';
    switch (e.kind) {
      case 'nak':
        // PSN sequence errors are loss; the other NAK codes refuse an operation.
        if (e.code === 0) c.loss = add(c.loss, e, `NAK: ${e.name} (from the ${e.direction === 0 ? 'client' : 'server'})`);
        else c.access = add(c.access, e, `NAK: ${e.name} (from the ${e.direction === 0 ? 'client' : 'server'})`);
        break;
      case 'retransmission':
        c.loss = add(c.loss, { ...e, name: 'retransmitted packet' }, `${e.name} sent again (${side})`);
        break;
      case 'rnr-nak':
        c.rnr = add(c.rnr, e, `RNR NAK (from the ${e.direction === 0 ? 'client' : 'server'})`);
        break;
      case 'psn-gap':
        c.gaps = add(c.gaps, e, `${e.count} packet(s) missing from the capture (${side})`);
        break;
    }
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ connectionsNotReported: this.connectionsNotReported });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const c of this.conns.values()) {
      const base = (s: Series) => ({
        kind: this.kind,
        client: c.client.replace(/:\d+$/, ''),
        server: c.server,
        start: formatFrameTime(s.first),
        end: formatFrameTime(s.last),
        durationSeconds: round(Math.max(0, secondsFrom(s.first, s.last))),
        evidence: s.frames.map((f) => evidence(this.ctx, f.at, f.what, formatFrameTime)),
      });
      if (c.access !== undefined) {
        const s = c.access;
        out.push({
          ...base(s),
          severity: 'error',
          title: `RDMA operations refused on ${c.describe}: ${names(s)}`,
          explanation:
            'The receiver NAKed RDMA operations it would not carry out. A Remote Access Error is an RDMA READ or WRITE to memory that is not (or no longer) registered with that R_Key: ' +
            'a chunk used after its invalidation, or a wrong address; an Invalid Request or Remote Operational Error is a protocol or device fault. ' +
            'Either way the queue pair goes to the error state and the connection is torn down: calls in flight are retried on a new connection.',
          count: s.count,
          metrics: { naks: s.count },
        });
      }
      if (c.loss !== undefined) {
        const s = c.loss;
        out.push({
          ...base(s),
          severity: 'warning',
          title: `Packet loss on ${c.describe}: ${names(s)}`,
          explanation:
            'Packets were lost between the peers: the receiver NAKed a PSN sequence error, or requester packets appear twice in the capture because the sender went back and sent them again ' +
            '(go-back-N: everything after the loss is resent). RoCE expects a lossless fabric: check PFC (priority flow control) and ECN on the switches and NICs, ' +
            'and the ports\' error and discard counters. Each loss costs a retransmission timeout or a round trip, seen as slow calls.',
          count: s.count,
          metrics: { events: s.count, packets: s.packets },
        });
      }
      if (c.rnr !== undefined) {
        const s = c.rnr;
        out.push({
          ...base(s),
          severity: 'warning',
          title: `Receiver not ready on ${c.describe}: ${s.count} RNR NAK(s)`,
          explanation:
            'The receiver had no receive buffer posted for a SEND and answered with an RNR NAK; the sender waits the RNR timer and tries again. ' +
            'With RPC-over-RDMA the credits should prevent this: the peer ran out of posted receives (a slow or overloaded host, or more outstanding calls than credits).',
          count: s.count,
          metrics: { rnrNaks: s.count },
        });
      }
      if (c.gaps !== undefined) {
        const s = c.gaps;
        out.push({
          ...base(s),
          severity: 'info',
          title: `The capture lost ${s.packets} RDMA packet(s) on ${c.describe}`,
          explanation:
            'Requester packets are missing from the capture (PSN gaps) although the receiver acknowledged beyond them: the capture dropped them, not the network. ' +
            'Messages across the gaps are incomplete; calls and replies are matched from what remains. Capture with a larger buffer (tcpdump -B) or a snaplen that keeps headers only.',
          count: s.count,
          metrics: { gaps: s.count, packets: s.packets },
        });
      }
    }
    return out;
  }
}
