#!/usr/bin/env node
// Checks nfsight against the full reference captures in ../shared/captures
// (too big to bundle): frame and TCP connection counts from their truth
// files and, where tshark is installed, every RPC call, reply and rpc.time
// against what tshark decodes (with and without out-of-order reassembly).
// Needs `npm run build` first; not part of `npm test`, which must not read
// outside the repository.
//
//   node scripts/check-shared.mjs [folder]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../dist/src/index.js';
import { nfs4OpNumber } from '../dist/decoders/nfs4.js';
import { nfsFields, PREFS, PREFS_IN_ORDER, rpcMessages } from './tshark-reference.mjs';

const dir = process.argv[2] ?? new URL('../../shared/captures', import.meta.url).pathname;
let haveTshark = true;
try {
  execFileSync('tshark', ['--version'], { stdio: 'ignore' });
} catch {
  haveTshark = false;
}

const hex = (xid) => `0x${xid.toString(16).padStart(8, '0')}`;
const minus = (a, b) => [...a].filter((x) => !b.has(x));

let failed = 0;
for (const name of readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort()) {
  const file = join(dir, name);
  const truth = JSON.parse(readFileSync(`${file}.truth.json`, 'utf8'));
  const calls = new Set();
  const replies = new Set();
  const times = new Map();
  /** Per frame, what the decoders made of the message shown there (single-message frames are compared). */
  const decodedAt = new Map();
  const started = process.hrtime.bigint();
  const report = await analyze(file, {
    onTransaction: (t) => {
      for (const f of [t.call.frame, ...t.retransmitFrames]) calls.add(`${f.number} ${hex(t.xid)} ${t.program}/${t.version}/${t.procedure}`);
      decodedAt.set(t.call.frame.number, { t, side: 'call' });
      if (t.reply) decodedAt.set(t.reply.frame.number, { t, side: 'reply' });
      if (t.reply) {
        replies.add(`${t.reply.frame.number} ${hex(t.xid)} -> ${t.call.frame.number}`);
        times.set(t.reply.frame.number, t.latency.toFixed(9));
      }
    },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const problems = [];
  if (report.capture.frames !== Number(truth.capinfos['Number of packets'])) problems.push('frame count');
  if (report.tcp.connections !== truth.tcp_streams) problems.push('TCP connection count');
  if (report.diagnostics.errors !== 0) problems.push('errors reported');
  let rpcNote = '';
  if (haveTshark) {
    const theirCalls = new Set();
    const theirReplies = new Set();
    const theirTimes = new Map();
    for (const [frame, xid, type, prog, vers, proc, callFrame, time] of [...rpcMessages(file, PREFS), ...rpcMessages(file, PREFS_IN_ORDER)]) {
      if (type === 0) theirCalls.add(`${frame} ${xid} ${prog}/${vers}/${proc}`);
      else if (callFrame !== null) {
        theirReplies.add(`${frame} ${xid} -> ${callFrame}`);
        theirTimes.set(frame, time);
      }
    }
    const lostCalls = minus(theirCalls, calls);
    const lostReplies = minus(theirReplies, replies);
    const badTimes = [...theirTimes].filter(([f, t]) => times.get(f) !== t);
    if (lostCalls.length || lostReplies.length) problems.push(`missing vs tshark: ${[...lostCalls, ...lostReplies].slice(0, 5).join('; ')}`);
    if (badTimes.length) problems.push(`rpc.time differs at frames ${badTimes.slice(0, 5).map(([f]) => f).join(', ')}`);
    const moreCalls = minus(calls, theirCalls).length;
    const moreReplies = minus(replies, theirReplies).length;
    if (moreCalls || moreReplies) problems.push(`more than tshark: ${minus(calls, theirCalls).concat(minus(replies, theirReplies)).slice(0, 5).join('; ')}`);
    rpcNote = `, RPC calls ${calls.size}/${theirCalls.size}, replies ${replies.size}/${theirReplies.size}, rpc.time equal at ${theirTimes.size - badTimes.length}`;
    // NFS level: v3 and MOUNT statuses, NFSv4 COMPOUND ops (calls) and COMPOUND status and ops (replies).
    let compared = 0;
    const differ = [];
    for (const [frameText, f] of Object.entries(nfsFields(file, PREFS))) {
      const frame = Number(frameText);
      const d = decodedAt.get(frame);
      if (!d || !d.t.decoded) continue;
      const { t, side } = d;
      const dec = side === 'call' ? d.t.decoded.call : d.t.decoded.reply;
      if (!dec) continue;
      const check = (what, ours, theirs) => {
        compared++;
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ.push(`${frame} ${what}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`);
      };
      if (t.program === 100003 && t.version === 3 && side === 'reply' && f.nfsStatus !== undefined) check('nfsstat3', dec.statusCode, f.nfsStatus);
      if (t.program === 100005 && side === 'reply' && f.mountstat !== undefined) check('mountstat', dec.statusCode, f.mountstat);
      if (t.program === 100003 && t.version === 4 && t.procedure === 1) {
        if (side === 'call' && f.ops) check('ops', dec.ops.map((o) => nfs4OpNumber(o) ?? o), f.ops);
        if (side === 'reply' && f.nfsstat4) check('COMPOUND status', dec.statusCode, f.nfsstat4[0]);
        if (side === 'reply' && f.ops) check('reply ops', (dec.ops ?? []).map((o) => nfs4OpNumber(o) ?? o), f.ops);
      }
    }
    if (differ.length) problems.push(`NFS fields differ: ${differ.slice(0, 5).join('; ')}`);
    rpcNote += `, NFS fields equal ${compared - differ.length}/${compared}`;
  }
  if (problems.length) failed++;
  console.log(
    `${problems.length ? 'FAIL' : 'ok  '} ${name}: frames ${report.capture.frames}, TCP connections ${report.tcp.connections}${rpcNote}, ` +
      `unanswered ${report.rpc.unanswered}, ${ms.toFixed(0)} ms${problems.length ? ` — ${problems.join('; ')}` : ''}`,
  );
}
process.exitCode = failed ? 1 : 0;
