/**
 * NFS over RDMA on generated RoCE captures (test/gen/roce-scenarios.ts),
 * for what the two real captures lack. The frames of every call and reply
 * are known by construction; where tshark decodes the capture, `tshark -2`
 * shows the same frames (checked when the scenarios were written, its
 * reading quoted in each test).
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { callFilter, callRow } from '../src/report/calls.js';
import type { Report } from '../src/report/model.js';
import type { Transaction } from '../src/rpc/transaction.js';
import {
  chunkedReadWrite,
  credits,
  lossAndNaks,
  msgpDoneError,
  multiPacketSends,
  nfs4Read,
  nfs4ReadThenGetattr,
  nfs4WriteAndCallback,
  positionZeroAndReplyChunk,
  rejected,
  type Scenario,
} from './gen/roce-scenarios.js';
import { tempDir, writeTemp } from './helpers.js';

interface Run {
  report: Report;
  /** [xid, call frame, reply frame] in call-frame order. */
  calls: [number, number, number | null][];
  byXid: Map<number, Transaction>;
}

async function run(s: Scenario, name: string): Promise<Run> {
  const file = writeTemp(tempDir(), `${name}.pcap`, s.pcap);
  const byXid = new Map<number, Transaction>();
  const report = await analyze(file, { onTransaction: (t) => byXid.set(t.xid, { ...t, decoded: t.decoded }) });
  const calls = [...byXid.values()]
    .map((t): [number, number, number | null] => [t.xid, t.call.frame.number, t.reply?.frame.number ?? null])
    .sort((a, b) => a[1] - b[1]);
  return { report, calls, byXid };
}

const expected = (s: Scenario): [number, number, number | null][] =>
  s.calls.map((c): [number, number, number | null] => [c.xid, c.frame, c.replyFrame]).sort((a, b) => a[1] - b[1]);

const results = (t: Transaction | undefined): Record<string, unknown> => (t?.decoded?.reply?.results ?? {}) as Record<string, unknown>;

describe('SEND messages of several packets (path MTU 256)', () => {
  /*
   * tshark -2: GETATTR Call 5 (Send First 4), Reply 7; READDIRPLUS Call 9,
   * Reply 13 (Send First 10, Middle 11, 12) "alpha beta gamma delta"; WRITE
   * Call 16 (Send First 14, Middle 15) "Len: 600", Reply 17.
   */
  it('RoCEv2: each message is complete, and shown, in its last packet', async () => {
    const s = multiPacketSends();
    const r = await run(s, 'multi');
    expect(r.calls).toEqual([
      [0x101, 5, 7],
      [0x102, 9, 13],
      [0x103, 16, 17],
    ]);
    expect(r.calls).toEqual(expected(s));
    expect(r.byXid.get(0x101)!.call.firstFrame.number).toBe(4);
    expect(results(r.byXid.get(0x102))['names']).toEqual(['alpha', 'beta', 'gamma', 'delta']);
    expect(r.byXid.get(0x103)!.decoded?.reply?.writeBytes).toBe(600);
    expect(r.report.rdma.opcodes).toMatchObject({ 'RC SEND First': 3, 'RC SEND Middle': 3, 'RC SEND Last': 3 });
    expect(r.report.rdma.connections[0]).toMatchObject({ cmSeen: true, pathMtu: 256, sends: 6, calls: 3, replies: 3 });
    expect(r.report.rdma.cm).toMatchObject({ requests: 1, replies: 1, readyToUse: 1, disconnectRequests: 1, disconnectReplies: 1 });
    expect(r.report.findings).toEqual([]);
  });

  it('RoCEv1 (Ethernet 0x8915, GRH): the same calls, hosts named by their IPv4-mapped GIDs', async () => {
    const s = multiPacketSends({ v1: true });
    const r = await run(s, 'multi-v1');
    expect(r.calls).toEqual(expected(s));
    expect(r.report.rdma.roceV1Packets).toBe(20);
    expect(r.report.rdma.connections[0]).toMatchObject({ client: '10.0.0.2:40000', server: '10.0.0.1:20049' });
    expect(r.report.udp.datagrams).toBe(0);
  });

  /*
   * Without the CM exchange tshark -2 decodes the calls (frames 2, 6, 13) but
   * matches no reply (its RDMA conversations need the CM); nfsight pairs the
   * two directions from the traffic.
   */
  it('without the CM exchange: the directions are paired from the traffic, ports unknown (0)', async () => {
    const s = multiPacketSends({}, false);
    const r = await run(s, 'multi-nocm');
    expect(r.calls).toEqual([
      [0x101, 2, 4],
      [0x102, 6, 10],
      [0x103, 13, 14],
    ]);
    expect(r.report.rdma.connections).toHaveLength(1);
    expect(r.report.rdma.connections[0]).toMatchObject({ cmSeen: false, client: '10.0.0.2:0', server: '10.0.0.1:0', clientQp: '0x11', serverQp: '0x12' });
  });
});

