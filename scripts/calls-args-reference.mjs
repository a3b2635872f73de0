#!/usr/bin/env node
// Writes captures/calls-args.expected.json: for every bundled capture, the
// arguments tshark decodes in each RPC call frame that carries names or a
// byte range — NFSv3 nfs.name, MOUNT mount.path, NFSv4 component names (the
// "Name:" items tshark 4.0 shows without a field name), nfs.offset3/4,
// nfs.count3/4 and the NFSv4 WRITE data length — with the NFSv4 opcodes of
// the COMPOUND. test/calls.test.ts compares nfsight's calls rows with it.
// Needs tshark; `npm test` only reads the JSON file.
//
//   node scripts/calls-args-reference.mjs
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PREFS, tshark } from './tshark-reference.mjs';

const dir = 'captures';
const out = {};
for (const name of readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort()) {
  const pdml = tshark(['-r', join(dir, name), ...PREFS, '-Y', 'rpc.msgtyp == 0 && (nfs || mount)', '-T', 'pdml']);
  const rows = [];
  for (const packet of pdml.split('<packet>').slice(1)) {
    const field = (n) => [...packet.matchAll(new RegExp(`<field name="${n.replace(/\./g, '\\.')}"[^>]* show="([^"]*)"`, 'g'))].map((m) => m[1]);
    // One RPC message per frame only: several would need telling apart.
    if (field('rpc.xid').length !== 1) continue;
    const frame = Number(field('frame.number')[0]);
    const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const ops = field('nfs.opcode').map(Number);
    const names = (
      ops.length > 0
        ? // NFSv4 component names: fields without a name whose text is "Name: …" (an empty one reads <EMPTY>).
          [...packet.matchAll(/<field name="" show="Name: ([^"]*)"/g)].map((m) => (m[1] === '&lt;EMPTY&gt;' ? '' : m[1]))
        : [...field('nfs.name'), ...field('mount.path')]
    ).map(unescape);
    const offsets = [...field('nfs.offset3'), ...field('nfs.offset4')].map(Number);
    const counts = [...field('nfs.count3'), ...field('nfs.count4'), ...field('nfs.write.data_length')].map(Number);
    if (names.length === 0 && offsets.length === 0) continue;
    rows.push([frame, names, offsets[0] ?? null, counts[0] ?? null, ops]);
  }
  out[name] = rows;
}
writeFileSync(join(dir, 'calls-args.expected.json'), JSON.stringify(out, null, 1) + '\n');
console.log(Object.entries(out).map(([k, v]) => `${k}: ${v.length}`).join('\n'));
