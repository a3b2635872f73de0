/**
 * Sparse reading of large pcap records (src/capture/pcap-sparse.ts): the
 * report is the same, byte for byte, whether every byte of the file is read
 * or only what the layers above ask for, on TSO/GRO captures and on copies
 * of them with frames lost, reordered, sent twice, cut by the snaplen, a
 * corrupt length and a cut tail; and a WRITE-heavy capture is read for a
 * small part of its size.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/generate.js';
import { analyze } from '../src/analyze.js';
import { newSparseReadStats } from '../src/capture/pcap-sparse.js';
import type { LazyBytes } from '../src/capture/frame.js';
import { SPARSE_MIN_RECORD } from '../src/capture/pcap.js';
import type { RpcMessageRecord, RpcMessageSink } from '../src/rpc/message.js';
import { RpcRecordStream } from '../src/rpc/record-stream.js';
import { randInt, rng } from './gen/random.js';
import { conn, newStats } from './gen/record-driver.js';
import type { TcpConnection } from '../src/transport/stream.js';
import { writePcap } from './gen/capture-writer.js';
import { Capture, TcpSession } from './gen/session.js';
import { getattrCall, okReply, readCall, readReply } from './gen/workload.js';
import { tempDir } from './helpers.js';

/**
 * NFSv3 calls and replies packed back to back in 9000-byte segments, so
 * that record marks, message heads and the tails kept of READ data lie
 * anywhere inside the frames: `rounds` rounds of READs of several sizes and
 * GETATTRs, each direction sent as one burst (with the SendOptions given
 * to the replies).
 */
function packedCapture(path: string, rounds: number, replyOptions: (round: number, segments: number) => Parameters<TcpSession['send']>[2] = () => ({})): string {
  const capture = new Capture();
  const s = new TcpSession(capture, { addr: '10.1.0.1', port: 901 }, { addr: '10.1.0.2', port: 2049 }, 9000);
  s.handshake();
  const counts = [3000, 20_000, 100, 50_000, 7000, 0, 65_536];
  let xid = 1;
  for (let round = 0; round < rounds; round++) {
    const calls: Buffer[] = [];
    const replies: Buffer[] = [];
    for (const count of counts) {
      calls.push(readCall(xid, xid * 4096, count), getattrCall(xid + 1));
      replies.push(readReply(xid, count), okReply(xid + 1, 88 + (xid % 5) * 4));
      xid += 2;
    }
    s.send('client', Buffer.concat(calls));
    capture.advance(0.001);
    const burst = Buffer.concat(replies);
    s.send('server', burst, replyOptions(round, Math.ceil(burst.length / 9000)));
    capture.advance(0.01);
  }
  writeFileSync(path, writePcap(capture.frames, { linkType: 1 }));
  return path;
}

interface Rec {
  header: Buffer;
  body: Buffer;
}

/** The file header and the records of a little-endian classic pcap file. */
function records(file: Buffer): { head: Buffer; recs: Rec[] } {
  const recs: Rec[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const capLen = file.readUInt32LE(at + 8);
    recs.push({ header: Buffer.from(file.subarray(at, at + 16)), body: file.subarray(at + 16, at + 16 + capLen) });
    at += 16 + capLen;
  }
  return { head: file.subarray(0, 24), recs };
}

