/**
 * connections: the life of the TCP connections, and what it did to calls.
 *
 * - Refused connection attempts (a SYN answered by RST), grouped per client
 *   address and server endpoint: port 20049 means the client tried NFS over
 *   RDMA and the server does not listen for it; 2049, 111 and 20048 mean
 *   nfsd, rpcbind or mountd is not running or not reachable. Warning (error
 *   for 2049).
 * - Unanswered connection attempts: SYNs resent with no answer at all (the
 *   server down or unreachable, or a firewall dropping). Warning (error for
 *   2049).
 * - Connections closed (FIN or RST, from either side) with calls
 *   outstanding, one finding per client and server: who closed, after how
 *   long without a reply, whether the client reconnected (a new connection
 *   from the same client address to the same server endpoint within
 *   `reconnectSeconds`, 60) and what became of each outstanding call —
 *   resent on another connection with the same xid and answered (after how
 *   long), resent and still unanswered, or lost (never seen again).
 *   Warning; error when calls were lost; info when every call was answered
 *   elsewhere within `stallSeconds` (10).
 *
 * A close after every call was answered is not reported: many clients
 * (libnfs, for one) close connections with an RST, and servers close idle
 * ones. Calls cut off by the end of the capture are not outstanding at a
 * close. Bounded: `connectionsMaxTracked` (10000) connections and
 * `connectionsMaxCalls` (8192) calls remembered for the fate of resends;
 * only calls of a client with more than one connection to the server are
 * remembered, while at most `connectionsMaxCounted` (10000) connections
 * were seen (beyond, all are). At most `connectionsMaxTracked` groups of
 * refused attempts and as many of unanswered ones (the first; the attempts
 * of others counted in the last such finding's `refusalsNotReported` or
 * `attemptsNotReported`).
 */
