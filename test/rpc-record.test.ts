import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FrameRef } from '../src/capture/frame.js';
import { rpcFromDatagram } from '../src/rpc/datagram.js';
import { KEEP_MAX, TAIL_KEEP, type RpcMessageRecord } from '../src/rpc/message.js';
import type { UdpDatagram } from '../src/transport/stream.js';
import { BULK_HEAD, BULK_XID, Driver, RecSink, newStats } from './gen/record-driver.js';
import { randInt, rng } from './gen/random.js';
import {
  NFS_PROGRAM,
  NFSPROC3_READ,
  XdrWriter,
  nfs3ReadArgs,
  nfs3ReadResultHead,
  recordMark,
  rpcAcceptedReply,
  rpcCall,
} from './gen/rpc.js';

// ---------------------------------------------------------------------------
// Records and what must be kept of them

interface Rec {
  msg: Buffer;
  frags: number[];
  wire: Buffer;
}

function rec(msg: Buffer, frags: number[] = []): Rec {
  return { msg, frags, wire: recordMark(msg, frags) };
}

/** Length of the last fragment as recordMark cuts it. */
function lastFragLen(r: Rec): number {
  let at = 0;
  for (const size of r.frags) {
    if (at + size >= r.msg.length) break;
    at += size;
  }
  return r.msg.length - at;
}

interface Kept {
  head: Buffer;
  tail: Buffer;
  tailOffset: number;
  notKept: number;
}

function expectedKept(r: Rec): Kept {
  const m = r.msg;
  if (m.length <= 512 || m.readUInt32BE(0) < BULK_XID) {
    const keep = Math.min(m.length, KEEP_MAX);
    const tailStart = keep >= m.length ? m.length : Math.max(m.length - TAIL_KEEP, m.length - lastFragLen(r), keep);
    return {
      head: m.subarray(0, keep),
      tail: m.subarray(tailStart),
      tailOffset: tailStart,
      notKept: tailStart - keep,
    };
  }
  const tailStart = Math.max(m.length - TAIL_KEEP, m.length - lastFragLen(r), BULK_HEAD);
  return {
    head: m.subarray(0, BULK_HEAD),
    tail: m.subarray(tailStart),
    tailOffset: tailStart,
    notKept: tailStart - BULK_HEAD,
  };
}

function expectKept(got: RpcMessageRecord, r: Rec): void {
  const k = expectedKept(r);
  expect(got.bytes.length).toBe(r.msg.length);
  expect(got.bytes.missing).toBe(0);
  expect(got.bytes.head.equals(k.head)).toBe(true);
  expect(got.bytes.tailOffset).toBe(k.tailOffset);
  expect(got.bytes.tail.equals(k.tail)).toBe(true);
}

function filler(n: number, seed: number): Buffer {
  // Letters only: no plausible record mark can start inside.
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 0x61 + ((i * 7 + seed) % 26);
  return b;
}

const fh = Buffer.alloc(32, 0x11);

function smallCall(xid: number, extra = 0): Buffer {
  return rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: { uid: 1, gid: 1 } }, Buffer.concat([new XdrWriter().opaque(fh).bytes(), filler(extra, xid)]));
}

function readCall(xid: number): Buffer {
  return rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ }, nfs3ReadArgs(fh, 0, 4096));
}

function readReply(xid: number, count: number): Buffer {
  return rpcAcceptedReply(xid, Buffer.concat([nfs3ReadResultHead(count, false, 1 << 20), filler(count, xid & 0xff)]));
}

function smallReply(xid: number, extra = 0): Buffer {
  return rpcAcceptedReply(xid, Buffer.concat([Buffer.alloc(4), filler(extra, xid & 0xff)]));
}

/** A sequence exercising every path: small, large non-bulk, bulk, multi-fragment (tiny and large fragments). */
function sequence(): Rec[] {
  return [
    rec(smallCall(1)),
    rec(smallReply(1, 40)),
    rec(readCall(2)),
    rec(readReply(BULK_XID + 2, 3000)), // bulk, tail from the bytes already in the head
    rec(smallCall(3, 1500)), // > 512, kept whole
    rec(smallCall(4, 600), [100, 300]), // multi-fragment, kept whole
    rec(smallReply(5, 40), [8, 8, 8]), // tiny fragments: inner marks close together
    rec(readReply(BULK_XID + 6, 9000), [200, 5000]), // bulk, decided with length -1, tail in the last fragment
    rec(readReply(BULK_XID + 7, 900), [100]), // bulk, decided in the last fragment
    rec(readReply(BULK_XID + 8, 6000)), // bulk, tail of TAIL_KEEP bytes
    rec(smallCall(9)),
  ];
}