describe('RDMA_MSGP, RDMA_DONE, RDMA_ERROR', () => {
  /*
   * tshark -2: GETATTR Call 4 (RDMA_MSGP) Reply 5; 6 "RDMA_DONE XID 0x201";
   * READ Call 7 (0.000599385), 8 "RDMA_ERROR XID 0x202" (0.000699282) "Error
   * code: ERR_CHUNK (2)"; GETATTR Call 9 (0.000799179), 10 "RDMA_ERROR XID
   * 0x203" (0.000899077) "Error code: ERR_VERS (1)", versions 1-1. tshark's RPC
   * layer leaves calls 7 and 9 without a reply; the RDMA_ERROR answers them.
   */
  it('MSGP carries its RPC message; a call answered with RDMA_ERROR is answered and failed with the error, not unanswered', async () => {
    const s = msgpDoneError();
    const r = await run(s, 'msgp');
    expect(r.calls).toEqual([
      [0x201, 4, 5],
      [0x202, 7, 8],
      [0x203, 9, 10],
    ]);
    expect(r.calls).toEqual(expected(s));
    expect(r.byXid.get(0x201)!.decoded?.reply?.status).toBe('NFS3_OK');
    expect(r.report.rdma.messages).toMatchObject({ RDMA_MSG: 3, RDMA_MSGP: 1, RDMA_DONE: 1, RDMA_ERROR: 2 });
    expect(r.report.rdma.rpcRdmaErrors).toBe(2);
    const rows = [0x202, 0x203].map((x) => callRow(r.byXid.get(x)!, 'msgp.pcap'));
    expect(rows.map((c) => [c.xid, c.frame, c.replyFrame, c.rpcStatus, c.status, c.latency, c.replyBytes])).toEqual([
      ['0x00000202', 7, 8, 'ERR_CHUNK', null, 0.000099897, 0],
      ['0x00000203', 9, 10, 'ERR_VERS', null, 0.000099898, 0],
    ]);
    expect(callFilter({ status: 'err_chunk' })(rows[0]!)).toBe(true);
    expect(callFilter({ unanswered: true })(rows[0]!)).toBe(false);
    // Counted answered (3 of 3; 1 RPC reply message), failed: in the error table, never unanswered.
    expect(r.report.rpc).toMatchObject({ calls: 3, replies: 1, matched: 3, unanswered: 0, unansweredCalls: [] });
    expect(r.report.errors.map((e) => [e.op, e.status, e.count, e.first.map((f) => f.frame)])).toEqual([
      ['READ', 'ERR_CHUNK', 1, [8]],
      ['GETATTR', 'ERR_VERS', 1, [10]],
    ]);
    expect(r.report.findings.map((x) => x.kind)).toEqual(['rdma-error', 'rdma-error']);
    const f = r.report.findings.filter((x) => x.kind === 'rdma-error');
    expect(f.map((x) => [x.severity, x.metrics['errorCode'], x.metrics['xids'], x.evidence.map((e) => e.frame)])).toEqual([
      ['error', 2, ['0x00000202'], [8]],
      ['error', 1, ['0x00000203'], [10]],
    ]);
    expect(f[1]!.evidence[0]!.what).toBe('RDMA_ERROR ERR_VERS (versions 1–1) for GETATTR, xid 0x00000203');
  });
});

