/**
 * The call/reply matcher (src/rpc/matcher.ts) driven message by message:
 * what it keeps of bulk messages (headToKeep), which xids it says are
 * outstanding, its bounds (retransmission frames listed, answered calls
 * remembered, outstanding calls held), connection ends, unfinished and
 * orphan replies, RPCSEC_GSS result offsets, the frame a message is shown
 * in, and the ids and counters it reports. The matching paths against
 * tshark are in matcher-scenarios.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { wholeMessage, type MessageBytes } from '../decoders/bytes.js';
import type { FrameRef } from '../src/capture/frame.js';
import { KEEP_MAX, type RpcMessageRecord, type RpcTransport } from '../src/rpc/message.js';
import { MemoryBudget } from '../src/memory/budget.js';
import { MAX_IDLE_UDP_DIRECTIONS, RpcMatcher, type RpcMatcherOptions } from '../src/rpc/matcher.js';
import { UDP_DIRECTION_EXTRA_BYTES } from '../src/rpc/call-table.js';
import type { OrphanReply, Transaction } from '../src/rpc/transaction.js';
import type { Direction, Endpoint, TcpConnection } from '../src/transport/stream.js';
import { NFS_PROGRAM, RPCSEC_GSS, XdrWriter, gssCredBody, gssIntegrityBody, rpcAcceptedReply, rpcCall, rpcCallRaw } from './gen/rpc.js';

const CLIENT: Endpoint = { addr: '10.0.0.1', port: 801 };
const SERVER: Endpoint = { addr: '10.0.0.2', port: 2049 };

function conn(id: number): TcpConnection {
  return {
    id,
    a: CLIENT,
    b: SERVER,
    midstream: false,
    firstFrame: { fileIndex: 0, number: 1, tsSec: 0, tsNsec: 0 },
    segments: [0, 0],
    dataSegments: [0, 0],
  };
}

const at = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 1000 + n, tsNsec: 0 });

class Sink {
  readonly transactions: Transaction[] = [];
  readonly unanswered: Transaction[] = [];
  readonly orphans: OrphanReply[] = [];
  /** Call and reply body lengths while the transaction is handed over. */
  readonly bodies: [number, number][] = [];
  transaction(t: Transaction): void {
    this.transactions.push(t);
    this.bodies.push([t.call.body.length, t.reply!.body.length]);
  }
  unansweredCall(t: Transaction): void {
    this.unanswered.push(t);
  }
}

function matcher(budget?: MemoryBudget, options: RpcMatcherOptions = {}): { m: RpcMatcher; sink: Sink } {
  const sink = new Sink();
  const m = new RpcMatcher(
    {
      transaction: (t) => sink.transaction(t),
      unanswered: (t) => sink.unansweredCall(t),
      orphanReply: (r) => sink.orphans.push(r),
    },
    budget,
    options,
  );
  return { m, sink };
}

interface MsgOptions {
  transport?: RpcTransport;
  conn?: TcpConnection | undefined;
  dir?: Direction;
  /** Frame where the record completed; `first` where it started (default the same). */
  frame?: number;
  first?: number;
  missing?: number;
  unfinished?: boolean;
  client?: Endpoint;
}

/** A message record; calls go client → server (dir 0), replies server → client (dir 1) unless told. */
function record(bytes: Buffer, isReply: boolean, o: MsgOptions = {}): RpcMessageRecord {
  const transport = o.transport ?? 'tcp';
  const client = o.client ?? CLIENT;
  const body: MessageBytes = { ...wholeMessage(bytes), missing: o.missing ?? 0 };
  return {
    transport,
    conn: transport === 'udp' ? undefined : 'conn' in o ? o.conn : conn(0),
    dir: o.dir ?? (isReply ? 1 : 0),
    src: isReply ? SERVER : client,
    dst: isReply ? client : SERVER,
    bytes: body,
    firstFrame: at(o.first ?? o.frame ?? 1),
    frame: at(o.frame ?? 1),
    resynced: false,
    unfinished: o.unfinished ?? false,
  };
}

