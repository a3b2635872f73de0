/**
 * The matcher's outstanding calls, for all connections at once, with no
 * object per connection or per call: records in pages of typed arrays
 * (struct of arrays), found through hash chains kept in the records.
 *
 * Two kinds of record:
 *
 * - a direction of calls (one direction of a TCP or RDMA connection, or one
 *   UDP client → server pair): its calls oldest first, how many and their
 *   accounted bytes, its place in the budget's eviction order (the
 *   direction that made a call longest ago first) and in the order the
 *   matcher flushes at the end (connection by connection, by first call);
 * - a waiting call: xid, program, version, procedure, its frame (when the
 *   message's first, shown and last frames are one), length and where the
 *   arguments start, where its kept message bytes are in the ring of
 *   call-bytes.ts, with three references beside the numbers: those bytes
 *   as a one-byte string once the ring came round to them while the call
 *   still waited (or when they are too long for it), the (shared)
 *   credential, and, for
 *   a call that needs more than that (retransmitted, a reply begun, frames
 *   apart, bytes missing, or handed out before its reply), its full
 *   PendingCall.
 *
 * A record is an index; freed records are reused. Pages are never given
 * back (the peak of calls waiting at once stays allocated, bounded by the
 * memory budget). docs/memory.md has the measured bytes.
 */
import type { Credential } from '../../decoders/rpc.js';
import type { Endpoint } from '../transport/stream.js';
import { fnvText, HASH_SEED, seededMix } from '../fnv.js';
import { CallBytesRing } from './call-bytes.js';
import type { PendingCall } from './call-table.js';

const PAGE_BITS = 10;
const PAGE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE - 1;
/** No record (the end of a list or chain). */
export const NONE = -1;
const EMPTY: Buffer = Buffer.alloc(0);

/** Fixed-size records of int32 fields and references, in pages, with a free list (through int field 0). */
class Records {
  private readonly ints: Int32Array[] = [];
  private readonly refs: unknown[][] = [];
  private free = NONE;
  /** Records ever allocated (the next new index). */
  private top = 0;
  live = 0;

  constructor(
    private readonly intStride: number,
    private readonly refStride: number,
  ) {}

  alloc(): number {
    this.live++;
    const f = this.free;
    if (f !== NONE) {
      this.free = this.get(f, 0);
      return f;
    }
    const i = this.top++;
    if ((i >>> PAGE_BITS) === this.ints.length) {
      this.ints.push(new Int32Array(PAGE * this.intStride));
      const r = new Array<unknown>(PAGE * this.refStride);
      r.fill(undefined);
      this.refs.push(r);
    }
    return i;
  }

  release(i: number): void {
    this.live--;
    const r = this.refs[i >>> PAGE_BITS]!;
    const base = (i & PAGE_MASK) * this.refStride;
    for (let k = 0; k < this.refStride; k++) r[base + k] = undefined;
    this.set(i, 0, this.free);
    this.free = i;
  }

  get(i: number, field: number): number {
    return this.ints[i >>> PAGE_BITS]![(i & PAGE_MASK) * this.intStride + field]!;
  }

  set(i: number, field: number, v: number): void {
    this.ints[i >>> PAGE_BITS]![(i & PAGE_MASK) * this.intStride + field] = v;
  }

  ref(i: number, field: number): unknown {
    return this.refs[i >>> PAGE_BITS]![(i & PAGE_MASK) * this.refStride + field];
  }

  setRef(i: number, field: number, v: unknown): void {
    this.refs[i >>> PAGE_BITS]![(i & PAGE_MASK) * this.refStride + field] = v;
  }
}

/** Hash buckets: the first record of each chain, the chain through a field of the records. Doubles when there are more records than buckets. */
class Buckets {
  heads = new Int32Array(64).fill(NONE);
  mask = 63;
  count = 0;
}

