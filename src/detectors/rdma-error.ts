/**
 * rdma-error: RPC-over-RDMA RDMA_ERROR replies (RFC 8166 §4.5): the
 * responder could not process a call's transport header, and sent this
 * instead of an RPC reply, so the call fails below the RPC layer (nfsight
 * counts it answered, by the transport: in `calls` its rpcStatus is the
 * error, its reply frame the RDMA_ERROR's). Grouped per connection and error.
 *
 * - ERR_VERS: the peers disagree on the RPC-over-RDMA version; nothing can
 *   work on that connection.
 * - ERR_CHUNK: the chunk lists were unusable: malformed, more chunks or
 *   segments than the responder supports, or a reply chunk too small for
 *   the reply (the client's reply size estimate was wrong).
 *
 * Severity error.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { LruMap } from '../memory/lru.js';
import type { RdmaEvent } from '../transport/roce.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { round, secondsFrom } from './transport-common.js';

interface Errors {
  client: string;
  server: string;
  code: number;
  names: Set<string>;
  count: number;
  xids: string[];
  frames: { at: FrameRef; what: string }[];
  first: FrameRef;
  last: FrameRef;
}

export class RdmaErrorDetector implements Detector {
  readonly kind = 'rdma-error';
  private readonly errors = new LruMap<string, Errors>();
  /** RDMA_ERROR replies of the groups forgotten (beyond 1,000, the oldest first). */
  private errorsNotReported = 0;

  constructor(private readonly ctx: DetectorContext) {}

  onRdmaEvent(e: RdmaEvent): void {
    if (e.kind !== 'rpcrdma-error') return;
    const key = `${e.conn?.id ?? -1}|${e.code}`;
    let g = this.errors.get(key);
    if (g === undefined) {
      g = { client: e.client, server: e.server, code: e.code, names: new Set(), count: 0, xids: [], frames: [], first: snapshotFrameRef(e.at), last: snapshotFrameRef(e.at) };
      this.errors.set(key, g);
      if (this.errors.size > 1000) this.errorsNotReported += this.errors.shift()![1].count;
    }
    g.count++;
    g.last = snapshotFrameRef(e.at);
    if (g.names.size < 8) g.names.add(e.name);
    const xid = `0x${(e.xid >>> 0).toString(16).padStart(8, '0')}`;
    if (g.xids.length < 20) g.xids.push(xid);
    if (g.frames.length < MAX_EVIDENCE) g.frames.push({ at: snapshotFrameRef(e.at), what: `RDMA_ERROR ${e.name}, xid ${xid}` });
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ errorsNotReported: this.errorsNotReported });
  }

  finish(): Finding[] {
    return [...this.errors.values()].map((g) => {
      const vers = g.code === 1;
      const label = vers ? 'ERR_VERS' : g.code === 2 ? 'ERR_CHUNK' : `error ${g.code}`;
      return {
        kind: this.kind,
        severity: 'error' as const,
        title: `${g.count} call(s) on ${g.client} → ${g.server} answered with RDMA_ERROR ${label}`,
        explanation:
          `The server answered ${g.count} call(s) with an RPC-over-RDMA RDMA_ERROR (${[...g.names].join('; ')}) instead of an RPC reply: ` +
          'the RPC layer never gets a reply to them, and the client retries or fails them (in `calls` they show this error as their RPC status). ' +
          (vers
            ? 'ERR_VERS: the server does not speak the client\'s RPC-over-RDMA version; the range it supports is given. Check both kernels\' RPC/RDMA transports.'
            : 'ERR_CHUNK: the server could not use the call\'s chunk lists: malformed, more chunks or segments than it supports, or a reply chunk too small for the reply. ' +
              'Look at the calls\' read/write lists and reply chunks (the xids are listed); a client and server with mismatched inline sizes or a client bug are the usual causes.'),
        client: g.client.replace(/:\d+$/, ''),
        server: g.server,
        start: formatFrameTime(g.first),
        end: formatFrameTime(g.last),
        durationSeconds: round(Math.max(0, secondsFrom(g.first, g.last))),
        count: g.count,
        evidence: g.frames.map((f) => evidence(this.ctx, f.at, f.what, formatFrameTime)),
        metrics: { errors: g.count, errorCode: g.code, xids: g.xids },
      };
    });
  }
}
