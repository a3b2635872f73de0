/**
 * What the matcher keeps of a call beyond its compact record
 * (src/rpc/waiting-calls.ts): a call in full while it waits (PendingCall),
 * and a compact memory of the calls answered last (RecentCalls).
 *
 * Memory: the matcher tells the budget's "calls" account what it holds, as
 * estimated heap bytes (docs/memory.md has the measurements behind the
 * figures), so that the budget can ask it to drop the oldest.
 */
import { grownTo } from '../memory/typed-arrays.js';
import { HASH_SEED, seededMix } from '../fnv.js';
import type { Credential } from '../../decoders/rpc.js';
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
/**
 * A UDP direction holds more of its own: its address pair as text (the
 * key), its two endpoints and their texts, and its entry in the map of
 * pairs; a TCP or RDMA direction shares its connection's. About 320 bytes
 * counted from the objects, 570 measured (RSS per direction of 100,000-
 * 300,000 UDP clients, less DIRECTION_BYTES): the budget takes 400.
 */
export const UDP_DIRECTION_EXTRA_BYTES = 400;
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
/**
 * Estimated bytes of a remembered answered call: its slot in the typed
 * arrays (xid, program, version, procedure, direction's hash, three links:
 * 32 bytes), its direction's key (8) and its share of the hash heads (8 at
 * most). The slack of the arrays while they double is not counted (the
 * direction's hash took the 4 bytes of the estimate that were kept for it).
 */
export const RECENT_BYTES = 48;
/** The same, with the answered transaction held weakly: its WeakRef and its slot in the refs array (60 bytes measured on Node 20). */
export const RECENT_WEAK_BYTES = 104;

/** No slot. */
const NIL = -1;
/** Slots a memory of answered calls starts with (it doubles up to its cap). */
const FIRST_SLOTS = 1024;

/**
 * The answered calls remembered, by direction and xid: the last
 * RECENT_CALLS answered in all (Wireshark remembers every one; an analysis
 * of a long capture cannot), the oldest forgotten first.
 *
 * No object per call: a call is a slot in typed arrays (its xid, program,
 * version and procedure, its place in the order answered and in its hash
 * chain), its direction's key in a plain array beside (a number, or a UDP
 * pair's text: WaitingCalls.dirRecentKey, unique in a run), found by a
 * hash of its xid and a hash of its direction's key (dirRecentHash: a
 * number, not the text). The xid alone put every direction that used it
 * in one chain: thousands of clients starting from the same xid made
 * chains of thousands, walked per call and per answer. The arrays double
 * up to the cap. 65,536 calls held
 * about 9.5 MB as objects in a Map (an object, a Map entry and the Map's
 * table each), 2.6 MB so.
 */
export class RecentCalls {
  private xids = new Uint32Array(0);
  private programs = new Uint32Array(0);
  private versions = new Uint32Array(0);
  private procedures = new Uint32Array(0);
  /** Order answered: older and newer neighbours (a free slot's next free one in `newer`). */
  private older = new Int32Array(0);
  private newer = new Int32Array(0);
  /** The hash of each slot's direction, as `add` was given it (to find its hash chain again). */
  private dirHashes = new Int32Array(0);
  /** The next slot in the same hash chain. */
  private chain = new Int32Array(0);
  /** Hash chains' first slots, by the hash of the xid and the direction's hash. */
  private heads = new Int32Array(0);
  private shift = 32;
  private dirs: (number | string)[] = [];
  /** The answered transactions, held weakly (only when asked for). */
  private refs: (WeakRef<Transaction> | undefined)[] = [];
  private oldestSlot = NIL;
  private newestSlot = NIL;
  private freeSlot = NIL;
  private used = 0;
  private count = 0;

