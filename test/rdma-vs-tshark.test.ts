/**
 * NFS over RDMA on the two real captures (Linux 6.1 client and nfsd over
 * soft-RoCE, see their .notes): `nfsight calls` equals tshark's two-pass
 * decoding stored beside each capture (X.calls.jsonl: frame where the call
 * is complete, reply frame, xid, program, version, procedure, statuses,
 * rpc.time), and the RDMA facts equal what the notes count (from tshark's
 * dissection: opcodes, RPC-over-RDMA headers, CM exchange).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { mergeReports } from '../src/report/merge.js';
import { renderReportText } from '../src/report/render-text.js';
import { CAPTURES, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface TsharkCall {
  frame: number;
  replyFrame: number | null;
  xid: string;
  program: number;
  version: number;
  procedure: number;
  procName: string;
  status: string | null;
  rpcStatus: string | null;
  latency: number | null;
}

function tsharkCalls(name: string): TsharkCall[] {
  return readFileSync(join(CAPTURES, `${name}.calls.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TsharkCall);
}

function nfsightCalls(name: string): TsharkCall[] {
  const r = spawnSync(process.execPath, [CLI, 'calls', '--format', 'jsonl', join('captures', name)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TsharkCall);
}

/**
 * tshark decodes the NFS_ACL GETACL reply's status (nfs.status 0, "Status: OK (0)":
 * `tshark -2 -r captures/nfs-rdma-v3.pcap -Y frame.number==2331 -T fields -e nfs.status`),
 * but the listing extracted from it leaves NFS_ACL statuses out (null); nfsight names it.
 */
const STATUS_NOT_IN_LISTING: Record<string, Record<number, string>> = { 'nfs-rdma-v3.pcap': { 2327: 'NFS3_OK' } };

function compare(name: string): { equal: number; differences: string[] } {
  const ours = new Map(nfsightCalls(name).map((c) => [`${c.frame} ${c.xid}`, c]));
  const differences: string[] = [];
  let equal = 0;
  for (const t of tsharkCalls(name)) {
    const key = `${t.frame} ${t.xid}`;
    const o = ours.get(key);
    if (o === undefined) {
      differences.push(`missing call ${key} ${t.procName}`);
      continue;
    }
    ours.delete(key);
    const d: string[] = [];
    if (o.replyFrame !== t.replyFrame) d.push(`replyFrame ${o.replyFrame} vs ${t.replyFrame}`);
    if (o.program !== t.program || o.version !== t.version || o.procedure !== t.procedure) d.push(`procedure ${o.program}/${o.version}/${o.procedure}`);
    if (o.procName !== t.procName) d.push(`procName ${o.procName} vs ${t.procName}`);
    const status = STATUS_NOT_IN_LISTING[name]?.[t.frame] ?? t.status;
    if (o.status !== status) d.push(`status ${o.status} vs ${status}`);
    if (o.rpcStatus !== t.rpcStatus) d.push(`rpcStatus ${o.rpcStatus} vs ${t.rpcStatus}`);
    if (t.latency === null ? o.latency !== null : o.latency === null || Math.abs(o.latency - t.latency) > 2e-6) d.push(`latency ${o.latency} vs ${t.latency}`);
    if (d.length > 0) differences.push(`${key} ${t.procName}: ${d.join('; ')}`);
    else equal++;
  }
  for (const [key, o] of ours) differences.push(`extra call ${key} ${o.procName}`);
  return { equal, differences };
}

