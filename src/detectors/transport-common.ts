/**
 * Small helpers shared by the transport detectors (unanswered-call,
 * rpc-retransmission, connections): naming operations and endpoints,
 * comparing and timing frames, and a bounded per-connection TCP evidence
 * tracker fed by the TCP events.
 */
import { PROG_NFS, procedureName, programName } from '../../decoders/programs.js';
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint, type Direction, type Endpoint, type TcpConnection, type TcpEvent } from '../transport/stream.js';
import { LruMap } from '../memory/lru.js';
import { appended } from '../memory/small-lists.js';

/** The operation a call is about: the decoded main op, else the procedure's name (prefixed by its program outside NFS). */
export function operationOf(t: Transaction): string {
  const main = t.decoded?.call?.mainOp;
  if (main !== undefined && main !== '') return t.program === PROG_NFS ? main : `${programName(t.program)} ${main}`;
  const proc = procedureName(t.program, t.version, t.procedure);
  return t.program === PROG_NFS ? proc : `${programName(t.program)} ${proc}`;
}

export const endpointText = formatEndpoint;

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.addr === b.addr && a.port === b.port;
}

/** Seconds from a to b (negative when b is earlier). */
export function secondsFrom(a: FrameRef, b: FrameRef): number {
  return b.tsSec - a.tsSec + (b.tsNsec - a.tsNsec) / 1e9;
}

/** Capture order: file, then frame number. */
export function frameCompare(a: FrameRef, b: FrameRef): number {
  return a.fileIndex - b.fileIndex || a.number - b.number;
}

export function later(a: FrameRef | undefined, b: FrameRef | undefined): FrameRef | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return frameCompare(a, b) >= 0 ? a : b;
}

export function round(x: number, digits = 6): number {
  return Number(x.toFixed(digits));
}

/** The direction in which `from` sends on a connection, or undefined if it is neither side. */
export function directionFrom(conn: TcpConnection, from: Endpoint): Direction | undefined {
  if (sameEndpoint(conn.a, from)) return 0;
  if (sameEndpoint(conn.b, from)) return 1;
  return undefined;
}

/** First N and last frames of a series, with a total: bounded. */
export class FrameSeries {
  count = 0;
  bytes = 0;
  /** The first frames added, at most keepFirst (read only: replaced, not changed, as frames come). */
  first: FrameRef[] = [];
  last: FrameRef | undefined;

  constructor(private readonly keepFirst = 8) {}

  add(at: FrameRef, bytes = 0): void {
    this.count++;
    this.bytes += bytes;
    const s = snapshotFrameRef(at);
    // Most series keep one frame (src/memory/small-lists.ts).
    if (this.first.length < this.keepFirst) this.first = appended(this.first, s);
    this.last = s;
  }

  /** The kept frames, in order, the last one included (no duplicates). */
  frames(): FrameRef[] {
    const out = [...this.first];
    if (this.last !== undefined && (out.length === 0 || frameCompare(out[out.length - 1]!, this.last) !== 0)) out.push(this.last);
    return out;
  }
}

/** What the TCP events showed on one direction of a connection since its last reply progress. */
export class DirectionEvidence {
  readonly retransmissions = new FrameSeries();
  readonly zeroWindows = new FrameSeries(2);
  /** Unacknowledged bytes at the connection's (or capture's) end. */
  unackedBytes = 0;
  unackedAt: FrameRef | undefined;
  readonly resets = new FrameSeries(2);
}

/** The TCP evidence kept for one connection. */
export class ConnectionEvidence {
  readonly dirs: [DirectionEvidence, DirectionEvidence] = [new DirectionEvidence(), new DirectionEvidence()];
  /** Latest frame the detector knows on this connection (event or transaction). */
  lastSeen: FrameRef;
  /** Frame of the last completed reply on this connection (reply progress). */
  lastReply: FrameRef | undefined;
  /** The first RST on the connection, and its direction. */
  firstReset: { at: FrameRef; direction: Direction } | undefined;

  constructor(public conn: TcpConnection) {
    this.lastSeen = snapshotFrameRef(conn.firstFrame);
  }

  event(e: TcpEvent): void {
    this.conn = e.conn;
    if (frameCompare(e.at, this.lastSeen) > 0) this.lastSeen = snapshotFrameRef(e.at);
    const d = this.dirs[e.direction];
    switch (e.kind) {
      case 'retransmission':
        d.retransmissions.add(e.at, e.bytes);
        break;
      case 'zero-window':
        d.zeroWindows.add(e.at);
        break;
      case 'unacked-data':
        d.unackedBytes += e.bytes;
        d.unackedAt = snapshotFrameRef(e.at);
        break;
      case 'rst':
        d.resets.add(e.at);
        if (this.firstReset === undefined) this.firstReset = { at: snapshotFrameRef(e.at), direction: e.direction };
        break;
      default:
        break;
    }
  }

  /** A reply completed on this connection: the retransmission and zero-window evidence starts over. */
  progress(at: FrameRef): void {
    this.lastReply = snapshotFrameRef(at);
    if (frameCompare(at, this.lastSeen) > 0) this.lastSeen = this.lastReply;
    for (let i = 0; i < 2; i++) {
      const old = this.dirs[i]!;
      const fresh = new DirectionEvidence();
      // RSTs and unacknowledged data concern the connection's end: keep them.
      fresh.unackedBytes = old.unackedBytes;
      fresh.unackedAt = old.unackedAt;
      for (const f of old.resets.frames()) fresh.resets.add(f);
      this.dirs[i] = fresh;
    }
  }
}

/**
 * Per-connection evidence for at most `max` connections, least recently
 * active evicted first (a Map keeps insertion order: touching re-inserts).
 */
export class ConnectionTracker {
  private readonly conns = new LruMap<number, ConnectionEvidence>();
  evicted = 0;

  constructor(private readonly max: number) {}

  private touch(conn: TcpConnection | number, create?: TcpConnection): ConnectionEvidence | undefined {
    const id = typeof conn === 'number' ? conn : conn.id;
    let c = this.conns.get(id);
    if (c !== undefined) {
      this.conns.touch(id);
      return c;
    }
    if (create === undefined) return undefined;
    c = new ConnectionEvidence(create);
    this.conns.set(id, c);
    if (this.conns.size > this.max) {
      this.conns.shift();
      this.evicted++;
    }
    return c;
  }

  event(e: TcpEvent): void {
    this.touch(e.conn, e.conn)!.event(e);
  }

  /** A completed transaction on a tracked connection. */
  transaction(t: Transaction): void {
    if (t.connId < 0 || t.reply === undefined) return;
    // A connection not seen in any TCP event yet: named from the transaction until its first event.
    const stub: TcpConnection = { id: t.connId, a: t.client, b: t.server, midstream: true, firstFrame: t.call.firstFrame, segments: [0, 0], dataSegments: [0, 0] };
    this.touch(t.connId, stub)!.progress(t.reply.lastFrame);
  }

  get(connId: number): ConnectionEvidence | undefined {
    return this.conns.get(connId);
  }
}
