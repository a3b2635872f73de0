/**
 * Record marking at its edges, one case each (fast: these run for every
 * mutant of src/rpc/record-stream.ts): the plausibility rules of a message
 * start when resynchronising and the header check in sync, each at its
 * limit and one past it; gaps, overlaps and the end of the stream in every
 * mode; frames across the files of a rotated set; how the head grows and
 * what is allocated; and what a message in progress tells the memory
 * budget. Expected values follow RFC 5531 (record marking §11, message
 * layout §9) and the rules stated in record-stream.ts's comments.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FrameRef } from '../src/capture/frame.js';
import { TAIL_KEEP, type RpcMessageRecord } from '../src/rpc/message.js';
import { deliveredBuffers, REUSED_MAX, ReusedBuffers, SLAB_PIECE_MAX } from '../src/rpc/message-slab.js';
import { waitingBuffers, type PartialRecordTracker, type RpcRecordStream } from '../src/rpc/record-stream.js';
import { BULK_HEAD, BULK_XID, Driver } from './gen/record-driver.js';
import { NFS_PROGRAM, XdrWriter, recordMark, rpcAcceptedReply, rpcAuthErrorReply, rpcRpcMismatchReply } from './gen/rpc.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A call to NFS (a known program) of exactly `length` message bytes (≥ 24). */
function callOf(xid: number, length: number, prog = NFS_PROGRAM, vers = 3, rpcvers = 2): Buffer {
  const h = new XdrWriter().u32(xid).u32(0).u32(rpcvers).u32(prog).u32(vers).u32(1).bytes();
  const m = Buffer.alloc(length, 0x61); // 'a': no plausible record mark inside
  h.copy(m, 0, 0, Math.min(24, length));
  return m;
}
const xidOf = (m: RpcMessageRecord): number => m.bytes.head.readUInt32BE(0);
const xids = (d: Driver): number[] => d.sink.msgs.map(xidOf);
const frame = (fileIndex: number, number: number): FrameRef => ({ fileIndex, number, tsSec: 1000 + fileIndex, tsNsec: number });
const JUNK = Buffer.alloc(30, 0x61);
const follow = (): Buffer => recordMark(callOf(0xf0, 40));

/**
 * Loses sync (a gap swallows a record mark), then junk, the candidate
 * record and a good call (xid 0xf0): which of them are taken.
 */
function afterResync(candidate: Buffer, outstanding: number[] = [], driver = new Driver()): Driver {
  const d = driver;
  for (const x of outstanding) d.sink.outstanding.add(x);
  d.data(recordMark(callOf(1, 40)));
  d.gap(7);
  d.data(Buffer.concat([JUNK, candidate, follow()]));
  d.end();
  return d;
}

describe('resynchronisation: a message start is plausible only within the rules', () => {
  it('a fragment of 24 bytes can start a message, one of 23 cannot (MIN_RESYNC_FRAGMENT)', () => {
    expect(xids(afterResync(recordMark(callOf(0x24, 24))))).toEqual([1, 0x24, 0xf0]);
    const d = afterResync(recordMark(callOf(0x23, 23)));
    expect(xids(d)).toEqual([1, 0xf0]);
    expect(d.stats.skippedBytes).toBe(30 + 27);
  });

  it('the largest fragment believed is maxFragment, in sync and when resynchronising', () => {
    const at = afterResync(recordMark(callOf(0x3e8, 1000)), [], new Driver(false, 0, { maxFragment: 1000 }));
    expect(xids(at)).toEqual([1, 0x3e8, 0xf0]);
    const over = afterResync(recordMark(callOf(0x3e9, 1001)), [], new Driver(false, 0, { maxFragment: 1000 }));
    expect(xids(over)).toEqual([1, 0xf0]);
    expect(over.stats.resyncs).toBe(1); // passed over while scanning, not taken and dropped again
    // In sync: a mark of maxFragment is a message; one byte more is not a record mark.
    const inSync = new Driver(false, 0, { maxFragment: 1000 });
    inSync.data(Buffer.concat([recordMark(callOf(2, 1000)), recordMark(callOf(3, 1001)), follow()]));
    expect(xids(inSync)).toEqual([2, 0xf0]);
    expect(inSync.sink.msgs[1]!.resynced).toBe(true);
    expect(inSync.stats.resyncs).toBe(1);
    expect(inSync.stats.skippedBytes).toBe(1005);
  });

  it('a call: rpcvers 2 only, a known or transient program, a version below 100', () => {
    // A start not plausible is passed over while scanning: one resynchronisation in all, never a second.
    const taken = (call: Buffer): boolean => {
      const d = afterResync(recordMark(call));
      expect(d.stats.resyncs).toBe(1);
      return xids(d).includes(call.readUInt32BE(0));
    };
    expect(taken(callOf(0x10, 40))).toBe(true);
    expect(taken(callOf(0x11, 40, NFS_PROGRAM, 3, 3))).toBe(false); // rpcvers 3
    expect(taken(callOf(0x12, 40, 0x40000000))).toBe(true); // first transient program (an NFSv4 callback)
    expect(taken(callOf(0x13, 40, 0x3fffffff))).toBe(false); // unknown, below the transient range
    expect(taken(callOf(0x14, 40, NFS_PROGRAM, 99))).toBe(true);
    expect(taken(callOf(0x15, 40, NFS_PROGRAM, 100))).toBe(false);
  });

  it('a reply: accepted with a verifier of at most 400 bytes, or denied with RPC_MISMATCH / AUTH_ERROR; msg_type 2 is neither', () => {
    const taken = (reply: Buffer): boolean => {
      const d = afterResync(recordMark(reply), [reply.readUInt32BE(0)]);
      expect(d.stats.resyncs).toBe(1);
      return xids(d).includes(reply.readUInt32BE(0));
    };
    const verf = (xid: number, len: number): Buffer => Buffer.concat([new XdrWriter().u32(xid).u32(1).u32(0).u32(6).opaque(Buffer.alloc(len)).u32(0).bytes(), Buffer.alloc(8)]);
    expect(taken(verf(0x20, 400))).toBe(true);
    expect(taken(verf(0x21, 401))).toBe(false);
    expect(taken(Buffer.concat([rpcRpcMismatchReply(0x22, 2, 2), Buffer.alloc(16)]))).toBe(true);
    expect(taken(Buffer.concat([rpcAuthErrorReply(0x23, 1), Buffer.alloc(16)]))).toBe(true);
    // reject_stat 2 does not exist; reply_stat 2 neither; msg_type 2 neither.
    expect(taken(new XdrWriter().u32(0x24).u32(1).u32(1).u32(2).u32(0).u32(0).u32(0).bytes())).toBe(false);
    expect(taken(new XdrWriter().u32(0x25).u32(1).u32(2).u32(0).u32(0).u32(0).u32(0).bytes())).toBe(false);
    expect(taken(new XdrWriter().u32(0x26).u32(2).u32(0).u32(0).u32(0).u32(0).u32(0).bytes())).toBe(false);
  });

  it('a mid-stream capture starting with a call to an unknown program skips it', () => {
    const d = new Driver(true);
    d.data(Buffer.concat([recordMark(callOf(0x30, 40, 12345)), follow()]));
    expect(xids(d)).toEqual([0xf0]);
    expect(d.sink.msgs[0]!.resynced).toBe(true);
    expect(d.stats.skippedBytes).toBe(44);
  });

  it('after a gap, the first position is no longer the loose start of a mid-stream capture', () => {
    const d = new Driver(true);
    d.gap(10);
    d.data(Buffer.concat([recordMark(rpcAcceptedReply(0x31, Buffer.alloc(20))), follow()]));
    expect(xids(d)).toEqual([0xf0]);
    expect(d.stats.resyncs).toBe(1);
  });

  it('a gap before any byte of a mid-stream capture counts one resynchronisation, even when a message starts right after it', () => {
    const d = new Driver(true);
    d.gap(10);
    d.data(follow());
    expect(xids(d)).toEqual([0xf0]);
    expect(d.sink.msgs[0]!.resynced).toBe(true);
    expect(d.stats).toMatchObject({ resyncs: 1, skippedBytes: 0 });
  });

  it('the scan finds the start after junk of every length and pattern, the junk counted byte for byte', () => {
    // Junk whose bytes are zero and non-zero in runs of 1 to 3 (the scan
    // passes over three positions at a non-zero byte): for every length up
    // to 40 and every phase, the call right after it is found, nothing before.
    for (const run of [1, 2, 3]) {
      for (let length = 0; length <= 40; length++) {
        for (let phase = 0; phase < 2 * run; phase++) {
          const junk = Buffer.alloc(length);
          for (let i = 0; i < length; i++) junk[i] = Math.floor((i + phase) / run) % 2 === 0 ? 0 : 0x61 + (i % 7);
          const d = new Driver(true);
          d.data(Buffer.concat([junk, recordMark(callOf(0xe0, 40)), follow()]));
          d.end();
          expect(xids(d), `run ${run}, length ${length}, phase ${phase}`).toEqual([0xe0, 0xf0]);
          expect(d.stats.skippedBytes, `run ${run}, length ${length}, phase ${phase}`).toBe(length);
        }
      }
    }
  });

  it('losing sync in a stream in sync: a reply right after the gap needs its call', () => {
    const d = new Driver();
    d.data(recordMark(callOf(1, 40)));
    d.gap(8);
    d.data(Buffer.concat([recordMark(rpcAcceptedReply(0x32, Buffer.alloc(20))), follow()]));
    expect(xids(d)).toEqual([1, 0xf0]);
  });
});