describe('NFS over RDMA: nfsight calls equal tshark -2', () => {
  it('nfs-rdma-v3.pcap: 49 of 49 calls (MOUNT over TCP, NFSv3 and NFS_ACL over RDMA)', () => {
    const { equal, differences } = compare('nfs-rdma-v3.pcap');
    expect(differences).toEqual([]);
    expect(equal).toBe(49);
  });

  it('nfs-rdma-refused.pcap: its 2 MOUNT calls', () => {
    const { equal, differences } = compare('nfs-rdma-refused.pcap');
    expect(differences).toEqual([]);
    expect(equal).toBe(2);
  });

  it('calls carry their transport', () => {
    const calls = nfsightCalls('nfs-rdma-v3.pcap') as (TsharkCall & { transport: string; server: string })[];
    expect(calls.filter((c) => c.transport === 'tcp').map((c) => c.frame)).toEqual([6, 10]);
    expect(calls.filter((c) => c.transport === 'rdma')).toHaveLength(47);
    // The port the CM ConnectRequest asked for (service id 0x0000000001064e51).
    expect(new Set(calls.filter((c) => c.transport === 'rdma').map((c) => c.server))).toEqual(new Set(['10.97.0.1:20049']));
  });
});

describe('NFS over RDMA: what the transport saw (nfs-rdma-v3.pcap.notes)', () => {
  it('BTH opcodes, CM exchange and RPC-over-RDMA headers as the notes count them', async () => {
    const r = await analyze(join(CAPTURES, 'nfs-rdma-v3.pcap'));
    const x = r.rdma;
    // "2634 BTH packets: RDMA WRITE First 113 / Middle 1822 / Last 113 / Only 5, RDMA READ Request 14,
    //  READ Response First 14 / Middle 228 / Last 14, SEND Only 72, SEND Only with Invalidate 22,
    //  Acknowledge 212, UD SEND Only 5 (CM: REQ, REP, RTU, DREQ, DREP)"
    expect(x.packets).toBe(2634);
    expect(x.opcodes).toEqual({
      'RC SEND Only': 72,
      'RC RDMA WRITE First': 113,
      'RC RDMA WRITE Middle': 1822,
      'RC RDMA WRITE Last': 113,
      'RC RDMA WRITE Only': 5,
      'RC RDMA READ Request': 14,
      'RC RDMA READ Response First': 14,
      'RC RDMA READ Response Middle': 228,
      'RC RDMA READ Response Last': 14,
      'RC Acknowledge': 212,
      'RC SEND Only with Invalidate': 22,
      'UD SEND Only': 5,
    });
    expect(x.cm).toEqual({ requests: 1, replies: 1, rejects: 0, readyToUse: 1, disconnectRequests: 1, disconnectReplies: 1 });
    // "94 RPC-over-RDMA headers: RDMA_MSG 92, RDMA_NOMSG 2; read list in 2, write list in 40, reply chunk in 4."
    expect(x.messages).toMatchObject({ RDMA_MSG: 92, RDMA_NOMSG: 2, RDMA_MSGP: 0, RDMA_DONE: 0, RDMA_ERROR: 0, withReadList: 2, withWriteList: 40, withReplyChunk: 4, notRpcRdma: 0 });
    expect(x.psnGaps + x.retransmittedPackets + x.rnrNaks).toBe(0);
    expect(r.rpc).toMatchObject({ calls: 49, replies: 49, matched: 49, unanswered: 0, invalidMessages: 0 });
    expect(r.findings).toEqual([]);
  });

  it('the queue-pair connection: CM parameters, RFC 8797 private data, credits, bytes moved', async () => {
    const x = (await analyze(join(CAPTURES, 'nfs-rdma-v3.pcap'))).rdma;
    expect(x.connections).toHaveLength(1);
    const c = x.connections[0]!;
    // ConnectRequest frame 15: Local QPN 0x11, path MTU 3 (1024), IP CM source port 0x8018,
    // private data f6ab0e18 01 01 03 03; ConnectReply frame 16: QPN 0x11, f6ab0e18 01 00 03 03;
    // DisconnectRequest frame 2647.
    expect(c).toMatchObject({
      client: '10.97.0.2:32792',
      server: '10.97.0.1:20049',
      clientQp: '0x11',
      serverQp: '0x11',
      cmSeen: true,
      pathMtu: 1024,
      clientPrivate: { version: 1, remoteInvalidate: true, inlineSend: 4096, inlineRecv: 4096 },
      serverPrivate: { version: 1, remoteInvalidate: false, inlineSend: 4096, inlineRecv: 4096 },
      calls: 47,
      replies: 47,
      // Flow control: 128 in the calls, 64 in the replies (tshark's rpcordma.flow_control).
      creditsRequested: 128,
      creditsGranted: 64,
      creditsExhausted: 0,
      sends: 94,
    });
    expect(c.first.frame).toBe(15);
    expect(c.disconnect?.frame).toBe(2647);
    // 19 READs of 2 MiB plus the 65-byte one through write chunks; two 128 KiB WRITEs pulled by
    // RDMA READ; the READDIRPLUS (744 bytes) and GETACL (136 bytes) replies in reply chunks, as
    // tshark reassembles them ("3 Reassembled RPCoRDMA fragments (744 bytes)", "(136 bytes)").
    expect(x.bytesMoved).toEqual({
      rdmaWrite: 2 * 1024 * 1024 + 65 + 744 + 136,
      rdmaRead: 2 * 128 * 1024,
      readChunks: 2 * 128 * 1024,
      writeChunks: 2 * 1024 * 1024 + 65,
      replyChunks: 744 + 136,
      unknownChunks: 0,
    });
    const op = (name: string) => x.operations.find((o) => o.name === name && o.program === 100003)!;
    expect(op('READ')).toMatchObject({ calls: 20, callsWriteList: 20, repliesWriteChunk: 20, writeChunkBytes: 2 * 1024 * 1024 + 65 });
    expect(op('WRITE')).toMatchObject({ calls: 3, callsInline: 1, callsReadChunk: 2, readChunkBytes: 2 * 128 * 1024 });
    expect(op('READDIRPLUS')).toMatchObject({ calls: 1, callsReplyChunk: 1, repliesReplyChunk: 1, replyChunkBytes: 744 });
  });

  it('decodes the RPC messages rebuilt from chunks: READ counts, WRITE counts, READDIRPLUS entries', async () => {
    const seen = new Map<number, { readBytes?: number; writeBytes?: number; names?: string[]; stop?: string }>();
    await analyze(join(CAPTURES, 'nfs-rdma-v3.pcap'), {
      onTransaction: (t) => {
        const reply = t.decoded?.reply;
        const call = t.decoded?.call;
        seen.set(t.call.frame.number, {
          ...(reply?.readBytes !== undefined ? { readBytes: reply.readBytes } : {}),
          ...(reply?.writeBytes !== undefined ? { writeBytes: reply.writeBytes } : {}),
          ...((reply?.results as { names?: string[] } | undefined)?.names !== undefined ? { names: (reply!.results as { names: string[] }).names } : {}),
          ...(call?.stop !== undefined || reply?.stop !== undefined ? { stop: `${call?.stop?.reason}/${reply?.stop?.reason}` } : {}),
        });
      },
    });
    // tshark: READ Reply Len: 65 (frame 76), 16384 (frame 104); WRITE Len: 131072 (frames 2623, 2625);
    // READDIRPLUS reply (frame 59) lists . .. big2.bin dir1 hello.txt.
    expect(seen.get(72)?.readBytes).toBe(65);
    expect(seen.get(86)?.readBytes).toBe(16384);
    expect(seen.get(2492)?.writeBytes).toBe(131072);
    expect(seen.get(2622)?.writeBytes).toBe(131072);
    expect(seen.get(54)?.names).toEqual(['.', '..', 'big2.bin', 'dir1', 'hello.txt']);
    expect([...seen.entries()].filter(([, v]) => v.stop !== undefined)).toEqual([]);
  });
});

