// What tshark decodes of a capture, for nfsight's expected values
// (scripts/expected.mjs) and the check against the full reference captures
// (scripts/check-shared.mjs). Needs tshark on the PATH.
import { execFileSync } from 'node:child_process';

/** The preferences the reference decodes with. */
export const PREFS = ['-o', 'tcp.try_heuristic_first:TRUE', '-o', 'tcp.reassemble_out_of_order:TRUE'];
/** tshark's default TCP reassembly (no out-of-order), heuristics first. */
export const PREFS_IN_ORDER = ['-o', 'tcp.try_heuristic_first:TRUE'];

export function tshark(args) {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
}

const RPC_FIELDS = ['frame.number', 'rpc.xid', 'rpc.msgtyp', 'rpc.program', 'rpc.programversion', 'rpc.procedure', 'rpc.repframe', 'rpc.time'];

/**
 * Every RPC message tshark decodes, one row per message:
 * [frame, xid, msgtype, program, version, procedure, callFrame (replies), rpc.time (replies)].
 * Several messages in one frame come comma-joined; rpc.programversion shows
 * twice per message (the header field and a generated copy).
 */
export function rpcMessages(file, prefs) {
  const rows = [];
  const lines = tshark(['-r', file, ...prefs, '-Y', 'rpc', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', ...RPC_FIELDS.flatMap((f) => ['-e', f])])
    .split('\n')
    .filter(Boolean);
  for (const line of lines) {
    const [frame, xids, types, progs, versRaw, procs, repframes, times] = line.split('\t').map((c) => (c === '' ? [] : c.split(',')));
    const n = xids.length;
    const vers = versRaw.length === 2 * n ? versRaw.filter((_, i) => i % 2 === 0) : versRaw;
    let reply = 0;
    for (let i = 0; i < n; i++) {
      const isReply = types[i] === '1';
      rows.push([
        Number(frame[0]),
        xids[i],
        Number(types[i]),
        Number(progs[i]),
        Number(vers[i]),
        Number(procs[i]),
        isReply && repframes[reply] !== undefined ? Number(repframes[reply]) : null,
        isReply && times[reply] !== undefined ? times[reply] : null,
      ]);
      if (isReply) reply++;
    }
  }
  return rows;
}

const NFS_FIELDS = [
  ['frame.number', 'frame'],
  ['rpc.xid', 'xids'],
  ['rpc.msgtyp', 'msgtype'],
  ['nfs.status', 'nfsStatus'],
  ['nfs.status2', 'nfsstat2'],
  ['mount.status', 'mountstat'],
  ['nfs.minorversion', 'minorversion'],
  ['nfs.main_opcode', 'mainOpcode'],
  ['nfs.opcode', 'ops'],
  ['nfs.nfsstat4', 'nfsstat4'],
  ['nfs.cb.operation', 'cbOps'],
  ['nfs.read.data_length', 'readLength'],
  ['nfs.write.data_length', 'writeLength'],
  ['nfs.count3', 'count3'],
  ['nlm.stat', 'nlmStat'],
  ['stat.stat_res.res', 'statRes'],
];

/**
 * NFS-level fields of every frame that carries exactly one RPC message (with
 * several, tshark's comma-joined lists cannot be split per message): an
 * object per frame with the fields present, lists where tshark repeats a
 * field (NFSv4 ops and their statuses).
 */
export function nfsFields(file, prefs) {
  const out = {};
  const lines = tshark(['-r', file, ...prefs, '-Y', 'rpc', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', ...NFS_FIELDS.flatMap(([f]) => ['-e', f])])
    .split('\n')
    .filter(Boolean);
  for (const line of lines) {
    const cols = line.split('\t');
    const row = {};
    NFS_FIELDS.forEach(([, key], i) => {
      const v = cols[i] ?? '';
      if (v !== '') row[key] = v.split(',').map((x) => (/^-?\d+$/.test(x) ? Number(x) : x));
    });
    if (!row.xids || row.xids.length !== 1) continue;
    const frame = row.frame[0];
    delete row.frame;
    delete row.xids;
    // Single values stay lists only where tshark repeats the field per operation.
    for (const k of Object.keys(row)) if (!['ops', 'nfsstat4', 'cbOps'].includes(k) && row[k].length === 1) row[k] = row[k][0];
    out[frame] = row;
  }
  return out;
}

/** The protocols whose direct fields say a reply's status (PDML, `-j`: each listed protocol's own fields), and the TCP/UDP stream. */
const PDML_PROTOCOLS = 'tcp udp rpc nfs nfs.cb mount nfsacl portmap nlm stat';
/**
 * The status field of each program's results, as a direct field of the
 * program's protocol layer: nfsstat3 (NFSv3, NFS_ACL), nfsstat2, the COMPOUND's
 * nfsstat4 (the first: the ops' statuses sit deeper), mountstat3, nlm4_stats,
 * the NSM result. A reply without one (void results, portmap) has no status.
 */
const STATUS_FIELDS = new Set(['nfs.status', 'nfs.status2', 'nfs.status3', 'nfs.nfsstat4', 'mount.status', 'nlm.stat', 'stat.stat_res.res']);

/**
 * Every RPC message tshark decodes, from its PDML (which, unlike -T fields,
 * keeps the messages of one frame apart): per message
 * { frame, stream, xid, type, program, version, procedure, callFrame, time, status }
 * (stream: `tcp N` or `udp N`; callFrame and time for replies tshark matched
 * to a call; status the program's status code, or null where the reply has none).
 */
export function rpcMessagesPdml(file, prefs) {
  const pdml = tshark(['-r', file, ...prefs, '-Y', 'rpc', '-T', 'pdml', '-j', PDML_PROTOCOLS]);
  const out = [];
  let frame = 0;
  let stream = '';
  let msg;
  let proto = '';
  for (const line of pdml.split('\n')) {
    const p = /^\s*<proto name="([^"]*)"/.exec(line);
    if (p) {
      proto = p[1];
      if (proto === 'rpc') {
        msg = { frame, stream, xid: '', type: -1, program: -1, version: -1, procedure: -1, callFrame: null, time: null, status: null };
        out.push(msg);
      }
      continue;
    }
    const field = /^\s*<field name="([^"]+)"[^>]*? show="([^"]*)"/.exec(line);
    if (!field) continue;
    const [, name, show] = field;
    if (name === 'num') {
      frame = Number(show);
      stream = '';
      msg = undefined;
      continue;
    }
    if (name === 'tcp.stream' || name === 'udp.stream') {
      stream = `${name.slice(0, 3)} ${show}`;
      continue;
    }
    if (msg === undefined) continue;
    if (proto === 'rpc') {
      if (name === 'rpc.xid') msg.xid = show;
      else if (name === 'rpc.msgtyp') msg.type = Number(show);
      else if (name === 'rpc.program') msg.program = Number(show);
      else if (name === 'rpc.programversion' && msg.version < 0) msg.version = Number(show);
      else if (name === 'rpc.procedure') msg.procedure = Number(show);
      else if (name === 'rpc.repframe') msg.callFrame = Number(show);
      else if (name === 'rpc.time') msg.time = show;
    } else if (STATUS_FIELDS.has(name) && msg.status === null && msg.type === 1) {
      msg.status = Number(show);
    }
  }
  return out;
}

/** The calls of one decoding, each with the reply tshark matched to it. */
function callsOf(msgs) {
  const calls = new Map();
  for (const m of msgs) {
    if (m.type !== 0) continue;
    calls.set(`${m.frame} ${m.xid}`, { frame: m.frame, stream: m.stream, xid: m.xid, program: m.program, version: m.version, procedure: m.procedure, replyFrame: null, time: null, status: null });
  }
  for (const m of msgs) {
    if (m.type !== 1 || m.callFrame === null) continue;
    const c = calls.get(`${m.callFrame} ${m.xid}`);
    if (c === undefined || c.replyFrame !== null) continue;
    c.replyFrame = m.frame;
    c.time = m.time;
    c.status = m.status;
  }
  return [...calls.values()];
}

/**
 * The calls tshark decodes of a capture, one per call message (a client's
 * retransmission is a call of its own, unanswered: tshark matches the reply
 * to the first), with the reply tshark matched and its status:
 * { frame, xid, program, version, procedure, replyFrame, time, status }.
 *
 * tshark decodes with out-of-order reassembly off (its default) and on; each
 * loses messages the other finds (../shared/README.md), and where bytes came
 * late they may show the same message in different frames: with it on, every
 * message that waited behind a hole is shown in the frame that filled the
 * hole; with it off, a message that did not span the hole is shown in the
 * frame of its own last byte, and one that spanned it is not shown. The
 * reference is the reading without, completed by the reading with: a call
 * (per TCP/UDP stream and xid) only the latter shows, and replies only the
 * latter shows to a call shown in the same frame by both. `differing` lists
 * the calls both show in different frames (with the reading used first).
 * `extra`: options before the preferences (`-2` for RoCE captures).
 */
export function tsharkCalls(file, extra = []) {
  const inOrder = callsOf(rpcMessagesPdml(file, [...extra, ...PREFS_IN_ORDER]));
  const outOfOrder = callsOf(rpcMessagesPdml(file, [...extra, ...PREFS]));
  const byXid = new Map();
  for (const c of inOrder) {
    const k = `${c.stream} ${c.xid}`;
    byXid.set(k, [...(byXid.get(k) ?? []), c]);
  }
  const calls = [...inOrder];
  const differing = [];
  for (const c of outOfOrder) {
    const same = byXid.get(`${c.stream} ${c.xid}`);
    if (same === undefined) {
      calls.push(c);
      continue;
    }
    const here = same.find((x) => x.frame === c.frame);
    if (here === undefined) differing.push({ used: same.map((x) => x.frame), outOfOrder: c.frame, xid: c.xid });
    else if (here.replyFrame === null && c.replyFrame !== null) Object.assign(here, { replyFrame: c.replyFrame, time: c.time, status: c.status });
  }
  for (const c of calls) delete c.stream;
  calls.sort((a, b) => a.frame - b.frame || (a.xid < b.xid ? -1 : 1));
  return { calls, differing };
}
