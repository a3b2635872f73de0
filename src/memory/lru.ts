/**
 * Least-recently-used bookkeeping that stays O(1) per operation at any size.
 *
 * Why not a plain Map "touched by delete and set, oldest = keys().next()":
 * V8 leaves deleted entries in place until the table is rebuilt, and
 * iteration from the front walks over them, so taking the oldest entry of
 * a Map from which the oldest are always deleted costs up to the table's
 * capacity each time (measured: 200,000 insertions into a Map capped at
 * 10,000 entries took 25 s). Here the order lives in a doubly linked list
 * beside the Map, so taking the oldest never iterates the Map.
 */

/** A node of an intrusive list: objects that take part in one {@link LruList} extend or embed these two links. */
export interface LruLinks {
  lruPrev: LruLinks | null;
  lruNext: LruLinks | null;
}

/**
 * An intrusive doubly linked list, oldest first: the items carry the links
 * themselves, so keeping an item in order costs no allocation. An item is in
 * at most one list at a time (`contains` tells whether it is in this one).
 */
export class LruList<T extends LruLinks> {
  private head: T | null = null;
  private tail: T | null = null;
  size = 0;

  /** The oldest item (least recently pushed or touched). */
  get oldest(): T | null {
    return this.head;
  }

  contains(item: T): boolean {
    return item.lruPrev !== null || item.lruNext !== null || this.head === item;
  }

  /** Appends an item that is in no list: it becomes the newest. */
  push(item: T): void {
    item.lruPrev = this.tail;
    item.lruNext = null;
    if (this.tail !== null) this.tail.lruNext = item;
    else this.head = item;
    this.tail = item;
    this.size++;
  }

  /** Makes an item of this list the newest. */
  touch(item: T): void {
    if (this.tail === item) return;
    this.unlink(item);
    this.push(item);
  }

  /** Removes an item of this list. */
  remove(item: T): void {
    this.unlink(item);
    item.lruPrev = null;
    item.lruNext = null;
  }

  /** Removes and returns the oldest item. */
  shift(): T | null {
    const h = this.head;
    if (h !== null) this.remove(h);
    return h;
  }

  /** Items oldest first. The list may not change during the iteration. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let n = this.head; n !== null; n = n.lruNext as T | null) yield n;
  }

  private unlink(item: T): void {
    const p = item.lruPrev as T | null;
    const n = item.lruNext as T | null;
    if (p !== null) p.lruNext = n;
    else this.head = n;
    if (n !== null) n.lruPrev = p;
    else this.tail = p;
    this.size--;
  }
}

class Entry<K, V> implements LruLinks {
  lruPrev: LruLinks | null = null;
  lruNext: LruLinks | null = null;
  constructor(
    readonly key: K,
    public value: V,
  ) {}
}

/**
 * Up to this many entries an {@link LruMap} has no Map: a key is looked up
 * by walking its list (a Map costs about 300 bytes even with one entry, and
 * there is one table per connection direction that makes calls).
 */
const SMALL_MAP = 8;

/** Whether two keys are the same key for a Map (SameValueZero). */
function sameKey<K>(a: K, b: K): boolean {
  // eslint-disable-next-line no-self-compare
  return a === b || (a !== a && b !== b);
}

/**
 * A Map whose oldest entry is found in O(1): the order is a Map's (insertion
 * order: setting an existing key keeps its place), `touch` moves a key to
 * the end as `delete` + `set` would, and `oldest`/`shift` take the first
 * entry without iterating. A drop-in for the Map operations it has. Small
 * (up to {@link SMALL_MAP} entries), it holds no Map at all.
 */
export class LruMap<K, V> {
  /** Entries by key, made when the map first grows beyond SMALL_MAP entries. */
  private map: Map<K, Entry<K, V>> | undefined = undefined;
  private readonly order = new LruList<Entry<K, V>>();

  get size(): number {
    return this.order.size;
  }

  private find(key: K): Entry<K, V> | undefined {
    const m = this.map;
    if (m !== undefined) return m.get(key);
    for (let e = this.order.oldest; e !== null; e = e.lruNext as Entry<K, V> | null) if (sameKey(e.key, key)) return e;
    return undefined;
  }

  has(key: K): boolean {
    return this.find(key) !== undefined;
  }

  /** The value, without changing the order. */
  get(key: K): V | undefined {
    return this.find(key)?.value;
  }

  /** The value, made the newest. */
  touch(key: K): V | undefined {
    const e = this.find(key);
    if (e === undefined) return undefined;
    this.order.touch(e);
    return e.value;
  }

  /** Sets the value; a new key becomes the newest, an existing one keeps its place. */
  set(key: K, value: V): this {
    const e = this.find(key);
    if (e !== undefined) {
      e.value = value;
      return this;
    }
    const n = new Entry(key, value);
    this.order.push(n);
    if (this.map !== undefined) this.map.set(key, n);
    else if (this.order.size > SMALL_MAP) {
      const m = (this.map = new Map());
      for (const x of this.order) m.set(x.key, x);
    }
    return this;
  }

  delete(key: K): boolean {
    const e = this.find(key);
    if (e === undefined) return false;
    this.map?.delete(key);
    this.order.remove(e);
    return true;
  }

  /** The oldest key and value, without removing them. */
  oldest(): [K, V] | undefined {
    const e = this.order.oldest;
    return e === null ? undefined : [e.key, e.value];
  }

  /** Removes the oldest entry and returns it. */
  shift(): [K, V] | undefined {
    const e = this.order.shift();
    if (e === null) return undefined;
    this.map?.delete(e.key);
    return [e.key, e.value];
  }

  clear(): void {
    while (this.order.shift() !== null);
    this.map = undefined;
  }

  *keys(): IterableIterator<K> {
    for (const e of this.order) yield e.key;
  }

  *values(): IterableIterator<V> {
    for (const e of this.order) yield e.value;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const e of this.order) yield [e.key, e.value];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}
