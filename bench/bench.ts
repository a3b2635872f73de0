/**
 * `npm run bench`: generates byte-heavy NFSv3 READ captures (cached in the
 * system's temporary folder) and analyses each in a fresh process, printing
 * MB/s, packets/s and peak RSS. Peak RSS must not grow with the capture's
 * size: the last line compares the largest capture with the smallest.
 *
 *   BENCH_SIZES=256M,1G BENCH_MSS=1448 npm run bench
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateReadCapture } from './generate.js';

const GENERATOR_VERSION = 1;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}: use e.g. 256M or 1G`);
  const unit = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

interface RunResult {
  bytes: number;
  seconds: number;
  frames: number;
  tcpDelivered: number;
  tcpGaps: number;
  peakRssMB: number;
  retainedHeapMB: number;
  transactions: number;
}

const sizes = (process.env['BENCH_SIZES'] ?? '256M,1G').split(',').map(parseSize);
const mss = Number(process.env['BENCH_MSS'] ?? 1448);
const dir = join(tmpdir(), 'nfsight-bench');
mkdirSync(dir, { recursive: true });
const runner = join(dirname(fileURLToPath(import.meta.url)), 'run-one.js');

const results: (RunResult & { size: number })[] = [];
for (const size of sizes) {
  const file = join(dir, `read-v${GENERATOR_VERSION}-mss${mss}-${size}.pcap`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} ...\n`);
    const tmp = `${file}.partial`;
    generateReadCapture(tmp, size, { mss });
    renameSync(tmp, file);
  }
  // Warm the page cache so the first run is not a disk benchmark.
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The same V8 setting as the nfsight command (its shebang): see src/cli/main.ts.
  const out = execFileSync(process.execPath, ['--no-deprecation', '--expose-gc', '--max-semi-space-size=2', runner, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const r = JSON.parse(out) as RunResult;
  if (r.tcpGaps !== 0) throw new Error(`${file}: ${r.tcpGaps} bytes in gaps on a clean generated capture`);
  results.push({ ...r, size });
}

const pad = (s: string, n: number): string => s.padStart(n);
console.log(`nfsight benchmark: NFSv3 READ traffic, MSS ${mss}, Node ${process.version}`);
console.log(['capture', 'frames', 'RPC calls', 'seconds', 'MB/s', 'packets/s', 'peak RSS', 'heap after'].map((h) => pad(h, 12)).join(''));
for (const r of results) {
  console.log(
    [
      `${(r.bytes / 1e6).toFixed(0)} MB`,
      String(r.frames),
      String(r.transactions),
      r.seconds.toFixed(2),
      (r.bytes / 1e6 / r.seconds).toFixed(0),
      Math.round(r.frames / r.seconds).toLocaleString('en-US'),
      `${r.peakRssMB.toFixed(0)} MB`,
      `${r.retainedHeapMB.toFixed(1)} MB`,
    ]
      .map((c) => pad(c, 12))
      .join(''),
  );
}
if (results.length > 1) {
  const small = results[0]!;
  const big = results[results.length - 1]!;
  console.log(
    `peak RSS ${small.peakRssMB.toFixed(0)} MB at ${(small.bytes / 1e6).toFixed(0)} MB → ${big.peakRssMB.toFixed(0)} MB at ${(big.bytes / 1e6).toFixed(0)} MB ` +
      `(${(big.bytes / small.bytes).toFixed(1)}× the input, ${(big.peakRssMB / small.peakRssMB).toFixed(2)}× the peak memory; ` +
      `heap held after the run ${small.retainedHeapMB.toFixed(1)} → ${big.retainedHeapMB.toFixed(1)} MB)`,
  );
}
