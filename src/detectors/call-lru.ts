/**
 * A least-recently-used map keyed by a call: its endpoints' text (`pair`, a
 * string made once per connection) and its xid. It behaves as an LruMap
 * keyed by `pair + xid` would, without building and hashing that string
 * per call: entries are found by a number mixing the xid with a hash of
 * `pair` (`pairHash`, made with the text: src/fnv.ts fnvText), then by
 * `pair` and xid among the few entries with that number. Keyed by the xid
 * alone, the chain of one xid held every pair that used it: 8,192 entries
 * when thousands of clients start from the same xid, walked per call.
 */
import { HASH_SEED, seededMix } from '../fnv.js';
import { LruList, type LruLinks } from '../memory/lru.js';

class Entry<V> implements LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  /** The next entry with the same key. */
  sameKey: Entry<V> | null = null;
  constructor(
    public pair: string,
    public pairHash: number,
    public xid: number,
    public value: V,
  ) {}
}

/**
 * The map key of a pair's xid: an int32 (a small integer to V8, never a
 * boxed number), seeded per process (V8 hashes integer keys with a fixed
 * function: xids could be picked to share its chains).
 */
const keyOf = (pairHash: number, xid: number): number => seededMix(pairHash, xid, HASH_SEED) | 0;

export class CallLru<V> {
  /** The newest entry of each key (keyOf); the others follow through `sameKey`. */
  private readonly byKey = new Map<number, Entry<V>>();
  /** Oldest first. */
  private readonly order = new LruList<Entry<V>>();

  get size(): number {
    return this.order.size;
  }

  private find(pair: string, pairHash: number, xid: number): Entry<V> | undefined {
    for (let e = this.byKey.get(keyOf(pairHash, xid)) ?? null; e !== null; e = e.sameKey) if (e.xid === xid && e.pair === pair) return e;
    return undefined;
  }

  /** The value, without changing the order. */
  get(pair: string, pairHash: number, xid: number): V | undefined {
    return this.find(pair, pairHash, xid)?.value;
  }

  /** The value, made the newest. */
  touch(pair: string, pairHash: number, xid: number): V | undefined {
    const e = this.find(pair, pairHash, xid);
    if (e === undefined) return undefined;
    this.order.touch(e);
    return e.value;
  }

  /** Sets the value; a new key becomes the newest, an existing one keeps its place. */
  set(pair: string, pairHash: number, xid: number, value: V): void {
    const e = this.find(pair, pairHash, xid);
    if (e !== undefined) {
      e.value = value;
      return;
    }
    this.insert(new Entry(pair, pairHash, xid, value));
  }

  delete(pair: string, pairHash: number, xid: number): boolean {
    const e = this.find(pair, pairHash, xid);
    if (e === undefined) return false;
    this.unlinkKey(e);
    this.order.remove(e);
    return true;
  }

  /** Removes the oldest entry and returns its value. */
  shift(): V | undefined {
    const e = this.order.shift();
    if (e === null) return undefined;
    this.unlinkKey(e);
    return e.value;
  }

  /**
   * The oldest entry's value, now under a key not in the map, as the newest
   * (as shift() and then set() with that value, without a new entry).
   * Undefined, and nothing changed, when the map is empty.
   */
  reuseOldest(pair: string, pairHash: number, xid: number): V | undefined {
    const e = this.order.shift();
    if (e === null) return undefined;
    this.unlinkKey(e);
    e.pair = pair;
    e.pairHash = pairHash;
    e.xid = xid;
    this.insert(e);
    return e.value;
  }

  private insert(e: Entry<V>): void {
    const k = keyOf(e.pairHash, e.xid);
    e.sameKey = this.byKey.get(k) ?? null;
    this.byKey.set(k, e);
    this.order.push(e);
  }

  private unlinkKey(e: Entry<V>): void {
    const k = keyOf(e.pairHash, e.xid);
    const head = this.byKey.get(k)!;
    if (head === e) {
      if (e.sameKey === null) this.byKey.delete(k);
      else this.byKey.set(k, e.sameKey);
    } else {
      let p = head;
      while (p.sameKey !== e) p = p.sameKey!;
      p.sameKey = e.sameKey;
    }
    e.sameKey = null;
  }
}