describe('the header of a message in sync', () => {
  const inSync = (m: Buffer): Driver => {
    const d = new Driver();
    d.data(Buffer.concat([recordMark(m), follow()]));
    return d;
  };

  it('a call needs rpcvers 2; a reply MSG_ACCEPTED or MSG_DENIED', () => {
    expect(xids(inSync(callOf(0x40, 40, NFS_PROGRAM, 3, 3)))).toEqual([0xf0]);
    expect(xids(inSync(Buffer.concat([rpcAuthErrorReply(0x41, 1), Buffer.alloc(8)])))).toEqual([0x41, 0xf0]);
    expect(xids(inSync(new XdrWriter().u32(0x42).u32(1).u32(2).u32(0).u32(0).bytes()))).toEqual([0xf0]);
    expect(inSync(callOf(0x40, 40, NFS_PROGRAM, 3, 3)).stats).toMatchObject({ resyncs: 1, skippedBytes: 44 });
  });

  it('is checked in a first fragment of 12 bytes, not in one of 11', () => {
    const bad = (n: number): Buffer => Buffer.concat([new XdrWriter().u32(0x43).u32(7).u32(7).bytes().subarray(0, n), Buffer.alloc(40 - n)]);
    const twelve = new Driver();
    twelve.data(Buffer.concat([recordMark(bad(12), [12]), follow()]));
    expect(xids(twelve)).toEqual([0xf0]);
    const eleven = new Driver();
    eleven.data(Buffer.concat([recordMark(bad(11), [11]), follow()]));
    expect(xids(eleven)).toEqual([0x43, 0xf0]);
    expect(eleven.sink.msgs[0]!.bytes.length).toBe(40);
  });

  it('a message start inside a fragment whose header failed is found: only the 12 header bytes were taken', () => {
    // A mark of 1000 bytes whose header is not RPC; a whole record starts 12 bytes into it.
    const real = recordMark(callOf(0x44, 60));
    const d = new Driver();
    d.data(Buffer.concat([new XdrWriter().u32(0x80000000 | 1000).u32(0x45).u32(9).u32(9).bytes(), real, follow()]));
    expect(xids(d)).toEqual([0x44, 0xf0]);
    expect(d.stats.skippedBytes).toBe(16);
  });

  it('a header that fails across two segments: the message start found after it keeps its own frame', () => {
    const real = recordMark(callOf(0x47, 60));
    const junk = new XdrWriter().u32(0x80000000 | 1000).u32(0x48).u32(9).u32(9).bytes();
    const wire = Buffer.concat([junk, real, follow()]);
    const d = new Driver();
    d.stream.data(wire, 0, 10, 0, frame(0, 1)); // the mark and 6 header bytes
    d.stream.data(wire, 10, wire.length, 10, frame(0, 2));
    expect(xids(d)).toEqual([0x47, 0xf0]);
    expect(d.sink.msgs[0]!.firstFrame.number).toBe(2);
    expect(d.stats).toMatchObject({ resyncs: 1, skippedBytes: 16 });
  });

  it('scanning again starts at the second byte of the failed record mark (one stray byte before a record)', () => {
    const r = recordMark(callOf(0x46, 40)); // mark 80 00 00 28: read from a byte early, 00 80 00 00 is a mark of 8 MiB
    for (const stray of [0x00, 0x7f]) {
      // 0x00: a plausible length, then a header that is not RPC; 0x7f: an absurd length.
      const d = new Driver();
      const wire = Buffer.concat([Buffer.from([stray]), r, follow()]);
      d.stream.data(wire, 0, 2, 0, frame(0, 5));
      d.stream.data(wire, 2, wire.length, 2, frame(0, 6));
      expect(xids(d)).toEqual([0x46, 0xf0]);
      expect(d.sink.msgs[0]!.resynced).toBe(true);
      expect(d.sink.msgs[0]!.firstFrame.number).toBe(5);
      expect(d.sink.msgs[0]!.bytes.length).toBe(40);
      expect(d.stats).toMatchObject({ resyncs: 1, skippedBytes: 1 });
    }
  });
});

