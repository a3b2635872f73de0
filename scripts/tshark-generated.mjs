#!/usr/bin/env node
// Writes what tshark decodes of each generated capture (test/gen) beside its
// generator: test/gen/<name>.expected.json with every call tshark decodes
// (frame, xid, program, version, procedure, reply frame, rpc.time, status;
// scripts/tshark-reference.mjs tsharkCalls) and what else the test needs.
// Needs tshark and `npm run build` (the generators run from dist/test/gen);
// `npm test` only reads the JSON files.
//
//   node scripts/tshark-generated.mjs [name...]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PREFS, tshark, tsharkCalls } from './tshark-reference.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const GENERATED = {
  'void-replies': async () => (await import('../dist/test/gen/void-replies.js')).voidRepliesCapture(),
  'late-delivery': async () => (await import('../dist/test/gen/late-delivery.js')).lateDeliveryCapture(),
  'udp-noise': async () => (await import('../dist/test/gen/udp-noise.js')).udpNoiseCapture(),
  resets: async () => (await import('../dist/test/gen/resets.js')).resetsCapture(),
};

const dir = mkdtempSync(join(tmpdir(), 'nfsight-gen-'));
const version = tshark(['--version']).split('\n')[0];
for (const name of process.argv.length > 2 ? process.argv.slice(2) : Object.keys(GENERATED)) {
  const file = join(dir, `${name}.pcap`); // tshark reads pcap and pcapng alike
  writeFileSync(file, await GENERATED[name]());
  const { calls, differing } = tsharkCalls(file);
  const frames = (filter) =>
    tshark(['-r', file, ...PREFS, '-Y', filter, '-T', 'fields', '-e', 'frame.number'])
      .split('\n')
      .filter(Boolean)
      .map(Number);
  // UDP datagrams tshark does not decode as RPC (nfsight counts them as non-RPC datagrams); frames with the RST flag.
  const out = {
    capture: `${name}.pcap (generated)`,
    generatedBy: `${version}, scripts/tshark-generated.mjs`,
    calls,
    differing,
    udpNotRpc: frames('udp && !rpc'),
    rstFrames: frames('tcp.flags.reset == 1'),
  };
  const target = join(repo, 'test/gen', `${name}.expected.json`);
  writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
  console.log(`${target}: ${calls.length} calls`);
}