/** The indexes' hash, seeded per process (src/fnv.ts HASH_SEED). */
function mix(a: number, b: number): number {
  return seededMix(a, b, HASH_SEED);
}

// Direction fields.
const D_HNEXT = 0;
/** TCP and RDMA: the direction's key (see dirIndex); UDP: a hash of its text (dirRecentHash). */
const D_KEY = 1;
const D_TRANSPORT = 2;
const D_CONN = 3;
const D_LRU_PREV = 4;
const D_LRU_NEXT = 5;
const D_OLDEST = 6;
const D_NEWEST = 7;
const D_COUNT = 8;
const D_ORD_PREV = 9;
const D_ORD_NEXT = 10;
const D_ACTIVE = 11;
const D_BYTES = 12;
const D_INTS = 13;
// Direction references.
const DR_CLIENT = 0;
const DR_SERVER = 1;
const DR_UDP_KEY = 2;
const D_REFS = 3;

// Call fields.
const C_DIR = 0; // also the free list's link
const C_XID = 1;
const C_HNEXT = 2;
const C_PREV = 3;
const C_NEXT = 4;
const C_PROG = 5;
const C_VERS = 6;
const C_PROC = 7;
const C_FILE = 8;
const C_NUM = 9;
const C_SEC = 10;
const C_NSEC = 11;
const C_LEN = 12;
const C_BODY = 13;
const C_BYTES = 14;
/** Where a compact call's bytes are in the ring (−1: in its CR_HEAD string, or none), and how many. */
const C_RING_OFF = 15;
const C_RING_LEN = 16;
const C_INTS = 17;
// Call references.
const CR_HEAD = 0;
const CR_CRED = 1;
const CR_FULL = 2;
const C_REFS = 3;

/** Transports, as kept in a direction (and its flush order list). */
export const T_TCP = 0;
export const T_UDP = 1;
export const T_RDMA = 2;
export type TransportCode = typeof T_TCP | typeof T_UDP | typeof T_RDMA;

/** What a compact call holds besides its references (all fit 32 bits; the caller checks). */
export interface CompactCall {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  fileIndex: number;
  number: number;
  tsSec: number;
  tsNsec: number;
  length: number;
  bodyOffset: number;
}

export class WaitingCalls {
  private readonly dirs = new Records(D_INTS, D_REFS);
  private readonly calls = new Records(C_INTS, C_REFS);
  /** Compact calls' bytes (made at the first such call). */
  private ring: CallBytesRing | undefined;
  /** TCP and RDMA directions by key (TCP: connection id × 2 + direction; RDMA: −(id × 2 + direction) − 1). */
  private readonly dirIndex = new Buckets();
  /** UDP directions by "client>server" text. */
  private readonly udp = new Map<string, number>();
  private readonly callIndex = new Buckets();
  /** Directions holding accounted bytes, least recently called first. */
  private lruHead = NONE;
  private lruTail = NONE;
  /** Per transport: directions in flush order (connection by connection, by first call; direction 0 first). */
  private readonly ordHead = [NONE, NONE, NONE];
  private readonly ordTail = [NONE, NONE, NONE];

  get callCount(): number {
    return this.calls.live;
  }

  get directionCount(): number {
    return this.dirs.live;
  }

  // --- directions ---

  /** The TCP (or RDMA) direction `key`, or NONE. */
  findDir(key: number): number {
    const b = this.dirIndex;
    for (let d = b.heads[mix(key, 0) & b.mask]!; d !== NONE; d = this.dirs.get(d, D_HNEXT)) {
      if (this.dirs.get(d, D_KEY) === key) return d;
    }
    return NONE;
  }

  findUdpDir(key: string): number {
    return this.udp.get(key) ?? NONE;
  }