describe('PSN gaps, NAKs and retransmissions', () => {
  /*
   * tshark -2: GETATTR 0x301 4 → 5; 0x303 6 → 9; 8 a reply without its call;
   * 11 "Acknowledge [PSN Sequence Error]"; 0x304 Call 12 → 15; 0x305 Call 10
   * → 16, with 13 "[RPC retransmission of #10]"; 18 "[Remote Access Error]".
   * nfsight takes 13 for what it is on the wire, an InfiniBand retransmission
   * (the server's RPC layer sees the call once), not an RPC retransmission.
   */
  it('calls across the loss are matched as tshark matches them', async () => {
    const s = lossAndNaks();
    const r = await run(s, 'loss');
    expect(r.calls).toEqual(expected(s));
    expect(r.calls).toEqual([
      [0x301, 4, 5],
      [0x303, 6, 9],
      [0x305, 10, 16],
      [0x304, 12, 15],
    ]);
    expect(r.report.rpc.orphanReplies.map((o) => [o.xid, o.frame])).toEqual([['0x00000302', 8]]);
    expect(r.report.rpc.retransmittedCalls).toBe(0);
  });

  it('the capture loss is a gap, the network loss a NAK and a retransmission; RNR and access-error NAKs are counted', async () => {
    const s = lossAndNaks();
    const r = await run(s, 'loss');
    const x = r.report.rdma;
    expect([x.psnGaps, x.gapPackets, x.retransmittedPackets, x.rnrNaks]).toEqual([1, 1, 1, 1]);
    expect(x.naks).toEqual({ 'PSN Sequence Error': 1, 'Remote Access Error': 1 });
    const f = r.report.findings.filter((y) => y.kind === 'rdma-transport');
    expect(f.map((y) => [y.severity, y.evidence.map((e) => e.frame)]).sort()).toEqual(
      [
        ['error', [s.frames['accessError']]],
        ['warning', [s.frames['nak'], s.frames['retransmission']]],
        ['warning', [s.frames['rnr']]],
        ['info', [s.frames['gapAck']]],
      ].sort(),
    );
    expect(s.frames).toMatchObject({ nak: 11, retransmission: 13, rnr: 17, accessError: 18, gapAck: 7 });
  });
});

