/**
 * Why nfsight reads classic pcap with its own record walk: a read-only pass
 * over a capture (frames and captured bytes counted, nothing else) through
 *   pcap-parser           as nfsight fed it: every chunk pushed as read;
 *   pcap-parser-aligned   fed without copies: record-aligned chunks, its
 *                         remainder cleared so it never joins buffers;
 *   walk                  nfsight's PcapReader (src/capture/pcap.ts).
 * pcap-parser is no longer a dependency:
 *   npm install --no-save pcap-parser && npm run build
 *   node --no-deprecation bench/compare-pcap-parser.mjs FILE MODE
 * docs/performance.md has the figures.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const [file, mode] = process.argv.slice(2);
const CHUNK = 1 << 20;
const t0 = process.hrtime.bigint();
let frames = 0, bytes = 0;
function chunks(cb) {
  const fd = openSync(file, 'r'); const buf = Buffer.allocUnsafeSlow(CHUNK);
  for (;;) { const n = readSync(fd, buf, 0, CHUNK, null); if (n === 0) break; cb(n === CHUNK ? buf : buf.subarray(0, n)); }
  closeSync(fd);
}
if (mode === 'pcap-parser' || mode === 'pcap-parser-aligned') {
  const pcapParser = require('pcap-parser');
  class Push extends EventEmitter { pause() { return this; } resume() { return this; } }
  const input = new Push();
  const parser = pcapParser.parse(input);
  parser.on('packet', (p) => { frames++; bytes += p.data.length; });
  if (mode === 'pcap-parser') {
    // As nfsight fed it: every chunk pushed as read (reading into fresh buffers, as a stream does).
    const fd = openSync(file, 'r');
    for (;;) { const buf = Buffer.allocUnsafe(CHUNK); const n = readSync(fd, buf, 0, CHUNK, null); if (n === 0) break; input.emit('data', buf.subarray(0, n)); }
  } else {
    // Fed without copies: record-aligned chunks, and the remainder dropped so updateBuffer does not join.
    let carry = null;
    const fd = openSync(file, 'r');
    let first = true;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK); const n = readSync(fd, buf, 0, CHUNK, null); if (n === 0) break;
      let data = carry ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      let p = first ? 24 : 0; first = false;
      while (p + 16 <= data.length && p + 16 + data.readUInt32LE(p + 8) <= data.length) p += 16 + data.readUInt32LE(p + 8);
      carry = p < data.length ? Buffer.from(data.subarray(p)) : null;
      parser.buffer = null;
      input.emit('data', data.subarray(0, p));
    }
  }
} else {
  // nfsight's PcapReader (src/capture/pcap.ts), one reused chunk.
  const { PcapReader } = await import('../dist/src/capture/pcap.js');
  const r = new PcapReader({ file, fileIndex: 0, diag: { report: (d) => console.error(d) }, onFrame: (f) => { frames++; bytes += f.end - f.start; } });
  chunks((c) => r.push(c));
  r.end();
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const ru = process.resourceUsage();
console.log(JSON.stringify({ mode, frames, bytes, ms: Math.round(ms), cpuMs: Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000), rssMB: Math.round(ru.maxRSS / 1024) }));