  /**
   * A new direction (not yet in the eviction order). `key` for TCP and RDMA
   * connections (see dirIndex), `udpKey` for address pairs (UDP, or a
   * message without its connection); `transport` is the message's. A direction of a connection whose other
   * direction exists is flushed right after it (direction 0 first).
   */
  makeDir(transport: TransportCode, key: number, udpKey: string | undefined, conn: number, client: Endpoint, server: Endpoint): number {
    const kind = udpKey !== undefined ? T_UDP : key >= 0 ? T_TCP : T_RDMA;
    const ds = this.dirs;
    const d = ds.alloc();
    ds.set(d, D_KEY, udpKey !== undefined ? fnvText(udpKey) : key);
    ds.set(d, D_TRANSPORT, transport);
    ds.set(d, D_CONN, conn);
    ds.set(d, D_LRU_PREV, NONE);
    ds.set(d, D_LRU_NEXT, NONE);
    ds.set(d, D_OLDEST, NONE);
    ds.set(d, D_NEWEST, NONE);
    ds.set(d, D_COUNT, 0);
    ds.set(d, D_ACTIVE, 0);
    ds.set(d, D_BYTES, 0);
    ds.setRef(d, DR_CLIENT, client);
    ds.setRef(d, DR_SERVER, server);
    if (udpKey !== undefined) {
      ds.setRef(d, DR_UDP_KEY, udpKey);
      this.udp.set(udpKey, d);
      this.ordAppend(kind, d);
      return d;
    }
    this.indexInsert(this.dirIndex, mix(key, 0), d, ds, D_HNEXT);
    const sibling = this.findDir(key >= 0 ? key ^ 1 : -((-key - 1) ^ 1) - 1);
    if (sibling === NONE) this.ordAppend(kind, d);
    else if ((key >= 0 ? key : -key - 1) & 1) this.ordInsertAfter(kind, sibling, d);
    else this.ordInsertBefore(kind, sibling, d);
    return d;
  }

  /** Forgets a direction (its calls must be gone). */
  freeDir(d: number): void {
    const ds = this.dirs;
    if (ds.get(d, D_ACTIVE) !== 0) this.deactivate(d);
    const udpKey = ds.ref(d, DR_UDP_KEY) as string | undefined;
    const key = ds.get(d, D_KEY);
    if (udpKey !== undefined) this.udp.delete(udpKey);
    else this.indexRemove(this.dirIndex, mix(key, 0), d, ds, D_HNEXT);
    this.ordRemove(udpKey !== undefined ? T_UDP : key >= 0 ? T_TCP : T_RDMA, d);
    ds.release(d);
  }

  dirTransport(d: number): TransportCode {
    return this.dirs.get(d, D_TRANSPORT) as TransportCode;
  }

  dirConn(d: number): number {
    return this.dirs.get(d, D_CONN);
  }

  dirClient(d: number): Endpoint {
    return this.dirs.ref(d, DR_CLIENT) as Endpoint;
  }

  dirServer(d: number): Endpoint {
    return this.dirs.ref(d, DR_SERVER) as Endpoint;
  }

  /** What the memory of answered calls knows the direction by (unique in a run, unlike the record). */
  dirRecentKey(d: number): number | string {
    return (this.dirs.ref(d, DR_UDP_KEY) as string | undefined) ?? this.dirs.get(d, D_KEY);
  }

  /** A hash of dirRecentKey, the same for the same key: the number itself, or the text's hash made with the direction. */
  dirRecentHash(d: number): number {
    return this.dirs.get(d, D_KEY);
  }

  dirCount(d: number): number {
    return this.dirs.get(d, D_COUNT);
  }

  dirBytes(d: number): number {
    return this.dirs.get(d, D_BYTES);
  }

  addDirBytes(d: number, delta: number): void {
    this.dirs.set(d, D_BYTES, this.dirs.get(d, D_BYTES) + delta);
  }

  dirActive(d: number): boolean {
    return this.dirs.get(d, D_ACTIVE) !== 0;
  }

