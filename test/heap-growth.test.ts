/**
 * V8's heap growth is held tight while an analysis of a large capture
 * runs, from before its first read to when its report is made, or from
 * its first drop (src/memory/heap-growth.ts), and V8's defaults restored
 * after the last one. node:v8's setFlagsFromString
 * is replaced by a recorder: the flags asked for are checked, not V8's
 * behaviour (docs/memory.md measures that).
 */
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const flags: string[] = [];
vi.mock('node:v8', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:v8')>();
  return { ...real, default: { ...real, setFlagsFromString: (f: string) => flags.push(f) }, setFlagsFromString: (f: string) => flags.push(f) };
});

const { largeInput, HOLD_FROM_BYTES, tightenHeapGrowth, HEAP_GROWTH_PERCENT, SEMI_SPACE_GROWTH_TIGHT, SEMI_SPACE_GROWTH_DEFAULT, startedHeld, setStartedHeld } =
  await import('../src/memory/heap-growth.js');
const { readShebang } = await import('../bench/shebang.js');
const { analyze } = await import('../src/analyze.js');
const { writeHostileFile } = await import('./gen/hostile.js');
const { CAPTURES, tempDir } = await import('./helpers.js');

const TIGHT = `--heap-growing-percent=${HEAP_GROWTH_PERCENT} --semi-space-growth-factor=${SEMI_SPACE_GROWTH_TIGHT}`;
const DEFAULT = `--heap-growing-percent=0 --semi-space-growth-factor=${SEMI_SPACE_GROWTH_DEFAULT}`;

beforeEach(() => {
  flags.length = 0;
});

describe('heap growth held tight while an analysis runs', () => {
  it('is tightened once for nested holds and restored after the last, each release counted once', () => {
    const a = tightenHeapGrowth();
    const b = tightenHeapGrowth();
    expect(flags).toEqual([TIGHT]);
    a.release();
    a.release();
    expect(flags).toEqual([TIGHT]);
    b.release();
    expect(flags).toEqual([TIGHT, DEFAULT]);
    tightenHeapGrowth().release();
    expect(flags).toEqual([TIGHT, DEFAULT, TIGHT, DEFAULT]);
  });

  it('sets the flags V8 knows, to their defaults after', () => {
    expect([HEAP_GROWTH_PERCENT, SEMI_SPACE_GROWTH_TIGHT, SEMI_SPACE_GROWTH_DEFAULT]).toEqual([50, 1, 2]);
    // V8's own default growth factor of the new space is 2 (node --v8-options).
    expect(DEFAULT).toBe('--heap-growing-percent=0 --semi-space-growth-factor=2');
  });

  it('analyze(): a small capture is left alone until its first drop, then held to the report', async () => {
    const file = join(tempDir(), 'hostile.pcap');
    writeHostileFile(file, { connections: 3000, calls: 0, hugeRecord: false });
    expect(statSync(file).size).toBeLessThan(HOLD_FROM_BYTES);
    const report = await analyze(file, { maxMemory: 2 * 1024 * 1024 });
    expect(report.memory.dropped.connections).toBeGreaterThan(0);
    expect(flags).toEqual([TIGHT, DEFAULT]);
  });

  it('analyze(): a small ordinary capture is left alone (node:v8 is not even needed)', async () => {
    const report = await analyze(join(CAPTURES, 'linux-v3-basic-head.pcap'));
    expect(report.rpc.calls).toBeGreaterThan(0);
    expect(flags).toEqual([]);
  });

  it('analyze(): a large input is held from before its first read, and restored also when it is not a capture', async () => {
    const file = join(tempDir(), 'zeros.pcap');
    // A sparse file of HOLD_FROM_BYTES zero bytes: large, and no capture.
    writeFileSync(file, '');
    truncateSync(file, HOLD_FROM_BYTES);
    expect(largeInput([file])).toBe(true);
    const report = await analyze(file);
    expect(report.capture.files[0]!.failed).toBe(true);
    expect(flags).toEqual([TIGHT, DEFAULT]);
  });

  it('largeInput: by the total size; standard input counts as large, a missing file as nothing', () => {
    const dir = tempDir();
    const half = join(dir, 'half.pcap');
    writeFileSync(half, '');
    truncateSync(half, HOLD_FROM_BYTES / 2);
    expect(largeInput([half])).toBe(false);
    expect(largeInput([half, half])).toBe(true);
    expect(largeInput(['-'])).toBe(true);
    expect(largeInput([join(dir, 'missing.pcap')])).toBe(false);
  });

  it('largeInput: a gzip-compressed file counts as large whatever its size (it may hold many times it)', () => {
    const dir = tempDir();
    const plain = readFileSync(join(CAPTURES, 'linux-v3-basic-head.pcap'));
    const gz = join(dir, 'small.pcap.gz');
    writeFileSync(gz, gzipSync(plain));
    expect(statSync(gz).size).toBeLessThan(HOLD_FROM_BYTES);
    expect(largeInput([gz])).toBe(true);
    // By its content, not its name.
    const named = join(dir, 'plain.pcap.gz');
    writeFileSync(named, plain);
    expect(largeInput([named])).toBe(false);
    const tiny = join(dir, 'one-byte');
    writeFileSync(tiny, Buffer.from([0x1f]));
    expect(largeInput([tiny])).toBe(false);
  });

  it('startedHeld: the growth percent and a new space that cannot grow, as given on the command line', () => {
    expect(startedHeld(['--max-semi-space-size=4', '--min-semi-space-size=4', '--heap-growing-percent=50'])).toBe(true);
    expect(startedHeld(['--heap-growing-percent=50', '--semi-space-growth-factor=1'])).toBe(true);
    // The last of a repeated flag counts, as for V8.
    expect(startedHeld(['--heap-growing-percent=100', '--heap-growing-percent=50', '--semi-space-growth-factor=1'])).toBe(true);
    expect(startedHeld(['--heap-growing-percent=50', '--semi-space-growth-factor=1', '--heap-growing-percent=100'])).toBe(false);
    expect(startedHeld(['--max-semi-space-size=4', '--min-semi-space-size=4'])).toBe(false);
    expect(startedHeld(['--max-semi-space-size=8', '--min-semi-space-size=4', '--heap-growing-percent=50'])).toBe(false);
    expect(startedHeld(['--min-semi-space-size=4', '--heap-growing-percent=50'])).toBe(false);
    expect(startedHeld([])).toBe(false);
    // The nfsight command is started so (its shebang), so a large capture's run need not load node:v8.
    expect(startedHeld(readShebang(join(import.meta.dirname, '..', 'src', 'cli', 'main.ts')).flags)).toBe(true);
  });

  it('started held: holds ask nothing, also when state drops (the command never loads node:v8)', async () => {
    const was = setStartedHeld(true);
    try {
      const a = tightenHeapGrowth();
      const b = tightenHeapGrowth();
      a.release();
      b.release();
      const file = join(tempDir(), 'hostile.pcap');
      writeHostileFile(file, { connections: 3000, calls: 0, hugeRecord: false });
      const report = await analyze(file, { maxMemory: 2 * 1024 * 1024 });
      expect(report.memory.dropped.connections).toBeGreaterThan(0);
      expect(flags).toEqual([]);
    } finally {
      setStartedHeld(was);
    }
  });

  it('analyze() inside a hold (the command holds it through writing the report): not restored by the analysis', async () => {
    const hold = tightenHeapGrowth();
    await analyze(join(CAPTURES, 'linux-v3-basic-head.pcap'));
    expect(flags).toEqual([TIGHT]);
    hold.release();
    expect(flags).toEqual([TIGHT, DEFAULT]);
  });
});