describe('chunks', () => {
  /*
   * tshark -2: READ Call 4 → Reply 10 "Len: 4096" (RDMA Write 6-9); 12
   * "RDMA_MSG XID 0x402", 13 RDMA Read Request, WRITE Call 17 (the last READ
   * Response) → Reply 18 "Len: 4096".
   */
  it('a READ through a write chunk and a WRITE through a read chunk', async () => {
    const s = chunkedReadWrite();
    const r = await run(s, 'chunks');
    expect(r.calls).toEqual([
      [0x401, 4, 10],
      [0x402, 17, 18],
    ]);
    expect(r.byXid.get(0x401)!.decoded?.reply?.readBytes).toBe(4096);
    expect(r.byXid.get(0x402)!.decoded?.reply?.writeBytes).toBe(4096);
    expect(r.byXid.get(0x401)!.reply!.firstFrame.number).toBe(6);
    expect(r.byXid.get(0x402)!.call.firstFrame.number).toBe(12);
    expect(r.report.rdma.bytesMoved).toMatchObject({ rdmaWrite: 4096, rdmaRead: 4096, writeChunks: 4096, readChunks: 4096, replyChunks: 0 });
  });

  /*
   * tshark cannot read RoCE packets the snaplen cut ("Invalid Packet Length
   * from LRH! [Malformed Packet]" on every cut frame).
   */
  it('cut by a 160-byte snaplen: the same calls, matched from the headers, data counted from the wire lengths', async () => {
    const s = chunkedReadWrite({ snaplen: 160 });
    const r = await run(s, 'chunks-snap');
    expect(r.calls).toEqual([
      [0x401, 4, 10],
      [0x402, 17, 18],
    ]);
    expect(r.byXid.get(0x401)!.reply!.missing).toBeGreaterThan(0);
    expect(r.report.rpc.truncatedMessages).toBe(4);
    expect(r.report.rdma.bytesMoved).toMatchObject({ rdmaWrite: 4096, rdmaRead: 4096 });
    expect(r.report.rdma.malformed).toBe(0);
    expect(r.report.diagnostics.items).toEqual([]);
  });

  /*
   * tshark -2: 4 "RDMA_NOMSG XID 0x501", WRITE Call 9 (the last READ
   * Response) → Reply 10; READDIRPLUS Call 11 → Reply 14 (RDMA_NOMSG, the
   * reply written at 12-13) listing file-0 … file-11.
   */
  it('a call in a position-zero read chunk, a reply in the reply chunk', async () => {
    const s = positionZeroAndReplyChunk();
    const r = await run(s, 'pzrc');
    expect(r.calls).toEqual([
      [0x501, 9, 10],
      [0x502, 11, 14],
    ]);
    expect(r.byXid.get(0x501)!.decoded?.reply?.writeBytes).toBe(3000);
    expect(results(r.byXid.get(0x502))['names']).toEqual(Array.from({ length: 12 }, (_, i) => `file-${i}`));
    const ops = r.report.rdma.operations;
    expect(ops.find((o) => o.name === 'WRITE')).toMatchObject({ calls: 1, callsPositionZero: 1, repliesInline: 1 });
    expect(ops.find((o) => o.name === 'READDIRPLUS')).toMatchObject({ calls: 1, callsReplyChunk: 1, repliesReplyChunk: 1 });
  });

  /* tshark -2: "V4 Call (Reply In 7) READ … Len: 2048" at 4, "V4 Reply (Call In 4) READ" at 7. */
  it('NFSv4.1: a READ COMPOUND whose data came through a write chunk decodes op by op', async () => {
    const s = nfs4Read();
    const r = await run(s, 'v4');
    expect(r.calls).toEqual([[0x701, 4, 7]]);
    const t = r.byXid.get(0x701)!;
    expect(t.decoded?.call?.ops).toEqual(['SEQUENCE', 'PUTFH', 'READ']);
    expect(t.decoded?.reply?.status).toBe('NFS4_OK');
    expect(t.decoded?.reply?.opStatus).toEqual(['NFS4_OK', 'NFS4_OK', 'NFS4_OK']);
    expect(t.decoded?.reply?.readBytes).toBe(2048);
  });
});

describe('NFSv4.1 READ through a write chunk with an op after it', () => {
  /*
   * tshark -2: "V4 Call (Reply In 9) READ StateID: 0x5259 Offset: 8192 Len:
   * 4096" at 4; RDMA Write First/Middle/Last at 6-8; "V4 Reply (Call In 4)
   * READ" at 9, Time from request 0.000499486 s, Ops(4): SEQUENCE (seqid 3,
   * slot 0, high slot 63), PUTFH, READ (eof 1, Read length 3001, Data length
   * 3001), GETATTR (size 11193, fileid 4660), all NFS4_OK.
   */
  it('the reduced reply decodes op by op: the READ count is the chunk’s 3001 bytes, the GETATTR after it is whole', async () => {
    const s = nfs4ReadThenGetattr();
    const r = await run(s, 'v4-read-getattr');
    expect(r.calls).toEqual([[0xb01, 4, 9]]);
    expect(r.calls).toEqual(expected(s));
    const t = r.byXid.get(0xb01)!;
    expect(t.latency).toBeCloseTo(0.000499486, 9);
    expect(t.reply!.firstFrame.number).toBe(s.frames['firstWrite']);
    expect(t.decoded?.call?.ops).toEqual(['SEQUENCE', 'PUTFH', 'READ', 'GETATTR']);
    const reply = t.decoded!.reply!;
    expect(reply.stop).toBeUndefined();
    expect(reply.opStatus).toEqual(['NFS4_OK', 'NFS4_OK', 'NFS4_OK', 'NFS4_OK']);
    const ops = (reply.results as { ops: { op: string; result?: Record<string, unknown> }[] }).ops;
    expect(ops.map((o) => [o.op, o.result])).toEqual([
      ['SEQUENCE', { sessionid: '66'.repeat(16), sequenceid: 3, slotid: 0, highestSlotid: 63, targetHighestSlotid: 63, statusFlags: 0 }],
      ['PUTFH', undefined],
      ['READ', { eof: true, count: 3001 }],
      ['GETATTR', { attrs: { size: 11193, fileid: 4660 } }],
    ]);
    expect(reply.readBytes).toBe(3001);
    expect(r.report.rdma.bytesMoved).toMatchObject({ rdmaWrite: 3001, writeChunks: 3001, unknownChunks: 0 });
    expect(r.report.rdma.operations[0]).toMatchObject({ name: 'COMPOUND', callsWriteList: 1, repliesWriteChunk: 1, writeChunkBytes: 3001 });
    expect(r.report.findings).toEqual([]);
  });
});