  /** Makes a direction the most recently called (the last the budget asks). */
  touch(d: number): void {
    const ds = this.dirs;
    if (ds.get(d, D_ACTIVE) !== 0) {
      if (this.lruTail === d) return;
      this.deactivate(d);
    }
    ds.set(d, D_ACTIVE, 1);
    ds.set(d, D_LRU_PREV, this.lruTail);
    ds.set(d, D_LRU_NEXT, NONE);
    if (this.lruTail !== NONE) ds.set(this.lruTail, D_LRU_NEXT, d);
    else this.lruHead = d;
    this.lruTail = d;
  }

  /** Takes a direction out of the eviction order. */
  deactivate(d: number): void {
    const ds = this.dirs;
    const p = ds.get(d, D_LRU_PREV);
    const n = ds.get(d, D_LRU_NEXT);
    if (p !== NONE) ds.set(p, D_LRU_NEXT, n);
    else this.lruHead = n;
    if (n !== NONE) ds.set(n, D_LRU_PREV, p);
    else this.lruTail = p;
    ds.set(d, D_LRU_PREV, NONE);
    ds.set(d, D_LRU_NEXT, NONE);
    ds.set(d, D_ACTIVE, 0);
  }

  /** The direction that made a call longest ago, of those in the eviction order. */
  get leastRecent(): number {
    return this.lruHead;
  }

  /** The directions kept by TCP connection (T_TCP), by address pair (T_UDP) or by RDMA connection (T_RDMA), in flush order. */
  directions(kind: TransportCode): number[] {
    const out: number[] = [];
    for (let d = this.ordHead[kind]!; d !== NONE; d = this.dirs.get(d, D_ORD_NEXT)) out.push(d);
    return out;
  }

  private ordAppend(t: number, d: number): void {
    const ds = this.dirs;
    const tail = this.ordTail[t]!;
    ds.set(d, D_ORD_PREV, tail);
    ds.set(d, D_ORD_NEXT, NONE);
    if (tail !== NONE) ds.set(tail, D_ORD_NEXT, d);
    else this.ordHead[t] = d;
    this.ordTail[t] = d;
  }

  private ordInsertAfter(t: number, at: number, d: number): void {
    const ds = this.dirs;
    const n = ds.get(at, D_ORD_NEXT);
    ds.set(d, D_ORD_PREV, at);
    ds.set(d, D_ORD_NEXT, n);
    ds.set(at, D_ORD_NEXT, d);
    if (n !== NONE) ds.set(n, D_ORD_PREV, d);
    else this.ordTail[t] = d;
  }

  private ordInsertBefore(t: number, at: number, d: number): void {
    const ds = this.dirs;
    const p = ds.get(at, D_ORD_PREV);
    if (p !== NONE) {
      this.ordInsertAfter(t, p, d);
      return;
    }
    ds.set(d, D_ORD_PREV, NONE);
    ds.set(d, D_ORD_NEXT, at);
    ds.set(at, D_ORD_PREV, d);
    this.ordHead[t] = d;
  }

  private ordRemove(t: number, d: number): void {
    const ds = this.dirs;
    const p = ds.get(d, D_ORD_PREV);
    const n = ds.get(d, D_ORD_NEXT);
    if (p !== NONE) ds.set(p, D_ORD_NEXT, n);
    else this.ordHead[t] = n;
    if (n !== NONE) ds.set(n, D_ORD_PREV, p);
    else this.ordTail[t] = p;
  }

  // --- calls ---

  /** The waiting call of direction `d` with this xid, or NONE. */
  findCall(d: number, xid: number): number {
    const b = this.callIndex;
    const x = xid | 0;
    const cs = this.calls;
    for (let c = b.heads[mix(d, x) & b.mask]!; c !== NONE; c = cs.get(c, C_HNEXT)) {
      if (cs.get(c, C_XID) === x && cs.get(c, C_DIR) === d) return c;
    }
    return NONE;
  }

