/**
 * CallLru (src/detectors/call-lru.ts) must behave as an LruMap keyed by the
 * call's text (`pair|xid`): the same values found, the same order of
 * eviction, on random operations over few pairs and xids (so that many
 * entries share an xid), with a hash of the pair that makes keys collide,
 * and over 40,000 pairs sharing one xid.
 */
import { describe, expect, it } from 'vitest';
import { CallLru } from '../src/detectors/call-lru.js';
import { fnvText } from '../src/fnv.js';
import { LruMap } from '../src/memory/lru.js';

/** A small deterministic generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** A pair's hash with two bits only: entries of different pairs and xids then share keys (xid ^ hash), and chains are walked. */
const weakHash = (pair: string): number => fnvText(pair) & 3;

/** The first few differences between CallLru and its model, as noted by `same`. */
function mismatches(): { wrong: string[]; same: (what: string, a: unknown, b: unknown) => void } {
  const wrong: string[] = [];
  const same = (what: string, a: unknown, b: unknown): void => {
    if (a !== b && wrong.length < 5) wrong.push(`${what}: ${String(a)} vs ${String(b)}`);
  };
  return { wrong, same };
}

describe('CallLru', () => {
  it('gives what an LruMap keyed by the call text gives, over 50,000 random operations', () => {
    const pairs = ['10.0.0.1|10.0.0.9:2049', '10.0.0.2|10.0.0.9:2049', '10.0.0.1|10.0.0.8:2049', 'fe80::1|[fe80::9]:2049'];
    const xids = [0, 1, 7, 0x7fffffff, 0x80000000, 0xffffffff];
    const rnd = random(13);
    const lru = new CallLru<number>();
    const model = new LruMap<string, number>();
    const cap = 9;
    let sharedXid = 0;
    const { wrong, same } = mismatches();
    for (let i = 0; i < 50_000; i++) {
      const pair = pairs[Math.floor(rnd() * pairs.length)]!;
      const xid = xids[Math.floor(rnd() * xids.length)]!;
      const key = `${pair}|${xid}`;
      const op = Math.floor(rnd() * 6);
      if (op === 0) same(`op ${op} at ${i}`, lru.get(pair, weakHash(pair), xid), model.get(key));
      else if (op === 1) same(`op ${op} at ${i}`, lru.touch(pair, weakHash(pair), xid), model.touch(key));
      else if (op === 2) {
        lru.set(pair, weakHash(pair), xid, i);
        model.set(key, i);
        if (model.size > cap) same(`op ${op} at ${i}`, lru.shift(), model.shift()?.[1]);
      } else if (op === 3) same(`op ${op} at ${i}`, lru.delete(pair, weakHash(pair), xid), model.delete(key));
      else if (op === 4) same(`op ${op} at ${i}`, lru.shift(), model.shift()?.[1]);
      else if (!model.has(key)) {
        const oldest = model.shift();
        same(`op ${op} at ${i}`, lru.reuseOldest(pair, weakHash(pair), xid), oldest?.[1]);
        if (oldest !== undefined) model.set(key, oldest[1]);
      }
      same(`size at ${i}`, lru.size, model.size);
      if (i % 50 === 0 && xids.some((x) => pairs.filter((p) => model.has(`${p}|${x}`)).length > 1)) sharedXid++;
    }
    expect(wrong).toEqual([]);
    // Drained in the same order.
    while (model.size > 0) expect(lru.shift()).toBe(model.shift()![1]);
    expect(lru.shift()).toBeUndefined();
    expect(lru.size).toBe(0);
    // Entries sharing an xid were common.
    expect(sharedXid).toBeGreaterThan(200);
  });

  it('the same with thousands of entries, xids over all 32 bits, and a full drain', () => {
    const pairs = Array.from({ length: 40 }, (_, i) => `10.0.${i >> 3}.${i & 7}|10.9.0.${i % 5}:2049`);
    const rnd = random(7);
    const lru = new CallLru<number>();
    const model = new LruMap<string, number>();
    const cap = 6_000;
    const { wrong, same } = mismatches();
    for (let i = 0; i < 60_000; i++) {
      const pair = pairs[Math.floor(rnd() * pairs.length)]!;
      // Xids across all 32 bits, and a few hundred that recur.
      const xid = rnd() < 0.5 ? Math.floor(rnd() * 2 ** 32) : Math.floor(rnd() * 300) * 0x01000193;
      const key = `${pair}|${xid >>> 0}`;
      const op = Math.floor(rnd() * 8);
      if (op <= 1) same(`get at ${i}`, lru.get(pair, fnvText(pair), xid >>> 0), model.get(key));
      else if (op === 2) same(`touch at ${i}`, lru.touch(pair, fnvText(pair), xid >>> 0), model.touch(key));
      else if (op <= 5) {
        lru.set(pair, fnvText(pair), xid >>> 0, i);
        model.set(key, i);
        if (model.size > cap) same(`shift at ${i}`, lru.shift(), model.shift()?.[1]);
      } else if (op === 6) same(`delete at ${i}`, lru.delete(pair, fnvText(pair), xid >>> 0), model.delete(key));
      else if (!model.has(key)) {
        const oldest = model.shift();
        same(`reuseOldest at ${i}`, lru.reuseOldest(pair, fnvText(pair), xid >>> 0), oldest?.[1]);
        if (oldest !== undefined) model.set(key, oldest[1]);
      }
      same(`size at ${i}`, lru.size, model.size);
    }
    expect(wrong).toEqual([]);
    expect(model.size).toBeGreaterThan(3_000);
    for (const [key, v] of model) {
      const cut = key.lastIndexOf('|');
      expect(lru.get(key.slice(0, cut), fnvText(key.slice(0, cut)), Number(key.slice(cut + 1)))).toBe(v);
    }
    while (model.size > 0) expect(lru.shift()).toBe(model.shift()![1]);
    expect(lru.size).toBe(0);
  });

  it('finds, evicts in order and deletes 40,000 pairs sharing one xid, ', () => {
    // Thousands of clients starting from the same xid (keyed by the xid
    // alone, each operation walked a chain of every pair).
    const n = 40_000;
    const xid = 0x40000000;
    const pairs = Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}|10.0.0.1:2049`);
    const hashes = pairs.map(fnvText);
    const lru = new CallLru<number>();
    for (let i = 0; i < n; i++) lru.set(pairs[i]!, hashes[i]!, xid, i);
    // The same xid again on another server: another key for every pair.
    for (let i = 0; i < n; i += 2) lru.set(`${pairs[i]!}0`, fnvText(`${pairs[i]!}0`), xid, -i);
    expect(lru.size).toBe(n + n / 2);
    let found = 0;
    for (let i = 0; i < n; i++) if (lru.get(pairs[i]!, hashes[i]!, xid) === i) found++;
    expect(found).toBe(n);
    expect(lru.get(pairs[0]!, hashes[0]!, xid + 1)).toBeUndefined();
    // Touched odd pairs become the newest; the rest keep their order.
    let touched = 0;
    for (let i = 1; i < n; i += 2) if (lru.touch(pairs[i]!, hashes[i]!, xid) === i) touched++;
    expect(touched).toBe(n / 2);
    // Every fourth pair deleted, once.
    let deleted = 0;
    for (let i = 0; i < n; i += 4) if (lru.delete(pairs[i]!, hashes[i]!, xid)) deleted++;
    expect(deleted).toBe(n / 4);
    expect(lru.delete(pairs[0]!, hashes[0]!, xid)).toBe(false);
    expect(lru.get(pairs[4]!, hashes[4]!, xid)).toBeUndefined();
    // The oldest (pair 2) under a new pair's key, as the newest.
    expect(lru.reuseOldest('10.255.0.0|10.0.0.1:2049', fnvText('10.255.0.0|10.0.0.1:2049'), xid)).toBe(2);
    expect(lru.get(pairs[2]!, hashes[2]!, xid)).toBeUndefined();
    const order: number[] = [];
    for (let v = lru.shift(); v !== undefined; v = lru.shift()) order.push(v);
    const want = [
      ...Array.from({ length: n / 2 }, (_, k) => 2 * k).filter((i) => i % 4 === 2 && i !== 2),
      ...Array.from({ length: n / 2 }, (_, k) => -2 * k),
      ...Array.from({ length: n / 2 }, (_, k) => 2 * k + 1),
      2,
    ];
    expect(order).toEqual(want);
    expect(lru.size).toBe(0);
  });
});
