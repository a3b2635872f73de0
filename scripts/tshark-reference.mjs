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
