#!/usr/bin/env node
// Writes X.expected.json beside each capture X: what tshark decodes of it,
// the reference the tests compare nfsight's figures with. Needs tshark;
// `npm test` only reads the JSON files.
//
//   node scripts/expected.mjs captures/*.pcap captures/*.pcapng
import { execFileSync } from 'node:child_process';
import { PREFS, PREFS_IN_ORDER, nfsFields, rpcMessages, tshark, tsharkCalls } from './tshark-reference.mjs';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const FIELDS = [
  'frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len',
  'tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport',
  'tcp.seq_raw', 'tcp.len', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.reset', 'tcp.flags.fin',
  'tcp.analysis.retransmission', 'tcp.analysis.out_of_order', 'tcp.analysis.lost_segment',
  'tcp.analysis.zero_window', 'tcp.analysis.duplicate_ack', 'udp.srcport',
  'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission',
  'tcp.analysis.keep_alive', 'tcp.analysis.ack_lost_segment',
];
// The tcp.analysis flags whose frames are listed in tcp.framesByFlag (the first
// five are also counted in tcp.flags).
const COUNTED_FLAGS = ['retransmission', 'out_of_order', 'lost_segment', 'zero_window', 'duplicate_ack'];
const LISTED_FLAGS = [...COUNTED_FLAGS, 'fast_retransmission', 'spurious_retransmission', 'keep_alive', 'ack_lost_segment'];


function splitTime(epoch) {
  const [s, frac = '0'] = epoch.split('.');
  return { sec: Number(s), nsec: Number(frac.padEnd(9, '0').slice(0, 9)) };
}

const U32 = 2 ** 32;
const mod32 = (x) => ((x % U32) + U32) % U32;

for (const file of process.argv.slice(2)) {
  const version = tshark(['--version']).split('\n')[0];
  const encap = execFileSync('capinfos', ['-E', '-T', '-r', file], { encoding: 'utf8' }).trim().split('\t').pop();
  const lines = tshark(['-r', file, ...PREFS, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])])
    .split('\n')
    .filter(Boolean);
  const out = {
    file: basename(file),
    generatedBy: `${version}, prefs ${PREFS.filter((p) => p !== '-o').join(' ')}`,
    encapsulation: encap,
    frames: 0,
    wireBytes: 0,
    capturedBytes: 0,
    framesCutBySnaplen: 0,
    first: null,
    last: null,
    udpDatagrams: 0,
    tcp: {
      segments: 0,
      flags: { retransmission: 0, out_of_order: 0, lost_segment: 0, zero_window: 0, duplicate_ack: 0, rst: 0 },
      streams: [],
      // Frame numbers tshark flags tcp.analysis.<flag>, in order.
      framesByFlag: Object.fromEntries(LISTED_FLAGS.map((k) => [k, []])),
      // Frames with the RST flag (tcp.flags.reset == 1), in order.
      rstFrames: [],
    },
  };
  const streams = new Map();
  for (const line of lines) {
    const v = line.split('\t');
    const get = (name) => v[FIELDS.indexOf(name)] ?? '';
    out.frames++;
    const len = Number(get('frame.len'));
    const cap = Number(get('frame.cap_len'));
    out.wireBytes += len;
    out.capturedBytes += cap;
    if (cap < len) out.framesCutBySnaplen++;
    const t = { frame: Number(get('frame.number')), ...splitTime(get('frame.time_epoch')) };
    out.first ??= t;
    out.last = t;
    if (get('udp.srcport') !== '') out.udpDatagrams++;
    const id = get('tcp.stream');
    if (id === '') continue;
    out.tcp.segments++;
    for (const k of COUNTED_FLAGS) {
      if (get(`tcp.analysis.${k}`) !== '') out.tcp.flags[k]++;
    }
    for (const k of LISTED_FLAGS) {
      if (get(`tcp.analysis.${k}`) !== '') out.tcp.framesByFlag[k].push(t.frame);
    }
    const src = `${get('ip.src') || get('ipv6.src')}:${get('tcp.srcport')}`;
    const dst = `${get('ip.dst') || get('ipv6.dst')}:${get('tcp.dstport')}`;
    const syn = get('tcp.flags.syn') === '1' || get('tcp.flags.syn') === 'True';
    const ack = get('tcp.flags.ack') === '1' || get('tcp.flags.ack') === 'True';
    const rst = get('tcp.flags.reset') === '1' || get('tcp.flags.reset') === 'True';
    if (rst) {
      out.tcp.flags.rst++;
      out.tcp.rstFrames.push(t.frame);
    }
    let s = streams.get(id);
    if (!s) {
      // Side A: the SYN sender when the handshake is seen, else the first sender.
      s = { id: Number(id), a: src, b: dst, synSeen: syn && !ack, dirs: {} };
      streams.set(id, s);
    }
    const seq = Number(get('tcp.seq_raw'));
    const plen = Number(get('tcp.len'));
    let d = s.dirs[src];
    if (!d) {
      d = { base: syn ? mod32(seq + 1) : seq, end: 0 };
      s.dirs[src] = d;
    }
    if (plen > 0) {
      const rel = mod32(seq - d.base);
      // Data before the first byte seen in this direction is not counted (mid-stream start).
      if (rel < U32 / 2) d.end = Math.max(d.end, rel + plen);
    }
  }
  for (const s of streams.values()) {
    out.tcp.streams.push({
      id: s.id,
      a: s.a,
      b: s.b,
      handshakeSeen: s.synSeen,
      // Stream length per direction: bytes from the first sequence number to the highest byte sent.
      bytesAtoB: s.dirs[s.a]?.end ?? 0,
      bytesBtoA: s.dirs[s.b]?.end ?? 0,
    });
  }
  // RPC as tshark decodes it with the prescribed preferences, and (where it
  // differs) with out-of-order reassembly off, tshark's default. Over RoCE,
  // tshark needs two passes: its single pass dissects the RPC messages it
  // reassembles from RDMA chunks twice (READ replies show up twice, malformed).
  const passes = tshark(['-r', file, '-Y', 'infiniband', '-T', 'fields', '-e', 'frame.number']).trim() !== '' ? ['-2'] : [];
  out.rpc = { messages: rpcMessages(file, [...passes, ...PREFS]) };
  const inOrderOnly = rpcMessages(file, [...passes, ...PREFS_IN_ORDER]);
  if (JSON.stringify(inOrderOnly) !== JSON.stringify(out.rpc.messages)) out.rpc.messagesWithoutOutOfOrderReassembly = inOrderOnly;
  if (passes.length > 0) out.rpc.twoPass = true;
  // NFS, MOUNT, NLM and NSM fields per frame with one RPC message (frames with several are left out).
  out.nfs = nfsFields(file, [...passes, ...PREFS]);
  // Every call tshark decodes (either preference), with its reply, rpc.time and status (scripts/compare-calls.mjs).
  out.calls = tsharkCalls(file, passes).calls;
  const target = `${file}.expected.json`;
  writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
  console.log(`${target}: ${out.frames} frames, ${out.tcp.streams.length} TCP streams`);
}
