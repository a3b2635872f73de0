/**
 * rdma-connection: RDMA connection attempts the server rejected (an
 * InfiniBand CM ConnectReject), grouped per client address, server and
 * port, and reject reason.
 *
 * Over RoCE a refused NFS/RDMA mount is no TCP reset: the server's RDMA
 * connection manager answers the ConnectRequest for service id
 * RDMA_PS_TCP:20049 with ConnectReject reason 8 (Invalid Service ID) when
 * nothing listens there, which the client reports as "Connection refused".
 * Severity warning.
 *
 * Also: ConnectRequests the client's CM sent again (a timeout) and nobody
 * answered by the end of the capture, per client address and server:
 * the server is down or unreachable over RoCE. Severity warning.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { LruMap } from '../memory/lru.js';
import { NFS_RDMA_PORT, type RdmaEvent } from '../transport/roce.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { plural, sentences, timesText } from './wording.js';
import { frameCompare, round, secondsFrom } from './transport-common.js';

const frameBefore = (a: FrameRef, b: FrameRef): boolean => frameCompare(a, b) < 0;

interface Rejects {
  client: string;
  server: string;
  port: number;
  reason: number;
  reasonName: string;
  count: number;
  /** ConnectRequest and ConnectReject frames, in order (bounded). */
  frames: { at: FrameRef; what: string }[];
  first: FrameRef;
  last: FrameRef;
}

/** What a reject reason means for an NFS/RDMA mount, and what to check. */
/** What a ConnectReject reason means and what to check, one or two short sentences. */
function reasonMeaning(reason: number, port: number): string {
  const nfs = port === NFS_RDMA_PORT;
  switch (reason) {
    case 8:
      return nfs
        ? 'Nothing listens for RDMA on port 20049: add "rdma 20049" to /proc/fs/nfsd/portlist (rdma=y in nfs.conf) and check that svcrdma is loaded.'
        : 'Nothing listens for RDMA connections on that port on the server.';
    case 28:
      return 'The server\'s RDMA application (for NFS/RDMA: nfsd) refused the connection, e.g. its private data or resources did not suit it.';
    case 1:
    case 2:
    case 3:
      return 'The server\'s RDMA device ran out of queue pairs or resources: too many connections, or a device limit.';
    case 26:
      return 'The path MTU the client asked for is not acceptable to the server: check the RoCE MTU of both ports.';
    case 27:
      return 'The server cannot provide the RDMA READ resources the client asked for.';
    default:
      return 'The reason names what the server\'s connection manager did not accept.';
  }
}

export class RdmaConnectionDetector implements Detector {
  readonly kind = 'rdma-connection';
  private readonly rejects = new LruMap<string, Rejects>();
  /** Rejects and unanswered requests of the groups forgotten (beyond 1,000, the oldest first). */
  private rejectsNotReported = 0;
  private requestsNotReported = 0;
  private readonly unanswered = new LruMap<string, { client: string; server: string; port: number; attempts: number; requests: number; first: FrameRef; last: FrameRef }>();

  constructor(private readonly ctx: DetectorContext) {}

  onRdmaEvent(e: RdmaEvent): void {
    if (e.kind === 'cm-unanswered') return this.noAnswer(e);
    if (e.kind !== 'cm-reject') return;
    const clientAddr = e.client.replace(/:\d+$/, '');
    const key = `${clientAddr}|${e.server}|${e.code}`;
    let r = this.rejects.get(key);
    const first = e.requestAt ?? e.at;
    if (r === undefined) {
      r = { client: clientAddr, server: e.server, port: e.port, reason: e.code, reasonName: e.name, count: 0, frames: [], first: snapshotFrameRef(first), last: snapshotFrameRef(e.at) };
      this.rejects.set(key, r);
      if (this.rejects.size > 1000) this.rejectsNotReported += this.rejects.shift()![1].count;
    }
    r.count++;
    r.last = snapshotFrameRef(e.at);
    if (r.frames.length < MAX_EVIDENCE - 2) {
      if (e.requestAt !== undefined) r.frames.push({ at: snapshotFrameRef(e.requestAt), what: 'CM ConnectRequest' });
      r.frames.push({ at: snapshotFrameRef(e.at), what: `CM ConnectReject: reason ${e.code} (${e.name})` });
    }
  }