  constructor(
    private readonly cap = RECENT_CALLS,
    /**
     * Whether to hold each answered transaction weakly: a late
     * retransmission or duplicate reply is counted on it if the caller
     * still holds it (who else could see it?), and the memory of answered
     * calls never keeps their decoded arguments and results alive. Not
     * when the caller keeps no transaction (a WeakRef costs more than its
     * size: V8's young-generation collector keeps its target, so every
     * transaction would be promoted).
     */
    private readonly weak = true,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Estimated bytes of one call remembered. */
  get entryBytes(): number {
    return this.weak ? RECENT_WEAK_BYTES : RECENT_BYTES;
  }

  /**
   * Remembers an answered call (its older entry for the same direction and
   * xid, if any, goes). `dirHash`: a hash of `dir`, the same every time for
   * the same `dir`.
   */
  add(dir: number | string, dirHash: number, t: Transaction): void {
    const xid = t.xid >>> 0;
    const old = this.find(dir, dirHash, xid);
    if (old !== NIL) this.free(old);
    while (this.count >= this.cap) this.forgetOldest();
    const s = this.take();
    this.xids[s] = xid;
    this.programs[s] = t.program;
    this.versions[s] = t.version;
    this.procedures[s] = t.procedure;
    this.dirs[s] = dir;
    this.dirHashes[s] = dirHash;
    if (this.weak) this.refs[s] = new WeakRef(t);
    const h = this.hash(xid, dirHash);
    this.chain[s] = this.heads[h]!;
    this.heads[h] = s;
    this.older[s] = this.newestSlot;
    this.newer[s] = NIL;
    if (this.newestSlot !== NIL) this.newer[this.newestSlot] = s;
    else this.oldestSlot = s;
    this.newestSlot = s;
    this.count++;
  }

  /** The slot of the answered call of this direction with this xid, or -1 when it is not remembered. */
  find(dir: number | string, dirHash: number, xid: number): number {
    if (this.count === 0) return NIL;
    const x = xid >>> 0;
    for (let s = this.heads[this.hash(x, dirHash)]!; s !== NIL; s = this.chain[s]!) if (this.xids[s] === x && this.dirs[s] === dir) return s;
    return NIL;
  }

  /** Whether a remembered call (a slot `find` gave) was this procedure. */
  sameProcedure(s: number, program: number, version: number, procedure: number): boolean {
    return this.programs[s] === program >>> 0 && this.versions[s] === version >>> 0 && this.procedures[s] === procedure >>> 0;
  }

  /** The remembered call's transaction, if held and still alive. */
  transaction(s: number): Transaction | undefined {
    return this.refs[s]?.deref();
  }

  /** Forgets every call remembered, and lets go of the arrays. */
  clear(): void {
    this.xids = new Uint32Array(0);
    this.programs = new Uint32Array(0);
    this.versions = new Uint32Array(0);
    this.procedures = new Uint32Array(0);
    this.older = new Int32Array(0);
    this.newer = new Int32Array(0);
    this.dirHashes = new Int32Array(0);
    this.chain = new Int32Array(0);
    this.heads = new Int32Array(0);
    this.shift = 32;
    this.dirs = [];
    this.refs = [];
    this.oldestSlot = NIL;
    this.newestSlot = NIL;
    this.freeSlot = NIL;
    this.used = 0;
    this.count = 0;
  }

  /** Forgets the answered call remembered longest; false when there is none. */
  forgetOldest(): boolean {
    if (this.oldestSlot === NIL) return false;
    this.free(this.oldestSlot);
    return true;
  }

  private hash(xid: number, dirHash: number): number {
    return seededMix(dirHash, xid, HASH_SEED) >>> this.shift;
  }

  /** A free slot, the arrays grown when all are used. */
  private take(): number {
    if (this.freeSlot !== NIL) {
      const s = this.freeSlot;
      this.freeSlot = this.newer[s]!;
      return s;
    }
    if (this.used === this.xids.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = Math.max(FIRST_SLOTS, Math.min(this.cap, this.xids.length * 2));
    this.xids = grownTo(this.xids, n);
    this.programs = grownTo(this.programs, n);
    this.versions = grownTo(this.versions, n);
    this.procedures = grownTo(this.procedures, n);
    this.older = grownTo(this.older, n);
    this.newer = grownTo(this.newer, n);
    this.dirHashes = grownTo(this.dirHashes, n);
    this.chain = grownTo(this.chain, n);
    // Heads: a power of two at least twice the slots, the chains rebuilt.
    let bits = 1;
    while (1 << bits < 2 * n) bits++;
    this.shift = 32 - bits;
    this.heads = new Int32Array(1 << bits).fill(NIL);
    for (let s = this.oldestSlot; s !== NIL; s = this.newer[s]!) {
      const h = this.hash(this.xids[s]!, this.dirHashes[s]!);
      this.chain[s] = this.heads[h]!;
      this.heads[h] = s;
    }
  }

  /** Takes a slot out of its hash chain and the order, onto the free list. */
  private free(s: number): void {
    const h = this.hash(this.xids[s]!, this.dirHashes[s]!);
    if (this.heads[h] === s) this.heads[h] = this.chain[s]!;
    else {
      let p = this.heads[h]!;
      while (this.chain[p] !== s) p = this.chain[p]!;
      this.chain[p] = this.chain[s]!;
    }
    const o = this.older[s]!;
    const w = this.newer[s]!;
    if (o !== NIL) this.newer[o] = w;
    else this.oldestSlot = w;
    if (w !== NIL) this.older[w] = o;
    else this.newestSlot = o;
    this.dirs[s] = 0;
    if (this.weak) this.refs[s] = undefined;
    this.newer[s] = this.freeSlot;
    this.freeSlot = s;
    this.count--;
  }
}

/** Whether two credentials are equal (RPCSEC_GSS ones never are: each call's is its own). */
export function sameCredential(a: Credential, b: Credential): boolean {
  if (a.flavor !== b.flavor || a.length !== b.length || a.status !== b.status) return false;
  if (a.gss !== undefined || b.gss !== undefined) return false;
  const x = a.sys;
  const y = b.sys;
  if (x === undefined || y === undefined || x === y) return x === y;
  if (x.stamp !== y.stamp || x.machine !== y.machine || x.uid !== y.uid || x.gid !== y.gid || x.gids.length !== y.gids.length) return false;
  for (let i = 0; i < x.gids.length; i++) if (x.gids[i] !== y.gids[i]) return false;
  return true;
}
