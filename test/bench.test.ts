/**
 * The benchmark's captures and its per-stage breakdown: each workload the
 * generator writes is read whole by nfsight (every call answered, nothing
 * lost, no finding on healthy traffic), and profile samples go to the stage
 * of their source file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED, generateCapture, REPLAY_SOURCES, WORKLOADS } from '../bench/generate.js';
import { readShebang } from '../bench/shebang.js';
import { stageBreakdown, stageOf } from '../bench/stages.js';
import { analyze } from '../src/analyze.js';
import { tempDir } from './helpers.js';

describe('benchmark workloads', () => {
  const dir = tempDir();
  for (const workload of GENERATED) {
    it(`${workload}: every call written is read and answered, nothing lost`, async () => {
      const file = join(dir, `${workload}.pcap`);
      const g = generateCapture(file, 3 << 20, workload);
      const r = await analyze(file);
      expect(r.capture.frames).toBe(g.frames);
      expect(r.capture.capturedBytes + 24 + 16 * g.frames).toBe(g.bytes);
      expect(r.rpc.calls).toBe(g.calls);
      expect(r.rpc.matched).toBe(g.calls);
      expect(r.rpc.invalidMessages + r.rpc.resyncs + r.rpc.truncatedMessages).toBe(0);
      expect(r.tcp.gapBytes).toBe(0);
      expect(r.tcp.connections).toBe(workload === 'meta' ? 16 : 4);
      expect(r.findings).toEqual([]);
      expect(r.diagnostics.items).toEqual([]);
    });
  }

  it('frames: at most 1514 bytes for read and meta, 64 KB TSO/GRO frames for the -tso workloads', async () => {
    const sizes = new Map<string, number>();
    for (const workload of GENERATED) {
      const file = join(dir, `${workload}-sizes.pcap`);
      generateCapture(file, 1 << 20, workload);
      let max = 0;
      const { readCaptureFile } = await import('../src/capture/source.js');
      await readCaptureFile(file, 0, (f) => (max = Math.max(max, f.origLen)), { report: () => undefined });
      sizes.set(workload, max);
    }
    expect(sizes.get('read')).toBe(1514);
    expect(sizes.get('meta')).toBeLessThanOrEqual(1514);
    expect(sizes.get('read-tso')).toBe(14 + 20 + 32 + 45 * 1448);
    expect(sizes.get('write-tso')).toBe(14 + 20 + 32 + 45 * 1448);
  });
});

describe('the replay workload', () => {
  it('is the generated workloads and replay; replays every listed bundled capture, whole rounds of them', async () => {
    expect(WORKLOADS).toEqual([...GENERATED, 'replay']);
    const file = join(tempDir(), 'replay.pcap');
    const g = generateCapture(file, 8 << 20, 'replay');
    const r = await analyze(file);
    expect(r.capture.frames).toBe(g.frames);
    expect(r.capture.capturedBytes + 24 + 16 * g.frames).toBe(g.bytes);
    // Every source, at least once: each has a connection of its own.
    expect(REPLAY_SOURCES.length).toBe(16);
    expect(r.tcp.connections).toBeGreaterThanOrEqual(REPLAY_SOURCES.length);
    expect(r.rpc.calls).toBeGreaterThan(1000);
  });
});

describe('per-stage breakdown', () => {
  it('gives each source file its stage', () => {
    const d = '/home/u/nfsight/dist/';
    expect(stageOf(`file://${d}src/capture/pcap.js`, 'push')).toBe('read');
    expect(stageOf('', 'read')).toBe('read');
    expect(stageOf(`file://${d}src/net/ipv4.js`, 'decodeIpv4')).toBe('link/IP');
    expect(stageOf(`file://${d}src/transport/tcp-reassembly.js`, 'segment')).toBe('TCP');
    expect(stageOf(`file://${d}src/rpc/matcher.js`, 'onCall')).toBe('RPC');
    expect(stageOf(`file://${d}decoders/nfs3.js`, 'fattr3')).toBe('decode');
    expect(stageOf(`file://${d}src/nfs/decode-stage.js`, 'transaction')).toBe('decode');
    expect(stageOf(`file://${d}src/detectors/slow-ops.js`, 'onTransaction')).toBe('analyses');
    expect(stageOf(`file://${d}src/nfs/v4-state.js`, 'walk')).toBe('analyses');
    expect(stageOf('', '(garbage collector)')).toBe('GC');
    expect(stageOf('', '(idle)')).toBeUndefined();
    expect(stageOf('node:internal/modules/esm/utils', 'compileSourceTextModule')).toBe('other');
  });

  it('shares are the samples’ time per stage, idle left out', () => {
    const node = (id: number, url: string, functionName: string) => ({ id, callFrame: { url, functionName } });
    const shares = stageBreakdown({
      nodes: [node(1, 'file:///x/dist/src/net/link.js', 'decodeLink'), node(2, '', '(garbage collector)'), node(3, '', '(idle)')],
      samples: [1, 2, 1, 3, 1],
      timeDeltas: [100, 100, 100, 700, 200],
    });
    expect(shares['link/IP']).toBeCloseTo(0.8);
    expect(shares.GC).toBeCloseTo(0.2);
    expect(shares.TCP).toBe(0);
  });
});

describe('the command line the benchmarks run', () => {
  it("is the shebang's: its environment and its V8 flags", () => {
    const dir = tempDir();
    const script = (first: string): string => {
      const f = join(dir, `s${Math.random().toString(36).slice(2)}.js`);
      writeFileSync(f, `${first}\nconsole.log(1);\n`);
      return f;
    };
    expect(readShebang(script('#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=4 --min-semi-space-size=4'))).toEqual({
      env: { MALLOC_ARENA_MAX: '1' },
      flags: ['--max-semi-space-size=4', '--min-semi-space-size=4'],
    });
    expect(readShebang(script('#!/usr/bin/env -S node --flag'))).toEqual({ env: {}, flags: ['--flag'] });
    expect(readShebang(script('#!/usr/bin/env node'))).toEqual({ env: {}, flags: [] });
    expect(readShebang(script('// no shebang'))).toEqual({ env: {}, flags: [] });
    // The command's own: the bundle launcher keeps the CLI's shebang.
    const own = readShebang(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts'));
    expect(own.env).toEqual({ MALLOC_ARENA_MAX: '1' });
    expect(own.flags).toEqual(expect.arrayContaining(['--max-semi-space-size=2', '--min-semi-space-size=2', '--heap-growing-percent=50']));
  });
});