function wireOf(recs: Rec[]): { wire: Buffer; starts: number[]; ends: number[] } {
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const r of recs) {
    starts.push(at);
    at += r.wire.length;
    ends.push(at);
  }
  return { wire: Buffer.concat(recs.map((r) => r.wire)), starts, ends };
}

/** Differences from the expected messages, frames and stats (plain code: called for thousands of segmentations). */
function sequenceErrors(d: Driver, recs: Rec[], frameOf: number[], starts: number[], ends: number[]): string[] {
  const errors: string[] = [];
  const msgs = d.sink.msgs;
  if (msgs.length !== recs.length) return [`${msgs.length} messages, expected ${recs.length}`];
  let notKept = 0;
  for (let i = 0; i < recs.length; i++) {
    const m = msgs[i]!;
    const k = expectedKept(recs[i]!);
    const b = m.bytes;
    if (b.length !== recs[i]!.msg.length) errors.push(`#${i}: length ${b.length}`);
    if (b.missing !== 0) errors.push(`#${i}: missing ${b.missing}`);
    if (!b.head.equals(k.head)) errors.push(`#${i}: head`);
    if (b.tailOffset !== k.tailOffset) errors.push(`#${i}: tailOffset ${b.tailOffset}, expected ${k.tailOffset}`);
    if (!b.tail.equals(k.tail)) errors.push(`#${i}: tail`);
    if (m.firstFrame.number !== frameOf[starts[i]!]) errors.push(`#${i}: firstFrame ${m.firstFrame.number}`);
    if (m.frame.number !== frameOf[ends[i]! - 1]) errors.push(`#${i}: frame ${m.frame.number}`);
    if (m.resynced || m.transport !== 'tcp') errors.push(`#${i}: resynced/transport`);
    notKept += k.notKept;
  }
  const s = d.stats;
  if (s.messages !== recs.length || s.truncatedMessages || s.skippedBytes || s.resyncs || s.bytesNotKept !== notKept) {
    errors.push(`stats ${JSON.stringify(s)}, bytesNotKept expected ${notKept}`);
  }
  return errors;
}

function checkSequence(d: Driver, recs: Rec[], frameOf: number[], starts: number[], ends: number[], what = ''): void {
  expect(sequenceErrors(d, recs, frameOf, starts, ends), what).toEqual([]);
}