const FH = Buffer.alloc(32, 7);
const nfsCall = (xid: number, vers: number, proc: number, args = new XdrWriter().opaque(FH).bytes()): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers, proc, cred: { machine: 'client', uid: 0, gid: 0 } }, args);
const getattr = (xid: number): Buffer => nfsCall(xid, 3, 1);
const ok = (xid: number, results: Buffer = Buffer.alloc(8)): Buffer => rpcAcceptedReply(xid, results);
/** The length of an RPC call header with the AUTH_SYS credential nfsCall gives. */
const CALL_HEADER = nfsCall(1, 3, 1, Buffer.alloc(0)).length;
const REPLY_HEADER = 24;

describe('matcher: what is kept of a long message (headToKeep)', () => {
  const c = conn(0);
  it('calls: NFSv3 and NFSv2 WRITE keep the header and 512 bytes of arguments; large NFSv4 COMPOUNDs 4096 bytes; the rest all', () => {
    const { m } = matcher();
    const head = (b: Buffer): Buffer => b.subarray(0, Math.min(b.length, 512));
    const big = Buffer.alloc(600);
    expect(m.headToKeep(c, 0, head(nfsCall(1, 3, 7, big)), 10_000)).toBe(CALL_HEADER + 512);
    expect(m.headToKeep(c, 0, head(nfsCall(1, 2, 8, big)), 10_000)).toBe(CALL_HEADER + 512);
    expect(m.headToKeep(undefined, 0, head(nfsCall(1, 3, 7, big)), -1)).toBe(CALL_HEADER + 512);
    // Not WRITE: NFSv2 procedure 7 (WRITECACHE), NFSv3 READ, NFSv2 READ, another program.
    for (const [vers, proc] of [[2, 7], [3, 6], [2, 6], [3, 8], [4, 0], [3, 1]]) expect([vers, proc, m.headToKeep(c, 0, head(nfsCall(1, vers!, proc!, big)), 10_000)]).toEqual([vers, proc, KEEP_MAX]);
    const mount = rpcCall({ xid: 1, prog: 100005, vers: 3, proc: 7 }, big);
    expect(m.headToKeep(c, 0, head(mount), 10_000)).toBe(KEEP_MAX);
    // A WRITE whose credentials do not fit the head: a generous head.
    expect(m.headToKeep(c, 0, nfsCall(1, 3, 7, big).subarray(0, 40), 10_000)).toBe(4096);
    // NFSv4 COMPOUND: whole up to 8192 bytes, else (or length unknown) a 4096-byte head.
    const compound = head(nfsCall(1, 4, 1, big));
    expect([8192, 8193, -1, 600].map((len) => m.headToKeep(c, 0, compound, len))).toEqual([KEEP_MAX, 4096, 4096, KEEP_MAX]);
  });

  it('replies: to NFSv3 and NFSv2 READ, the header and 512 bytes of results; to large COMPOUNDs 4096; the rest all', () => {
    const { m } = matcher();
    const calls: [number, number, number][] = [
      [0x11, 3, 6],
      [0x12, 2, 6],
      [0x13, 3, 7],
      [0x14, 4, 1],
      [0x15, 4, 0],
      [0x17, 2, 7],
      [0x18, 4, 6],
      [0x19, 3, 1],
    ];
    for (const [xid, vers, proc] of calls) m.message(record(nfsCall(xid, vers, proc), false));
    m.message(record(rpcCall({ xid: 0x16, prog: 100005, vers: 3, proc: 6 }, Buffer.alloc(0)), false));
    const reply = (xid: number): Buffer => ok(xid, Buffer.alloc(600)).subarray(0, 512);
    expect(m.headToKeep(c, 1, reply(0x11), 10_000)).toBe(REPLY_HEADER + 512);
    expect(m.headToKeep(c, 1, reply(0x12), 10_000)).toBe(REPLY_HEADER + 512);
    expect(m.headToKeep(c, 1, reply(0x13), 10_000)).toBe(KEEP_MAX);
    expect([8192, 8193, -1].map((len) => m.headToKeep(c, 1, reply(0x14), len))).toEqual([KEEP_MAX, 4096, 4096]);
    expect(m.headToKeep(c, 1, reply(0x15), 10_000)).toBe(KEEP_MAX);
    expect(m.headToKeep(c, 1, reply(0x16), 10_000)).toBe(KEEP_MAX);
    // Not READ nor COMPOUND: NFSv2 WRITECACHE, an NFSv4 procedure 6, NFSv3 GETATTR (however long).
    expect([0x17, 0x18, 0x19].map((xid) => m.headToKeep(c, 1, reply(xid), 10_000))).toEqual([KEEP_MAX, KEEP_MAX, KEEP_MAX]);
    // A READ reply whose header is not all in the head: a generous head.
    expect(m.headToKeep(c, 1, reply(0x11).subarray(0, 16), 10_000)).toBe(4096);
    // No such call outstanding: on another connection, in the other direction, over UDP, unknown xid.
    expect(m.headToKeep(conn(1), 1, reply(0x11), 10_000)).toBe(KEEP_MAX);
    expect(m.headToKeep(c, 0, reply(0x11), 10_000)).toBe(KEEP_MAX);
    expect(m.headToKeep(undefined, 1, reply(0x11), 10_000)).toBe(KEEP_MAX);
    expect(m.headToKeep(c, 1, reply(0x99), 10_000)).toBe(KEEP_MAX);
    // Neither call nor reply, even with the xid of an outstanding READ.
    expect(m.headToKeep(c, 1, Buffer.alloc(512, 0x33), 10_000)).toBe(KEEP_MAX);
    const junk = Buffer.alloc(512);
    junk.writeUInt32BE(0x11, 0);
    junk.writeUInt32BE(7, 4);
    expect(m.headToKeep(c, 1, junk, 10_000)).toBe(KEEP_MAX);
  });
});