  private noAnswer(e: RdmaEvent): void {
    const client = e.client.replace(/:\d+$/, '');
    const key = `${client}|${e.server}`;
    const first = e.requestAt ?? e.at;
    let u = this.unanswered.get(key);
    if (u === undefined) {
      u = { client, server: e.server, port: e.port, attempts: 0, requests: 0, first: snapshotFrameRef(first), last: snapshotFrameRef(e.at) };
      this.unanswered.set(key, u);
      if (this.unanswered.size > 1000) this.requestsNotReported += this.unanswered.shift()![1].requests;
    }
    u.attempts += e.count;
    u.requests++;
    if (frameBefore(first, u.first)) u.first = snapshotFrameRef(first);
    if (frameBefore(u.last, e.at)) u.last = snapshotFrameRef(e.at);
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ rejectsNotReported: this.rejectsNotReported, requestsNotReported: this.requestsNotReported });
  }

  finish(): Finding[] {
    const unanswered: Finding[] = [...this.unanswered.values()].map((u) => {
      const what = u.port === NFS_RDMA_PORT ? 'NFS/RDMA' : 'RDMA';
      return {
        kind: this.kind,
        severity: 'warning' as const,
        title: `${what} connection request${u.requests > 1 ? 's' : ''} to ${u.server} never answered (${u.attempts} attempts)`,
        explanation:
          sentences(
            `the client sent ${plural(u.attempts, 'ConnectRequest')} (${plural(u.requests, 'connection attempt')}, resent after timeouts) and got neither a ConnectReply nor a ConnectReject`,
            'the server is down, unreachable over RoCE (address or GID, route, VLAN, PFC), or its RDMA device is not up (`rdma link`)',
          ),
        client: u.client,
        server: u.server,
        start: formatFrameTime(u.first),
        end: formatFrameTime(u.last),
        durationSeconds: round(Math.max(0, secondsFrom(u.first, u.last))),
        count: u.attempts,
        evidence: [evidence(this.ctx, u.first, 'first ConnectRequest', formatFrameTime), evidence(this.ctx, u.last, 'last ConnectRequest, never answered', formatFrameTime)],
        metrics: { attempts: u.attempts, connectionAttempts: u.requests, port: u.port },
      };
    });
    return [...unanswered, ...[...this.rejects.values()].map((r) => {
      const what = r.port === NFS_RDMA_PORT ? 'NFS/RDMA' : r.port >= 0 ? `RDMA port ${r.port}` : 'RDMA';
      const server = r.port >= 0 ? r.server : r.server.replace(/:\d+$/, '');
      return {
        kind: this.kind,
        severity: 'warning' as const,
        title: `${what} connection to ${server} rejected${r.count > 1 ? ` ${r.count} times` : ''}: ${r.reasonName} (CM reason ${r.reason})`,
        explanation:
          `The client asked ${timesText(r.count)} for an RDMA connection and the server's connection manager rejected it (reason ${r.reason}, ${r.reasonName}). ${reasonMeaning(r.reason, r.port)}`,
        client: r.client,
        server,
        start: formatFrameTime(r.first),
        end: formatFrameTime(r.last),
        durationSeconds: round(Math.max(0, secondsFrom(r.first, r.last))),
        count: r.count,
        evidence: r.frames.map((f) => evidence(this.ctx, f.at, f.what, formatFrameTime)),
        metrics: { attempts: r.count, port: r.port, rejectReason: r.reason, rejectReasonName: r.reasonName },
      };
    })];
  }
}