  /**
   * Adds a call, the newest of its direction. `v` null: a full call (`full`
   * holds everything). A compact call's `head` bytes are copied (into the
   * ring, or a string).
   */
  addCall(d: number, xid: number, v: CompactCall | null, head: Buffer, cred: Credential | undefined, full: PendingCall | undefined, bytes: number): number {
    const cs = this.calls;
    const c = cs.alloc();
    const x = xid | 0;
    cs.set(c, C_DIR, d);
    cs.set(c, C_XID, x);
    cs.set(c, C_RING_OFF, NONE);
    if (head.length > 0) {
      const ring = (this.ring ??= new CallBytesRing(this.spillCall));
      if (head.length <= ring.putMax) {
        // Set after the put: the put may tell an older owner of this record its bytes go.
        const off = ring.put(c, head);
        cs.set(c, C_RING_OFF, off);
        cs.set(c, C_RING_LEN, head.length);
      } else {
        cs.setRef(c, CR_HEAD, head.toString('latin1'));
      }
    }
    if (v !== null) {
      cs.set(c, C_PROG, v.prog | 0);
      cs.set(c, C_VERS, v.vers | 0);
      cs.set(c, C_PROC, v.proc | 0);
      cs.set(c, C_FILE, v.fileIndex);
      cs.set(c, C_NUM, v.number);
      cs.set(c, C_SEC, v.tsSec);
      cs.set(c, C_NSEC, v.tsNsec);
      cs.set(c, C_LEN, v.length);
      cs.set(c, C_BODY, v.bodyOffset);
    }
    cs.set(c, C_BYTES, bytes);
    cs.setRef(c, CR_CRED, cred);
    cs.setRef(c, CR_FULL, full);
    this.indexInsert(this.callIndex, mix(d, x), c, cs, C_HNEXT);
    // Last in its direction's list.
    const ds = this.dirs;
    const newest = ds.get(d, D_NEWEST);
    cs.set(c, C_PREV, newest);
    cs.set(c, C_NEXT, NONE);
    if (newest !== NONE) cs.set(newest, C_NEXT, c);
    else ds.set(d, D_OLDEST, c);
    ds.set(d, D_NEWEST, c);
    ds.set(d, D_COUNT, ds.get(d, D_COUNT) + 1);
    return c;
  }

  /** Removes a call from its direction and the index. */
  removeCall(c: number): void {
    const cs = this.calls;
    const ds = this.dirs;
    const d = cs.get(c, C_DIR);
    this.indexRemove(this.callIndex, mix(d, cs.get(c, C_XID)), c, cs, C_HNEXT);
    const p = cs.get(c, C_PREV);
    const n = cs.get(c, C_NEXT);
    if (p !== NONE) cs.set(p, C_NEXT, n);
    else ds.set(d, D_OLDEST, n);
    if (n !== NONE) cs.set(n, C_PREV, p);
    else ds.set(d, D_NEWEST, p);
    ds.set(d, D_COUNT, ds.get(d, D_COUNT) - 1);
    cs.set(c, C_RING_OFF, NONE);
    cs.release(c);
  }

  oldestCall(d: number): number {
    return this.dirs.get(d, D_OLDEST);
  }

  nextCall(c: number): number {
    return this.calls.get(c, C_NEXT);
  }

  callFull(c: number): PendingCall | undefined {
    return this.calls.ref(c, CR_FULL) as PendingCall | undefined;
  }

  /** Replaces a compact call by its full form. */
  setCallFull(c: number, full: PendingCall): void {
    this.calls.setRef(c, CR_FULL, full);
    this.calls.setRef(c, CR_HEAD, undefined);
    this.calls.setRef(c, CR_CRED, undefined);
    this.calls.set(c, C_RING_OFF, NONE);
  }

