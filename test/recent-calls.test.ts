import { describe, expect, it } from 'vitest';
import { RecentCalls } from '../src/rpc/call-table.js';
import { fnvText } from '../src/fnv.js';
import type { Transaction } from '../src/rpc/transaction.js';

/** A transaction as RecentCalls reads it. */
const tx = (xid: number, procedure: number): Transaction => ({ xid, program: 100003, version: 3, procedure }) as unknown as Transaction;

/** A direction's hash as the matcher makes it (WaitingCalls.dirRecentHash). */
const dirHash = (dir: number | string): number => (typeof dir === 'number' ? dir : fnvText(dir));

/** A deterministic pseudo-random sequence. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('RecentCalls (typed-array slots)', () => {
  it('remembers the last `cap` answered calls by direction and xid, as a Map in order answered would', () => {
    const cap = 3000;
    const recent = new RecentCalls(cap, false);
    // The model: key "dir|xid" -> procedure, in insertion order (re-adding moves a key to the end).
    const model = new Map<string, number>();
    const r = rng(7);
    const dirs: (number | string)[] = [0, 1, 2, 3, 'a>b', 'c>d', 17];
    let clears = 0;
    for (let i = 0; i < 40_000; i++) {
      const dir = dirs[Math.floor(r() * dirs.length)]!;
      // Few xids, so that the same (direction, xid) comes back and xids collide across directions; some above 2^31.
      const xid = r() < 0.2 ? 0x80000000 + Math.floor(r() * 50) : Math.floor(r() * 5000);
      const op = r();
      if (op < 0.6) {
        const proc = Math.floor(r() * 22);
        recent.add(dir, dirHash(dir), tx(xid, proc));
        const k = `${typeof dir}:${dir}|${xid}`;
        model.delete(k);
        model.set(k, proc);
        while (model.size > cap) model.delete(model.keys().next().value!);
      } else if (op < 0.97) {
        const s = recent.find(dir, dirHash(dir), xid);
        const want = model.get(`${typeof dir}:${dir}|${xid}`);
        expect(s === -1 ? undefined : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21].find((p) => recent.sameProcedure(s, 100003, 3, p))).toBe(want);
      } else if (op < 0.9997) {
        expect(recent.forgetOldest()).toBe(model.size > 0);
        if (model.size > 0) model.delete(model.keys().next().value!);
      } else {
        // Everything forgotten at once (the matcher's end), then filled again.
        recent.clear();
        model.clear();
        clears++;
      }
      expect(recent.size).toBe(model.size);
    }
    expect(recent.size).toBe(model.size);
    expect(clears).toBeGreaterThan(3);
    while (recent.forgetOldest());
    expect(recent.size).toBe(0);
    expect(recent.find(0, dirHash(0), 1)).toBe(-1);
  });

  it('tells a number direction from the same text, and another program or version from the same procedure', () => {
    const recent = new RecentCalls(10, false);
    recent.add(5, dirHash(5), tx(42, 1));
    // Even under the same hash: the key itself is compared.
    expect(recent.find('5', dirHash(5), 42)).toBe(-1);
    const s = recent.find(5, dirHash(5), 42);
    expect(s).not.toBe(-1);
    expect(recent.sameProcedure(s, 100003, 3, 1)).toBe(true);
    expect(recent.sameProcedure(s, 100003, 4, 1)).toBe(false);
    expect(recent.sameProcedure(s, 100005, 3, 1)).toBe(false);
    expect(recent.transaction(s)).toBeUndefined();
  });

  it('holds the transaction weakly when asked', () => {
    const recent = new RecentCalls(10, true);
    const t = tx(9, 4);
    recent.add('x>y', dirHash('x>y'), t);
    expect(recent.transaction(recent.find('x>y', dirHash('x>y'), 9))).toBe(t);
  });

  it('40,000 directions answering the same xid: each found, forgotten oldest first, re-added as the newest', () => {
    // Thousands of clients starting from the same xid; found by the xid
    // alone, each add and find walked a chain of every direction.
    const cap = 32_768;
    const n = 40_000;
    const recent = new RecentCalls(cap, false);
    const xid = 0x40000000;
    // TCP directions (numbers) and UDP pairs (text), alternately.
    const dir = (i: number): number | string => (i % 2 === 0 ? i * 2 : `10.4.${i >> 8}.${i & 255}|700>10.0.0.1|2049`);
    const hashes = Array.from({ length: n }, (_, i) => dirHash(dir(i)));
    for (let i = 0; i < n; i++) recent.add(dir(i), hashes[i]!, tx(xid, i % 22));
    expect(recent.size).toBe(cap);
    // The first n - cap were forgotten; the rest are each found, with their own procedure.
    let found = 0;
    let forgotten = 0;
    for (let i = 0; i < n; i++) {
      const s = recent.find(dir(i), hashes[i]!, xid);
      if (i < n - cap) forgotten += s === -1 ? 1 : 0;
      else if (s !== -1 && recent.sameProcedure(s, 100003, 3, i % 22)) found++;
    }
    expect([forgotten, found]).toEqual([n - cap, cap]);
    expect(recent.find(dir(n - 1), hashes[n - 1]!, xid + 1)).toBe(-1);
    // Re-adding the oldest remembered makes it the newest: the next oldest goes first.
    const oldest = n - cap;
    recent.add(dir(oldest), hashes[oldest]!, tx(xid, 21));
    expect(recent.size).toBe(cap);
    expect(recent.forgetOldest()).toBe(true);
    expect(recent.find(dir(oldest + 1), hashes[oldest + 1]!, xid)).toBe(-1);
    expect(recent.find(dir(oldest), hashes[oldest]!, xid)).not.toBe(-1);
    // Forgotten one by one in the order answered, the re-added one last.
    let inOrder = 0;
    for (let i = oldest + 2; i < n; i++) {
      recent.forgetOldest();
      if (recent.find(dir(i), hashes[i]!, xid) === -1 && (i === n - 1 || recent.find(dir(i + 1), hashes[i + 1]!, xid) !== -1)) inOrder++;
    }
    expect(inOrder).toBe(n - oldest - 2);
    expect(recent.size).toBe(1);
    expect(recent.sameProcedure(recent.find(dir(oldest), hashes[oldest]!, xid), 100003, 3, 21)).toBe(true);
  });
});
