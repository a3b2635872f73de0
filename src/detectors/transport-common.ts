/**
 * Small helpers shared by the transport detectors (unanswered-call,
 * rpc-retransmission, connections): naming operations and endpoints,
 * comparing and timing frames, and a short series of frames.
 */
import { PROG_NFS, procedureName, programName } from '../../decoders/programs.js';
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint, type Direction, type Endpoint, type TcpConnection } from '../transport/stream.js';
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
