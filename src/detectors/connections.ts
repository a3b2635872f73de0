/**
 * connections: what went wrong with the TCP connections themselves.
 *
 * - Refused connection attempts (a SYN answered by RST), grouped per client
 *   address and server port: port 20049 means the client tried NFS over
 *   RDMA and the server does not listen for it; 2049, 111 and 20048 mean
 *   nfsd, rpcbind or mountd is not running or not reachable. Severity
 *   warning (error for 2049).
 * - Resets that left calls unanswered: a connection reset (RST from either
 *   side) while calls on it were outstanding, with the stall before the
 *   reset (from the last completed reply, or the oldest outstanding call,
 *   to the RST), and whether the client reconnected: a new connection from
 *   the same client address to the same server port starting within
 *   `reconnectSeconds` (default 60) after the RST. Severity warning when
 *   the stall before the reset exceeded `stallSeconds` (default 10) or the
 *   client had to reconnect, else info.
 *
 * An RST after every call on the connection was answered is not reported:
 * many clients (libnfs, for one) close connections with an RST, and it is
 * no incident by itself. Stalls without a reset are the unanswered-call
 * detector's.
 *
 * Bounded: `connectionsMaxTracked` (default 10000) connections remembered.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import type { Transaction } from '../rpc/transaction.js';
import type { Direction, TcpEvent } from '../transport/stream.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type Finding } from './finding.js';
import { endpointText, frameCompare, later, operationOf, round, secondsFrom } from './transport-common.js';
import { LruMap } from '../memory/lru.js';

interface Refused {
  client: string;
  server: string;
  port: number;
  count: number;
  frames: FrameRef[];
  last: FrameRef;
}

interface ConnInfo {
  id: number;
  firstFrame: FrameRef;
  /** Client address and server endpoint, once a transaction named them. */
  client?: string;
  server?: string;
  clientPort?: number;
  lastReply?: FrameRef;
  reset?: { at: FrameRef; direction: Direction };
  a: string;
  b: string;
  outstanding: number;
  oldestOutstanding?: FrameRef;
  ops: Set<string>;
}

function portMeaning(port: number): string {
  switch (port) {
    case 20049:
      return 'Port 20049 is NFS over RDMA: the client tried to mount with the RDMA transport and the server does not listen for NFS/RDMA. Check the client\'s mount options (proto=rdma, `rdma`, port=20049) and, if RDMA is intended, the server\'s rdma transport (nfsd "rdma" listener in /proc/fs/nfsd/portlist or nfs.conf [nfsd] rdma=y, the RDMA NIC and its modules).';
    case 2049:
      return 'Port 2049 is NFS itself: nfsd is not running or not listening on this address (or a firewall rejects the connection). Check the NFS server service and `rpcinfo -p` on the server.';
    case 111:
      return 'Port 111 is rpcbind (portmapper): it is not running on the server or a firewall rejects it; NFSv3 mounts need it.';
    case 20048:
      return 'Port 20048 is mountd: it is not running or not reachable; NFSv3 mounts need it.';
    default:
      return 'Nothing listens on that port on the server (or a firewall rejects the connection with an RST).';
  }
}

