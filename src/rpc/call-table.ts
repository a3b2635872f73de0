/**
 * What the matcher keeps of a call beyond its compact record
 * (src/rpc/waiting-calls.ts): a call in full while it waits (PendingCall),
 * and a compact memory of the calls answered last (RecentCalls).
 *
 * Memory: the matcher tells the budget's "calls" account what it holds, as
 * estimated heap bytes (docs/memory.md has the measurements behind the
 * figures), so that the budget can ask it to drop the oldest.
 */
import type { Credential } from '../../decoders/rpc.js';
import { LruList, type LruLinks } from '../memory/lru.js';
import type { Transaction } from './transaction.js';

/**
 * Estimated heap bytes of an outstanding call held in full besides its
 * kept message bytes: the Transaction, its call side, frames, its record
 * and the PendingCall (measured on Node 20: docs/memory.md). A call is
 * held so when it is handed out before its reply (`TransactionSink.call`)
 * or needs more than its compact record.
 */
export const CALL_BYTES = 500;
/**
 * Estimated bytes of a waiting call in its compact record besides its kept
 * message bytes: 15 numbers and 3 references, and its share of the hash
 * buckets (docs/memory.md).
 */
export const COMPACT_CALL_BYTES = 90;
/** Estimated bytes of a direction of calls: 13 numbers, 3 references, its share of the hash buckets (docs/memory.md). */
export const DIRECTION_BYTES = 80;
/** Estimated heap bytes of a one-byte string besides its characters. */
export const STRING_BYTES = 24;
/** Estimated bytes of a retransmission frame listed on a call, and of an unfinished reply noted on one. */
const FRAME_BYTES = 64;
const UNFINISHED_REPLY_BYTES = 200;

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * An outstanding call: its transaction, with the message bytes kept as
 * one-byte strings while it waits. A small Buffer costs about 540 bytes
 * besides its contents (its own ArrayBuffer and backing store; a shared
 * pool would let one long-waiting call pin a whole slab), a string about
 * 24; calls can wait for long, by the hundred thousand.
 */
export class PendingCall {
  private readonly head: string;
  private readonly tail: string;

  constructor(readonly t: Transaction) {
    const b = t.call.body;
    this.head = b.head.length > 0 ? b.head.toString('latin1') : '';
    this.tail = b.tail.length > 0 ? b.tail.toString('latin1') : '';
    t.call.body = { length: b.length, head: EMPTY, tail: EMPTY, tailOffset: b.tailOffset, missing: b.missing };
  }

  /** The call leaves the table (answered, unanswered): its bytes back as Buffers, for the decoders. */
  unpack(): Transaction {
    const t = this.t;
    const b = t.call.body;
    t.call.body = {
      length: b.length,
      head: this.head.length > 0 ? Buffer.from(this.head, 'latin1') : EMPTY,
      tail: this.tail.length > 0 ? Buffer.from(this.tail, 'latin1') : EMPTY,
      tailOffset: b.tailOffset,
      missing: b.missing,
    };
    return t;
  }

  /** Estimated heap bytes the call holds. */
  get bytes(): number {
    const t = this.t;
    let n = CALL_BYTES + t.retransmitFrames.length * FRAME_BYTES;
    if (this.head.length > 0) n += this.head.length + STRING_BYTES;
    if (this.tail.length > 0) n += this.tail.length + STRING_BYTES;
    if (t.unfinishedReply !== undefined) n += UNFINISHED_REPLY_BYTES;
    return n;
  }
}

/** Answered calls remembered in all (the most recently answered), for late retransmissions and duplicate replies. */
export const RECENT_CALLS = 65_536;
/** Estimated heap bytes of a remembered answered call: its entry, the index's, and its weak reference. */
export const RECENT_BYTES = 180;

/** An answered call remembered. */
class RecentCall implements LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  /** The next remembered call with the same xid (of another direction, or older). */
  sameXid: RecentCall | null = null;
  constructor(
    /** The direction of calls (WaitingCalls.dirRecentKey: unique in a run). */
    readonly dir: number | string,
    readonly xid: number,
    readonly program: number,
    readonly version: number,
    readonly procedure: number,
    /**
     * The transaction, held weakly: a late retransmission or duplicate reply
     * is counted on it if the caller still holds it (who else could see
     * it?), and the memory of answered calls never keeps their decoded
     * arguments and results alive. None when the caller said it keeps no
     * transaction (a WeakRef costs more than its size: V8's young-generation
     * collector keeps its target, so every transaction would be promoted).
     */
    readonly ref: WeakRef<Transaction> | undefined,
  ) {}
}

/**
 * The answered calls remembered, by direction and xid: the last
 * RECENT_CALLS answered in all (Wireshark remembers every one; an analysis
 * of a long capture cannot), the oldest forgotten first.
 */
export class RecentCalls {
  private readonly byXid = new Map<number, RecentCall>();
  private readonly order = new LruList<RecentCall>();

  constructor(
    private readonly cap = RECENT_CALLS,
    /** Whether to hold each answered transaction weakly, for late counts on it. */
    private readonly weak = true,
  ) {}

  get size(): number {
    return this.order.size;
  }

  /** Remembers an answered call (its older entry for the same direction and xid, if any, goes). */
  add(dir: number | string, t: Transaction): void {
    this.remove(dir, t.xid);
    const e = new RecentCall(dir, t.xid, t.program, t.version, t.procedure, this.weak ? new WeakRef(t) : undefined);
    e.sameXid = this.byXid.get(t.xid) ?? null;
    this.byXid.set(t.xid, e);
    this.order.push(e);
    while (this.order.size > this.cap) this.forgetOldest();
  }

  /** The answered call of this direction with this xid, if remembered. */
  find(dir: number | string, xid: number): RecentCall | undefined {
    for (let e = this.byXid.get(xid) ?? null; e !== null; e = e.sameXid) if (e.dir === dir) return e;
    return undefined;
  }

  /** Forgets the answered call remembered longest; false when there is none. */
  forgetOldest(): boolean {
    const e = this.order.oldest;
    if (e === null) return false;
    this.remove(e.dir, e.xid);
    return true;
  }

  private remove(dir: number | string, xid: number): void {
    let prev: RecentCall | null = null;
    for (let e = this.byXid.get(xid) ?? null; e !== null; prev = e, e = e.sameXid) {
      if (e.dir !== dir) continue;
      if (prev !== null) prev.sameXid = e.sameXid;
      else if (e.sameXid !== null) this.byXid.set(xid, e.sameXid);
      else this.byXid.delete(xid);
      this.order.remove(e);
      return;
    }
  }
}

/** Whether two credentials are equal (RPCSEC_GSS ones never are: each call's is its own). */
export function sameCredential(a: Credential, b: Credential): boolean {
  if (a.flavor !== b.flavor || a.length !== b.length || a.status !== b.status) return false;
  if (a.gss !== undefined || b.gss !== undefined) return false;
  const x = a.sys;
  const y = b.sys;
  if (x === undefined || y === undefined) return x === y;
  if (x.stamp !== y.stamp || x.machine !== y.machine || x.uid !== y.uid || x.gid !== y.gid || x.gids.length !== y.gids.length) return false;
  for (let i = 0; i < x.gids.length; i++) if (x.gids[i] !== y.gids[i]) return false;
  return true;
}
