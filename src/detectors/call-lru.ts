/**
 * A least-recently-used map keyed by a call: its endpoints' text (`pair`, a
 * string made once per connection) and its xid. It behaves as an LruMap
 * keyed by `pair + xid` would, without building and hashing that string
 * per call: entries are found by xid (a number) and then by `pair` among
 * the few entries with that xid.
 */
import { LruList, type LruLinks } from '../memory/lru.js';

class Entry<V> implements LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  /** The next entry with the same xid. */
  sameXid: Entry<V> | null = null;
  constructor(
    public pair: string,
    public xid: number,
    public value: V,
  ) {}
}

export class CallLru<V> {
  /** The newest entry of each xid; the others follow through `sameXid`. */
  private readonly byXid = new Map<number, Entry<V>>();
  /** Oldest first. */
  private readonly order = new LruList<Entry<V>>();

  get size(): number {
    return this.order.size;
  }

  private find(pair: string, xid: number): Entry<V> | undefined {
    for (let e = this.byXid.get(xid) ?? null; e !== null; e = e.sameXid) if (e.pair === pair) return e;
    return undefined;
  }

  /** The value, without changing the order. */
  get(pair: string, xid: number): V | undefined {
    return this.find(pair, xid)?.value;
  }

  /** The value, made the newest. */
  touch(pair: string, xid: number): V | undefined {
    const e = this.find(pair, xid);
    if (e === undefined) return undefined;
    this.order.touch(e);
    return e.value;
  }

  /** Sets the value; a new key becomes the newest, an existing one keeps its place. */
  set(pair: string, xid: number, value: V): void {
    const e = this.find(pair, xid);
    if (e !== undefined) {
      e.value = value;
      return;
    }
    this.insert(new Entry(pair, xid, value));
  }

  delete(pair: string, xid: number): boolean {
    const e = this.find(pair, xid);
    if (e === undefined) return false;
    this.unlinkXid(e);
    this.order.remove(e);
    return true;
  }

  /** Removes the oldest entry and returns its value. */
  shift(): V | undefined {
    const e = this.order.shift();
    if (e === null) return undefined;
    this.unlinkXid(e);
    return e.value;
  }

  /**
   * The oldest entry's value, now under a key not in the map, as the newest
   * (as shift() and then set() with that value, without a new entry).
   * Undefined, and nothing changed, when the map is empty.
   */
  reuseOldest(pair: string, xid: number): V | undefined {
    const e = this.order.shift();
    if (e === null) return undefined;
    this.unlinkXid(e);
    e.pair = pair;
    e.xid = xid;
    this.insert(e);
    return e.value;
  }

  private insert(e: Entry<V>): void {
    e.sameXid = this.byXid.get(e.xid) ?? null;
    this.byXid.set(e.xid, e);
    this.order.push(e);
  }

  private unlinkXid(e: Entry<V>): void {
    const head = this.byXid.get(e.xid)!;
    if (head === e) {
      if (e.sameXid === null) this.byXid.delete(e.xid);
      else this.byXid.set(e.xid, e.sameXid);
    } else {
      let p = head;
      while (p.sameXid !== e) p = p.sameXid!;
      p.sameXid = e.sameXid;
    }
    e.sameXid = null;
  }
}