describe('matcher: outstanding xids', () => {
  it('a call is outstanding in its direction until answered; UDP calls are known until forgotten', () => {
    const { m } = matcher();
    const c = conn(0);
    expect(m.isOutstandingXid(c, 1, 5)).toBe(false);
    m.message(record(getattr(5), false));
    expect([m.isOutstandingXid(c, 1, 5), m.isOutstandingXid(c, 0, 5), m.isOutstandingXid(conn(1), 1, 5), m.isOutstandingXid(undefined, 1, 5), m.isOutstandingXid(c, 1, 6)]).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    m.message(record(ok(5), true));
    expect(m.isOutstandingXid(c, 1, 5)).toBe(false);

    m.message(record(getattr(7), false, { transport: 'udp' }));
    expect(m.knowsUdpCall(CLIENT, SERVER, 7)).toBe(true);
    m.message(record(ok(7), true, { transport: 'udp' }));
    expect(m.knowsUdpCall(CLIENT, SERVER, 7)).toBe(true); // answered, remembered
    expect([m.knowsUdpCall(SERVER, CLIENT, 7), m.knowsUdpCall(CLIENT, SERVER, 8), m.knowsUdpCall({ ...CLIENT, port: 802 }, SERVER, 7)]).toEqual([false, false, false]);
  });
});

