import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReadProgress } from '../src/capture/source.js';
import { progressLine, progressText } from '../src/cli/progress.js';
import { CAPTURES, readAll } from './helpers.js';

describe('progress', () => {
  it('reports the bytes read of each file, ending at its size', async () => {
    const files = [join(CAPTURES, 'nfsv3-errors.pcap'), join(CAPTURES, 'lossy-read-cut.pcap')];
    const seen: ReadProgress[] = [];
    await readAll(files, { chunkSize: 4096, onProgress: (p) => seen.push({ ...p }) });
    for (let i = 0; i < files.length; i++) {
      const mine = seen.filter((p) => p.fileIndex === i);
      const size = statSync(files[i]!).size;
      expect(mine.length).toBe(Math.ceil(size / 4096));
      expect(mine.every((p) => p.size === size && p.files === 2)).toBe(true);
      expect(mine.map((p) => p.bytes)).toEqual([...mine.map((p) => p.bytes)].sort((a, b) => a - b));
      expect(mine[mine.length - 1]!.bytes).toBe(size);
    }
  });

  it('draws one line on a terminal, throttled, and clears it', () => {
    const writes: string[] = [];
    let clock = 0;
    const tty = { isTTY: true, columns: 60, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const line = progressLine(tty, () => clock)!;
    const p = (bytes: number): ReadProgress => ({ file: 'big.pcap', fileIndex: 0, files: 1, bytes, size: 100e6 });
    clock = 1000;
    line.onProgress(p(50e6));
    clock = 1050; // within 100 ms: not redrawn
    line.onProgress(p(60e6));
    clock = 2000;
    line.onProgress(p(100e6));
    line.clear();
    expect(writes).toEqual([
      '\rnfsight: big.pcap 50% of 100.0 MB 50 MB/s\u001b[K',
      '\rnfsight: big.pcap 100% of 100.0 MB 50 MB/s\u001b[K',
      '\r\u001b[K',
    ]);
  });

  it('stays silent when stderr is not a terminal, and for small inputs', () => {
    expect(progressLine({ isTTY: false } as unknown as NodeJS.WriteStream)).toBeUndefined();
    const writes: string[] = [];
    const line = progressLine({ isTTY: true, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream, () => 1e6)!;
    line.onProgress({ file: 'small.pcap', fileIndex: 0, files: 1, bytes: 1e6, size: 2e6 });
    line.clear();
    expect(writes).toEqual([]);
    expect(progressText({ file: '-', fileIndex: 1, files: 3, bytes: 5e6, size: undefined }, 0)).toBe('nfsight: [2/3] - 5.0 MB');
  });
});