export class ConnectionsDetector implements Detector {
  readonly kind = 'connections';
  private readonly reconnectSeconds: number;
  private readonly stallSeconds: number;
  private readonly max: number;
  private readonly refused = new Map<string, Refused>();
  private readonly conns = new LruMap<number, ConnInfo>();

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.reconnectSeconds = options['reconnectSeconds'] ?? 60;
    this.stallSeconds = options['stallSeconds'] ?? 10;
    this.max = options['connectionsMaxTracked'] ?? 10_000;
  }

  private info(id: number, firstFrame: FrameRef, a: string, b: string): ConnInfo {
    let c = this.conns.get(id);
    if (c === undefined) {
      c = { id, firstFrame: snapshotFrameRef(firstFrame), a, b, outstanding: 0, ops: new Set() };
      this.conns.set(id, c);
      if (this.conns.size > this.max) this.conns.shift();
    } else if (frameCompare(firstFrame, c.firstFrame) < 0) {
      c.firstFrame = snapshotFrameRef(firstFrame);
    }
    return c;
  }

  onTcpEvent(e: TcpEvent): void {
    if (e.kind === 'refused') {
      // The RST travels from the refusing server to the client that sent the SYN.
      const server = e.direction === 0 ? e.conn.a : e.conn.b;
      const client = e.direction === 0 ? e.conn.b : e.conn.a;
      const key = `${client.addr}|${endpointText(server)}`;
      let r = this.refused.get(key);
      if (r === undefined) {
        r = { client: client.addr, server: endpointText(server), port: server.port, count: 0, frames: [], last: snapshotFrameRef(e.at) };
        this.refused.set(key, r);
      }
      r.count++;
      if (r.frames.length < MAX_EVIDENCE - 1) r.frames.push(snapshotFrameRef(e.at));
      r.last = snapshotFrameRef(e.at);
      return;
    }
    const c = this.info(e.conn.id, e.conn.firstFrame, endpointText(e.conn.a), endpointText(e.conn.b));
    c.a = endpointText(e.conn.a);
    c.b = endpointText(e.conn.b);
    if (e.kind === 'rst' && c.reset === undefined) c.reset = { at: snapshotFrameRef(e.at), direction: e.direction };
  }

  private named(t: Transaction): ConnInfo | undefined {
    if (t.connId < 0) return undefined;
    const c = this.info(t.connId, t.call.firstFrame, endpointText(t.client), endpointText(t.server));
    c.client = t.client.addr;
    c.clientPort = t.client.port;
    c.server = endpointText(t.server);
    return c;
  }

  onTransaction(t: Transaction): void {
    const c = this.named(t);
    if (c && t.reply) c.lastReply = later(c.lastReply, snapshotFrameRef(t.reply.lastFrame));
  }

  onUnanswered(t: Transaction): void {
    const c = this.named(t);
    if (c === undefined) return;
    // Only calls made before the reset count as left outstanding by it.
    if (c.reset !== undefined && frameCompare(t.call.frame, c.reset.at) > 0) return;
    c.outstanding++;
    if (c.oldestOutstanding === undefined || frameCompare(t.call.frame, c.oldestOutstanding) < 0) c.oldestOutstanding = snapshotFrameRef(t.call.frame);
    if (c.ops.size < 8) c.ops.add(operationOf(t));
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const r of this.refused.values()) out.push(this.refusedFinding(r));
    const byPair = new Map<string, ConnInfo[]>();
    for (const c of this.conns.values()) {
      if (c.client === undefined || c.server === undefined) continue;
      const key = `${c.client}|${c.server}`;
      const list = byPair.get(key) ?? [];
      list.push(c);
      byPair.set(key, list);
    }
    for (const c of this.conns.values()) {
      if (c.reset === undefined || c.outstanding === 0 || c.client === undefined || c.server === undefined) continue;
      const reconnect = (byPair.get(`${c.client}|${c.server}`) ?? [])
        .filter((o) => o.id !== c.id && frameCompare(o.firstFrame, c.reset!.at) > 0 && secondsFrom(c.reset!.at, o.firstFrame) <= this.reconnectSeconds)
        .sort((x, y) => frameCompare(x.firstFrame, y.firstFrame))[0];
      out.push(this.resetFinding(c, reconnect));
    }
    return out;
  }

  private refusedFinding(r: Refused): Finding {
    const frames = [...r.frames];
    if (frameCompare(frames[frames.length - 1]!, r.last) !== 0) frames.push(r.last);
    const what = r.port === 20049 ? 'NFS/RDMA' : r.port === 2049 ? 'NFS' : r.port === 111 ? 'rpcbind' : r.port === 20048 ? 'mountd' : `port ${r.port}`;
    return {
      kind: this.kind,
      severity: r.port === 2049 ? 'error' : 'warning',
      title: `Connection to ${r.server} (${what}) refused${r.count > 1 ? ` ${r.count} times` : ''}`,
      explanation: `${r.client} tried ${r.count} time(s) to connect to ${r.server} and the server answered the SYN with a reset (connection refused). ${portMeaning(r.port)}`,
      client: r.client,
      server: r.server,
      start: formatFrameTime(frames[0]!),
      end: formatFrameTime(r.last),
      durationSeconds: round(Math.max(0, secondsFrom(frames[0]!, r.last))),
      count: r.count,
      evidence: frames.map((f, i) => evidence(this.ctx, f, i === 0 ? 'SYN answered by RST (first)' : 'SYN answered by RST', formatFrameTime)),
      metrics: { attempts: r.count, port: r.port },
    };
  }

  private resetFinding(c: ConnInfo, reconnect: ConnInfo | undefined): Finding {
    const reset = c.reset!;
    const clientSide = c.a === endpointText({ addr: c.client!, port: c.clientPort ?? -1 }) ? 0 : 1;
    const by = reset.direction === clientSide ? 'the client' : 'the server';
    const stallFrom = later(c.oldestOutstanding, c.lastReply) ?? c.oldestOutstanding!;
    const stall = Math.max(0, secondsFrom(stallFrom, reset.at));
    const ops = [...c.ops].join(', ');
    const reconnectGap = reconnect ? secondsFrom(reset.at, reconnect.firstFrame) : undefined;
    const severity = stall > this.stallSeconds || reconnect !== undefined ? 'warning' : 'info';
    const ev = [
      evidence(this.ctx, c.oldestOutstanding!, `oldest call left unanswered (${ops})`, formatFrameTime),
      evidence(this.ctx, reset.at, `RST from ${by}`, formatFrameTime),
    ];
    if (reconnect) ev.push(evidence(this.ctx, reconnect.firstFrame, 'first frame seen of a new connection from the same client to the same server port', formatFrameTime));
    const end = reconnect?.firstFrame ?? reset.at;
    const metrics: Finding['metrics'] = {
      connection: c.id,
      outstandingCalls: c.outstanding,
      stallSecondsBeforeReset: round(stall),
    };
    if (reconnect) {
      metrics['reconnectConnection'] = reconnect.id;
      metrics['reconnectAfterSeconds'] = round(reconnectGap!);
    }
    return {
      kind: this.kind,
      severity,
      title: `Connection ${c.a} ⇄ ${c.b} reset by ${by} with ${c.outstanding} call(s) outstanding${reconnect ? `; the client reconnected after ${round(reconnectGap!, 3)} s` : ''}`,
      explanation:
        `${by === 'the client' ? 'The client' : 'The server'} reset the connection (RST) while ${c.outstanding} call(s) (${ops}) were still unanswered, ` +
        `after ${round(stall, 3)} s without a reply. ` +
        (by === 'the client'
          ? 'The client gave up on the connection (RPC timeout with a soft mount, the mount or process being killed, or a reconnect after retrans timeouts). '
          : 'The server dropped the connection: nfsd restart, overload, a firewall or load balancer idle timeout, or a protocol error on the stream. ') +
        (reconnect ? `The client opened a new connection to the same server port ${round(reconnectGap!, 3)} s later; calls in flight had to be resent there. ` : '') +
        'See the unanswered-call finding for the calls and the TCP evidence before the reset.',
      client: c.client!,
      server: c.server!,
      start: formatFrameTime(c.oldestOutstanding!),
      end: formatFrameTime(end),
      durationSeconds: round(Math.max(0, secondsFrom(c.oldestOutstanding!, end))),
      count: 1,
      evidence: ev,
      metrics,
    };
  }
}