afterEach(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------

describe('record marking in sync', () => {
  const recs = sequence();
  const { wire, starts, ends } = wireOf(recs);

  it('decodes the sequence in one segment', () => {
    const d = new Driver();
    const frameOf = d.feed(wire, []);
    checkSequence(d, recs, frameOf, starts, ends);
    const m = d.sink.msgs[0]!;
    expect(m.src).toEqual({ addr: '10.0.0.1', port: 800 });
    expect(m.dst).toEqual({ addr: '10.0.0.2', port: 2049 });
    expect(m.conn?.id).toBe(7);
  });

  // Every offset, in eight tests of an eighth each: together they take 10-40 s, more than one test's time limit on a loaded machine.
  const PARTS = 8;
  for (let part = 0; part < PARTS; part++) {
    const from = 1 + Math.floor(((wire.length - 1) * part) / PARTS);
    const to = 1 + Math.floor(((wire.length - 1) * (part + 1)) / PARTS);
    it(`decodes the sequence split in two at every offset (offsets ${from} to ${to - 1})`, () => {
      const failed: string[] = [];
      for (let s = from; s < to; s++) {
        const d = new Driver();
        const frameOf = d.feed(wire, [s]);
        const errors = sequenceErrors(d, recs, frameOf, starts, ends);
        if (errors.length > 0 && failed.length < 10) failed.push(`split at ${s}: ${errors.join('; ')}`);
      }
      expect(failed).toEqual([]);
      expect(to - from).toBeGreaterThan(0);
    });
  }
  it('the parts of the split test cover every offset once', () => {
    const bounds = Array.from({ length: PARTS + 1 }, (_, part) => 1 + Math.floor(((wire.length - 1) * part) / PARTS));
    expect([bounds[0], bounds[PARTS]]).toEqual([1, wire.length]);
  });

  it('decodes the sequence in 1-byte segments', () => {
    const d = new Driver();
    const cuts = Array.from({ length: wire.length - 1 }, (_, i) => i + 1);
    const frameOf = d.feed(wire, cuts);
    checkSequence(d, recs, frameOf, starts, ends);
  });

  it('decodes the sequence under random segmentations', () => {
    const r = rng(42);
    for (let iter = 0; iter < 300; iter++) {
      const cuts: number[] = [];
      let at = 0;
      const maxSeg = [3, 20, 200, 1448, 9000][iter % 5]!;
      for (;;) {
        at += randInt(r, 1, maxSeg + 1);
        if (at >= wire.length) break;
        cuts.push(at);
      }
      const d = new Driver();
      const frameOf = d.feed(wire, cuts);
      checkSequence(d, recs, frameOf, starts, ends);
    }
  });

  it('straddles inner fragment headers across segments', () => {
    const r = rec(smallCall(11, 700), [60, 61, 62, 63]);
    // Cut inside every inner record mark, at every offset of it.
    for (let k = 0; k < 4; k++) {
      const cuts: number[] = [];
      let at = 0;
      for (const size of [60, 61, 62, 63]) {
        cuts.push(at + k + 1);
        at += 4 + size;
      }
      cuts.push(at + k + 1);
      const d = new Driver();
      const frameOf = d.feed(r.wire, cuts);
      checkSequence(d, [r], frameOf, [0], [r.wire.length]);
    }
  });

  it('asks headToKeep once per long message, with the length when known', () => {
    const d = new Driver();
    d.feed(wire, [100, 3000, 3001]);
    const asked = d.sink.asked;
    // Messages longer than 512 bytes: 3, 4, 5(600 + header), 7, 8, 9 (by xid).
    expect(asked.map((a) => a.xid & 0xffff)).toEqual([2, 3, 4, 6, 7, 8]);
    for (const a of asked) expect(a.headLen).toBe(512);
    const byXid = new Map(recs.map((r) => [r.msg.readUInt32BE(0), r]));
    for (const a of asked) {
      const r = byXid.get(a.xid)!;
      // Single fragment: the length; multi-fragment: -1 unless in the last fragment.
      const expected = r.frags.length === 0 ? r.msg.length : r.msg.length - lastFragLen(r) <= 512 ? r.msg.length : -1;
      expect(a.length).toBe(expected);
    }
  });

  it('does not copy bulk data', () => {
    const big = rec(readReply(BULK_XID + 1, 1 << 20));
    const spy = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const d = new Driver();
    const cuts: number[] = [];
    for (let at = 1448; at < big.wire.length; at += 1448) cuts.push(at);
    d.feed(big.wire, cuts);
    const allocated = spy.mock.calls.reduce((s, c) => s + (c[0] as number), 0);
    expect(allocated).toBeLessThanOrEqual(512 + BULK_HEAD + TAIL_KEEP);
    expect(d.sink.msgs.length).toBe(1);
    expectKept(d.sink.msgs[0]!, big);
    expect(d.stats.bytesNotKept).toBe(big.msg.length - BULK_HEAD - TAIL_KEEP);
  });

  it('keeps at most KEEP_MAX head bytes of a huge non-bulk message', () => {
    const big = rec(smallCall(12, KEEP_MAX + 10_000), [300_000]);
    const d = new Driver();
    const cuts: number[] = [];
    for (let at = 65_000; at < big.wire.length; at += 65_000) cuts.push(at);
    d.feed(big.wire, cuts);
    const m = d.sink.msgs[0]!;
    expect(m.bytes.head.length).toBe(KEEP_MAX);
    expect(m.bytes.head.equals(big.msg.subarray(0, KEEP_MAX))).toBe(true);
    const tailStart = big.msg.length - TAIL_KEEP;
    expect(m.bytes.tailOffset).toBe(tailStart);
    expect(m.bytes.tail.equals(big.msg.subarray(tailStart))).toBe(true);
  });
});

describe('gaps', () => {
  const a = rec(smallCall(1));
  const b = rec(readReply(BULK_XID + 1, 20_000));
  const c = rec(smallCall(3));
  const bStart = a.wire.length;
  const bMsgAt = bStart + 4; // first message byte of b

  /** Feeds a, b, c with wire bytes [from, to) replaced by a gap, cut also at the given offsets. */
  function withGap(from: number, to: number, cuts: number[] = []): Driver {
    const wire = Buffer.concat([a.wire, b.wire, c.wire]);
    const d = new Driver();
    const all = [...new Set([...cuts, from, to])].sort((x, y) => x - y).filter((x) => x > 0 && x < wire.length);
    let start = 0;
    for (const cut of [...all, wire.length]) {
      if (start >= from && start < to) d.gap(cut - start);
      else d.data(wire.subarray(start, cut));
      start = cut;
    }
    return d;
  }

  it('stays in sync over a gap in the middle of bulk data', () => {
    const d = withGap(bMsgAt + 5000, bMsgAt + 6000);
    expect(d.sink.msgs.length).toBe(3);
    const [ma, mb, mc] = d.sink.msgs as [RpcMessageRecord, RpcMessageRecord, RpcMessageRecord];
    expectKept(ma, a);
    expect(mb.bytes.missing).toBe(1000);
    expect(mb.bytes.length).toBe(b.msg.length);
    expect(mb.bytes.head.equals(b.msg.subarray(0, BULK_HEAD))).toBe(true);
    expect(mb.bytes.tail.equals(b.msg.subarray(b.msg.length - TAIL_KEEP))).toBe(true);
    expect(mb.resynced).toBe(false);
    expectKept(mc, c);
    expect(mc.resynced).toBe(false);
    expect(d.stats.resyncs).toBe(0);
    expect(d.stats.truncatedMessages).toBe(1);
    expect(d.stats.bytesNotKept).toBe(b.msg.length - 1000 - BULK_HEAD - TAIL_KEEP);
  });

  it('stops the head at the first missing byte', () => {
    const d = withGap(bMsgAt + 100, bMsgAt + 200, [bMsgAt + 50]);
    const mb = d.sink.msgs[1]!;
    expect(mb.bytes.missing).toBe(100);
    expect(mb.bytes.head.equals(b.msg.subarray(0, 100))).toBe(true);
    expect(mb.bytes.tail.equals(b.msg.subarray(b.msg.length - TAIL_KEEP))).toBe(true);
    expect(d.sink.asked.length).toBe(0); // nothing to decide: the head stopped early
    expectKept(d.sink.msgs[2]!, c);
    expect(d.stats.resyncs).toBe(0);
  });

  it('stops the head of a small message and goes on', () => {
    const aStart = 0;
    const d = withGap(aStart + 20, aStart + 30);
    const ma = d.sink.msgs[0]!;
    expect(ma.bytes.missing).toBe(10);
    expect(ma.bytes.length).toBe(a.msg.length);
    expect(ma.bytes.head.equals(a.msg.subarray(0, 16))).toBe(true);
    expectKept(d.sink.msgs[1]!, b);
    expectKept(d.sink.msgs[2]!, c);
  });

  it('drops the tail when the gap touches it', () => {
    const d = withGap(bStart + b.wire.length - 100, bStart + b.wire.length - 50);
    const mb = d.sink.msgs[1]!;
    expect(mb.bytes.missing).toBe(50);
    expect(mb.bytes.tail.length).toBe(0);
    expect(mb.bytes.tailOffset).toBe(b.msg.length);
    expect(mb.bytes.head.equals(b.msg.subarray(0, BULK_HEAD))).toBe(true);
    expectKept(d.sink.msgs[2]!, c);
  });

  it('delivers a message whose last bytes are lost at the gap that covered them', () => {
    const bEnd = bStart + b.wire.length;
    const wire = Buffer.concat([a.wire, b.wire, c.wire]);
    const d = new Driver();
    d.data(wire.subarray(0, bEnd - 10));
    const gapFrame = d.gap(10);
    d.data(wire.subarray(bEnd));
    const mb = d.sink.msgs[1]!;
    expect(mb.frame.number).toBe(gapFrame);
    expect(mb.firstFrame.number).toBe(1);
    expect(mb.bytes.missing).toBe(10);
    expect(mb.bytes.tail.length).toBe(0);
    expectKept(d.sink.msgs[2]!, c);
    expect(d.sink.msgs[2]!.resynced).toBe(false);
    expect(d.stats.resyncs).toBe(0);
  });

  it('resynchronises after a gap that swallows a record mark', () => {
    const z = rec(rpcAcceptedReply(50, Buffer.alloc(300))); // zeros: nothing plausible inside
    const e = rec(smallCall(60));
    const wire = Buffer.concat([a.wire, z.wire, e.wire]);
    const d = new Driver();
    const zStart = a.wire.length;
    d.data(wire.subarray(0, zStart - 10));
    const gapFrame = d.gap(20); // the end of a, z's record mark and 6 bytes
    d.data(wire.subarray(zStart + 10, zStart + 100));
    const eFrame = d.data(wire.subarray(zStart + 100));
    expect(d.sink.msgs.length).toBe(2);
    const [ma, me] = d.sink.msgs as [RpcMessageRecord, RpcMessageRecord];
    expect(ma.bytes.missing).toBe(10);
    expect(ma.bytes.length).toBe(a.msg.length);
    expect(ma.frame.number).toBe(gapFrame);
    expect(me.resynced).toBe(true);
    expect(me.bytes.head.equals(e.msg)).toBe(true);
    expect(me.firstFrame.number).toBe(eFrame);
    expect(d.stats.resyncs).toBe(1);
    expect(d.stats.skippedBytes).toBe(z.wire.length - 10);
    expect(d.stats.truncatedMessages).toBe(1);
  });

  it('delivers a multi-fragment message in progress as truncated when a gap crosses a fragment', () => {
    const mf = rec(smallCall(70, 400), [100, 100]);
    const e = rec(smallCall(71));
    const wire = Buffer.concat([mf.wire, e.wire]);
    const d = new Driver();
    d.data(wire.subarray(0, 50));
    d.gap(100); // crosses the end of the first fragment and the second mark
    d.data(wire.subarray(150));
    expect(d.sink.msgs.length).toBe(2);
    const m = d.sink.msgs[0]!;
    expect(m.bytes.head.equals(mf.msg.subarray(0, 46))).toBe(true);
    expect(m.bytes.missing).toBe(54);
    expect(m.bytes.length).toBe(100);
    expect(d.sink.msgs[1]!.bytes.head.equals(e.msg)).toBe(true);
    expect(d.sink.msgs[1]!.resynced).toBe(true);
  });
});

describe('resynchronisation', () => {
  it('takes a reply only when its xid is outstanding', () => {
    const garbage = Buffer.alloc(200);
    const reply = rec(smallReply(77, 20));
    const call = rec(smallCall(78));
    const wire = Buffer.concat([garbage, reply.wire, call.wire]);
    for (const outstanding of [false, true]) {
      const d = new Driver();
      if (outstanding) d.sink.outstanding.add(77);
      d.gap(1000);
      d.feed(wire, [97, 203, 211]);
      const msgs = d.sink.msgs;
      if (outstanding) {
        expect(msgs.length).toBe(2);
        expect(msgs[0]!.bytes.head.equals(reply.msg)).toBe(true);
        expect(msgs[0]!.resynced).toBe(true);
        expect(msgs[1]!.resynced).toBe(false);
        expect(d.stats.skippedBytes).toBe(200);
      } else {
        expect(msgs.length).toBe(1);
        expect(msgs[0]!.bytes.head.equals(call.msg)).toBe(true);
        expect(d.stats.skippedBytes).toBe(200 + reply.wire.length);
      }
      expect(d.stats.resyncs).toBe(1);
    }
  });

  it('finds a message start that straddles segments (carry-over)', () => {
    const call = rec(smallCall(80));
    const next = rec(smallCall(81));
    const wire = Buffer.concat([Buffer.alloc(50), call.wire, next.wire]);
    for (let s = 40; s < 50 + 30; s++) {
      for (const s2 of [s + 1, s + 3, s + 30]) {
        const d = new Driver();
        d.gap(10);
        const frameOf = d.feed(wire, [s, s2]);
        expect(d.sink.msgs.length).toBe(2);
        expect(d.sink.msgs[0]!.bytes.head.equals(call.msg)).toBe(true);
        expect(d.sink.msgs[0]!.firstFrame.number).toBe(frameOf[50]);
        expect(d.sink.msgs[1]!.bytes.head.equals(next.msg)).toBe(true);
        expect(d.stats.skippedBytes).toBe(50);
      }
    }
  });

  it('finds the first complete record after a mid-stream start inside a record', () => {
    const first = rec(readReply(BULK_XID + 1, 3000));
    const second = rec(smallCall(2));
    const third = rec(readReply(BULK_XID + 3, 5000));
    for (const k of [1, 4, 13, 700, first.wire.length - 3]) {
      const wire = Buffer.concat([first.wire.subarray(k), second.wire, third.wire]);
      for (const cuts of [[], [1448, 2896], [1, 2, 3]]) {
        const d = new Driver(true);
        d.feed(wire, cuts);
        d.end();
        expect(d.sink.msgs.length).toBe(2);
        expect(d.sink.msgs[0]!.bytes.head.equals(second.msg)).toBe(true);
        expect(d.sink.msgs[0]!.resynced).toBe(true);
        expectKept(d.sink.msgs[1]!, third);
        expect(d.sink.msgs[1]!.resynced).toBe(false);
        expect(d.stats.skippedBytes).toBe(first.wire.length - k);
        expect(d.stats.resyncs).toBe(1);
      }
    }
  });

  it('takes a mid-stream start at a record boundary as is, a reply included', () => {
    const reply = rec(smallReply(90, 30)); // its call was before the capture
    const call = rec(smallCall(91));
    const wire = Buffer.concat([reply.wire, call.wire]);
    for (const cuts of [[], [3], [10], [30]]) {
      const d = new Driver(true, 1);
      d.feed(wire, cuts);
      expect(d.sink.msgs.length).toBe(2);
      expect(d.sink.msgs[0]!.bytes.head.equals(reply.msg)).toBe(true);
      expect(d.sink.msgs[0]!.resynced).toBe(false);
      expect(d.sink.msgs[0]!.dir).toBe(1);
      expect(d.sink.msgs[0]!.src.port).toBe(2049);
      expect(d.stats.resyncs).toBe(0);
      expect(d.stats.skippedBytes).toBe(0);
    }
  });

  it('resynchronises on an absurd record length without allocating it', () => {
    const call = rec(smallCall(100));
    for (const mark of [0x7fffffff, 0x80000000, 0, (16 << 20) + 1]) {
      const bad = Buffer.alloc(64);
      bad.writeUInt32BE(mark >>> 0, 0);
      bad.writeUInt32BE(5, 4);
      const first = rec(smallCall(99));
      const wire = Buffer.concat([first.wire, bad, call.wire]);
      const spy = vi.spyOn(Buffer, 'allocUnsafeSlow');
      const d = new Driver();
      d.feed(wire, [first.wire.length + 2]);
      const biggest = Math.max(...spy.mock.calls.map((c) => c[0] as number));
      spy.mockRestore();
      expect(biggest).toBeLessThanOrEqual(512);
      expect(d.sink.msgs.length).toBe(2);
      expect(d.sink.msgs[0]!.resynced).toBe(false);
      expect(d.sink.msgs[1]!.bytes.head.equals(call.msg)).toBe(true);
      expect(d.sink.msgs[1]!.resynced).toBe(true);
      expect(d.stats.resyncs).toBe(1);
      expect(d.stats.skippedBytes).toBe(64);
    }
  });

  it('resynchronises when a message in sync does not start like RPC', () => {
    const junk = new XdrWriter().u32(0x80000000 | 40).u32(1).u32(7).raw(Buffer.alloc(32)).bytes();
    const call = rec(smallCall(101));
    const wire = Buffer.concat([junk, call.wire]);
    for (const cuts of [[], [5], [14], [16], [20]]) {
      const d = new Driver();
      d.feed(wire, cuts);
      expect(d.sink.msgs.length).toBe(1);
      expect(d.sink.msgs[0]!.bytes.head.equals(call.msg)).toBe(true);
      expect(d.sink.msgs[0]!.resynced).toBe(true);
      expect(d.stats.skippedBytes).toBe(junk.length);
      expect(d.stats.resyncs).toBe(1);
    }
  });

  it('fuzz: random streams never throw, and every message keeps the invariants', () => {
    const r = rng(7);
    const good = sequence();
    for (let iter = 0; iter < 400; iter++) {
      const parts: Buffer[] = [];
      const n = randInt(r, 1, 8);
      for (let i = 0; i < n; i++) {
        const kind = randInt(r, 0, 4);
        if (kind === 0) {
          const g = Buffer.alloc(randInt(r, 1, 3000));
          for (let j = 0; j < g.length; j++) g[j] = randInt(r, 0, 256);
          parts.push(g);
        } else if (kind === 1) {
          // Words that look half right: small marks, msg types, rpcvers.
          const w = new XdrWriter();
          for (let j = randInt(r, 1, 40); j > 0; j--) w.u32([0, 1, 2, 24, 0x80000018, 100003, 3, randInt(r, 0, 1 << 30)][randInt(r, 0, 8)]!);
          parts.push(w.bytes());
        } else {
          parts.push(good[randInt(r, 0, good.length)]!.wire);
        }
      }
      const wire = Buffer.concat(parts);
      const d = new Driver(r() < 0.5);
      if (r() < 0.5) for (let x = 0; x < 20; x++) d.sink.outstanding.add(x);
      let at = 0;
      while (at < wire.length) {
        const len = randInt(r, 1, 2000);
        if (r() < 0.1) d.gap(len);
        else d.data(wire.subarray(at, at + len));
        at += len;
      }
      d.end(r() < 0.5);
      for (const m of d.sink.msgs) {
        const b = m.bytes;
        expect(b.head.length).toBeLessThanOrEqual(Math.min(b.length, KEEP_MAX));
        expect(b.tail.length).toBeLessThanOrEqual(TAIL_KEEP);
        expect(b.tailOffset + b.tail.length).toBe(b.length);
        expect(b.tail.length === 0 || b.tailOffset >= b.head.length).toBe(true);
        expect(b.missing).toBeGreaterThanOrEqual(0);
        expect(b.missing).toBeLessThanOrEqual(b.length);
        expect(m.frame.number).toBeGreaterThanOrEqual(m.firstFrame.number);
      }
      expect(d.stats.messages).toBe(d.sink.msgs.length);
      expect(d.stats.truncatedMessages).toBe(d.sink.msgs.filter((m) => m.bytes.missing > 0).length);
    }
  });
});

describe('end of stream', () => {
  it('delivers a message in progress as truncated', () => {
    const r = rec(readReply(BULK_XID + 1, 10_000));
    const d = new Driver();
    d.data(r.wire.subarray(0, 3000));
    const endFrame = d.end();
    const m = d.sink.msgs[0]!;
    expect(m.bytes.length).toBe(r.msg.length);
    expect(m.bytes.missing).toBe(r.msg.length - 2996);
    expect(m.bytes.head.equals(r.msg.subarray(0, BULK_HEAD))).toBe(true);
    expect(m.bytes.tail.length).toBe(0);
    expect(m.frame.number).toBe(endFrame);
    expect(d.stats.truncatedMessages).toBe(1);
  });

  it('uses the last frame seen when end has none', () => {
    const r = rec(smallCall(5));
    const d = new Driver();
    d.data(r.wire.subarray(0, 10));
    const last = d.data(r.wire.subarray(10, 20));
    d.end(false);
    const m = d.sink.msgs[0]!;
    expect(m.frame.number).toBe(last);
    expect(m.firstFrame.number).toBe(1);
    expect(m.bytes.missing).toBe(r.msg.length - 16);
  });

  it('marks a multi-fragment message whose stream ends between fragments as unfinished', () => {
    const r = rec(smallCall(6, 300), [100]);
    const d = new Driver();
    d.data(r.wire.subarray(0, 104 + 2)); // first fragment and half the next mark
    d.end();
    const m = d.sink.msgs[0]!;
    expect(m.unfinished).toBe(true);
    expect(m.bytes.length).toBe(100);
    expect(m.bytes.head.equals(r.msg.subarray(0, 100))).toBe(true);
  });

  it('a message whose stream ends inside its body is unfinished, one cut by a gap is not', () => {
    const r = rec(smallCall(8, 300));
    const ended = new Driver();
    ended.data(r.wire.subarray(0, 200));
    ended.end();
    expect(ended.sink.msgs[0]).toMatchObject({ unfinished: true });
    expect(ended.sink.msgs[0]!.bytes.missing).toBe(r.msg.length - 196);
    const cut = new Driver();
    cut.data(r.wire.subarray(0, 200));
    cut.gap(r.wire.length - 200);
    cut.end();
    expect(cut.sink.msgs[0]).toMatchObject({ unfinished: false });
    expect(cut.sink.msgs[0]!.bytes.missing).toBe(r.wire.length - 200);
  });

  it('ignores calls after the end', () => {
    const r = rec(smallCall(7));
    const d = new Driver();
    d.end();
    d.data(r.wire);
    expect(d.sink.msgs.length).toBe(0);
  });
});

describe('UDP datagrams', () => {
  function dgram(payload: Buffer, wireLength = payload.length): UdpDatagram {
    const at: FrameRef = { fileIndex: 1, number: 42, tsSec: 5, tsNsec: 6 };
    return {
      src: { addr: '10.0.0.1', port: 900 },
      dst: { addr: '10.0.0.2', port: 2049 },
      payload: Buffer.from(payload),
      wireLength,
      at,
    };
  }

  it('takes a call whole', () => {
    const sink = new RecSink();
    const stats = newStats();
    const call = smallCall(1);
    const d = dgram(call);
    expect(rpcFromDatagram(d, sink, stats)).toBe(true);
    d.at.number = 99;
    d.payload.fill(0);
    const m = sink.msgs[0]!;
    expect(m.transport).toBe('udp');
    expect(m.conn).toBeUndefined();
    expect(m.dir).toBe(0);
    expect(m.bytes.head.equals(call)).toBe(true);
    expect(m.bytes.missing).toBe(0);
    expect(m.frame.number).toBe(42);
    expect(m.firstFrame.number).toBe(42);
    expect(m.src.port).toBe(900);
    expect(stats.messages).toBe(1);
  });

  it('keeps head and tail of a bulk reply', () => {
    const sink = new RecSink();
    const stats = newStats();
    const reply = readReply(BULK_XID + 2, 8192);
    expect(rpcFromDatagram(dgram(reply), sink, stats)).toBe(true);
    const m = sink.msgs[0]!;
    expect(m.dir).toBe(1);
    expect(m.bytes.head.equals(reply.subarray(0, BULK_HEAD))).toBe(true);
    expect(m.bytes.tailOffset).toBe(reply.length - TAIL_KEEP);
    expect(m.bytes.tail.equals(reply.subarray(reply.length - TAIL_KEEP))).toBe(true);
    expect(stats.bytesNotKept).toBe(reply.length - BULK_HEAD - TAIL_KEEP);
    expect(sink.asked[0]).toEqual({ xid: BULK_XID + 2, headLen: 512, length: reply.length });
  });

  it('counts the bytes cut by the snaplen as missing', () => {
    const sink = new RecSink();
    const stats = newStats();
    const reply = readReply(BULK_XID + 3, 8192);
    expect(rpcFromDatagram(dgram(reply.subarray(0, 300), reply.length), sink, stats)).toBe(true);
    const m = sink.msgs[0]!;
    expect(m.bytes.length).toBe(reply.length);
    expect(m.bytes.missing).toBe(reply.length - 300);
    expect(m.bytes.head.equals(reply.subarray(0, BULK_HEAD))).toBe(true);
    expect(m.bytes.tail.length).toBe(0);
    expect(stats.truncatedMessages).toBe(1);
  });

  it('ignores datagrams that are not RPC', () => {
    const sink = new RecSink();
    const stats = newStats();
    const notCall = new XdrWriter().u32(1).u32(0).u32(3).u32(100003).bytes();
    const notReply = new XdrWriter().u32(1).u32(1).u32(2).bytes();
    const otherType = new XdrWriter().u32(1).u32(2).u32(0).bytes();
    for (const p of [Buffer.alloc(0), Buffer.alloc(11), notCall, notReply, otherType]) {
      expect(rpcFromDatagram(dgram(p), sink, stats)).toBe(false);
    }
    expect(sink.msgs.length).toBe(0);
    expect(stats.messages).toBe(0);
  });
});

/**
 * The StreamConsumer contract allows what TCP reassembly never does today:
 * data overlapping bytes already passed, data past a hole (an implied gap),
 * a gap overlapping bytes passed, gaps while resynchronising.
 */
describe('record stream: data and gaps at offsets other than the next one', () => {
  const msg = (xid: number): Buffer => recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: {} }, new XdrWriter().opaque(Buffer.alloc(32, xid)).bytes()));
  const at = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 1000, tsNsec: n });
  const xids = (d: Driver): number[] => d.sink.msgs.map((m) => m.bytes.head.readUInt32BE(0));

  it('passes over the bytes of a segment it has already had', () => {
    const d = new Driver();
    const wire = Buffer.concat([msg(1), msg(2)]);
    d.stream.data(wire, 0, 10, 0, at(1));
    d.stream.data(wire, 5, wire.length, 5, at(2)); // 5 bytes again
    d.stream.data(wire, 0, wire.length, 0, at(3)); // all again
    d.stream.end('fin', at(4));
    expect(xids(d)).toEqual([1, 2]);
    expect(d.sink.msgs.map((m) => [m.bytes.length, m.bytes.missing, m.resynced])).toEqual([
      [msg(1).length - 4, 0, false],
      [msg(2).length - 4, 0, false],
    ]);
    expect(d.stats).toMatchObject({ messages: 2, skippedBytes: 0, resyncs: 0 });
  });

  it('takes data past the next offset for a hole before it, and finds the next message', () => {
    const d = new Driver();
    const a = msg(1);
    const b = msg(2);
    d.stream.data(a, 0, a.length, 0, at(1));
    d.stream.data(b, 0, b.length, a.length + 20, at(2)); // 20 bytes never seen, then a message
    d.stream.end('fin', at(3));
    expect(xids(d)).toEqual([1, 2]);
    expect(d.sink.msgs[1]!.resynced).toBe(true);
    expect(d.stats).toMatchObject({ messages: 2, resyncs: 1 });
  });

  it('counts only the new part of a gap overlapping bytes passed; a gap wholly before is ignored', () => {
    const d = new Driver();
    const a = msg(1);
    const c = msg(3);
    d.stream.data(a, 0, a.length, 0, at(1));
    d.stream.gap(10, a.length - 4, at(2)); // 4 bytes of it already passed: 6 are new
    d.stream.gap(3, a.length, at(3)); // inside what the gap covered: nothing new
    d.stream.data(c, 0, c.length, a.length + 6, at(4)); // right after the gap: no hole
    d.stream.end('fin', at(5));
    expect(xids(d)).toEqual([1, 3]);
    expect(d.stats).toMatchObject({ messages: 2, resyncs: 1, skippedBytes: 0 });
  });

  it('a second gap while looking for a message start counts no second resynchronisation', () => {
    const d = new Driver();
    const a = msg(1);
    const c = msg(3);
    d.stream.data(a, 0, a.length, 0, at(1));
    d.stream.gap(8, a.length, at(2));
    d.stream.data(Buffer.alloc(5, 0x5a), 0, 5, a.length + 8, at(3)); // junk, held while looking
    d.stream.gap(8, a.length + 13, at(4)); // the junk held is dropped
    d.stream.data(c, 0, c.length, a.length + 21, at(5));
    d.stream.end('fin', at(6));
    expect(xids(d)).toEqual([1, 3]);
    expect(d.stats).toMatchObject({ messages: 2, resyncs: 1 });
  });
});
