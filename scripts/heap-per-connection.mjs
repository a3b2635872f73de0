// Heap and accounted bytes per live connection with one outstanding call
// (docs/memory.md, "100,000 live connections"): analyses live captures of
// two sizes (test/gen/hostile.ts writeLiveFile) with an unlimited budget,
// forces a full collection when the first connection's call is answered,
// after every other call was made (the only transaction before the end),
// and reads the heap used and the array buffers' bytes (typed arrays keep
// their contents outside the heap), then prints the differences per
// connection. Needs `npm run build`.
//   node scripts/heap-per-connection.mjs [N1 N2]   (HEAP_DIR: where the captures go)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [, , a = '20000', b = '40000', child] = process.argv;

if (child === 'child') {
  const n = Number(a);
  const { analyze } = await import(join(root, 'dist/src/index.js'));
  let heap = 0;
  const report = await analyze(b, {
    maxMemory: 4 * 1024 ** 3,
    onTransaction: () => {
      if (heap !== 0) return;
      globalThis.gc();
      globalThis.gc();
      const u = process.memoryUsage();
      heap = u.heapUsed + u.arrayBuffers;
    },
  });
  const m = report.memory;
  process.stdout.write(JSON.stringify({ n, heap, accounted: m.peakBytes ?? m.peak, dropped: m.dropped }) + '\n');
} else {
  const { writeLiveFile } = await import(join(root, 'dist/test/gen/hostile.js'));
  const dir = process.env['HEAP_DIR'] ?? join(tmpdir(), 'nfsight-heap-per-connection');
  mkdirSync(dir, { recursive: true });
  const out = [];
  for (const n of [Number(a), Number(b)]) {
    const file = join(dir, `live-answered-${n}.pcap`);
    if (!existsSync(file)) writeLiveFile(file, { connections: n, answered: 0, outstanding: 1, lastAnswered: true });
    const r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(n), file, 'child'], { encoding: 'utf8' }));
    out.push(r);
  }
  const [x, y] = out;
  const dn = y.n - x.n;
  const heap = (y.heap - x.heap) / dn;
  const accounted = (y.accounted - x.accounted) / dn;
  console.log(`heap per connection with its call: ${heap.toFixed(0)} bytes`);
  console.log(`accounted per connection with its call: ${accounted.toFixed(0)} bytes`);
  console.log(JSON.stringify({ heap, accounted, runs: out }));
}
