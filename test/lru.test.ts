/**
 * LruMap and LruList: the order of a Map (insertion order, `touch` as
 * delete + set) with the oldest entry taken in O(1).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LruList, LruMap, type LruLinks } from '../src/memory/lru.js';
import { randInt, rng } from './gen/random.js';

describe('LruMap', () => {
  it('behaves as a Map touched by delete + set, under random operations', () => {
    const r = rng(16);
    const lru = new LruMap<number, number>();
    const ref = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      const k = randInt(r, 0, 300);
      const op = randInt(r, 0, 6);
      if (op === 0 || op === 1) {
        lru.set(k, step);
        ref.set(k, step);
      } else if (op === 2) {
        expect(lru.delete(k)).toBe(ref.delete(k));
      } else if (op === 3) {
        const v = ref.get(k);
        if (v !== undefined) {
          ref.delete(k);
          ref.set(k, v);
        }
        expect(lru.touch(k)).toBe(v);
      } else if (op === 4) {
        const first = ref.entries().next();
        expect(lru.oldest()).toEqual(first.done ? undefined : first.value);
        if (randInt(r, 0, 2) === 0 && !first.done) {
          ref.delete(first.value[0]);
          expect(lru.shift()).toEqual(first.value);
        }
      } else {
        expect(lru.get(k)).toBe(ref.get(k));
        expect(lru.has(k)).toBe(ref.has(k));
      }
      expect(lru.size).toBe(ref.size);
    }
    expect([...lru]).toEqual([...ref]);
    expect([...lru.keys()]).toEqual([...ref.keys()]);
    expect([...lru.values()]).toEqual([...ref.values()]);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.shift()).toBeUndefined();
  });

  it('behaves as a Map while small (no Map inside up to 8 entries), across the threshold, and after clear', () => {
    const r = rng(8);
    for (let round = 0; round < 40; round++) {
      const lru = new LruMap<number, number>();
      const ref = new Map<number, number>();
      // Keys 0-11: the size wanders around 8, where the map makes its Map.
      for (let step = 0; step < 400; step++) {
        const k = randInt(r, 0, round % 2 === 0 ? 9 : 12);
        const op = randInt(r, 0, 5);
        if (op <= 1) {
          lru.set(k, step);
          ref.set(k, step);
        } else if (op === 2) {
          expect(lru.delete(k)).toBe(ref.delete(k));
        } else if (op === 3) {
          const first = ref.entries().next();
          if (!first.done) ref.delete(first.value[0]);
          expect(lru.shift()).toEqual(first.done ? undefined : first.value);
        } else {
          expect(lru.get(k)).toBe(ref.get(k));
        }
        expect(lru.size).toBe(ref.size);
        expect([...lru]).toEqual([...ref]);
      }
      lru.clear();
      ref.clear();
      lru.set(1, 1);
      expect([...lru]).toEqual([[1, 1]]);
    }
  });

  it('finds NaN and -0 keys as a Map does (SameValueZero), small or not', () => {
    for (const filler of [0, 20]) {
      const lru = new LruMap<number, string>();
      for (let i = 0; i < filler; i++) lru.set(100 + i, 'x');
      lru.set(NaN, 'nan');
      lru.set(-0, 'zero');
      expect(lru.get(NaN)).toBe('nan');
      expect(lru.get(0)).toBe('zero');
      expect(lru.has(+0)).toBe(true);
      expect(lru.delete(NaN)).toBe(true);
      expect(lru.has(NaN)).toBe(false);
      expect(lru.size).toBe(filler + 1);
    }
  });

  it('takes the oldest of a capped map at every insertion (the pattern that is slow with a Map)', () => {
    const lru = new LruMap<number, string>();
    for (let i = 0; i < 50_000; i++) {
      lru.set(i, `v${i}`);
      if (lru.size > 1000) expect(lru.shift()).toEqual([i - 1000, `v${i - 1000}`]);
    }
    expect(lru.size).toBe(1000);
    expect(lru.oldest()).toEqual([49_000, 'v49000']);
  });
});

describe('LruList', () => {
  class Item implements LruLinks {
    lruPrev: LruLinks | null = null;
    lruNext: LruLinks | null = null;
    constructor(readonly n: number) {}
  }

  it('pushes, touches, removes and shifts in O(1), oldest first', () => {
    const list = new LruList<Item>();
    const items = [0, 1, 2, 3].map((n) => new Item(n));
    for (const i of items) list.push(i);
    expect(list.contains(items[0]!)).toBe(true);
    list.touch(items[0]!); // 1 2 3 0
    list.remove(items[2]!); // 1 3 0
    expect(list.contains(items[2]!)).toBe(false);
    expect([...list].map((i) => i.n)).toEqual([1, 3, 0]);
    expect(list.size).toBe(3);
    expect(list.shift()!.n).toBe(1);
    expect(list.oldest!.n).toBe(3);
    list.touch(items[0]!); // already the newest
    expect([...list].map((i) => i.n)).toEqual([3, 0]);
    list.remove(items[3]!);
    list.remove(items[0]!);
    expect(list.size).toBe(0);
    expect(list.oldest).toBeNull();
    expect(list.shift()).toBeNull();
  });
});

describe('capped maps in the source', () => {
  it('none takes its oldest entry with keys().next() or entries().next() (quadratic in V8: use LruMap)', () => {
    const root = fileURLToPath(new URL('../src', import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) {
          readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
            if (/\.(keys|entries)\(\)\.next\(\)/.test(line)) offenders.push(`${relative(root, p)}:${i + 1}`);
          });
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