function write(path: string, head: Buffer, recs: Rec[]): string {
  const parts: Buffer[] = [head];
  for (const r of recs) {
    const h = Buffer.from(r.header);
    h.writeUInt32LE(r.body.length, 8);
    parts.push(h, r.body);
  }
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/** The report as JSON, with every byte read, and read sparsely with the chunk size given. */
async function both(file: string, chunkSize?: number): Promise<{ full: string; sparse: string; sparseRecords: number; bytesRead: number }> {
  const full = JSON.stringify(await analyze(file, { sparse: false }));
  const stats = newSparseReadStats();
  const sparse = JSON.stringify(await analyze(file, { sparseStats: stats, ...(chunkSize !== undefined ? { chunkSize } : {}) }));
  return { full, sparse, sparseRecords: stats.sparseRecords, bytesRead: stats.bytesRead };
}

describe('sparse reading of large records', () => {
  const dir = tempDir();
  const writeTso = join(dir, 'write-tso.pcap');
  generateCapture(writeTso, 6 << 20, 'write-tso');
  const readTso = join(dir, 'read-tso.pcap');
  generateCapture(readTso, 6 << 20, 'read-tso');
  // Frames of about 7 KB: RPC records start and end at many places inside them.
  const smallTso = join(dir, 'write-7k.pcap');
  generateCapture(smallTso, 3 << 20, 'write-tso', { mss: 7000 });

  it('a WRITE-heavy capture: the same report, reading a small part of the file', async () => {
    const r = await both(writeTso);
    expect(r.sparse).toBe(r.full);
    const report = JSON.parse(r.sparse) as { rpc: { calls: number; matched: number } };
    expect(report.rpc.calls).toBeGreaterThan(0);
    expect(report.rpc.matched).toBe(report.rpc.calls);
    expect(r.sparseRecords).toBeGreaterThan(50);
    // The first chunk (1 MiB) is read whole; of the rest, headers and the RPC bytes only.
    const size = statSync(writeTso).size;
    expect(r.bytesRead).toBeLessThan((size - (1 << 20)) / 10);
  });

  it('READ-heavy and 7 KB frames: the same report at every chunk size', async () => {
    for (const file of [readTso, smallTso]) {
      for (const chunkSize of [undefined, 65536, 5000, 700]) {
        const r = await both(file, chunkSize);
        expect(r.sparse, `${file} chunk ${chunkSize}`).toBe(r.full);
        expect(r.sparseRecords).toBeGreaterThan(0);
      }
    }
  });

  const variants: [string, (recs: Rec[]) => Rec[]][] = [
    ['frames lost (gaps)', (recs) => recs.filter((_, i) => i < 5 || i % 37 !== 0)],
    [
      'frames out of order',
      (recs) => {
        const out = [...recs];
        for (let i = 10; i + 1 < out.length; i += 29) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
        return out;
      },
    ],
    ['frames sent twice (retransmissions)', (recs) => recs.flatMap((r, i) => (i > 5 && i % 23 === 0 ? [r, r] : [r]))],
    [
      'large frames cut by the snaplen',
      (recs) => recs.map((r, i) => (i % 11 === 3 && r.body.length > SPARSE_MIN_RECORD + 1000 ? { header: r.header, body: r.body.subarray(0, SPARSE_MIN_RECORD + 500) } : r)),
    ],
    [
      'small frames only now and then (the walk hands back to chunks)',
      (recs) => recs.flatMap((r, i) => (i % 200 < 100 ? [r] : r.body.length < 200 ? [r, r, r, r, r, r, r, r] : [])),
    ],
  ];

  for (const [what, change] of variants) {
    it(`${what}: the same report`, async () => {
      for (const src of [writeTso, smallTso]) {
        const { head, recs } = records(readFileSync(src));
        const file = write(join(dir, `v-${what.replace(/\W+/g, '-')}-${src === writeTso ? 'w' : 's'}.pcap`), head, change(recs));
        for (const chunkSize of [undefined, 4096]) {
          const r = await both(file, chunkSize);
          expect(r.sparse, `${file} chunk ${chunkSize}`).toBe(r.full);
          expect(r.sparseRecords).toBeGreaterThan(0);
        }
      }
    });
  }

  it('messages packed across 9000-byte frames, with loss, reordering, snaplen cuts: the same report', async () => {
    const cases: [string, (round: number, segments: number) => Parameters<TcpSession['send']>[2]][] = [
      ['clean', () => ({})],
      ['lost', (round) => (round % 3 === 1 ? { drop: [2, 9] } : {})],
      ['reordered', (round, n) => (round % 2 === 0 ? { order: [0, 2, 1, 3, 5, 4, ...Array.from({ length: n - 6 }, (_, i) => i + 6)] } : {})],
      ['snaplen', (round) => (round % 4 === 2 ? { snap: 6000 } : {})],
      ['uneven segments', (round) => ({ sizes: [5000, 12_000, 4100, 30_000, 9000, 4500, 60_000].slice(round % 3) })],
    ];
    for (const [what, options] of cases) {
      const file = packedCapture(join(dir, `packed-${what}.pcap`), 12, options);
      for (const chunkSize of [undefined, 4096, 700]) {
        const r = await both(file, chunkSize);
        expect(r.sparse, `${what} chunk ${chunkSize}`).toBe(r.full);
        if (chunkSize !== undefined) expect(r.sparseRecords, `${what} chunk ${chunkSize}`).toBeGreaterThan(40);
      }
      const report = (await analyze(file)) as { rpc: { calls: number } };
      expect(report.rpc.calls, what).toBe(12 * 14);
    }
  });

  it('a corrupt length and a cut tail: the same diagnostics and report', async () => {
    const bytes = readFileSync(writeTso);
    const { recs } = records(bytes);
    // The record header of a large frame well inside the file, then the file cut inside a large frame.
    let at = 24;
    let corruptAt = -1;
    for (let i = 0; i < recs.length; i++) {
      if (i > recs.length / 2 && recs[i]!.body.length > SPARSE_MIN_RECORD && corruptAt < 0) corruptAt = at;
      at += 16 + recs[i]!.body.length;
    }
    const corrupt = Buffer.from(bytes);
    corrupt.writeUInt32LE(0x7fffffff, corruptAt + 8);
    const corruptFile = join(dir, 'corrupt.pcap');
    writeFileSync(corruptFile, corrupt);
    const cutFile = join(dir, 'cut.pcap');
    writeFileSync(cutFile, bytes.subarray(0, corruptAt + 16 + 3000));
    for (const file of [corruptFile, cutFile]) {
      const r = await both(file);
      expect(r.sparse).toBe(r.full);
      const report = JSON.parse(r.sparse) as { diagnostics: { items: { code: string }[] } };
      expect(report.diagnostics.items.map((d) => d.code)).toEqual([file === cutFile ? 'truncated-file' : 'bad-record-length']);
    }
  });
});

/** Keeps the messages; keeps 64 head bytes of READ replies of 2000 bytes or more (and their tail). */
class Sink implements RpcMessageSink {
  msgs: string[] = [];
  message(m: RpcMessageRecord): void {
    const b = m.bytes;
    this.msgs.push(`${m.frame.number} ${b.length} ${b.missing} ${b.head.toString('hex')} ${b.tailOffset} ${b.tail.toString('hex')} ${m.resynced}`);
  }
  headToKeep(_c: TcpConnection | undefined, _d: 0 | 1, head: Buffer, length: number): number {
    return head.readUInt32BE(4) === 1 && (length < 0 || length >= 2000) ? 64 : Number.MAX_SAFE_INTEGER;
  }
  isOutstandingXid(): boolean {
    return true;
  }
}

/**
 * A segment's bytes as a sparse frame holds them: garbage until asked for
 * (need copies the true bytes in, and notes how many it copied).
 */
class FakeLazy implements LazyBytes {
  readyEnd = 0;
  asked = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly truth: Buffer,
  ) {}
  need(from: number, to: number): void {
    this.asked += to - from;
    this.truth.copy(this.buf, from, from, to);
  }
}

