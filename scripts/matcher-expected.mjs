#!/usr/bin/env node
// Writes test/gen/matcher-scenarios.expected.json: how tshark matches the
// RPC messages of each generated matcher scenario (test/gen/matcher-scenarios.ts,
// built into dist/ by `npm run build`). Needs tshark; `npm test` only reads
// the JSON file. Two passes (-2), so that a call shows its reply's frame.
//
//   npm run build && node scripts/matcher-expected.mjs
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PREFS, tshark } from './tshark-reference.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { MATCHER_SCENARIOS } = await import(join(root, 'dist', 'test', 'gen', 'matcher-scenarios.js'));

const FIELDS = ['frame.number', 'rpc.xid', 'rpc.msgtyp', 'rpc.procedure', 'rpc.call.dup', 'rpc.reply.dup', 'rpc.dup', 'rpc.repframe', 'rpc.reqframe', 'rpc.time'];

const dir = mkdtempSync(join(tmpdir(), 'nfsight-matcher-'));
const out = {
  generatedBy: `${tshark(['--version']).split('\n')[0]}, -2, prefs ${PREFS.filter((p) => p !== '-o').join(' ')}`,
  fields:
    'per RPC message: frame, xid, msgtype (0 call, 1 reply), procedure (calls; tshark gives a reply its call\'s), ' +
    'callDup (rpc.call.dup: the call this one repeats), replyDup (rpc.reply.dup: the reply this one repeats), dup (rpc.dup present), ' +
    'reqframe (calls: rpc.reqframe, "the reply to this request is in frame"), repframe (replies: rpc.repframe, "this is a reply to a request in frame"), ' +
    'time (replies: rpc.time, seconds from the call in repframe)',
  scenarios: {},
};
for (const s of MATCHER_SCENARIOS) {
  const bytes = s.capture();
  const file = join(dir, 'scenario.pcap');
  writeFileSync(file, bytes);
  const lines = tshark(['-r', file, '-2', ...PREFS, '-Y', 'rpc', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])])
    .split('\n')
    .filter(Boolean);
  const num = (v) => (v === '' ? null : Number(v));
  const messages = lines.map((line) => {
    const [frame, xid, type, proc, callDup, replyDup, dup, repframe, reqframe, time] = line.split('\t');
    const isCall = type === '0';
    return {
      frame: Number(frame),
      xid,
      msgtype: Number(type),
      procedure: num(proc),
      callDup: num(callDup),
      replyDup: num(replyDup),
      dup: dup !== '',
      ...(isCall ? { reqframe: num(reqframe) } : { repframe: num(repframe), time: time === '' ? null : time }),
    };
  });
  out.scenarios[s.name] = {
    what: s.what,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    messages,
  };
  console.log(`${s.name}: ${messages.length} RPC messages`);
}
const target = join(root, 'test', 'gen', 'matcher-scenarios.expected.json');
writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
console.log(target);