  /**
   * A compact call's message bytes: a view of the ring (valid until the
   * next call is added: decode them, or copy them, before), or a Buffer
   * made from the string they were spilled to.
   */
  callHead(c: number): Buffer {
    const cs = this.calls;
    const off = cs.get(c, C_RING_OFF);
    if (off !== NONE) return this.ring!.view(off, cs.get(c, C_RING_LEN));
    const text = cs.ref(c, CR_HEAD) as string | undefined;
    return text === undefined || text.length === 0 ? EMPTY : Buffer.from(text, 'latin1');
  }

  /** The ring is about to write over a call's bytes: a call still waiting keeps them as a string. */
  private readonly spillCall = (c: number, off: number, len: number): void => {
    const cs = this.calls;
    if (cs.get(c, C_RING_OFF) !== off) return;
    cs.setRef(c, CR_HEAD, this.ring!.text(off, len));
    cs.set(c, C_RING_OFF, NONE);
  };

  callCred(c: number): Credential {
    return this.calls.ref(c, CR_CRED) as Credential;
  }

  callBytes(c: number): number {
    return this.calls.get(c, C_BYTES);
  }

  setCallBytes(c: number, n: number): void {
    this.calls.set(c, C_BYTES, n);
  }

  callXid(c: number): number {
    return this.calls.get(c, C_XID) >>> 0;
  }

  /** The compact fields of a call (not of a full one). */
  compact(c: number): CompactCall {
    const cs = this.calls;
    return {
      xid: cs.get(c, C_XID) >>> 0,
      prog: cs.get(c, C_PROG) >>> 0,
      vers: cs.get(c, C_VERS) >>> 0,
      proc: cs.get(c, C_PROC) >>> 0,
      fileIndex: cs.get(c, C_FILE),
      number: cs.get(c, C_NUM),
      tsSec: cs.get(c, C_SEC),
      tsNsec: cs.get(c, C_NSEC),
      length: cs.get(c, C_LEN),
      bodyOffset: cs.get(c, C_BODY),
    };
  }

  /** Program, version and procedure of a call, whatever its form. */
  program(c: number): number {
    const f = this.callFull(c);
    return f !== undefined ? f.t.program : this.calls.get(c, C_PROG) >>> 0;
  }

  version(c: number): number {
    const f = this.callFull(c);
    return f !== undefined ? f.t.version : this.calls.get(c, C_VERS) >>> 0;
  }

  procedure(c: number): number {
    const f = this.callFull(c);
    return f !== undefined ? f.t.procedure : this.calls.get(c, C_PROC) >>> 0;
  }

  // --- hash chains ---

  private indexInsert(b: Buckets, hash: number, r: number, recs: Records, next: number): void {
    if (b.count >= b.heads.length) this.grow(b, recs, next, b === this.callIndex);
    const i = hash & b.mask;
    recs.set(r, next, b.heads[i]!);
    b.heads[i] = r;
    b.count++;
  }

  private indexRemove(b: Buckets, hash: number, r: number, recs: Records, next: number): void {
    const i = hash & b.mask;
    let p = NONE;
    for (let x = b.heads[i]!; x !== NONE; p = x, x = recs.get(x, next)) {
      if (x !== r) continue;
      const n = recs.get(x, next);
      if (p === NONE) b.heads[i] = n;
      else recs.set(p, next, n);
      b.count--;
      return;
    }
  }

  private grow(b: Buckets, recs: Records, next: number, calls: boolean): void {
    const old = b.heads;
    const heads = new Int32Array(old.length * 2).fill(NONE);
    const mask = heads.length - 1;
    for (let i = 0; i < old.length; i++) {
      for (let r = old[i]!; r !== NONE; ) {
        const n = recs.get(r, next);
        const h = calls ? mix(recs.get(r, C_DIR), recs.get(r, C_XID)) : mix(recs.get(r, D_KEY), 0);
        recs.set(r, next, heads[h & mask]!);
        heads[h & mask] = r;
        r = n;
      }
    }
    b.heads = heads;
    b.mask = mask;
  }
}
