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
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { LruMap } from '../memory/lru.js';
import { NFS_RDMA_PORT, type RdmaEvent } from '../transport/roce.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type Finding } from './finding.js';
import { round, secondsFrom } from './transport-common.js';

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
function reasonMeaning(reason: number, port: number): string {
  const nfs = port === NFS_RDMA_PORT;
  switch (reason) {
    case 8:
      return nfs
        ? 'Nothing listens for RDMA connections on port 20049: the NFS server has no RDMA listener. ' +
            'On a Linux server, "rdma 20049" is missing from /proc/fs/nfsd/portlist: add it (`echo rdma 20049 > /proc/fs/nfsd/portlist`, ' +
            'rdma=y in the [nfsd] section of /etc/nfs.conf, or `rpc.nfsd --rdma=20049`), and check that the server-side RPC/RDMA ' +
            'module is loaded (rpcrdma; svcrdma on older kernels) and that the RDMA device is up (`rdma link`). The client reports ' +
            '"Connection refused"; a mount without proto=rdma would use TCP instead.'
        : 'Nothing listens for RDMA connections on that port on the server.';
    case 28:
      return 'The server\'s RDMA application itself refused the connection (for NFS/RDMA: nfsd refused it, e.g. its private data or resources did not suit it).';
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

  constructor(private readonly ctx: DetectorContext) {}

  onRdmaEvent(e: RdmaEvent): void {
    if (e.kind !== 'cm-reject') return;
    const clientAddr = e.client.replace(/:\d+$/, '');
    const key = `${clientAddr}|${e.server}|${e.code}`;
    let r = this.rejects.get(key);
    const first = e.requestAt ?? e.at;
    if (r === undefined) {
      r = { client: clientAddr, server: e.server, port: e.port, reason: e.code, reasonName: e.name, count: 0, frames: [], first: snapshotFrameRef(first), last: snapshotFrameRef(e.at) };
      this.rejects.set(key, r);
      if (this.rejects.size > 1000) this.rejects.shift();
    }
    r.count++;
    r.last = snapshotFrameRef(e.at);
    if (r.frames.length < MAX_EVIDENCE - 2) {
      if (e.requestAt !== undefined) r.frames.push({ at: snapshotFrameRef(e.requestAt), what: 'CM ConnectRequest' });
      r.frames.push({ at: snapshotFrameRef(e.at), what: `CM ConnectReject: reason ${e.code} (${e.name})` });
    }
  }

  finish(): Finding[] {
    return [...this.rejects.values()].map((r) => {
      const what = r.port === NFS_RDMA_PORT ? 'NFS/RDMA' : r.port >= 0 ? `RDMA port ${r.port}` : 'RDMA';
      const server = r.port >= 0 ? r.server : r.server.replace(/:\d+$/, '');
      return {
        kind: this.kind,
        severity: 'warning' as const,
        title: `${what} connection to ${server} rejected${r.count > 1 ? ` ${r.count} times` : ''}: ${r.reasonName} (CM reason ${r.reason})`,
        explanation:
          `${r.client} asked ${r.count} time(s) to open an RDMA connection to ${server} and the server's ` +
          `connection manager answered with a ConnectReject, reason ${r.reason} (${r.reasonName}). ${reasonMeaning(r.reason, r.port)}`,
        client: r.client,
        server,
        start: formatFrameTime(r.first),
        end: formatFrameTime(r.last),
        durationSeconds: round(Math.max(0, secondsFrom(r.first, r.last))),
        count: r.count,
        evidence: r.frames.map((f) => evidence(this.ctx, f.at, f.what, formatFrameTime)),
        metrics: { attempts: r.count, port: r.port, rejectReason: r.reason, rejectReasonName: r.reasonName },
      };
    });
  }
}