/** The capture as tcpdump -s `snaplen` would have written it: each frame's captured bytes cut to `snaplen` (classic little-endian pcap). */
function cutBySnaplen(file: string, snaplen: number): Buffer {
  const src = readFileSync(file);
  const parts: Buffer[] = [Buffer.from(src.subarray(0, 24))];
  parts[0]!.writeUInt32LE(snaplen, 16);
  for (let at = 24; at + 16 <= src.length; ) {
    const incl = src.readUInt32LE(at + 8);
    const keep = Math.min(incl, snaplen);
    const head = Buffer.from(src.subarray(at, at + 16));
    head.writeUInt32LE(keep, 8);
    parts.push(head, src.subarray(at + 16, at + 16 + keep));
    at += 16 + incl;
  }
  return Buffer.concat(parts);
}

describe('NFS over RDMA cut by a snaplen', () => {
  it('nfs-rdma-v3.pcap at -s 100: every frame read, the RPC-over-RDMA headers counted as cut where their RPC call is, no read error', async () => {
    const dir = tempDir();
    const file = join(dir, 'rdma-s100.pcap');
    writeFileSync(file, cutBySnaplen(join(CAPTURES, 'nfs-rdma-v3.pcap'), 100));
    const diagnostics: string[] = [];
    const r = await analyze(file, { onDiagnostic: (d) => diagnostics.push(`${d.code}: ${d.message}`) });
    // tshark: 2648 frames, 2634 of them RoCEv2 (BTH over UDP 4791).
    expect(r.capture.frames).toBe(2648);
    expect(r.capture.files[0]).toMatchObject({ frames: 2648, truncated: false, failed: false });
    expect(diagnostics).toEqual([]);
    expect(r.rdma.packets).toBe(2634);
    // The 94 RPC-over-RDMA headers (RDMA_MSG 92, RDMA_NOMSG 2, as uncut), each either whole in 100 bytes or counted as cut.
    const m = r.rdma.messages;
    expect(m.RDMA_MSG + m.RDMA_NOMSG + m.truncatedHeaders).toBe(94);
    expect(m.truncatedHeaders).toBeGreaterThan(0);
    // The MOUNT calls over TCP (frames 6 and 10, 60 and 84 bytes of RPC) still decode: tshark's first two calls.
    expect(r.rpc.calls).toBeGreaterThanOrEqual(2);
  });
});

