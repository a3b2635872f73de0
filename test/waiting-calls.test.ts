/**
 * The matcher's outstanding calls (src/rpc/waiting-calls.ts): records in
 * typed arrays found by (direction, xid), reused once freed, flushed at the
 * end connection by connection; and the matcher's compact form of a call,
 * whose transaction is made when it leaves: the same transaction as the
 * call held in full from the start (as when a listener takes it at call
 * time), on every path (answered, unanswered, retransmitted, xid reused,
 * a reply begun, bytes missing, UDP, RDMA).
 */
import { describe, expect, it } from 'vitest';
import { wholeMessage } from '../decoders/bytes.js';
import type { FrameRef } from '../src/capture/frame.js';
import { MemoryBudget } from '../src/memory/budget.js';
import { RpcMatcher } from '../src/rpc/matcher.js';
import type { RpcMessageRecord, RpcTransport } from '../src/rpc/message.js';
import type { Transaction, TransactionSink } from '../src/rpc/transaction.js';
import { NONE, T_TCP, T_UDP, WaitingCalls } from '../src/rpc/waiting-calls.js';
import type { Direction, Endpoint, TcpConnection } from '../src/transport/stream.js';
import { NFS_PROGRAM, XdrWriter, rpcAcceptedReply, rpcCall } from './gen/rpc.js';

const A: Endpoint = { addr: '10.0.0.1', port: 801 };
const B: Endpoint = { addr: '10.0.0.2', port: 2049 };

describe('waiting calls: the store', () => {
  it('finds calls by direction and xid among thousands of directions with the same xids; freed records are reused', () => {
    const w = new WaitingCalls();
    const dirs: number[] = [];
    for (let i = 0; i < 3000; i++) dirs.push(w.makeDir(T_TCP, i * 2, undefined, i, A, B));
    const calls = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      for (const xid of [1, 0xfffffffe, 77 + i]) {
        calls.set(`${i}/${xid}`, w.addCall(dirs[i]!, xid, null, Buffer.alloc(0), undefined, undefined, 10));
      }
    }
    expect(w.callCount).toBe(9000);
    for (let i = 0; i < 3000; i += 7) {
      for (const xid of [1, 0xfffffffe, 77 + i]) expect(w.findCall(dirs[i]!, xid)).toBe(calls.get(`${i}/${xid}`));
      expect(w.findCall(dirs[i]!, 2)).toBe(NONE);
      expect(w.callXid(calls.get(`${i}/${0xfffffffe}`)!)).toBe(0xfffffffe);
    }
    expect(w.findDir(2 * 2)).toBe(dirs[2]);
    expect(w.findDir(2 * 2 + 1)).toBe(NONE);
    // Oldest first in a direction; removing the middle one keeps the list.
    const d = dirs[5]!;
    const middle = w.findCall(d, 0xfffffffe);
    w.removeCall(middle);
    expect(w.findCall(d, 0xfffffffe)).toBe(NONE);
    const order: number[] = [];
    for (let c = w.oldestCall(d); c !== NONE; c = w.nextCall(c)) order.push(w.callXid(c));
    expect(order).toEqual([1, 82]);
    expect(w.dirCount(d)).toBe(2);
    // The freed record is the next one made.
    expect(w.addCall(d, 5, null, Buffer.alloc(0), undefined, undefined, 10)).toBe(middle);
  });

  it('flushes connection by connection in the order of their first call, direction 0 first, then address pairs', () => {
    const w = new WaitingCalls();
    const t1 = w.makeDir(T_TCP, 7 * 2 + 1, undefined, 7, B, A); // connection 7, direction 1 first
    const u = w.makeDir(T_UDP, 0, 'a>b', -1, A, B);
    const t2 = w.makeDir(T_TCP, 3 * 2, undefined, 3, A, B);
    const t0 = w.makeDir(T_TCP, 7 * 2, undefined, 7, A, B); // then its direction 0: before it
    expect(w.directions(T_TCP)).toEqual([t0, t1, t2]);
    expect(w.directions(T_UDP)).toEqual([u]);
    w.freeDir(t0);
    expect(w.directions(T_TCP)).toEqual([t1, t2]);
    expect(w.findDir(7 * 2)).toBe(NONE);
    expect(w.findDir(7 * 2 + 1)).toBe(t1);
    expect(w.dirRecentKey(u)).toBe('a>b');
    expect(w.dirRecentKey(t1)).toBe(15);
  });
});

const at = (n: number, sec = 1000 + n): FrameRef => ({ fileIndex: 0, number: n, tsSec: sec, tsNsec: 5 });
const conn = (id: number): TcpConnection => ({
  id,
  a: A,
  b: B,
  midstream: false,
  firstFrame: at(1),
  segments: [0, 0],
  dataSegments: [0, 0],
});
const FH = Buffer.alloc(32, 7);
const call = (xid: number, proc = 1, machine = 'client'): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc, cred: { machine, uid: 0, gid: 0 } }, new XdrWriter().opaque(FH).bytes());

interface Msg {
  bytes: Buffer;
  reply: boolean;
  transport?: RpcTransport;
  conn?: number;
  frame: number;
  first?: number;
  missing?: number;
  unfinished?: boolean;
  sec?: number;
}

function record(m: Msg, conns: Map<number, TcpConnection>): RpcMessageRecord {
  const transport = m.transport ?? 'tcp';
  const id = m.conn ?? 0;
  if (!conns.has(id)) conns.set(id, conn(id));
  return {
    transport,
    conn: transport === 'udp' ? undefined : conns.get(id),
    dir: (m.reply ? 1 : 0) as Direction,
    src: m.reply ? B : A,
    dst: m.reply ? A : B,
    bytes: { ...wholeMessage(m.bytes), missing: m.missing ?? 0 },
    firstFrame: at(m.first ?? m.frame, m.sec),
    frame: at(m.frame, m.sec),
    resynced: false,
    unfinished: m.unfinished ?? false,
  };
}

