/**
 * The RPC layer reuses record streams let go while idle (RpcRecordStream.reuse)
 * instead of making one for every message. A reused stream must be the same
 * as a new one: every field, and what it makes of the same bytes.
 */
import { describe, expect, it } from 'vitest';
import type { FrameRef } from '../src/capture/frame.js';
import type { RpcMessageRecord } from '../src/rpc/message.js';
import { RpcRecordStream, type RecordStreamOptions } from '../src/rpc/record-stream.js';
import type { TcpConnection } from '../src/transport/stream.js';

function connection(id: number, midstream: boolean): TcpConnection {
  return {
    id,
    a: { addr: `10.0.0.${id + 1}`, port: 801 + id },
    b: { addr: '10.0.0.200', port: 2049 },
    midstream,
    firstFrame: { fileIndex: 0, number: 1, tsSec: 0, tsNsec: 0 },
    segments: [0, 0],
    dataSegments: [0, 0],
  };
}

const stats = () => ({ messages: 0, truncatedMessages: 0, skippedBytes: 0, resyncs: 0, bytesNotKept: 0 });

function sink(into: RpcMessageRecord[] = []) {
  return { message: (m: RpcMessageRecord) => void into.push(m), isOutstandingXid: () => false, headToKeep: () => 64 };
}

/** A record-marked RPC call of `bodyWords` extra words (xid, CALL, rpcvers 2, NFS program 100003 v3, procedure 1). */
function call(xid: number, bodyWords: number, last = true): Buffer {
  const words = [xid, 0, 2, 100003, 3, 1, 0, 0, 0, 0, ...Array.from({ length: bodyWords }, (_, i) => i)];
  const b = Buffer.alloc(4 + words.length * 4);
  b.writeUInt32BE(((last ? 0x80000000 : 0) | (words.length * 4)) >>> 0, 0);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, 4 + i * 4));
  return b;
}

const frame = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 100 + n, tsNsec: n * 1000 });

/** Leaves `s` in a state far from new: a message delivered, one half-read and long, bytes lost, garbage scanned. */
function mess(s: RpcRecordStream): void {
  const one = call(1, 2);
  s.data(one, 0, one.length, 0, frame(1));
  const long = call(2, 600, false);
  s.data(long, 0, 300, one.length, frame(2));
  s.gap(1000, one.length + 300, frame(3));
  const junk = Buffer.from('not an rpc message at all, just bytes'.repeat(4));
  s.data(junk, 0, junk.length, one.length + 1300, frame(4));
}

describe('RpcRecordStream.reuse', () => {
  const cases: Array<[string, boolean, RecordStreamOptions]> = [
    ['from the start', false, {}],
    ['resuming at an offset', false, { resumeAt: 4096 }],
    ['mid-stream', true, {}],
    ['with its own fragment bound', false, { maxFragment: 1 << 16, resumeAt: 12 }],
  ];
  for (const [name, midstream, options] of cases) {
    it(`makes a used stream equal to a new one, field by field (${name})`, () => {
      const used = new RpcRecordStream(sink(), connection(0, !midstream), 1, stats(), { resumeAt: 8 });
      mess(used);
      const s2 = sink();
      const st = stats();
      const conn = connection(7, midstream);
      const fresh = new RpcRecordStream(s2, conn, 0, st, options);
      expect(used).not.toEqual(fresh);
      const reused = used.reuse(s2, conn, 0, st, options);
      expect(reused).toBe(used);
      expect(Object.keys(reused).sort()).toEqual(Object.keys(fresh).sort());
      expect(reused).toEqual(fresh);
    });
  }

  it('reads the same bytes into the same messages as a new stream', () => {
    const bytes = Buffer.concat([call(10, 3), call(11, 200), call(12, 0), call(13, 40, false), call(13, 5)]);
    const run = (s: RpcRecordStream) => {
      for (let at = 0, n = 1; at < bytes.length; at += 97, n++) s.data(bytes, at, Math.min(at + 97, bytes.length), at, frame(n));
    };
    const got: RpcMessageRecord[] = [];
    const st1 = stats();
    const conn = connection(3, false);
    run(new RpcRecordStream(sink(got), conn, 0, st1));
    const again: RpcMessageRecord[] = [];
    const st2 = stats();
    const used = new RpcRecordStream(sink(), connection(0, true), 1, stats());
    mess(used);
    run(used.reuse(sink(again), conn, 0, st2));
    expect(got.map((m) => m.bytes.head.readUInt32BE(0))).toEqual([10, 11, 12, 13]);
    expect(again).toEqual(got);
    expect(st2).toEqual(st1);
  });
});
