import { describe, expect, it } from 'vitest';
import { RecentCalls } from '../src/rpc/call-table.js';
import type { Transaction } from '../src/rpc/transaction.js';

/** A transaction as RecentCalls reads it. */
const tx = (xid: number, procedure: number): Transaction => ({ xid, program: 100003, version: 3, procedure }) as unknown as Transaction;

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
        recent.add(dir, tx(xid, proc));
        const k = `${typeof dir}:${dir}|${xid}`;
        model.delete(k);
        model.set(k, proc);
        while (model.size > cap) model.delete(model.keys().next().value!);
      } else if (op < 0.97) {
        const s = recent.find(dir, xid);
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
    expect(recent.find(0, 1)).toBe(-1);
  });

  it('tells a number direction from the same text, and another program or version from the same procedure', () => {
    const recent = new RecentCalls(10, false);
    recent.add(5, tx(42, 1));
    expect(recent.find('5', 42)).toBe(-1);
    const s = recent.find(5, 42);
    expect(s).not.toBe(-1);
    expect(recent.sameProcedure(s, 100003, 3, 1)).toBe(true);
    expect(recent.sameProcedure(s, 100003, 4, 1)).toBe(false);
    expect(recent.sameProcedure(s, 100005, 3, 1)).toBe(false);
    expect(recent.transaction(s)).toBeUndefined();
  });

  it('holds the transaction weakly when asked', () => {
    const recent = new RecentCalls(10, true);
    const t = tx(9, 4);
    recent.add('x>y', t);
    expect(recent.transaction(recent.find('x>y', 9))).toBe(t);
  });
});