describe('the refused NFS/RDMA mount (nfs-rdma-refused.pcap)', () => {
  it('a warning finding names port 20049 and the CM reject reason', async () => {
    const r = await analyze(join(CAPTURES, 'nfs-rdma-refused.pcap'));
    const f = r.findings.filter((x) => x.kind === 'rdma-connection');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'warning', client: '10.97.0.2', server: '10.97.0.1:20049', count: 2 });
    expect(f[0]!.title).toContain('20049');
    expect(f[0]!.title).toContain('Invalid Service ID');
    expect(f[0]!.explanation).toContain('/proc/fs/nfsd/portlist');
    expect(f[0]!.metrics).toMatchObject({ port: 20049, rejectReason: 8 });
    // ConnectRequest 3 → ConnectReject 4, ConnectRequest 17 → ConnectReject 18 (the notes).
    expect(f[0]!.evidence.map((e) => e.frame)).toEqual([3, 4, 17, 18]);
    expect(r.rdma.rejected.map((j) => [j.requestFrame, j.frame, j.reason, j.port, j.client])).toEqual([
      [3, 4, 8, 20049, '10.97.0.2:37875'], // IP CM source port 0x93f3
      [17, 18, 8, 20049, '10.97.0.2:58955'], // 0xe64b
    ]);
    expect(r.rdma.connections).toEqual([]);
    expect(r.rpc).toMatchObject({ calls: 2, matched: 2 });
  });
});

/** A copy of a little-endian classic pcap with frame `n` (1-based) written twice in a row. */
function withFrameTwice(name: string, n: number): string {
  const bytes = readFileSync(join(CAPTURES, name));
  let at = 24;
  for (let i = 1; i < n; i++) at += 16 + bytes.readUInt32LE(at + 8);
  const end = at + 16 + bytes.readUInt32LE(at + 8);
  const file = join(tempDir(), `${name}.twice-${n}.pcap`);
  writeFileSync(file, Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]));
  return file;
}