import { assignFrameRef, snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { fnvText } from '../fnv.js';
import { LruMap } from '../memory/lru.js';
import { appended, NO_ITEMS } from '../memory/small-lists.js';
import { CallLru } from './call-lru.js';
import { formatFrameTime } from '../report/time.js';
import type { Transaction } from '../rpc/transaction.js';
import type { Direction, Endpoint, TcpEvent } from '../transport/stream.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { directionFrom, endpointText, frameCompare, later, operationOf, round, sameEndpoint, secondsFrom } from './transport-common.js';
import { noteNotReported } from './recent-groups.js';
import { cleanMetrics, listText, plural, secondsText, sentences, xidText } from './wording.js';
import { entityBoundOf } from '../memory/entity-bound.js';

/** Outstanding calls followed per closed connection. */
const KEEP_OUTSTANDING = 16;

interface Refused {
  client: string;
  server: string;
  port: number;
  count: number;
  frames: FrameRef[];
  last: FrameRef;
}

interface Attempts {
  client: string;
  server: string;
  port: number;
  connections: number;
  syns: number;
  first: FrameRef;
  last: FrameRef;
  frames: FrameRef[];
}

/** What became of a call outstanding at a close. */
interface Outstanding {
  xid: number;
  op: string;
  call: FrameRef;
  fate: 'lost' | 'resent-answered' | 'resent-unanswered';
  /** Where it was answered (resent-answered), and seconds from the first call to that reply. */
  answeredAt?: FrameRef;
  seconds?: number;
  resentOn?: number;
}

interface ConnInfo {
  id: number;
  firstFrame: FrameRef;
  /** Its endpoints (formatted only when needed: most connections of a hostile capture never are). */
  a: Endpoint;
  b: Endpoint;
  /** Client address and server endpoint, once a transaction named them, and the client's direction. */
  client?: string;
  server?: string;
  clientDir?: Direction;
  lastReply?: FrameRef;
  /** First FIN and RST per direction. */
  fin: [FrameRef | undefined, FrameRef | undefined];
  rst: [FrameRef | undefined, FrameRef | undefined];
  outstanding: Outstanding[];
  outstandingCount: number;
  /** Its 'connection-end' was seen: calls outstanding at its close have been told (onUnanswered). Set at creation: one shape for all. */
  ended: boolean;
  /** Operations called on it (the first 8), made with the first. */
  ops: Set<string> | undefined;
  /** The calls' key text (client address, server endpoint) of the last transaction seen on it, and its endpoints: made once, not per call. */
  keyClient?: Endpoint;
  keyServer?: Endpoint;
  keyPair?: string;
  /** keyPair's hash (fnvText), with it: the answered and waiting calls are found by it and the xid. */
  keyPairHash?: number;
  /** Seen by its TCP events, from its first segment on (so counted in connectionsPerPair before any of its calls). */
  tcp?: boolean;
}

// Shared while a connection has none (frozen: never added to). Most of the
// 10,000 connections followed have no FIN, RST or call left outstanding.
const NO_FRAMES: [FrameRef | undefined, FrameRef | undefined] = Object.freeze([undefined, undefined]) as unknown as [FrameRef | undefined, FrameRef | undefined];

interface Waiting {
  conn: ConnInfo;
  entry: Outstanding;
}

function portMeaning(port: number): string {
  switch (port) {
    case 20049:
      return 'Port 20049 is NFS over RDMA: the server does not listen for it; check the mount options (proto=rdma) or the server’s rdma listener (nfs.conf [nfsd] rdma=y).';
    case 2049:
      return 'Port 2049 is NFS itself: nfsd is not running or not listening on this address, or a firewall rejects the connection.';
    case 111:
      return 'Port 111 is rpcbind: it is not running on the server or a firewall rejects it; NFSv3 mounts need it.';
    case 20048:
      return 'Port 20048 is mountd: it is not running or not reachable; NFSv3 mounts need it.';
    default:
      return 'Nothing listens on that port on the server, or a firewall rejects the connection.';
  }
}

const SERVICE_NAMES: Record<number, string> = { 20049: 'NFS/RDMA', 2049: 'NFS', 111: 'rpcbind', 20048: 'mountd' };

export class ConnectionsDetector implements Detector {
  readonly kind = 'connections';
  private readonly reconnectSeconds: number;
  private readonly stallSeconds: number;
  private readonly max: number;
  private readonly refused = new Map<string, Refused>();
  private readonly attempts = new Map<string, Attempts>();
  /** Refused and unanswered attempts beyond `max` groups (the first are kept), not reported. */
  private refusalsNotReported = 0;
  private attemptsNotReported = 0;
  /** Connections forgotten after their close (beyond `max`, least recently seen first): calls left outstanding at it are not judged. */
  private closesForgotten = 0;
  private readonly conns: LruMap<number, ConnInfo>;
  /** Calls answered lately, by client address, server and xid (a resend on a new connection may have come first). */
  private readonly answered: CallLru<{ connId: number; call: FrameRef; reply: FrameRef }>;
  /** Calls outstanding at a close, waiting for a resend. */
  private readonly waiting: CallLru<Waiting>;
  /**
   * TCP connections seen per (client address, server endpoint) key, as
   * `pair` makes it; each connection counts under both of its ends, since
   * which is the client is not known at its first segment. Undefined once
   * more than `maxCounted` connections were seen: then every answered call is
   * remembered, as before this count, and no key is made per connection
   * (a hostile capture has hundreds of thousands).
   */
  private connectionsPerPair: Map<string, number> | undefined = new Map();
  private connectionsCounted = 0;
  private readonly maxCalls: number;
  private readonly maxCounted: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.reconnectSeconds = options['reconnectSeconds'] ?? 60;
    this.stallSeconds = options['stallSeconds'] ?? 10;
    this.max = options['connectionsMaxTracked'] ?? entityBoundOf(options);
    this.maxCalls = options['connectionsMaxCalls'] ?? 8192;
    this.maxCounted = options['connectionsMaxCounted'] ?? entityBoundOf(options);
    this.conns = new LruMap();
    this.answered = new CallLru();
    this.waiting = new CallLru();
  }

  private info(id: number, firstFrame: FrameRef, a: Endpoint, b: Endpoint): ConnInfo {
    let c = this.conns.get(id);
    if (c === undefined) {
      c = { id, firstFrame: snapshotFrameRef(firstFrame), a, b, fin: NO_FRAMES, rst: NO_FRAMES, outstanding: NO_ITEMS, outstandingCount: 0, ended: false, ops: undefined };
      this.conns.set(id, c);
      if (this.conns.size > this.max) {
        const [, old] = this.conns.shift()!;
        // Only calls outstanding at a close are what this detector reports on: a close whose
        // calls were told and were none leaves nothing unsaid, one not ended yet may still have some.
        const closing = old.fin !== NO_FRAMES || old.rst !== NO_FRAMES;
        if (old.outstandingCount > 0 || (closing && !old.ended)) this.closesForgotten++;
      }
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
        if (this.refused.size >= this.max) {
          this.refusalsNotReported++;
          return;
        }
        r = { client: client.addr, server: endpointText(server), port: server.port, count: 0, frames: [], last: snapshotFrameRef(e.at) };
        this.refused.set(key, r);
      }
      r.count++;
      if (r.frames.length < MAX_EVIDENCE - 1) r.frames.push(snapshotFrameRef(e.at));
      r.last = snapshotFrameRef(e.at);
      return;
    }
    if (e.kind === 'connection-end') {
      // The end of a connection forgotten makes no entry: one would only push out another.
      const ended = this.conns.get(e.conn.id);
      if (ended !== undefined) ended.ended = true;
      this.attempt(e);
      return;
    }
    const c = this.info(e.conn.id, e.conn.firstFrame, e.conn.a, e.conn.b);
    if (e.kind === 'connection-start') {
      c.tcp = true;
      this.countConnection(e.conn.a, e.conn.b);
      return;
    }
    if (e.kind === 'fin') {
      if (c.fin === NO_FRAMES) c.fin = [undefined, undefined];
      c.fin[e.direction] ??= snapshotFrameRef(e.at);
    } else if (e.kind === 'rst') {
      if (c.rst === NO_FRAMES) c.rst = [undefined, undefined];
      c.rst[e.direction] ??= snapshotFrameRef(e.at);
    }
  }

  private countConnection(a: Endpoint, b: Endpoint): void {
    const counts = this.connectionsPerPair;
    if (counts === undefined) return;
    if (++this.connectionsCounted > this.maxCounted) {
      this.connectionsPerPair = undefined;
      return;
    }
    for (const key of [`${a.addr}|${endpointText(b)}`, `${b.addr}|${endpointText(a)}`]) counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  /** A connection that never got an answer to its SYNs. */
  private attempt(e: TcpEvent): void {
    const conn = e.conn;
    if (conn.midstream || conn.segments[1] > 0 || conn.dataSegments[0] > 0 || conn.segments[0] < 2) return;
    const key = `${conn.a.addr}|${endpointText(conn.b)}`;
    let a = this.attempts.get(key);
    if (a === undefined) {
      if (this.attempts.size >= this.max) {
        this.attemptsNotReported++;
        return;
      }
      a = { client: conn.a.addr, server: endpointText(conn.b), port: conn.b.port, connections: 0, syns: 0, first: snapshotFrameRef(conn.firstFrame), last: snapshotFrameRef(e.at), frames: [] };
      this.attempts.set(key, a);
    }
    a.connections++;
    a.syns += conn.segments[0];
    a.last = snapshotFrameRef(e.at);
    if (a.frames.length < MAX_EVIDENCE - 1) a.frames.push(snapshotFrameRef(conn.firstFrame));
  }

  private named(t: Transaction): ConnInfo | undefined {
    if (t.connId < 0) return undefined;
    const c = this.info(t.connId, t.call.firstFrame, t.client, t.server);
    if (c.client === undefined) {
      c.client = t.client.addr;
      c.server = endpointText(t.server);
      const tl = this.ctx.timeline?.get(t.connId);
      c.clientDir = tl !== undefined ? directionFrom(tl.conn, t.client) : sameEndpoint(c.a, t.client) ? 0 : 1;
    }
    return c;
  }

  /** The text of a call's key but its xid: client address and server endpoint (kept on the connection). */
  private static pair(c: ConnInfo, t: Transaction): string {
    if (c.keyClient !== t.client || c.keyServer !== t.server) {
      c.keyClient = t.client;
      c.keyServer = t.server;
      c.keyPair = `${t.client.addr}|${endpointText(t.server)}`;
      c.keyPairHash = fnvText(c.keyPair);
    }
    return c.keyPair!;
  }

  onTransaction(t: Transaction): void {
    const c = this.named(t);
    if (c === undefined || t.reply === undefined) return;
    // The latest reply: kept in one object per connection, updated in place (nothing else holds it before finish).
    const lastFrame = t.reply.lastFrame;
    if (c.lastReply === undefined) c.lastReply = snapshotFrameRef(lastFrame);
    else if (frameCompare(c.lastReply, lastFrame) < 0) assignFrameRef(c.lastReply, lastFrame);
    const pair = ConnectionsDetector.pair(c, t);
    const hash = c.keyPairHash!;
    const xid = t.xid;
    const w = this.waiting.size > 0 ? this.waiting.get(pair, hash, xid) : undefined;
    if (w !== undefined && w.conn.id !== t.connId) {
      // A call outstanding at a close, resent here with the same xid and answered.
      w.entry.fate = 'resent-answered';
      w.entry.answeredAt = snapshotFrameRef(t.reply.frame);
      w.entry.seconds = round(secondsFrom(w.entry.call, t.reply.frame));
      w.entry.resentOn = t.connId;
      this.waiting.delete(pair, hash, xid);
    }
    // Only a client with another connection to this server can have sent
    // this call there too: the calls of a client's only TCP connection to a
    // server are not remembered (most captures: one connection per client
    // and server, and this memory was 4-5% of the time of a metadata-heavy
    // capture). The other connection, even one whose only call is still
    // outstanding, was counted at its first segment, before this reply.
    if (c.tcp === true && this.connectionsPerPair?.get(pair) === 1) return;
    // As delete + set: the key becomes the newest. Its record, or the one the
    // oldest key leaves, is refilled in place (no objects per call); a record
    // is never handed out (onUnanswered copies what it keeps).
    const known = this.answered.touch(pair, hash, xid);
    if (known !== undefined) {
      known.connId = t.connId;
      assignFrameRef(known.call, t.call.frame);
      assignFrameRef(known.reply, t.reply.frame);
      return;
    }
    const recycled = this.maxCalls > 0 && this.answered.size >= this.maxCalls ? this.answered.reuseOldest(pair, hash, xid) : undefined;
    if (recycled !== undefined) {
      recycled.connId = t.connId;
      assignFrameRef(recycled.call, t.call.frame);
      assignFrameRef(recycled.reply, t.reply.frame);
    } else {
      this.answered.set(pair, hash, xid, { connId: t.connId, call: snapshotFrameRef(t.call.frame), reply: snapshotFrameRef(t.reply.frame) });
      if (this.answered.size > this.maxCalls) this.answered.shift();
    }
  }

  /** The close of a connection: its first FIN or RST (either side). */
  private static closeOf(c: ConnInfo): { at: FrameRef; dir: Direction; how: 'FIN' | 'RST' } | undefined {
    let best: { at: FrameRef; dir: Direction; how: 'FIN' | 'RST' } | undefined;
    for (const dir of [0, 1] as const) {
      for (const [how, at] of [['FIN', c.fin[dir]], ['RST', c.rst[dir]]] as const) {
        if (at !== undefined && (best === undefined || frameCompare(at, best.at) < 0)) best = { at, dir, how };
      }
    }
    return best;
  }

  onUnanswered(t: Transaction): void {
    const c = this.named(t);
    if (c === undefined) return;
    const pair = ConnectionsDetector.pair(c, t);
    const hash = c.keyPairHash!;
    // A resend of a call left outstanding elsewhere, itself unanswered.
    const w = this.waiting.get(pair, hash, t.xid);
    if (w !== undefined && w.conn.id !== t.connId) {
      w.entry.fate = 'resent-unanswered';
      w.entry.resentOn = t.connId;
    }
    const close = ConnectionsDetector.closeOf(c);
    // Only calls made before the connection closed were left outstanding by it.
    if (close === undefined || frameCompare(t.call.frame, close.at) > 0) return;
    c.outstandingCount++;
    const ops = (c.ops ??= new Set());
    if (ops.size < 8) ops.add(operationOf(t));
    if (c.outstanding.length >= KEEP_OUTSTANDING) return;
    const entry: Outstanding = { xid: t.xid, op: operationOf(t), call: snapshotFrameRef(t.call.frame), fate: 'lost' };
    c.outstanding = appended(c.outstanding, entry);
    const done = this.answered.get(pair, hash, t.xid);
    if (done !== undefined && done.connId !== t.connId && frameCompare(done.call, t.call.frame) > 0) {
      // Resent and answered on another connection before this one ended.
      entry.fate = 'resent-answered';
      entry.answeredAt = snapshotFrameRef(done.reply);
      entry.seconds = round(secondsFrom(entry.call, done.reply));
      entry.resentOn = done.connId;
      return;
    }
    this.waiting.set(pair, hash, t.xid, { conn: c, entry });
    if (this.waiting.size > this.maxCalls) this.waiting.shift();
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ refusalsNotReported: this.refusalsNotReported, attemptsNotReported: this.attemptsNotReported, closesForgotten: this.closesForgotten });
  }

  finish(): Finding[] {
    const out: Finding[] = [
      ...noteNotReported([...this.refused.values()].map((r) => this.refusedFinding(r)), 'refusalsNotReported', this.refusalsNotReported),
      ...noteNotReported([...this.attempts.values()].map((a) => this.attemptsFinding(a)), 'attemptsNotReported', this.attemptsNotReported),
    ];
    const byPair = new Map<string, ConnInfo[]>();
    for (const c of this.conns.values()) {
      if (c.client === undefined || c.server === undefined) continue;
      const key = `${c.client}|${c.server}`;
      const list = byPair.get(key) ?? [];
      list.push(c);
      byPair.set(key, list);
    }
    for (const list of byPair.values()) {
      const closed = list.filter((c) => c.outstandingCount > 0 && ConnectionsDetector.closeOf(c) !== undefined).sort((x, y) => frameCompare(x.firstFrame, y.firstFrame));
      if (closed.length > 0) out.push(this.closedFinding(closed, list));
    }
    return out;
  }

  private refusedFinding(r: Refused): Finding {
    const frames = [...r.frames];
    if (frameCompare(frames[frames.length - 1]!, r.last) !== 0) frames.push(r.last);
    const what = SERVICE_NAMES[r.port] ?? `port ${r.port}`;
    return {
      kind: this.kind,
      severity: r.port === 2049 ? 'error' : 'warning',
      title: `Connection to ${r.server} (${what}) refused${r.count > 1 ? ` ${r.count} times` : ''}`,
      explanation: sentences(`${r.client} tried ${r.count === 1 ? 'once' : `${r.count} times`} to connect to ${r.server} and the server answered the SYN with a reset (connection refused)`, portMeaning(r.port)),
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

  private attemptsFinding(a: Attempts): Finding {
    const what = SERVICE_NAMES[a.port] ?? `port ${a.port}`;
    const seconds = Math.max(0, secondsFrom(a.first, a.last));
    return {
      kind: this.kind,
      severity: a.port === 2049 ? 'error' : 'warning',
      title: `Connection attempts to ${a.server} (${what}) unanswered: ${plural(a.syns, 'SYN')}, no reply`,
      explanation: sentences(
        `${a.client} sent ${plural(a.syns, 'SYN')} on ${plural(a.connections, 'attempt')} over ${secondsText(seconds)} and ${a.server} never answered, not even with a reset`,
        'the server is down or unreachable, or a firewall drops the packets',
      ),
      client: a.client,
      server: a.server,
      start: formatFrameTime(a.first),
      end: formatFrameTime(a.last),
      durationSeconds: round(seconds),
      count: a.connections,
      evidence: a.frames.map((f, i) => evidence(this.ctx, f, i === 0 ? 'SYN, never answered (first attempt)' : 'SYN, never answered', formatFrameTime)),
      metrics: { attempts: a.connections, syns: a.syns, port: a.port },
      impact: { blockedSeconds: round(seconds), calls: 0 },
    };
  }

  private closedFinding(closed: ConnInfo[], all: ConnInfo[]): Finding {
    const first = closed[0]!;
    const client = first.client!;
    const server = first.server!;
    const items: { at: FrameRef; what: string }[] = [];
    const byWhom = { client: 0, server: 0 };
    const entries: Outstanding[] = [];
    let outstanding = 0;
    let waited = 0;
    let reconnects = 0;
    let reconnectAfter: number | undefined;
    let start: FrameRef | undefined;
    let end: FrameRef | undefined;
    const ops = new Set<string>();
    for (const c of closed) {
      const close = ConnectionsDetector.closeOf(c)!;
      const side = close.dir === c.clientDir ? 'client' : 'server';
      byWhom[side]++;
      outstanding += c.outstandingCount;
      if (c.ops !== undefined) for (const o of c.ops) ops.add(o);
      entries.push(...c.outstanding);
      const oldest = c.outstanding.reduce<FrameRef | undefined>((m, o) => (m === undefined || frameCompare(o.call, m) < 0 ? o.call : m), undefined) ?? close.at;
      const since = later(oldest, c.lastReply) ?? oldest;
      waited = Math.max(waited, secondsFrom(since, close.at));
      start = start === undefined || frameCompare(oldest, start) < 0 ? oldest : start;
      end = later(end, close.at);
      items.push({ at: oldest, what: `oldest call left outstanding (${listText([...(c.ops ?? [])])})` });
      items.push({ at: close.at, what: `${close.how} from the ${side}: the connection closes with ${plural(c.outstandingCount, 'call')} outstanding` });
      const next = all
        .filter((o) => o.id !== c.id && frameCompare(o.firstFrame, close.at) > 0 && secondsFrom(close.at, o.firstFrame) <= this.reconnectSeconds)
        .sort((x, y) => frameCompare(x.firstFrame, y.firstFrame))[0];
      if (next !== undefined) {
        reconnects++;
        const gap = secondsFrom(close.at, next.firstFrame);
        reconnectAfter = reconnectAfter === undefined ? gap : Math.max(reconnectAfter, gap);
        items.push({ at: next.firstFrame, what: `new connection from the client (after ${secondsText(gap)})` });
        end = later(end, next.firstFrame);
      }
    }
    for (const o of entries) {
      if (o.fate === 'resent-answered' && o.answeredAt !== undefined) {
        items.push({ at: o.answeredAt, what: `${o.op} xid ${xidText(o.xid)} answered on the new connection (${secondsText(o.seconds ?? 0)} after the first call)` });
        end = later(end, o.answeredAt);
      }
    }
    const answered = entries.filter((o) => o.fate === 'resent-answered');
    const resentUnanswered = entries.filter((o) => o.fate === 'resent-unanswered').length;
    const lost = entries.filter((o) => o.fate === 'lost').length + Math.max(0, outstanding - entries.length);
    const slowest = answered.reduce((m, o) => Math.max(m, o.seconds ?? 0), 0);
    const who = byWhom.server > 0 && byWhom.client > 0 ? 'the client and the server' : byWhom.server > 0 ? 'the server' : 'the client';
    const fates = [
      answered.length > 0 ? `${answered.length} resent on a new connection and answered (the slowest after ${secondsText(slowest)})` : '',
      resentUnanswered > 0 ? `${resentUnanswered} resent and still unanswered` : '',
      lost > 0 ? `${lost} never seen again` : '',
    ].filter(Boolean);
    const title =
      closed.length === 1
        ? `${who === 'the server' ? 'The server' : 'The client'} closed the connection with ${plural(outstanding, 'call')} outstanding (${listText([...ops], 3)})${reconnects > 0 ? `; the client reconnected after ${secondsText(reconnectAfter!)}` : ''}`
        : `${plural(closed.length, 'connection')} to ${server} closed by ${who} with ${plural(outstanding, 'call')} outstanding`;
    const explanation = sentences(
      `${who} closed ${closed.length === 1 ? 'the connection' : 'them'} ${waited > 0 ? `after ${secondsText(waited)} without a reply ` : ''}while calls were outstanding: of those, ${listText(fates)}`,
      byWhom.server > 0
        ? 'a server that closes with calls pending restarted, was overloaded, or met an idle timeout or a firewall'
        : 'a client closes so after RPC timeouts (soft mounts) or when its process is killed',
    );
    items.sort((a, b) => frameCompare(a.at, b.at));
    const kept = items.length <= MAX_EVIDENCE ? items : [...items.slice(0, MAX_EVIDENCE - 1), items[items.length - 1]!];
    const severity = lost > 0 || resentUnanswered > 0 ? (byWhom.server > 0 || reconnects > 0 ? 'error' : 'warning') : slowest > this.stallSeconds || waited > this.stallSeconds ? 'warning' : 'info';
    return {
      kind: this.kind,
      severity,
      title,
      explanation,
      client,
      server,
      start: formatFrameTime(start!),
      end: formatFrameTime(end!),
      durationSeconds: round(Math.max(0, secondsFrom(start!, end!))),
      count: closed.length,
      evidence: kept.map((x) => evidence(this.ctx, x.at, x.what, formatFrameTime)),
      metrics: cleanMetrics({
        connections: closed.length,
        closedByServer: byWhom.server,
        closedByClient: byWhom.client,
        outstandingCalls: outstanding,
        secondsWithoutReply: round(waited),
        reconnects,
        reconnectAfterSeconds: reconnectAfter !== undefined ? round(reconnectAfter) : undefined,
        resentAndAnswered: answered.length,
        resentUnanswered,
        lost,
        outstanding: entries.map((o) => `${o.op} xid ${xidText(o.xid)} frame ${o.call.number}: ${o.fate}${o.seconds !== undefined ? ` after ${o.seconds} s` : ''}`),
      }),
      impact: { blockedSeconds: round(Math.max(waited, slowest)), calls: outstanding },
    };
  }
}
