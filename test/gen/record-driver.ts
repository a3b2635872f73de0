/**
 * Drives one RpcRecordStream (one direction of one TCP connection) as TCP
 * reassembly does, with a sink that records the messages, what the stream
 * asked it, and which xids count as outstanding. Shared by the record
 * marking tests.
 */
import type { FrameRef } from '../../src/capture/frame.js';
import type { RecordStats, RpcMessageRecord, RpcMessageSink } from '../../src/rpc/message.js';
import { RpcRecordStream, type RecordStreamOptions } from '../../src/rpc/record-stream.js';
import type { Direction, TcpConnection } from '../../src/transport/stream.js';

/** xids from here on mark bulk messages: the sink keeps BULK_HEAD head bytes of them. */
export const BULK_XID = 0xb0000000;
export const BULK_HEAD = 64;

export class RecSink implements RpcMessageSink {
  msgs: RpcMessageRecord[] = [];
  asked: { xid: number; headLen: number; length: number }[] = [];
  outstanding = new Set<number>();
  /** What headToKeep answers; default BULK_HEAD for bulk xids, all for the others. */
  keep: ((xid: number, length: number) => number) | undefined;

  message(m: RpcMessageRecord): void {
    // A message's bytes are valid during this call only (a short one is a
    // view of the segment at hand, which the driver then scribbles on): kept as a copy.
    this.msgs.push({ ...m, bytes: { ...m.bytes, head: Buffer.from(m.bytes.head), tail: Buffer.from(m.bytes.tail) } });
  }

  headToKeep(_conn: TcpConnection | undefined, _dir: Direction, head: Buffer, length: number): number {
    const xid = head.readUInt32BE(0);
    this.asked.push({ xid, headLen: head.length, length });
    if (this.keep !== undefined) return this.keep(xid, length);
    return xid >= BULK_XID ? BULK_HEAD : Number.MAX_SAFE_INTEGER;
  }

  isOutstandingXid(_conn: TcpConnection | undefined, _dir: Direction, xid: number): boolean {
    return this.outstanding.has(xid);
  }
}

export function newStats(): RecordStats {
  return { messages: 0, truncatedMessages: 0, skippedBytes: 0, resyncs: 0, bytesNotKept: 0 };
}

export function conn(midstream = false): TcpConnection {
  return {
    id: 7,
    a: { addr: '10.0.0.1', port: 800 },
    b: { addr: '10.0.0.2', port: 2049 },
    midstream,
    segments: [0, 0],
    dataSegments: [0, 0],
    firstFrame: { fileIndex: 0, number: 1, tsSec: 0, tsNsec: 0 },
  };
}

/** Drives one stream with a single reused frame object, as the readers do. */
export class Driver {
  readonly sink = new RecSink();
  readonly stats = newStats();
  readonly stream: RpcRecordStream;
  readonly frame: FrameRef = { fileIndex: 0, number: 0, tsSec: 1000, tsNsec: 0 };
  off = 0;

  constructor(midstream = false, dir: Direction = 0, options: RecordStreamOptions = {}) {
    this.stream = new RpcRecordStream(this.sink, conn(midstream), dir, this.stats, options);
  }

  private next(): FrameRef {
    this.frame.number++;
    this.frame.tsNsec = this.frame.number * 1000;
    return this.frame;
  }

  /** One segment; returns its frame number. Passes a view of a larger buffer, then scribbles on it. */
  data(bytes: Buffer): number {
    const at = this.next();
    const backing = Buffer.alloc(bytes.length + 8, 0xee);
    bytes.copy(backing, 4);
    this.stream.data(backing, 4, 4 + bytes.length, this.off, at);
    backing.fill(0xdd); // the view is only valid during the call
    this.off += bytes.length;
    return at.number;
  }

  gap(length: number): number {
    const at = this.next();
    this.stream.gap(length, this.off, at);
    this.off += length;
    return at.number;
  }

  end(withFrame = true): number {
    if (!withFrame) {
      this.stream.end('capture-end', undefined);
      return this.frame.number;
    }
    const at = this.next();
    this.stream.end('fin', at);
    return at.number;
  }

  /** Feeds `wire` cut at the given offsets; returns the frame number of each byte. */
  feed(wire: Buffer, cuts: number[]): number[] {
    const frameOf: number[] = new Array<number>(wire.length);
    let start = 0;
    for (const c of [...cuts, wire.length]) {
      if (c <= start) continue;
      const f = this.data(wire.subarray(start, c));
      for (let i = start; i < c; i++) frameOf[i] = f;
      start = c;
    }
    return frameOf;
  }
}