describe('the record stream asks for every byte it reads', () => {
  // Replies packed back to back: small ones, bulk READ replies (head and tail kept), multi-fragment ones.
  const parts: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const count = [0, 100, 3000, 20_000, 70_000][i % 5]!;
    const r = readReply(100 + i, count);
    r.fill(i, r.length - Math.min(count, 64));
    parts.push(r, okReply(1000 + i, 88 + (i % 3) * 4));
  }
  const wire = Buffer.concat(parts);

  function feed(midstream: boolean, cuts: number[], sparse: boolean, from = 0): { msgs: string[]; asked: number } {
    const sink = new Sink();
    const stream = new RpcRecordStream(sink, conn(midstream), 1, newStats());
    const at = { fileIndex: 0, number: 0, tsSec: 1, tsNsec: 0 };
    let asked = 0;
    let prev = from;
    for (const cut of [...cuts.filter((c) => c > from), wire.length]) {
      at.number++;
      const truth = Buffer.alloc(cut - prev + 20, 0xee);
      wire.copy(truth, 10, prev, cut);
      if (sparse) {
        // Garbage where not asked for: a stale pattern, as a reused read window holds.
        const buf = Buffer.alloc(truth.length, 0x80 | (at.number & 0x7f));
        const lazy = new FakeLazy(buf, truth);
        stream.data(buf, 10, 10 + cut - prev, prev - from, at, lazy);
        asked += lazy.asked;
      } else {
        stream.data(truth, 10, 10 + cut - prev, prev - from, at);
      }
      prev = cut;
    }
    stream.end('capture-end', at);
    return { msgs: sink.msgs, asked };
  }

  it('in sync and resynchronising mid-stream, under random segmentations: the same messages', () => {
    const r = rng(7);
    let asked = 0;
    for (let iter = 0; iter < 60; iter++) {
      const cuts: number[] = [];
      const maxSeg = [9000, 65_000, 5000, 300][iter % 4]!;
      for (let at = randInt(r, 1, maxSeg); at < wire.length; at += randInt(r, 1, maxSeg)) cuts.push(at);
      // Mid-stream from inside the third message: the stream scans for the next message start.
      const from = iter % 3 === 0 ? parts[0]!.length + parts[1]!.length + 17 : 0;
      const full = feed(from > 0, cuts, false, from);
      const sparse = feed(from > 0, cuts, true, from);
      expect(sparse.msgs, `iteration ${iter}`).toEqual(full.msgs);
      expect(full.msgs.length).toBeGreaterThan(70);
      asked += sparse.asked;
    }
    // Far from every byte: the bulk data in between is passed over.
    expect(asked).toBeLessThan((60 * wire.length) / 4);
  });
});