describe('the connection manager resends a MAD whose answer it missed', () => {
  it('a ConnectReply twice: one connection, every call answered on it', async () => {
    const plain = await analyze(join(CAPTURES, 'nfs-rdma-v3.pcap'));
    // Frame 16 is the ConnectReply (the notes); a copy after it, as the CM resends it before the ReadyToUse.
    const r = await analyze(withFrameTwice('nfs-rdma-v3.pcap', 16));
    expect(r.rdma.cm).toEqual({ ...plain.rdma.cm, replies: plain.rdma.cm.replies + 1 });
    expect(r.rdma.connections).toHaveLength(plain.rdma.connections.length);
    expect(r.rpc).toMatchObject({ calls: 49, matched: 49, unanswered: 0, repliesWithoutCall: 0, truncatedMessages: 0 });
    expect(r.findings.map((f) => f.kind)).toEqual(plain.findings.map((f) => f.kind));
  });

  it('a ConnectReject twice: still one rejection per request, no reject without its request', async () => {
    const plain = await analyze(join(CAPTURES, 'nfs-rdma-refused.pcap'));
    const r = await analyze(withFrameTwice('nfs-rdma-refused.pcap', 4));
    expect(r.rdma.cm).toEqual({ ...plain.rdma.cm, rejects: plain.rdma.cm.rejects + 1 });
    // Frames after the copy move by one.
    expect(r.rdma.rejected.map((j) => [j.requestFrame, j.frame, j.port])).toEqual([
      [3, 4, 20049],
      [18, 19, 20049],
    ]);
    const f = r.findings.filter((x) => x.kind === 'rdma-connection');
    expect(f).toHaveLength(1);
    expect(f[0]!.count).toBe(2);
  });
});

describe('the rdma section in the text report and in merged reports', () => {
  it('the text report shows what moved over RDMA, within 80 columns', async () => {
    const r = await analyze(join(CAPTURES, 'nfs-rdma-v3.pcap'));
    const text = renderReportText(r, { width: 80, top: 20 });
    const lines = text.split('\n');
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(80);
    const at = lines.indexOf('NFS over RDMA');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 6).map((l) => l.replace(/ +/g, ' ').trim())).toEqual([
      'RoCE packets 2,634 (2.3 MiB)',
      'queue-pair connections 1; CM: 1 requests, 1 accepted, 0 rejected',
      'RPC-over-RDMA messages RDMA_MSG 92, RDMA_NOMSG 2',
      'moved by RDMA WRITE 2.0 MiB (write chunks 2.0 MiB, reply chunks 880 B)',
      'moved by RDMA READ 256.0 KiB (read chunks 256.0 KiB)',
    ]);
    expect(text).toContain('NFSACL GETACL');
    // No RoCE, no section.
    expect(renderReportText(await analyze(join(CAPTURES, 'nfsv3-errors.pcap')), { width: 80 })).not.toContain('NFS over RDMA');
  });

  it('merging adds the rdma sections', async () => {
    const v3 = JSON.parse(JSON.stringify(await analyze(join(CAPTURES, 'nfs-rdma-v3.pcap'))));
    const refused = JSON.parse(JSON.stringify(await analyze(join(CAPTURES, 'nfs-rdma-refused.pcap'))));
    const m = mergeReports([v3, refused, v3]);
    expect(m.rdma.packets).toBe(2634 * 2 + 4);
    expect(m.rdma.cm).toMatchObject({ requests: 4, replies: 2, rejects: 2 });
    expect(m.rdma.connections).toHaveLength(2);
    expect(m.rdma.rejected.map((j) => j.frame)).toEqual([4, 18]);
    expect(m.rdma.operations.find((o) => o.name === 'READ')).toMatchObject({ calls: 40, writeChunkBytes: 2 * (2 * 1024 * 1024 + 65) });
    expect(m.rdma.bytesMoved.rdmaRead).toBe(4 * 128 * 1024);
  });
});
