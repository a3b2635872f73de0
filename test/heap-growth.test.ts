/**
 * V8's heap growth is tightened from the memory budget's first drop, or
 * from when it first holds a quarter of its limit, to the end of the
 * analysis (src/memory/heap-growth.ts), and left alone otherwise. node:v8's setFlagsFromString is replaced by a
 * recorder: the flags asked for are checked, not V8's behaviour.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const flags: string[] = [];
vi.mock('node:v8', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:v8')>();
  return { ...real, default: { ...real, setFlagsFromString: (f: string) => flags.push(f) }, setFlagsFromString: (f: string) => flags.push(f) };
});

const { tightenHeapGrowth, HEAP_GROWTH_PERCENT, HEAP_TIGHTEN_AT } = await import('../src/memory/heap-growth.js');
const { newDroppedCounts } = await import('../src/memory/budget.js');
const { analyze } = await import('../src/analyze.js');
const { writeHostileFile } = await import('./gen/hostile.js');
const { CAPTURES, tempDir } = await import('./helpers.js');

const TIGHT = `--heap-growing-percent=${HEAP_GROWTH_PERCENT}`;
const DEFAULT = '--heap-growing-percent=0';

beforeEach(() => {
  flags.length = 0;
});

describe('heap growth while state is dropped', () => {
  it('is tightened once for nested holders and restored after the last, each release counted once', () => {
    expect(HEAP_GROWTH_PERCENT).toBe(100);
    const a = tightenHeapGrowth();
    const b = tightenHeapGrowth();
    expect(flags).toEqual([TIGHT]);
    a();
    a();
    expect(flags).toEqual([TIGHT]);
    b();
    expect(flags).toEqual([TIGHT, DEFAULT]);
    tightenHeapGrowth()();
    expect(flags).toEqual([TIGHT, DEFAULT, TIGHT, DEFAULT]);
  });

  it('analyze(): tightened at the first drop, restored when the report is made', async () => {
    const file = join(tempDir(), 'hostile.pcap');
    writeHostileFile(file, { connections: 3000, calls: 0, hugeRecord: false });
    const report = await analyze(file, { maxMemory: 2 * 1024 * 1024 });
    expect(report.memory.dropped.connections).toBeGreaterThan(0);
    expect(flags).toEqual([TIGHT, DEFAULT]);
  });

  it('analyze(): tightened when the buffered state reaches a quarter of the limit, even if nothing is dropped', async () => {
    const file = join(tempDir(), 'hostile.pcap');
    // 3,000 connections of about 1,900 accounted bytes each: 5.7 MB, over a quarter of 16 MB, under 16 MB.
    writeHostileFile(file, { connections: 3000, calls: 0, hugeRecord: false });
    const report = await analyze(file, { maxMemory: 16 * 1024 * 1024 });
    expect(report.memory.dropped).toEqual(newDroppedCounts());
    expect(report.memory.peakBytes).toBeGreaterThan(HEAP_TIGHTEN_AT * 16 * 1024 * 1024);
    expect(flags).toEqual([TIGHT, DEFAULT]);
    // The same capture with a limit over four times its state: left alone.
    flags.length = 0;
    const roomy = await analyze(file, { maxMemory: 32 * 1024 * 1024 });
    expect(roomy.memory.peakBytes).toBeLessThan(HEAP_TIGHTEN_AT * 32 * 1024 * 1024);
    expect(flags).toEqual([]);
  });

  it('analyze(): left alone when nothing is dropped and the buffered state stays small', async () => {
    const report = await analyze(join(CAPTURES, 'linux-v3-basic-head.pcap'));
    expect(report.memory.dropped.connections).toBe(0);
    expect(report.rpc.calls).toBeGreaterThan(0);
    expect(flags).toEqual([]);
  });
});
