/**
 * Analyses one capture and prints timing and peak memory as JSON: run in a
 * fresh process per measurement so that peak RSS belongs to that run alone.
 */
import { statSync } from 'node:fs';

// What a library user's `import { analyze } from 'nfsight'` loads: the bundled library (scripts/bundle.mjs).
const { analyze } = (await import(new URL('../nfsight.mjs', import.meta.url).href)) as typeof import('../src/index.js');

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: run-one <capture>\n');
  process.exit(2);
}
const started = process.hrtime.bigint();
const report = await analyze(file);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
// What the analysis still holds after a full collection (run with --expose-gc): must not grow with the input.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const retainedHeapMB = process.memoryUsage().heapUsed / 1e6;
process.stdout.write(
  JSON.stringify({
    file,
    bytes: statSync(file).size,
    seconds,
    frames: report.capture.frames,
    tcpDelivered: report.tcp.deliveredBytes,
    tcpGaps: report.tcp.gapBytes,
    transactions: report.rpc.matched,
    retainedHeapMB,
    // resourceUsage().maxRSS is in kilobytes.
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