/** What a sink saw, as text (bodies as hex while handed over). */
function run(msgs: Msg[], atCall: boolean, budget?: MemoryBudget): string[] {
  const seen: string[] = [];
  const show = (kind: string, t: Transaction): void => {
    seen.push(`${kind} ${JSON.stringify(t, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))}`);
  };
  const sink: TransactionSink = {
    transaction: (t) => show('answered', t),
    unanswered: (t) => show('unanswered', t),
    orphanReply: (r) => seen.push(`orphan ${r.xid}`),
    forgotten: (t) => seen.push(`forgotten ${t.xid}`),
    ...(atCall ? { call: () => undefined } : {}),
  };
  const m = new RpcMatcher(sink, budget);
  const conns = new Map<number, TcpConnection>();
  for (const msg of msgs) m.message(record(msg, conns));
  m.connectionEnded(conns.get(2) ?? conn(2));
  m.finish();
  return seen;
}

describe('waiting calls: a compact call makes the same transaction as a call held in full', () => {
  it('answered, unanswered, retransmitted, xid reused, a reply begun, bytes missing, frames apart, UDP, RDMA, connection ended', () => {
    const msgs: Msg[] = [
      { bytes: call(1), reply: false, frame: 1 },
      { bytes: call(2), reply: false, frame: 2, first: 1 }, // frames apart
      { bytes: call(3), reply: false, frame: 3, missing: 4 },
      { bytes: call(4), reply: false, frame: 4, conn: 1 },
      { bytes: call(4), reply: false, frame: 5, conn: 1 }, // retransmission
      { bytes: call(5), reply: false, frame: 6, transport: 'udp' },
      { bytes: call(6), reply: false, frame: 7, transport: 'rdma', conn: 1 },
      { bytes: call(7), reply: false, frame: 8, conn: 2, sec: 2 ** 31 + 5 }, // a time beyond 32 bits
      { bytes: call(8), reply: false, frame: 9, conn: 2 },
      { bytes: call(9, 1, 'other'), reply: false, frame: 10 },
      { bytes: call(10), reply: false, frame: 11 },
      { bytes: call(10, 4), reply: false, frame: 12 }, // xid reused for another procedure
      { bytes: rpcAcceptedReply(1, Buffer.alloc(8)), reply: true, frame: 13 },
      { bytes: rpcAcceptedReply(4, Buffer.alloc(8)), reply: true, frame: 14, conn: 1 },
      { bytes: rpcAcceptedReply(5, Buffer.alloc(8)), reply: true, frame: 15, transport: 'udp' },
      { bytes: rpcAcceptedReply(6, Buffer.alloc(8)), reply: true, frame: 16, transport: 'rdma', conn: 1 },
      { bytes: rpcAcceptedReply(9, Buffer.alloc(8)), reply: true, frame: 17, unfinished: true },
      { bytes: rpcAcceptedReply(1, Buffer.alloc(8)), reply: true, frame: 18 }, // duplicate reply
      { bytes: rpcAcceptedReply(99, Buffer.alloc(8)), reply: true, frame: 19 }, // orphan
      { bytes: call(1), reply: false, frame: 20 }, // late retransmission
    ];
    const compact = run(msgs, false);
    expect(compact).toEqual(run(msgs, true));
    expect(compact.map((s) => s.split(' ')[0])).toEqual([
      'unanswered', // 10, its xid reused
      'answered', // 1
      'answered', // 4
      'answered', // 5 (UDP)
      'answered', // 6 (RDMA)
      'orphan',
      'unanswered', // connection 2 ended: 7, 8
      'unanswered',
      'unanswered', // the end: connection 0's 2, 3, 9, 10; connection 1: none left
      'unanswered',
      'unanswered',
      'unanswered',
    ]);
  });

  it('dropped to stay within the budget: the same calls, oldest first', () => {
    const msgs: Msg[] = [];
    for (let i = 0; i < 3000; i++) msgs.push({ bytes: call(i), reply: false, frame: i + 1, conn: i % 10 });
    const compact = run(msgs, false, new MemoryBudget(1 << 20));
    // With a listener at call time each call costs more: fewer are held. Without, none dropped.
    expect(compact.filter((s) => s.startsWith('forgotten'))).toEqual([]);
    const small = run(msgs, false, new MemoryBudget(1 << 18));
    const forgotten = small.filter((s) => s.startsWith('forgotten')).map((s) => Number(s.split(' ')[1]));
    expect(forgotten.length).toBeGreaterThan(0);
    expect(forgotten.length + small.filter((s) => s.startsWith('unanswered')).length).toBe(3000);
  });

  it('at the end nothing is held: outstanding calls flushed as unanswered, the memory of answered calls let go', () => {
    const msgs: Msg[] = [];
    for (let i = 0; i < 500; i++) msgs.push({ bytes: call(i), reply: false, frame: 2 * i + 1, conn: i % 4 });
    for (let i = 0; i < 400; i++) msgs.push({ bytes: rpcAcceptedReply(i, Buffer.alloc(8)), reply: true, frame: 2 * i + 2, conn: i % 4 });
    const budget = new MemoryBudget(1 << 24);
    const seen = run(msgs, false, budget);
    expect(seen.filter((s) => s.startsWith('answered'))).toHaveLength(400);
    expect(seen.filter((s) => s.startsWith('unanswered'))).toHaveLength(100);
    expect(budget.account('calls').bytes).toBe(0);
    expect(budget.account('calls').peak).toBeGreaterThan(400 * 48);
  });
});
