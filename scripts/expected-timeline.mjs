#!/usr/bin/env node
// Writes X.timeline.json beside each capture X: tshark's RPC calls and
// rpc.time bucketed into intervals (1 ms, 100 ms and 1 s, aligned on the
// epoch as nfsight's are), the reference `nfsight timeline` is tested
// against. Needs tshark; `npm test` only reads the JSON files.
//
// Per interval: the calls whose call frame falls in it (retransmissions,
// which tshark marks rpc.dup, left out), the replies whose reply frame
// falls in it, and the nearest-rank p50 and p99 and the max of their
// rpc.time; overall and per operation. An operation is keyed
// `program/version/procedure`, and for an NFSv4 COMPOUND
// `program/version/procedure/<main op>` with tshark's name of nfs.main_opcode.
// Messages are those tshark decodes with out-of-order reassembly on or off
// (the union), as in X.expected.json; over RoCE with two passes (-2).
//
//   node scripts/expected-timeline.mjs captures/*.pcap captures/*.pcapng
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PREFS, PREFS_IN_ORDER, tshark } from './tshark-reference.mjs';

const INTERVALS_NS = [1_000_000n, 100_000_000n, 1_000_000_000n];

/** tshark's names of nfs.main_opcode values. */
function mainOpNames() {
  const names = new Map();
  for (const line of tshark(['-G', 'values']).split('\n')) {
    const [type, field, value, name] = line.split('\t');
    if (type === 'V' && field === 'nfs.main_opcode') names.set(Number(value), name);
  }
  return names;
}

const first = (v) => (Array.isArray(v) ? v[0] : v);

/** Every RPC message: { frame, sec, nsec, xid, type, program, version, procedure, mainOp, dup, callFrame, time }. */
function messages(file, prefs, opNames) {
  const packets = JSON.parse(tshark(['-r', file, ...prefs, '-Y', 'rpc', '-T', 'json', '--no-duplicate-keys', '-j', 'frame rpc nfs']));
  const out = [];
  for (const p of packets) {
    const l = p._source.layers;
    const frame = Number(first(l.frame['frame.number']));
    const [s, frac = '0'] = first(l.frame['frame.time_epoch']).split('.');
    const rpcs = Array.isArray(l.rpc) ? l.rpc : [l.rpc];
    const nfss = Array.isArray(l.nfs) ? l.nfs : l.nfs ? [l.nfs] : [];
    rpcs.forEach((r, i) => {
      const program = Number(r['rpc.program']);
      const version = Number(first(r['rpc.programversion']));
      const procedure = Number(r['rpc.procedure']);
      // The NFS layer of this message: only when the frame holds a single message (none of the bundled ones holds more).
      const nfs = rpcs.length === 1 ? nfss[0] : undefined;
      const opcode = nfs?.['nfs.main_opcode'];
      out.push({
        frame,
        sec: BigInt(s),
        nsec: BigInt(frac.padEnd(9, '0').slice(0, 9)),
        xid: r['rpc.xid'],
        type: Number(r['rpc.msgtyp']),
        program,
        version,
        procedure,
        mainOp: program === 100003 && version === 4 && procedure === 1 && opcode !== undefined ? (opNames.get(Number(first(opcode))) ?? `op${first(opcode)}`) : null,
        dup: r['rpc.dup'] !== undefined || r['rpc.call.dup'] !== undefined,
        callFrame: r['rpc.repframe'] !== undefined ? Number(r['rpc.repframe']) : null,
        time: r['rpc.time'] !== undefined ? Number(r['rpc.time']) : null,
      });
    });
  }
  return out;
}

const nearest = (sorted, q) => sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1))];

function summary(calls, latencies) {
  const s = [...latencies].sort((a, b) => a - b);
  return s.length === 0
    ? { calls, answered: 0, p50: null, p99: null, max: null }
    : { calls, answered: s.length, p50: nearest(s, 0.5), p99: nearest(s, 0.99), max: s[s.length - 1] };
}

const opNames = mainOpNames();
for (const file of process.argv.slice(2)) {
  const version = tshark(['--version']).split('\n')[0];
  // Over RoCE tshark needs two passes (as in scripts/expected.mjs).
  const passes = tshark(['-r', file, '-Y', 'infiniband', '-T', 'fields', '-e', 'frame.number']).trim() !== '' ? ['-2'] : [];
  const union = new Map();
  for (const prefs of [PREFS, PREFS_IN_ORDER]) {
    for (const m of messages(file, [...passes, ...prefs], opNames)) union.set(`${m.frame}/${m.xid}/${m.type}`, m);
  }
  const all = [...union.values()];
  const callsByFrame = new Map(all.filter((m) => m.type === 0).map((m) => [`${m.frame}/${m.xid}`, m]));
  const opKey = (m) => `${m.program}/${m.version}/${m.procedure}${m.mainOp !== null ? `/${m.mainOp}` : ''}`;
  const out = { file: basename(file), generatedBy: `${version}, prefs ${PREFS.filter((p) => p !== '-o').join(' ')} and ${PREFS_IN_ORDER.filter((p) => p !== '-o').join(' ')}`, timelines: [] };
  for (const I of INTERVALS_NS) {
    const buckets = new Map();
    const bucket = (m) => {
      const idx = (m.sec * 1_000_000_000n + m.nsec) / I;
      let b = buckets.get(idx);
      if (b === undefined) {
        b = { calls: 0, lat: [], ops: new Map() };
        buckets.set(idx, b);
      }
      return b;
    };
    const op = (b, key) => {
      let o = b.ops.get(key);
      if (o === undefined) {
        o = { calls: 0, lat: [] };
        b.ops.set(key, o);
      }
      return o;
    };
    for (const m of all) {
      if (m.type === 0 && !m.dup) {
        const b = bucket(m);
        b.calls++;
        op(b, opKey(m)).calls++;
      } else if (m.type === 1 && m.time !== null && m.callFrame !== null && !m.dup) {
        const call = callsByFrame.get(`${m.callFrame}/${m.xid}`);
        if (call === undefined) continue;
        const b = bucket(m);
        b.lat.push(m.time);
        op(b, opKey(call)).lat.push(m.time);
      }
    }
    out.timelines.push({
      intervalNs: Number(I),
      buckets: [...buckets.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([idx, b]) => ({
          index: Number(idx),
          ...summary(b.calls, b.lat),
          ops: Object.fromEntries([...b.ops.entries()].sort().map(([k, o]) => [k, summary(o.calls, o.lat)])),
        })),
    });
  }
  const target = `${file}.timeline.json`;
  writeFileSync(target, JSON.stringify(out) + '\n');
  console.log(`${target}: ${all.length} messages`);
}