describe('record marks at their limits', () => {
  it('a segment holding exactly one record mark, then the end: a message begun and cut', () => {
    const d = new Driver();
    d.data(recordMark(callOf(1, 40)).subarray(0, 4));
    d.end();
    expect(d.sink.msgs.length).toBe(1);
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 40, missing: 40 });
    expect(d.sink.msgs[0]!.unfinished).toBe(true);
    expect(d.stats.skippedBytes).toBe(0);
  });

  it('an absurd mark between two fragments of a message delivers it as truncated, not unfinished, and resynchronises', () => {
    const m = recordMark(callOf(0x50, 300), [100]).subarray(0, 104);
    const d = new Driver();
    d.data(Buffer.concat([m, Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(20), follow()]));
    expect(xids(d)).toEqual([0x50, 0xf0]);
    const cut = d.sink.msgs[0]!;
    expect(cut.bytes).toMatchObject({ length: 101, missing: 1 });
    expect(cut.bytes.head.equals(callOf(0x50, 300).subarray(0, 100))).toBe(true);
    expect(cut.unfinished).toBe(false);
    expect(d.sink.msgs[1]!.unfinished).toBe(false);
    expect(d.stats).toMatchObject({ truncatedMessages: 1, resyncs: 1, skippedBytes: 24 });
  });

  it('a gap that swallows the mark between two fragments delivers the first as truncated', () => {
    const m = recordMark(callOf(0x51, 300), [100]);
    const d = new Driver();
    d.data(m.subarray(0, 104));
    d.gap(10);
    d.data(Buffer.concat([m.subarray(114), follow()]));
    expect(xids(d)).toEqual([0x51, 0xf0]);
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 101, missing: 1 });
    expect(d.sink.msgs[0]!.unfinished).toBe(false);
  });

  it('the bytes of a record mark begun before a gap or the end are skipped', () => {
    const a = recordMark(callOf(1, 40));
    const g = new Driver();
    g.data(Buffer.concat([a, follow().subarray(0, 2)]));
    g.gap(20);
    expect(g.stats).toMatchObject({ skippedBytes: 2, resyncs: 1, messages: 1 });
    const e = new Driver();
    e.data(Buffer.concat([a, follow().subarray(0, 3)]));
    e.end();
    expect(e.stats).toMatchObject({ skippedBytes: 3, resyncs: 0, messages: 1 });
  });
});

describe('gaps and overlaps in a message body', () => {
  const msg = callOf(0x60, 300);
  const wire = recordMark(msg);

  it('a gap of length 0, or wholly over bytes already passed, changes nothing', () => {
    for (const [len, back] of [[0, 0], [4, 4], [3, 10]] as const) {
      const d = new Driver();
      d.stream.data(wire, 0, 100, 0, frame(0, 1));
      d.stream.gap(len, 100 - back, frame(0, 2));
      d.stream.data(wire, 100, wire.length, 100, frame(0, 3));
      expect(d.sink.msgs.length).toBe(1);
      expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 0 });
      expect(d.sink.msgs[0]!.bytes.head.equals(msg)).toBe(true);
      expect(d.stats.resyncs).toBe(0);
    }
  });

  it('data past a hole counts the hole as missing bytes of the message', () => {
    const d = new Driver();
    d.stream.data(wire, 0, 100, 0, frame(0, 1));
    d.stream.data(wire, 130, wire.length, 130, frame(0, 2));
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 30 });
    expect(d.sink.msgs[0]!.bytes.head.equals(msg.subarray(0, 96))).toBe(true);
  });

  it('a gap partly over bytes passed counts only its new part', () => {
    const d = new Driver();
    d.stream.data(wire, 0, 100, 0, frame(0, 1));
    d.stream.gap(10, 96, frame(0, 2));
    d.stream.data(wire, 106, wire.length, 106, frame(0, 3));
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 6 });
  });

  it('a gap partly over bytes passed is a frame of the stream; one wholly over them is not', () => {
    const d = new Driver();
    d.stream.data(wire, 0, 100, 0, frame(0, 1));
    d.stream.gap(10, 96, frame(0, 2));
    d.stream.gap(3, 100, frame(0, 3));
    d.stream.end('capture-end', undefined);
    expect(d.sink.msgs[0]!.frame.number).toBe(2);
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 300 - 96 });
  });

  it('a segment wholly before the next offset is ignored (the next offset does not move back)', () => {
    const d = new Driver();
    d.stream.data(wire, 0, 100, 0, frame(0, 1));
    d.stream.data(wire, 0, 50, 0, frame(0, 2));
    d.stream.data(wire, 100, wire.length, 100, frame(0, 3));
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 0 });
    expect(d.sink.msgs[0]!.frame.number).toBe(3);
  });

  it('a segment of bytes already passed is not a frame of the stream', () => {
    const d = new Driver();
    d.stream.data(wire, 0, 100, 0, frame(0, 1));
    d.stream.data(wire, 50, 100, 50, frame(0, 2));
    d.stream.end('capture-end', undefined);
    expect(d.sink.msgs[0]!.frame.number).toBe(1);
  });

  it('a gap ending exactly at the end of a fragment that is not the last: the message goes on', () => {
    const mf = recordMark(msg, [100]);
    const d = new Driver();
    d.data(mf.subarray(0, 50));
    d.gap(54);
    d.data(Buffer.concat([mf.subarray(104), follow()]));
    expect(xids(d)).toEqual([0x60, 0xf0]);
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 54 });
    expect(d.stats.resyncs).toBe(0);
  });

  it('a gap crossing the end of a fragment: what follows is scanned, so a reply there needs its call', () => {
    const mf = recordMark(msg, [100]);
    const d = new Driver();
    d.data(mf.subarray(0, 50));
    d.gap(mf.length - 50);
    d.data(Buffer.concat([recordMark(rpcAcceptedReply(0x61, Buffer.alloc(20))), follow()]));
    expect(xids(d)).toEqual([0x60, 0xf0]);
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 100, missing: 54 });
    expect(d.sink.msgs[1]!.resynced).toBe(true);
  });

  it('a gap ending right before the kept tail of a bulk message keeps the tail', () => {
    const big = rpcAcceptedReply(BULK_XID + 1, Buffer.alloc(20_000, 0x62));
    const bw = recordMark(big);
    const tailAt = 4 + big.length - TAIL_KEEP;
    const d = new Driver();
    d.data(bw.subarray(0, 1000));
    d.gap(tailAt - 1000);
    d.data(bw.subarray(tailAt));
    const m = d.sink.msgs[0]!;
    expect(m.bytes.missing).toBe(tailAt - 1000);
    expect(m.bytes.tailOffset).toBe(big.length - TAIL_KEEP);
    expect(m.bytes.tail.equals(big.subarray(big.length - TAIL_KEEP))).toBe(true);
  });
});

