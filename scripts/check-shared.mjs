#!/usr/bin/env node
// Checks nfsight against the truth files of the full reference captures in
// ../shared/captures (too big to bundle): frame counts and TCP stream
// counts. Needs `npm run build` first; not part of `npm test`, which must
// not read outside the repository.
//
//   node scripts/check-shared.mjs [folder]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../dist/src/index.js';

const dir = process.argv[2] ?? new URL('../../shared/captures', import.meta.url).pathname;
let failed = 0;
for (const name of readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort()) {
  const truth = JSON.parse(readFileSync(join(dir, `${name}.truth.json`), 'utf8'));
  const started = process.hrtime.bigint();
  const report = await analyze(join(dir, name));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const want = { frames: Number(truth.capinfos['Number of packets']), tcpStreams: truth.tcp_streams };
  const got = { frames: report.capture.frames, tcpStreams: report.tcp.connections };
  const ok = got.frames === want.frames && got.tcpStreams === want.tcpStreams && report.diagnostics.errors === 0;
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name}: frames ${got.frames}/${want.frames}, TCP connections ${got.tcpStreams}/${want.tcpStreams}, ` +
      `gaps ${report.tcp.gapBytes} B, ${report.diagnostics.warnings} warnings, ${ms.toFixed(0)} ms`,
  );
}
process.exitCode = failed ? 1 : 0;