describe('NFSv4.1 WRITE through a read chunk, and the backchannel', () => {
  /*
   * tshark -2: 4 "RDMA_MSG XID 0x801"; WRITE Call 8 (the last READ Response)
   * "Len: 3001", ops SEQUENCE PUTFH WRITE GETATTR → Reply 9 (GETATTR size
   * 3001, fileid 77); CB_COMPOUND Call 10 (server → client) CB_SEQUENCE
   * → Reply 11.
   */
  it('the GETATTR after the 3001-byte chunk (padded to 3004 in XDR) decodes; the server’s callback is matched', async () => {
    const s = nfs4WriteAndCallback();
    const r = await run(s, 'v4-write');
    expect(r.calls).toEqual([
      [0x801, 8, 9],
      [0x901, 10, 11],
    ]);
    const w = r.byXid.get(0x801)!;
    expect(w.decoded?.call?.ops).toEqual(['SEQUENCE', 'PUTFH', 'WRITE', 'GETATTR']);
    expect(w.decoded?.call?.stop).toBeUndefined();
    expect(w.decoded?.reply?.opStatus).toEqual(['NFS4_OK', 'NFS4_OK', 'NFS4_OK', 'NFS4_OK']);
    expect(w.decoded?.reply?.writeBytes).toBe(3001);
    const cb = r.byXid.get(0x901)!;
    expect([cb.program, cb.client.addr, cb.server.addr]).toEqual([0x40000000, '10.0.0.1', '10.0.0.2']);
    expect(cb.decoded?.call?.ops).toEqual(['CB_SEQUENCE']);
    expect(cb.decoded?.reply?.status).toBe('NFS4_OK');
  });
});

describe('credits and rejected connections', () => {
  it('a call beyond the credits granted is an error finding; reaching them is counted', async () => {
    const s = credits();
    const r = await run(s, 'credits');
    expect(r.calls).toEqual(expected(s));
    expect(r.report.rdma.connections[0]).toMatchObject({ creditsGranted: 2, creditsRequested: 8, maxOutstanding: 3, creditsExhausted: 1 });
    const f = r.report.findings.filter((x) => x.kind === 'rdma-credits');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'error', metrics: { exhausted: 1, exceeded: 1, credits: '2' } });
    expect(f[0]!.evidence.map((e) => e.frame)).toEqual([s.frames['exhausted'], s.frames['exceeded']]);
  });

  it('ConnectRejects other than "no listener" name their own reason', async () => {
    const s = rejected();
    const r = await run(s, 'rejected');
    const f = r.report.findings.filter((x) => x.kind === 'rdma-connection');
    const rejects = f.filter((x) => x.metrics['rejectReason'] !== undefined);
    expect(rejects.map((x) => [x.metrics['rejectReason'], x.evidence.map((e) => e.frame)])).toEqual([
      [28, [1, 2]],
      [1, [3, 4]],
    ]);
    expect(rejects[0]!.title).toContain('Consumer Reject');
    expect(rejects[1]!.explanation).toContain('ran out of queue pairs');
    // The request resent 3 times and never answered; the single one at the end is no finding.
    const silent = f.filter((x) => x.metrics['rejectReason'] === undefined);
    expect(silent.map((x) => [x.title, x.metrics['attempts'], x.evidence.map((e) => e.frame)])).toEqual([
      ['NFS/RDMA connection request to 10.0.0.1:20049 never answered (4 attempts)', 4, [s.frames['silentFirst'], s.frames['silentLast']]],
    ]);
    expect([s.frames['silentFirst'], s.frames['silentLast'], s.frames['once']]).toEqual([5, 8, 9]);
    expect(r.report.rdma.cm.requests).toBe(7);
  });
});