describe('end of stream, frames', () => {
  it('a message cut by the end after a gap is shown in the gap’s frame when the end has none', () => {
    const w = recordMark(callOf(0x70, 300));
    const d = new Driver();
    d.stream.data(w, 0, 100, 0, frame(0, 1));
    d.stream.gap(20, 100, frame(0, 2));
    d.stream.end('capture-end', undefined);
    expect(d.sink.msgs[0]!.frame.number).toBe(2);
    expect(d.sink.msgs[0]!.bytes).toMatchObject({ length: 300, missing: 204 });
  });

  it('bytes held while looking for a message start are skipped at the end, and a mid-stream capture that never found one counts a resynchronisation', () => {
    const d = new Driver();
    d.data(recordMark(callOf(1, 40)));
    d.gap(5);
    d.data(Buffer.alloc(10, 0x61));
    d.end();
    expect(d.stats).toMatchObject({ skippedBytes: 10, resyncs: 1 });
    const m = new Driver(true);
    m.data(Buffer.alloc(10, 0x61));
    m.end();
    expect(m.stats).toMatchObject({ skippedBytes: 10, resyncs: 1, messages: 0 });
  });

  it('a mid-stream capture that ended before any byte counts no resynchronisation', () => {
    const d = new Driver(true);
    d.end();
    expect(d.stats).toMatchObject({ resyncs: 0, skippedBytes: 0, messages: 0 });
  });

  it('a connection evicted with a message in progress and no memory budget: the message is dropped', () => {
    const d = new Driver();
    d.data(recordMark(callOf(0x71, 300)).subarray(0, 100));
    d.stream.end('evicted', frame(0, 9));
    expect(d.sink.msgs.length).toBe(0);
    expect(d.stats.messages).toBe(0);
  });

  it('bytes held while looking are skipped when a gap comes', () => {
    const d = new Driver();
    d.data(recordMark(callOf(1, 40)));
    d.gap(5);
    d.data(Buffer.alloc(10, 0x61));
    d.gap(5);
    d.data(follow());
    expect(xids(d)).toEqual([1, 0xf0]);
    expect(d.stats).toMatchObject({ skippedBytes: 10, resyncs: 1 });
  });

  it('only the message cut by the end is unfinished', () => {
    const d = new Driver();
    d.data(Buffer.concat([recordMark(callOf(1, 40)), recordMark(callOf(2, 40)), recordMark(callOf(3, 40)).subarray(0, 20)]));
    d.end();
    expect(d.sink.msgs.map((m) => m.unfinished)).toEqual([false, false, true]);
  });

  it('the destination of direction 1 is the first endpoint', () => {
    const d = new Driver(false, 1);
    d.data(recordMark(callOf(1, 40)));
    expect([d.sink.msgs[0]!.src.port, d.sink.msgs[0]!.dst.port]).toEqual([2049, 800]);
  });
});

describe('frames across the files of a rotated set', () => {
  const msg = callOf(0x80, 300);
  const w = recordMark(msg);
  const feed = (parts: [number, number, FrameRef][]): RpcMessageRecord => {
    const d = new Driver();
    for (const [s, e, at] of parts) d.stream.data(w, s, e, s, at);
    expect(d.sink.msgs.length).toBe(1);
    return d.sink.msgs[0]!;
  };

  it('a message begun in one file and completed in the next is shown in the later file, even with a lower frame number', () => {
    const m = feed([[0, 100, frame(0, 5)], [100, w.length, frame(1, 5)]]);
    expect([m.firstFrame.fileIndex, m.firstFrame.number]).toEqual([0, 5]);
    expect([m.frame.fileIndex, m.frame.number]).toEqual([1, 5]);
  });

  it('bytes delivered late (behind a hole) were carried by earlier frames: the latest frame, by file then number, is shown', () => {
    // Frames 0/9 and 1/2 carried the first parts; 0/7 fills the rest, late.
    const m = feed([[0, 100, frame(0, 9)], [100, 200, frame(1, 2)], [200, w.length, frame(0, 7)]]);
    expect([m.frame.fileIndex, m.frame.number]).toEqual([1, 2]);
    const n = feed([[0, 100, frame(1, 2)], [100, w.length, frame(0, 3)]]);
    expect([n.frame.fileIndex, n.frame.number]).toEqual([1, 2]);
    const o = feed([[0, 100, frame(0, 5)], [100, 200, frame(0, 9)], [200, w.length, frame(0, 7)]]);
    expect(o.frame.number).toBe(9);
    const p = feed([[0, 100, frame(0, 9)], [100, w.length, frame(0, 5)]]);
    expect(p.frame.number).toBe(9);
  });

  it('a record mark split across frames counts its frames too', () => {
    const mf = recordMark(msg, [100]); // second mark at [104, 108)
    const d = new Driver();
    d.stream.data(mf, 0, 106, 0, frame(0, 9));
    d.stream.data(mf, 106, 108, 106, frame(0, 5));
    d.stream.data(mf, 108, mf.length, 108, frame(0, 6));
    expect(d.sink.msgs[0]!.frame.number).toBe(9);
    const e = new Driver();
    e.stream.data(mf, 0, 106, 0, frame(0, 5));
    e.stream.data(mf, 106, 108, 106, frame(0, 9));
    e.stream.data(mf, 108, mf.length, 108, frame(0, 7));
    expect(e.sink.msgs[0]!.frame.number).toBe(9);
  });

  it('a message in one frame shares one frame object for its first and last frame', () => {
    const m = feed([[0, w.length, frame(0, 4)]]);
    expect(m.frame).toBe(m.firstFrame);
  });
});

