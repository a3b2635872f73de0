#!/usr/bin/env node
// Checks nfsight against tshark, call by call, on the full reference
// captures in ../shared/captures (too big to bundle) and on the bundled ones
// in captures/: frame and TCP connection counts from their truth files and,
// where tshark is installed, every field of every call tshark decodes (call
// frame, reply frame, xid, program, version, procedure, status, rpc.time),
// with and without out-of-order reassembly, plus NFS fields (NFSv4 ops).
// Prints one line per capture and the agreement over all of them.
// Needs `npm run build` first; not part of `npm test`, which must not read
// outside the repository.
//
//   node scripts/check-shared.mjs [folder-or-capture...]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../dist/src/index.js';
import { callRow } from '../dist/src/report/calls.js';
import { nfs4OpNumber } from '../dist/decoders/nfs4.js';
import { nfsFields, PREFS, tshark, tsharkCalls } from './tshark-reference.mjs';
import { compareCalls } from './compare-calls.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
/** ../shared/captures beside the repository (a worktree sits one level deeper). */
const sharedDefault = [join(repo, '../shared/captures'), join(repo, '../../shared/captures')].find((d) => existsSync(d));
const args = process.argv.slice(2);
const inputs = args.length > 0 ? args : [sharedDefault, join(repo, 'captures')].filter(Boolean);

let haveTshark = true;
try {
  execFileSync('tshark', ['--version'], { stdio: 'ignore' });
} catch {
  haveTshark = false;
  console.log('tshark not found: counts only, no call-by-call comparison');
}

const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => /\.(pcap|pcapng)$/.test(f))
        .sort()
        .map((f) => join(p, f))
    : [p],
);

const total = { captures: 0, failed: 0, calls: 0, fields: 0, equal: 0, extra: 0, rst: 0, rstTshark: 0 };
for (const file of files) {
  const name = basename(file);
  if (name.startsWith('nfs-rdma-')) {
    // NFS over RDMA has its own reference (X.calls.jsonl, tshark -2).
    console.log(`skip ${name}: RDMA (checked against ${name}.calls.jsonl elsewhere)`);
    continue;
  }
  total.captures++;
  const truthFile = existsSync(`${file}.truth.json`) ? `${file}.truth.json` : undefined;
  const expectedFile = existsSync(`${file}.expected.json`) ? `${file}.expected.json` : undefined;
  const rows = [];
  /** Per frame, what the decoders made of the message shown there (single-message frames are compared). */
  const decodedAt = new Map();
  const started = process.hrtime.bigint();
  const report = await analyze(file, {
    onTransaction: (t, ctx) => {
      rows.push({ ...callRow(t, name, ctx), retransmitFrames: t.retransmitFrames.map((f) => f.number) });
      decodedAt.set(t.call.frame.number, { t, side: 'call' });
      if (t.reply) decodedAt.set(t.reply.frame.number, { t, side: 'reply' });
    },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const problems = [];
  if (truthFile) {
    const truth = JSON.parse(readFileSync(truthFile, 'utf8'));
    if (report.capture.frames !== Number(truth.capinfos['Number of packets'])) problems.push('frame count');
    if (report.tcp.connections !== truth.tcp_streams) problems.push('TCP connection count');
  } else if (expectedFile) {
    const exp = JSON.parse(readFileSync(expectedFile, 'utf8'));
    if (report.capture.frames !== exp.frames) problems.push('frame count');
    if (report.tcp.connections !== exp.tcp.streams.length) problems.push('TCP connection count');
  }
  if (report.diagnostics.errors !== 0) problems.push('errors reported');
  let note = '';
  if (haveTshark) {
    const theirs = tsharkCalls(file);
    const cmp = compareCalls(theirs.calls, rows);
    total.calls += cmp.calls;
    total.fields += cmp.fields;
    total.equal += cmp.equal;
    total.extra += cmp.extra.length;
    if (cmp.differences.length) problems.push(`calls differ: ${cmp.differences.slice(0, 5).join('; ')}`);
    note = `, calls ${cmp.calls} (fields equal ${cmp.equal}/${cmp.fields})`;
    if (theirs.differing.length) note += `, ${theirs.differing.length} shown elsewhere with out-of-order reassembly`;
    if (cmp.extra.length) note += `, nfsight decodes ${cmp.extra.length} more (${cmp.extra.slice(0, 3).join('; ')})`;
    // NFSv4 COMPOUND ops (calls) and ops (replies), frames with one message.
    let compared = 0;
    const differ = [];
    for (const [frameText, f] of Object.entries(nfsFields(file, PREFS))) {
      const frame = Number(frameText);
      const d = decodedAt.get(frame);
      if (!d || !d.t.decoded) continue;
      const { t, side } = d;
      const dec = side === 'call' ? d.t.decoded.call : d.t.decoded.reply;
      if (!dec || t.program !== 100003 || t.version !== 4 || t.procedure !== 1 || !f.ops) continue;
      compared++;
      const ours = (dec.ops ?? []).map((o) => nfs4OpNumber(o) ?? o);
      if (JSON.stringify(ours) !== JSON.stringify(f.ops)) differ.push(`${frame} ${side} ops: ${JSON.stringify(ours)} vs ${JSON.stringify(f.ops)}`);
    }
    if (differ.length) problems.push(`NFSv4 ops differ: ${differ.slice(0, 5).join('; ')}`);
    note += `, NFSv4 op lists equal ${compared - differ.length}/${compared}`;
    // RST frames, as tshark shows tcp.flags.reset.
    const rsts = tshark(['-r', file, '-Y', 'tcp.flags.reset == 1', '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length;
    const ours = report.tcp.events.rst ?? 0;
    total.rst += ours;
    total.rstTshark += rsts;
    if (ours !== rsts) problems.push(`RST frames ${ours}, tshark ${rsts}`);
    note += `, RST frames ${ours}/${rsts} (closing ${report.tcp.events['rst-close'] ?? 0})`;
  }
  if (problems.length) total.failed++;
  console.log(
    `${problems.length ? 'FAIL' : 'ok  '} ${name}: frames ${report.capture.frames}, TCP connections ${report.tcp.connections}${note}, ` +
      `unanswered ${report.rpc.unanswered}, ${ms.toFixed(0)} ms${problems.length ? ` — ${problems.join('; ')}` : ''}`,
  );
}
if (haveTshark) {
  const pct = total.fields ? ((100 * total.equal) / total.fields).toFixed(3) : '100';
  console.log(
    `${total.captures} captures, ${total.failed} failed; ${total.calls} calls tshark decodes, ` +
      `fields equal ${total.equal}/${total.fields} (${pct}%); ${total.extra} calls or replies nfsight decodes beyond tshark; ` +
      `RST frames ${total.rst}/${total.rstTshark}`,
  );
}
process.exitCode = total.failed ? 1 : 0;