describe('matcher: transactions', () => {
  it('a transaction: ids, frames, latency; bodies there while handed over, then released', () => {
    const { m, sink } = matcher();
    m.message(record(getattr(1), false, { conn: conn(3), frame: 4 }));
    m.message(record(ok(1, Buffer.alloc(100)), true, { conn: conn(3), first: 6, frame: 7 }));
    m.message(record(getattr(2), false, { transport: 'udp', frame: 8 }));
    m.message(record(ok(2), true, { transport: 'udp', frame: 9 }));
    m.message(record(getattr(3), false, { transport: 'rdma', conn: conn(3), frame: 10 }));
    m.message(record(ok(3), true, { transport: 'rdma', conn: conn(3), frame: 12 }));
    const [tcp, udp, rdma] = sink.transactions;
    expect(tcp).toMatchObject({ xid: 1, transport: 'tcp', connId: 3, client: CLIENT, server: SERVER, program: NFS_PROGRAM, version: 3, procedure: 1, latency: 3 });
    expect([tcp!.call.frame.number, tcp!.reply!.firstFrame.number, tcp!.reply!.frame.number, tcp!.reply!.lastFrame.number]).toEqual([4, 6, 7, 7]);
    expect([tcp!.call.bytes, tcp!.reply!.bytes, tcp!.reply!.bodyOffset]).toEqual([getattr(1).length, REPLY_HEADER + 100, REPLY_HEADER]);
    expect(udp).toMatchObject({ xid: 2, transport: 'udp', connId: -1, latency: 1 });
    expect(rdma).toMatchObject({ xid: 3, transport: 'rdma', connId: -1, latency: 2 });
    expect(sink.bodies).toEqual([
      [getattr(1).length, REPLY_HEADER + 100],
      [getattr(2).length, REPLY_HEADER + 8],
      [getattr(3).length, REPLY_HEADER + 8],
    ]);
    expect([tcp!.call.body.length, tcp!.reply!.body.length]).toEqual([0, 0]);
    expect(m.stats).toEqual({ calls: 3, replies: 3, matched: 3, unanswered: 0, orphanReplies: 0, retransmittedCalls: 0, duplicateReplies: 0, unfinishedReplies: 0, invalid: 0, invalidCut: 0 });
  });

  it('a message the capture cut is shown at its first frame over TCP and UDP, at its last over RDMA', () => {
    const { m, sink } = matcher();
    m.message(record(getattr(1), false, { first: 2, frame: 5, missing: 10 }));
    m.message(record(ok(1), true, { first: 7, frame: 9, missing: 3 }));
    m.message(record(getattr(2), false, { transport: 'rdma', first: 10, frame: 11, missing: 10 }));
    m.message(record(ok(2), true, { transport: 'rdma', first: 12, frame: 14, missing: 10 }));
    const [tcp, rdma] = sink.transactions;
    expect([tcp!.call.frame.number, tcp!.call.lastFrame.number, tcp!.call.missing, tcp!.reply!.frame.number, tcp!.latency]).toEqual([2, 5, 10, 7, 5]);
    expect([rdma!.call.frame.number, rdma!.reply!.frame.number, rdma!.latency]).toEqual([11, 14, 3]);
  });

  it('RPCSEC_GSS: results inside integrity wrapping; none behind privacy; INIT and service none as sent', () => {
    const { m, sink } = matcher();
    const results = Buffer.from('00000000cafebabe', 'hex');
    const gss = (xid: number, proc: number, service: number): Buffer =>
      rpcCallRaw({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: { flavor: RPCSEC_GSS, body: gssCredBody({ proc, seq: 1, service, handle: Buffer.from('h') }) } }, Buffer.alloc(8));
    const cases: [number, number, Buffer][] = [
      [2, 0, gssIntegrityBody(1, results, Buffer.alloc(16))], // DATA, integrity
      [3, 0, Buffer.alloc(40)], // DATA, privacy
      [2, 1, results], // INIT: the results are the context, not wrapped
      [1, 0, results], // DATA, service none
    ];
    cases.forEach(([service, proc, body], i) => {
      m.message(record(gss(100 + i, proc, service), false));
      m.message(record(ok(100 + i, body), true));
    });
    expect(sink.transactions.map((t) => t.reply!.bodyOffset)).toEqual([REPLY_HEADER + 8, -1, REPLY_HEADER, REPLY_HEADER]);
    // A denied reply has no results, whatever the credential.
    m.message(record(gss(200, 0, 2), false));
    m.message(record(new XdrWriter().u32(200).u32(1).u32(1).u32(1).u32(5).bytes(), true));
    expect(sink.transactions[4]!.reply!.bodyOffset).toBe(-1);
  });

  it('a call is the same call again only with the same program, version and procedure', () => {
    const { m, sink } = matcher();
    const call = (prog: number, vers: number, proc: number): Buffer => rpcCall({ xid: 9, prog, vers, proc }, Buffer.alloc(0));
    m.message(record(call(NFS_PROGRAM, 3, 1), false, { frame: 1 }));
    m.message(record(call(NFS_PROGRAM, 3, 1), false, { frame: 2 })); // retransmission
    m.message(record(call(100005, 3, 1), false, { frame: 3 })); // another program
    m.message(record(call(100005, 1, 1), false, { frame: 4 })); // another version
    m.message(record(call(100005, 1, 2), false, { frame: 5 })); // another procedure
    m.finish();
    expect(sink.unanswered.map((t) => [t.call.frame.number, t.program, t.version, t.procedure, t.retransmits, t.latency])).toEqual([
      [1, NFS_PROGRAM, 3, 1, 1, -1],
      [3, 100005, 3, 1, 0, -1],
      [4, 100005, 1, 1, 0, -1],
      [5, 100005, 1, 2, 0, -1],
    ]);
    expect(m.stats).toMatchObject({ calls: 5, retransmittedCalls: 1, unanswered: 4 });
  });

  it('at most 8 retransmission frames are listed; all are counted', () => {
    const { m, sink } = matcher();
    for (let f = 1; f <= 11; f++) m.message(record(getattr(4), false, { frame: f }));
    m.message(record(ok(4), true, { frame: 12 }));
    expect(sink.transactions[0]).toMatchObject({ retransmits: 10 });
    expect(sink.transactions[0]!.retransmitFrames.map((x) => x.number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('late retransmissions and duplicate replies: counted on the held transaction, or only in the stats with lateCounts false', () => {
    const run = (lateCounts: boolean | undefined) => {
      const sink = new Sink();
      const m = new RpcMatcher(
        { transaction: (t) => sink.transaction(t), unanswered: (t) => sink.unansweredCall(t), orphanReply: (r) => sink.orphans.push(r) },
        undefined,
        lateCounts === undefined ? {} : { lateCounts },
      );
      m.message(record(getattr(9), false, { frame: 1 }));
      m.message(record(ok(9), true, { frame: 2 }));
      m.message(record(getattr(9), false, { frame: 3 }));
      m.message(record(ok(9), true, { frame: 4 }));
      const t = sink.transactions[0]!;
      return [sink.transactions.length, t.retransmits, t.retransmitFrames.map((f) => f.number), t.duplicateReplies, m.stats.retransmittedCalls, m.stats.duplicateReplies];
    };
    expect(run(undefined)).toEqual([1, 1, [3], 1, 1, 1]);
    expect(run(true)).toEqual([1, 1, [3], 1, 1, 1]);
    expect(run(false)).toEqual([1, 0, [], 0, 1, 1]);
  });

  it('the last 65,536 answered calls, of every connection together, are remembered for late retransmissions', () => {
    const run = (others: number): number => {
      const { m } = matcher();
      m.message(record(getattr(0), false));
      m.message(record(ok(0), true));
      // Answered on another connection: the memory is shared.
      const other = conn(7);
      for (let x = 1; x <= others; x++) {
        m.message(record(getattr(x), false, { conn: other }));
        m.message(record(ok(x), true, { conn: other }));
      }
      m.message(record(getattr(0), false));
      return m.stats.retransmittedCalls;
    };
    expect([run(65_535), run(65_536)]).toEqual([1, 0]);
  });

  it('without a memory budget at most 65,536 calls are held outstanding per direction: the oldest is dropped, not unanswered', () => {
    const run = (calls: number): { unanswered: number[]; dropped: number } => {
      const budget = new MemoryBudget(Infinity);
      const { m, sink } = matcher(budget);
      for (let x = 1; x <= calls; x++) m.message(record(getattr(x), false));
      const during = sink.unanswered.map((t) => t.xid);
      m.finish();
      const atEnd = sink.unanswered.map((t) => t.xid);
      return { unanswered: [...during, atEnd[0]!, atEnd.length], dropped: budget.dropped.outstandingCalls };
    };
    expect(run(65_536)).toEqual({ unanswered: [1, 65_536], dropped: 0 });
    expect(run(65_537)).toEqual({ unanswered: [2, 65_536], dropped: 1 });
  });
});

describe('matcher: replies without their call, and ends', () => {
  it('orphan, duplicate and unfinished replies; an xid reused while outstanding; an invalid message', () => {
    const { m, sink } = matcher();
    m.message(record(ok(50), true, { conn: conn(2), frame: 3 })); // no call: orphan, with its connection
    m.message(record(ok(51), true, { transport: 'udp', frame: 4 }));
    m.message(record(ok(49), true, { transport: 'rdma', conn: conn(2), frame: 5 }));
    expect(sink.orphans.map((o) => [o.xid, o.transport, o.connId, o.client, o.server, o.frame.number])).toEqual([
      [50, 'tcp', 2, CLIENT, SERVER, 3],
      [51, 'udp', -1, CLIENT, SERVER, 4],
      [49, 'rdma', -1, CLIENT, SERVER, 5],
    ]);
    m.message(record(getattr(52), false));
    m.message(record(ok(52), true));
    m.message(record(ok(52), true)); // duplicate
    // The stream ended inside a reply: to an outstanding call, and to none.
    m.message(record(getattr(53), false, { frame: 20 }));
    m.message(record(ok(53, Buffer.alloc(1000)), true, { first: 21, frame: 22, unfinished: true }));
    m.message(record(ok(54), true, { unfinished: true }));
    // xid 55 reused for another procedure while outstanding: the first is unanswered.
    m.message(record(nfsCall(55, 3, 1), false, { frame: 30 }));
    m.message(record(nfsCall(55, 3, 4), false, { frame: 31 }));
    m.message(record(Buffer.from('0000003700000005', 'hex'), false)); // msg_type 5
    expect(sink.unanswered.map((t) => [t.xid, t.call.frame.number])).toEqual([[55, 30]]);
    m.connectionEnded(conn(0));
    expect(sink.unanswered.map((t) => [t.xid, t.call.frame.number, t.unfinishedReply ?? null])).toEqual([
      [55, 30, null],
      [53, 20, { firstFrame: at(21), lastFrame: at(22), bytesSent: REPLY_HEADER + 1000 }],
      [55, 31, null],
    ]);
    expect(m.stats).toEqual({ calls: 4, replies: 5, matched: 1, unanswered: 3, orphanReplies: 3, retransmittedCalls: 0, duplicateReplies: 1, unfinishedReplies: 2, invalid: 1, invalidCut: 0 });
  });

  it('a connection that ends gives up its outstanding calls, and only its own; finish gives up the rest', () => {
    const { m, sink } = matcher();
    m.message(record(getattr(1), false, { conn: conn(0) }));
    m.message(record(getattr(2), false, { conn: conn(1) }));
    m.message(record(getattr(3), false, { transport: 'rdma', conn: conn(0) }));
    m.message(record(getattr(4), false, { transport: 'udp' }));
    m.message(record(getattr(5), false, { conn: conn(0), dir: 1 })); // a callback, the other way
    m.connectionEnded(conn(7)); // unknown: nothing
    expect(sink.unanswered).toEqual([]);
    m.connectionEnded(conn(0));
    expect(sink.unanswered.map((t) => t.xid)).toEqual([1, 5]);
    m.connectionEnded(conn(0), 'rdma');
    expect(sink.unanswered.map((t) => t.xid)).toEqual([1, 5, 3]);
    // A reply on an ended connection has no call.
    m.message(record(ok(1), true, { conn: conn(0) }));
    expect(sink.orphans.map((o) => o.xid)).toEqual([1]);
    m.finish();
    expect(sink.unanswered.map((t) => t.xid)).toEqual([1, 5, 3, 2, 4]);
    m.finish();
    expect(sink.unanswered).toHaveLength(5);
  });
});

describe('matcher: UDP address pairs with no call waiting', () => {
  const udpClient = (i: number): Endpoint => ({ addr: `10.1.${i >> 8}.${i & 255}`, port: 800 });
  const udp = (bytes: Buffer, isReply: boolean, i: number, frame: number): RpcMessageRecord => record(bytes, isReply, { transport: 'udp', client: udpClient(i), frame });

  it(`keeps at most maxIdleUdpDirections (${MAX_IDLE_UDP_DIRECTIONS.toLocaleString('en-US')}) of their directions, and still knows their answered calls`, () => {
    const { m, sink } = matcher(undefined, { maxIdleUdpDirections: 4 });
    // A call that waits all along: its pair's direction is never let go.
    m.message(udp(getattr(0x99), false, 999, 1));
    for (let i = 0; i < 50; i++) {
      m.message(udp(getattr(0x100 + i), false, i, 10 + 2 * i));
      m.message(udp(ok(0x100 + i), true, i, 11 + 2 * i));
      expect(m.directions).toBe(1 + Math.min(i + 1, 4));
    }
    // Pair 0 was let go long ago: a late resend of its call and a second reply are still recognised.
    expect(m.knowsUdpCall(udpClient(0), SERVER, 0x100)).toBe(true);
    m.message(udp(getattr(0x100), false, 0, 200));
    m.message(udp(ok(0x100), true, 0, 201));
    m.message(udp(ok(0x99), true, 999, 202));
    // Pair 1, let go too, sends its reply again with no call before it: a duplicate reply, not an orphan.
    m.message(udp(ok(0x101), true, 1, 203));
    expect(m.stats).toMatchObject({ matched: 51, retransmittedCalls: 1, duplicateReplies: 2, orphanReplies: 0 });
    expect(sink.transactions[0]).toMatchObject({ xid: 0x100, retransmits: 1, duplicateReplies: 1 });
    expect(sink.transactions[50]).toMatchObject({ xid: 0x99, latency: 201 });
    expect(m.directions).toBe(4);
    expect(MAX_IDLE_UDP_DIRECTIONS).toBe(10_000);
  });

  it('a UDP direction costs the budget its pair text, endpoints and map entry besides what a TCP direction costs', () => {
    const cost = (transport: RpcTransport): number => {
      const budget = new MemoryBudget(64 * 1024 * 1024);
      const { m } = matcher(budget);
      m.message(record(getattr(0x77), false, transport === 'udp' ? { transport: 'udp', client: udpClient(1) } : { conn: conn(0) }));
      return budget.used;
    };
    expect(UDP_DIRECTION_EXTRA_BYTES).toBe(400);
    expect(cost('udp') - cost('tcp')).toBe(UDP_DIRECTION_EXTRA_BYTES);
  });

  it('a pair direction the budget releases is let go, not kept outside the account', () => {
    const budget = new MemoryBudget(64 * 1024);
    const { m } = matcher(budget);
    for (let i = 0; i < 2000; i++) {
      m.message(udp(getattr(0x100 + i), false, i, 10 + 2 * i));
      m.message(udp(ok(0x100 + i), true, i, 11 + 2 * i));
      budget.reclaim(i);
    }
    expect(budget.dropped.answeredCalls).toBeGreaterThan(0);
    // 80 bytes accounted a direction: no more than 64 KB of them (the calls are the budget's only account here), not 2,000.
    expect(m.directions).toBeLessThanOrEqual(Math.floor((64 * 1024) / 80));
  });
});