describe('what is kept and allocated', () => {
  /**
   * While `fn` runs: the sizes of the Buffers of their own the stream
   * takes (Buffer.allocUnsafeSlow, waitingBuffers.take whether it reuses
   * one or makes one, and deliveredBuffers.take beyond SLAB_PIECE_MAX; the
   * shared slabs' own do not count), and of the pieces it takes from the
   * shared slabs (deliveredBuffers).
   */
  function allocations(fn: () => void): { own: number[]; slab: number[] } {
    const own: number[] = [];
    const slab: number[] = [];
    let inTake = 0;
    const alloc = Buffer.allocUnsafeSlow;
    /** Counts a take of `from` in `to(n)`; what it allocates itself is not counted again. */
    const spyTake = (from: { take(n: number): Buffer }, to: (n: number) => number[]) => {
      const take = from.take;
      return vi.spyOn(from, 'take').mockImplementation((n: number) => {
        // Not when takeAtLeast takes (counted there).
        if (inTake === 0) to(n).push(n);
        inTake++;
        try {
          return take.call(from, n);
        } finally {
          inTake--;
        }
      });
    };
    // Longer than a piece: a Buffer of its own (made by take itself).
    const s1 = spyTake(deliveredBuffers, (n) => (n > SLAB_PIECE_MAX ? own : slab));
    const s2 = spyTake(waitingBuffers, () => own);
    // A head takes at least what it asks for: counted at the size it gets (its size class).
    const takeAtLeast = waitingBuffers.takeAtLeast;
    const s4 = vi.spyOn(waitingBuffers, 'takeAtLeast').mockImplementation((n: number) => {
      inTake++;
      try {
        const b = takeAtLeast.call(waitingBuffers, n);
        expect(b.length).toBeGreaterThanOrEqual(n);
        own.push(b.length);
        return b;
      } finally {
        inTake--;
      }
    });
    const s3 = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((n: number) => {
      if (inTake === 0) own.push(n);
      return alloc(n);
    });
    try {
      fn();
    } finally {
      s1.mockRestore();
      s2.mockRestore();
      s3.mockRestore();
      s4.mockRestore();
    }
    return { own, slab };
  }
  /** Sizes of the Buffers of their own allocated while `fn` runs. */
  const allocs = (fn: () => void): number[] => allocations(fn).own;

  it('a message of exactly 512 bytes is kept whole without asking, in one fragment or several; 513 asks', () => {
    for (const frags of [[], [100], [100, 100]]) {
      const d = new Driver();
      d.data(recordMark(callOf(0x90, 512), frags));
      expect(d.sink.asked).toEqual([]);
      expect(d.sink.msgs[0]!.bytes.head.equals(callOf(0x90, 512))).toBe(true);
    }
    const d = new Driver();
    d.data(recordMark(callOf(0x91, 513)));
    expect(d.sink.asked).toEqual([{ xid: 0x91, headLen: 512, length: 513 }]);
  });

  it('the head of a message in small fragments doubles as it grows, up to the message length', () => {
    const m = callOf(0x92, 300);
    const d = new Driver();
    expect(allocs(() => d.data(recordMark(m, [10, 10, 10, 10])))).toEqual([10, 20, 40, 300]);
    expect(d.sink.msgs[0]!.bytes.head.equals(m)).toBe(true);
  });

  it('the head never grows past what the message can hold, nor past 512 bytes before the sink decides', () => {
    const a = new Driver();
    const m500 = callOf(0x98, 500);
    const w500 = recordMark(m500, [100]);
    // The second fragment comes 10 bytes, then the rest: 200 (twice 100), then the message length (not 400).
    expect(allocs(() => {
      a.data(w500.subarray(0, 118));
      a.data(w500.subarray(118));
    })).toEqual([100, 200, 500]);
    expect(a.sink.msgs[0]!.bytes.head.equals(m500)).toBe(true);
    const b = new Driver();
    const m2000 = callOf(0x99, 2000);
    // 300, then 512 (not 600: the sink decides at 512), then 1024 (length still unknown), then the
    // message length, 2000 (not twice 1024), in the size class that holds it, 2048 (message-slab.ts).
    expect(allocs(() => b.data(recordMark(m2000, [300, 300, 300])))).toEqual([300, 512, 1024, 2048]);
    expect(b.sink.msgs[0]!.bytes.head.equals(m2000)).toBe(true);
    const c = new Driver();
    const m3000 = callOf(0x9a, 3000);
    // Length unknown when the sink decides: no buffer of the largest head kept (3000 bytes: the 4096 class).
    expect(allocs(() => c.data(recordMark(m3000, [1000])))).toEqual([512, 1024, 4096]);
    const e = new Driver();
    const w3000 = recordMark(m3000);
    // Length known when the sink decides: one buffer of the final size, whatever the segments.
    expect(allocs(() => {
      for (let at = 0; at < w3000.length; at += 600) e.data(w3000.subarray(at, at + 600));
    })).toEqual([512, 4096]);
    expect(e.sink.msgs[0]!.bytes.head.equals(m3000)).toBe(true);
  });

  it('a gap before the tail region of a bulk message: the tail is planned once', () => {
    const big = rpcAcceptedReply(BULK_XID + 4, Buffer.alloc(20_000, 0x65));
    const bw = recordMark(big);
    const d = new Driver();
    expect(allocs(() => {
      d.data(bw.subarray(0, 1000));
      d.gap(1000);
      d.data(bw.subarray(2000));
    })).toEqual([512, BULK_HEAD, TAIL_KEEP]);
    expect(d.sink.msgs[0]!.bytes.tail.equals(big.subarray(big.length - TAIL_KEEP))).toBe(true);
  });

  it('the head of a first fragment is its size when small, 512 bytes at most', () => {
    const d = new Driver();
    expect(allocs(() => d.data(recordMark(callOf(0x93, 300), [100]).subarray(0, 50)))).toEqual([100]);
    const e = new Driver();
    expect(allocs(() => e.data(recordMark(callOf(0x94, 20_000), [5000]).subarray(0, 50)))).toEqual([512]);
  });

  it('asked to keep all of a long message, the head is allocated once at its length', () => {
    const d = new Driver();
    const m = callOf(0x95, 3000);
    const w = recordMark(m);
    // In two segments: a Buffer of its own (the stream holds it between them).
    expect(allocations(() => {
      d.data(w.subarray(0, 1000));
      d.data(w.subarray(1000));
    })).toEqual({ own: [512, 4096], slab: [] });
    expect(d.sink.msgs[0]!.bytes.head.equals(m)).toBe(true);
    // In one segment: delivered before the segment is done with, so handed on in place, a view of the segment's bytes.
    const e = new Driver();
    expect(allocations(() => e.data(w))).toEqual({ own: [], slab: [] });
    expect(e.sink.msgs[0]!.bytes.head.equals(m)).toBe(true);
  });

  it('asked to keep exactly the 512 bytes in, nothing more is allocated than the tail', () => {
    const d = new Driver();
    d.sink.keep = () => 512;
    const m = callOf(0x96, 6000);
    const w = recordMark(m);
    expect(allocations(() => {
      d.data(w.subarray(0, 600));
      d.data(w.subarray(600));
    })).toEqual({ own: [512, TAIL_KEEP], slab: [] });
    expect(d.sink.msgs[0]!.bytes.head.equals(m.subarray(0, 512))).toBe(true);
    expect(d.sink.msgs[0]!.bytes.tail.equals(m.subarray(6000 - TAIL_KEEP))).toBe(true);
    // In one segment: the head in place, the tail from the shared slabs.
    const e = new Driver();
    e.sink.keep = () => 512;
    expect(allocations(() => e.data(w))).toEqual({ own: [], slab: [TAIL_KEEP] });
    expect(e.sink.msgs[0]!.bytes.head.equals(m.subarray(0, 512))).toBe(true);
    expect(e.sink.msgs[0]!.bytes.tail.equals(m.subarray(6000 - TAIL_KEEP))).toBe(true);
  });

  it('a message complete in the segment at hand longer than SLAB_PIECE_MAX gets Buffers of its own', () => {
    const d = new Driver();
    const m = callOf(0x9b, SLAB_PIECE_MAX + 100);
    expect(allocations(() => d.data(recordMark(m)))).toEqual({ own: [SLAB_PIECE_MAX + 100], slab: [512] });
    expect(d.sink.msgs[0]!.bytes.head.equals(m)).toBe(true);
  });

  it('pieces of the shared slabs do not overlap: every message delivered from one segment keeps its own bytes', () => {
    const d = new Driver();
    const ms = Array.from({ length: 40 }, (_, i) => callOf(0x200 + i, 100 + 97 * i));
    d.data(Buffer.concat(ms.map((m) => recordMark(m))));
    expect(d.sink.msgs.map((x) => x.bytes.head.equals(ms[d.sink.msgs.indexOf(x)]!))).toEqual(ms.map(() => true));
  });

  it('a message that waited for segments gives its head and tail back for the next; one handed on in place gives nothing', () => {
    const big = rpcAcceptedReply(BULK_XID + 6, Buffer.alloc(20_000, 0x67));
    const w = recordMark(big);
    const feedInTwo = (d: Driver): void => {
      d.data(w.subarray(0, 3000));
      d.data(w.subarray(3000));
    };
    const first = new Driver();
    const taken: Buffer[] = [];
    const take = waitingBuffers.take;
    const takeAtLeast = waitingBuffers.takeAtLeast;
    let inTake = 0;
    const spy = vi.spyOn(waitingBuffers, 'take').mockImplementation((n: number) => {
      inTake++;
      const b = take.call(waitingBuffers, n);
      inTake--;
      // takeAtLeast's own take counts once, as what it returns.
      if (inTake === 0) taken.push(b);
      return b;
    });
    const spyAtLeast = vi.spyOn(waitingBuffers, 'takeAtLeast').mockImplementation((n: number) => {
      inTake++;
      const b = takeAtLeast.call(waitingBuffers, n);
      inTake--;
      taken.push(b);
      return b;
    });
    try {
      feedInTwo(first);
      // Its 512-byte head (replaced by the bulk head it keeps) and its tail.
      expect(taken.map((b) => b.length)).toEqual([512, BULK_HEAD, TAIL_KEEP]);
      const [head512, , tail] = taken;
      const second = new Driver();
      taken.length = 0;
      feedInTwo(second);
      // The same Buffers again: given back when the first was done with them.
      expect(taken[0]).toBe(head512);
      expect(taken[2]).toBe(tail);
      expect(second.sink.msgs[0]!.bytes.tail.equals(big.subarray(big.length - TAIL_KEEP))).toBe(true);
      expect(second.sink.msgs[0]!.bytes.head.equals(big.subarray(0, BULK_HEAD))).toBe(true);
      // Kept whole, but longer than 512 bytes: the first 512-byte head is given back when the head grows to the whole.
      const whole = recordMark(callOf(0x9e, 3000));
      taken.length = 0;
      const third = new Driver();
      third.data(whole.subarray(0, 1000));
      third.data(whole.subarray(1000));
      // The whole, 3000 bytes, in a Buffer of the 4096-byte class.
      expect(taken.map((b) => b.length)).toEqual([512, 4096]);
      const [first512, first4096] = taken;
      taken.length = 0;
      const fourth = new Driver();
      fourth.data(whole.subarray(0, 1000));
      fourth.data(whole.subarray(1000));
      // Both again, the odd length's too: it was given back at its size class.
      expect(taken[0]).toBe(first512);
      expect(taken[1]).toBe(first4096);
      expect(fourth.sink.msgs[0]!.bytes.head.equals(whole.subarray(4))).toBe(true);
      expect(fourth.sink.msgs[0]!.bytes.head.length).toBe(3000);
    } finally {
      spy.mockRestore();
      spyAtLeast.mockRestore();
    }
    // A message complete in its segment is a view of it: nothing to give back.
    const before = waitingBuffers.waiting;
    const d = new Driver();
    d.data(recordMark(callOf(0x9c, 512)));
    d.data(recordMark(callOf(0x9d, 3000)));
    expect(d.sink.msgs.length).toBe(2);
    expect(waitingBuffers.waiting).toBe(before);
  });

  it('ReusedBuffers keeps Buffers of its own of its sizes only, at most REUSED_MAX of each', () => {
    const r = new ReusedBuffers([512, 4096]);
    const own = Buffer.allocUnsafeSlow(512);
    r.giveBack(own);
    expect(r.waiting).toBe(1);
    expect(r.take(512)).toBe(own);
    expect(r.waiting).toBe(0);
    // Views (of a larger buffer, or at an offset) and other sizes are refused.
    r.giveBack(Buffer.allocUnsafeSlow(1024).subarray(0, 512));
    r.giveBack(Buffer.allocUnsafeSlow(1024).subarray(512));
    r.giveBack(Buffer.allocUnsafeSlow(513));
    r.giveBack(Buffer.alloc(0));
    expect(r.waiting).toBe(0);
    // A size not kept is made afresh.
    expect(r.take(100).length).toBe(100);
    for (let i = 0; i < REUSED_MAX + 10; i++) {
      r.giveBack(Buffer.allocUnsafeSlow(512));
      r.giveBack(Buffer.allocUnsafeSlow(4096));
    }
    expect(r.waiting).toBe(2 * REUSED_MAX);
    expect(r.take(4096).length).toBe(4096);
    expect(r.waiting).toBe(2 * REUSED_MAX - 1);
  });

  it('the tail of a short bulk message is exactly its length, in a Buffer of its size class given back for the next', () => {
    const taken: Buffer[] = [];
    const takeAtLeast = waitingBuffers.takeAtLeast;
    const spy = vi.spyOn(waitingBuffers, 'takeAtLeast').mockImplementation((n: number) => {
      const b = takeAtLeast.call(waitingBuffers, n);
      taken.push(b);
      return b;
    });
    try {
      const m = callOf(0x9f, 3000);
      const w = recordMark(m);
      const feed = (): Driver => {
        const d = new Driver();
        d.sink.keep = () => 100;
        d.data(w.subarray(0, 600));
        d.data(w.subarray(600));
        return d;
      };
      const first = feed();
      // The 512-byte first head, the 100 bytes kept (exact: below the sizes), the tail's 2900 bytes in 4096.
      expect(taken.map((b) => b.length)).toEqual([512, 100, 4096]);
      const tailOwner = taken[2];
      const msg = first.sink.msgs[0]!;
      expect(msg.bytes.tail.length).toBe(2900);
      expect(msg.bytes.tailOffset).toBe(100);
      expect(msg.bytes.tail.equals(m.subarray(100))).toBe(true);
      taken.length = 0;
      const second = feed();
      expect(taken[2]).toBe(tailOwner);
      expect(second.sink.msgs[0]!.bytes.tail.equals(m.subarray(100))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('ReusedBuffers.takeAtLeast: the smallest size that holds the length between the sizes, the exact length outside', () => {
    const r = new ReusedBuffers([512, 1024, 4096]);
    expect([1, 511, 512, 513, 1024, 1025, 3000, 4096, 4097, 9000].map((n) => r.takeAtLeast(n).length)).toEqual([
      1, 511, 512, 1024, 1024, 4096, 4096, 4096, 4097, 9000,
    ]);
    // What is given back at a size is taken again by any length that size holds.
    const b = Buffer.allocUnsafeSlow(1024);
    r.giveBack(b);
    expect(r.takeAtLeast(600)).toBe(b);
    r.giveBack(b);
    expect(r.take(600)).not.toBe(b);
    expect(r.takeAtLeast(513)).toBe(b);
    expect(() => new ReusedBuffers([1024, 512])).toThrow(/ascend/);
  });

  it('asked to keep nothing (a negative answer), the head is empty and the tail kept', () => {
    const d = new Driver();
    d.sink.keep = () => -1;
    const m = callOf(0x97, 6000);
    d.data(recordMark(m));
    expect(d.sink.msgs[0]!.bytes.head.length).toBe(0);
    expect(d.sink.msgs[0]!.bytes.tailOffset).toBe(6000 - TAIL_KEEP);
    expect(d.stats.bytesNotKept).toBe(6000 - TAIL_KEEP);
  });

  it('a bulk message of several fragments plans its tail once', () => {
    const big = rpcAcceptedReply(BULK_XID + 2, Buffer.alloc(20_000, 0x63));
    const d = new Driver();
    const sizes = allocs(() => d.data(recordMark(big, [3000, 3000])));
    expect(sizes).toEqual([512, BULK_HEAD, TAIL_KEEP]);
    expect(d.sink.msgs[0]!.bytes.tail.equals(big.subarray(big.length - TAIL_KEEP))).toBe(true);
  });
});

describe('what a message in progress tells the memory budget', () => {
  class Tracker implements PartialRecordTracker {
    deltas: number[] = [];
    drops = 0;
    held(_s: RpcRecordStream, delta: number): void {
      this.deltas.push(delta);
    }
    dropped(): void {
      this.drops++;
    }
    get total(): number {
      return this.deltas.reduce((a, b) => a + b, 0);
    }
  }
  const BUFFER_BYTES = 230; // a kept buffer's estimated cost besides its bytes (as record-stream.ts counts it)

  it('a small message in progress holds its head, given back when it is delivered', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    const w = recordMark(callOf(0xa0, 300));
    d.data(w.subarray(0, 100));
    expect(t.deltas).toEqual([300 + BUFFER_BYTES]);
    expect(d.stream.holdsBytes).toBe(true);
    d.data(w.subarray(100));
    expect(t.deltas).toEqual([300 + BUFFER_BYTES, -(300 + BUFFER_BYTES)]);
    expect(d.stream.holdsBytes).toBe(false);
    expect(d.sink.msgs.length).toBe(1);
    // A segment that changes nothing held tells nothing.
    const u = new Tracker();
    const e = new Driver(false, 0, { partials: u });
    e.data(w.subarray(0, 100));
    e.data(w.subarray(100, 200));
    e.data(w.subarray(200));
    expect(u.deltas).toEqual([300 + BUFFER_BYTES, -(300 + BUFFER_BYTES)]);
  });

  it('a bulk message holds its head, and its tail once the tail region begins; a gap into the tail gives the tail back', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    const big = recordMark(rpcAcceptedReply(BULK_XID + 3, Buffer.alloc(20_000, 0x64)));
    d.data(big.subarray(0, 1000));
    // Stalled before its last TAIL_KEEP bytes, a message holds no tail buffer yet.
    expect(t.total).toBe(BULK_HEAD + BUFFER_BYTES);
    d.data(big.subarray(1000, big.length - TAIL_KEEP));
    expect(t.total).toBe(BULK_HEAD + BUFFER_BYTES);
    d.data(big.subarray(big.length - TAIL_KEEP, big.length - 1000));
    expect(t.total).toBe(BULK_HEAD + TAIL_KEEP + 2 * BUFFER_BYTES);
    d.gap(990);
    expect(t.total).toBe(BULK_HEAD + BUFFER_BYTES);
    d.data(big.subarray(big.length - 10));
    expect(t.total).toBe(0);
    expect(d.sink.msgs[0]!.bytes.missing).toBe(990);
    expect(d.sink.msgs[0]!.bytes.tail.length).toBe(0);
  });

  it('a gap before the tail region leaves the tail to be filled when its bytes come', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    const body = Buffer.alloc(20_000, 0x64);
    body.write('the end', body.length - 7);
    const big = recordMark(rpcAcceptedReply(BULK_XID + 4, body));
    d.data(big.subarray(0, 1000));
    d.gap(5000);
    expect(t.total).toBe(BULK_HEAD + BUFFER_BYTES);
    d.data(big.subarray(6000));
    expect(t.total).toBe(0);
    const m = d.sink.msgs[0]!;
    expect(m.bytes.missing).toBe(5000);
    expect(m.bytes.tail.length).toBe(TAIL_KEEP);
    expect(m.bytes.tailOffset).toBe(big.length - 4 - TAIL_KEEP);
    expect(m.bytes.tail.subarray(TAIL_KEEP - 7).toString()).toBe('the end');
  });

  it('a bulk message dropped holds nothing more as its bytes go on coming', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    const big = recordMark(rpcAcceptedReply(BULK_XID + 5, Buffer.alloc(20_000, 0x66)));
    d.data(big.subarray(0, 8)); // the header not even checked yet
    expect(d.stream.dropPartial()).toBe(512 + BUFFER_BYTES);
    d.data(big.subarray(8, 5000));
    d.data(big.subarray(5000, big.length - 100));
    expect(t.total).toBe(0);
    expect(d.stream.holdsBytes).toBe(false);
    d.data(Buffer.concat([big.subarray(big.length - 100), follow()]));
    expect(xids(d)).toEqual([0xf0]);
    expect(d.sink.msgs[0]!.unfinished).toBe(false);
    expect(t.total).toBe(0);
  });

  it('a message dropped right after its record mark keeps no head, and a gap in it plans no tail', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    const big = recordMark(rpcAcceptedReply(BULK_XID + 6, Buffer.alloc(20_000, 0x67)));
    d.data(big.subarray(0, 4));
    expect(d.stream.dropPartial()).toBe(512 + BUFFER_BYTES);
    d.data(big.subarray(4, 104));
    d.gap(100);
    d.data(big.subarray(204, big.length - 50));
    expect(t.total).toBe(0);
    expect(d.stream.holdsBytes).toBe(false);
    d.data(Buffer.concat([big.subarray(big.length - 50), follow()]));
    expect(xids(d)).toEqual([0xf0]);
  });

  it('dropPartial frees the message in progress: not delivered, the next one read in sync', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    const w = recordMark(callOf(0xa1, 300));
    expect(d.stream.dropPartial()).toBe(0);
    d.data(w.subarray(0, 100));
    expect(d.stream.dropPartial()).toBe(300 + BUFFER_BYTES);
    expect(t.total).toBe(0);
    expect(d.stream.dropPartial()).toBe(0);
    d.data(Buffer.concat([w.subarray(100), follow()]));
    expect(xids(d)).toEqual([0xf0]);
    expect(d.sink.msgs[0]!.resynced).toBe(false);
    expect(d.sink.msgs[0]!.unfinished).toBe(false);
    expect(d.stats).toMatchObject({ messages: 1, resyncs: 0, skippedBytes: 0 });
    expect(t.drops).toBe(0);
  });

  it('a message dropped, then the end of its stream: nothing delivered, nothing counted again', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    d.data(recordMark(callOf(0xa2, 300)).subarray(0, 100));
    d.stream.dropPartial();
    d.end();
    expect(d.sink.msgs.length).toBe(0);
    expect(t.drops).toBe(0);
    expect(t.total).toBe(0);
  });

  it('a connection evicted with a message in progress: dropped once, not delivered; ended otherwise, it is delivered', () => {
    const t = new Tracker();
    const d = new Driver(false, 0, { partials: t });
    d.data(recordMark(callOf(0xa3, 300)).subarray(0, 100));
    d.stream.end('evicted', frame(0, 9));
    expect(d.sink.msgs.length).toBe(0);
    expect(t.drops).toBe(1);
    expect(t.total).toBe(0);
    const u = new Tracker();
    const e = new Driver(false, 0, { partials: u });
    e.data(recordMark(callOf(0xa4, 300)).subarray(0, 100));
    e.stream.end('fin', frame(0, 9));
    expect(e.sink.msgs.length).toBe(1);
    expect(u.drops).toBe(0);
    expect(u.total).toBe(0);
  });
});
