/**
 * The bench's `replay` workload (test/gen/replay.ts): real captures copied
 * many times over, each copy its own hosts, must analyse as that many
 * copies of each source: nothing merged between copies, nothing lost.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { readSource, rekeyFrame, writeReplayFile } from './gen/replay.js';
import { CAPTURES, tempDir } from './helpers.js';

const SOURCES = ['nfsv3-basic-head.pcap', 'nfsv4-errors.pcap', 'lossy-read-cut.pcap'].map((name) => ({ name, bytes: readFileSync(join(CAPTURES, name)) }));

/** One's-complement sum of 16-bit words of buf[from, to), folded. */
function sum16(buf: Buffer, from: number, to: number, start = 0): number {
  let s = start;
  for (let i = from; i + 1 < to; i += 2) s += buf.readUInt16BE(i);
  if ((to - from) & 1) s += buf[to - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** [IPv4 header checksum valid, TCP checksum valid] of an untagged Ethernet/IPv4/TCP frame, or undefined. */
function checksumsOk(f: Buffer): [boolean, boolean] | undefined {
  if (f.readUInt16BE(12) !== 0x0800 || f[23] !== 6) return undefined;
  const ihl = (f[14]! & 15) * 4;
  const total = f.readUInt16BE(16);
  if (14 + total > f.length) return undefined;
  const ip = sum16(f, 14, 14 + ihl) === 0xffff;
  const pseudo = sum16(f, 26, 34, 6 + (total - ihl));
  const tcp = sum16(f, 14 + ihl, 14 + total, pseudo) === 0xffff;
  return [ip, tcp];
}

describe('replay of real captures', () => {
  it('three rounds of three sources analyse as three copies of each: calls, replies, connections, frames', async () => {
    const dir = tempDir();
    const out = join(dir, 'replay.pcap');
    const r = writeReplayFile(out, SOURCES, { targetBytes: Infinity, maxRounds: 3 });
    expect(r.rounds).toBe(3);
    const sources = await Promise.all(
      SOURCES.map(async (s) => {
        const file = join(dir, s.name);
        writeFileSync(file, s.bytes);
        return analyze(file);
      }),
    );
    const whole = await analyze(out);
    const total = (f: (x: (typeof sources)[number]) => number): number => 3 * sources.reduce((n, x) => n + f(x), 0);
    expect(whole.capture.frames).toBe(total((x) => x.capture.frames));
    expect(r.frames).toBe(whole.capture.frames);
    expect(whole.rpc.calls).toBe(total((x) => x.rpc.calls));
    expect(whole.rpc.matched).toBe(total((x) => x.rpc.matched));
    expect(whole.rpc.unanswered).toBe(total((x) => x.rpc.unanswered));
    expect(whole.rpc.retransmittedCalls).toBe(total((x) => x.rpc.retransmittedCalls));
    expect(whole.tcp.connections).toBe(total((x) => x.tcp.connections));
    expect(whole.tcp.gapBytes).toBe(total((x) => x.tcp.gapBytes));
    expect(whole.clients.rows.length).toBe(total((x) => x.clients.rows.length));
    expect(whole.rpc.calls).toBeGreaterThan(100);
  });

  it('writes frames in time order, rounds a second apart', () => {
    const dir = tempDir();
    const out = join(dir, 'replay.pcap');
    writeReplayFile(out, SOURCES, { targetBytes: Infinity, maxRounds: 4 });
    const frames = readSource({ name: 'replay', bytes: readFileSync(out) });
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.ns).toBeGreaterThanOrEqual(frames[i - 1]!.ns);
    // The first source's first frame opens each round: rounds start 0, 1, 2, 3 s in.
    const times = new Set(frames.map((f) => f.ns));
    for (const r of [0, 1, 2, 3]) expect(times.has(r * 1e9)).toBe(true);
    expect(frames.length).toBe(4 * SOURCES.reduce((n, s) => n + readSource(s).length, 0));
  });

  it('stops at the bytes asked for, after a whole frame', () => {
    const out = join(tempDir(), 'replay.pcap');
    const r = writeReplayFile(out, SOURCES, { targetBytes: 100_000 });
    expect(r.bytes).toBeGreaterThanOrEqual(100_000);
    expect(r.bytes).toBeLessThan(100_000 + 16 + 262_144);
    expect(readFileSync(out).length).toBe(r.bytes);
  });

  it('rekeys both IPv4 addresses and keeps every checksum as valid as it was', () => {
    const frames = readSource(SOURCES[2]!);
    let checked = 0;
    for (const key of [1, 0x1234, 0xffff]) {
      for (const f of frames) {
        const copy = Buffer.from(f.data);
        rekeyFrame(copy, key);
        const before = checksumsOk(f.data);
        if (before === undefined) continue;
        expect(checksumsOk(copy)).toEqual(before);
        expect(copy[27]).toBe(f.data[27]! ^ (key & 0xff));
        expect(copy[28]).toBe(f.data[28]! ^ (key >> 8));
        expect(copy[31]).toBe(f.data[31]! ^ (key & 0xff));
        expect(copy[32]).toBe(f.data[32]! ^ (key >> 8));
        // Beyond the addresses only the checksums changed.
        const ihl = (f.data[14]! & 15) * 4;
        for (const at of [24, 25, 14 + ihl + 16, 14 + ihl + 17]) copy[at] = f.data[at]!;
        for (const at of [27, 28, 31, 32]) copy[at] = f.data[at]!;
        expect(copy.equals(f.data)).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
