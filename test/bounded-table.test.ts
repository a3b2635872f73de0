/**
 * The report's keyed tables (clients, servers, files) against a plain model
 * that sorts every row by calls and key at each trim: the same rows kept,
 * the same evicted rows and calls, whatever the ties; and the report's
 * tables account for every call, kept or evicted.
 */
import { describe, expect, it } from 'vitest';
import { BoundedTable, kthSmallest, rowBytes } from '../src/analysis/bounded-table.js';
import { byCodeUnits as keyOrder } from '../src/string-order.js';
import { OperationStats } from '../src/analysis/op-stats.js';
import type { Transaction } from '../src/rpc/transaction.js';

interface Row {
  calls: number;
}

/** The table as first written: every row sorted by (calls desc, key asc) at each trim, made before a new row. */
class ModelTable {
  readonly map = new Map<string, Row>();
  evicted = 0;
  evictedCalls = 0;
  constructor(
    readonly max: number,
    readonly most: number,
  ) {}
  get(key: string): Row {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.most) this.trimTo(this.max);
      v = { calls: 0 };
      this.map.set(key, v);
    }
    return v;
  }
  trimTo(n: number): number {
    if (this.map.size <= n) return 0;
    const entries = [...this.map.entries()].sort((a, b) => b[1].calls - a[1].calls || keyOrder(a[0], b[0]));
    for (const [k, v] of entries.slice(n)) {
      this.map.delete(k);
      this.evicted++;
      this.evictedCalls += v.calls;
    }
    return entries.length - n;
  }
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const contents = (m: Map<string, Row>): [string, number][] => [...m].map(([k, v]) => [k, v.calls] as [string, number]).sort((a, b) => keyOrder(a[0], b[0]));

describe('BoundedTable', () => {
  for (const [max, keys, seed] of [
    [20, 60, 1],
    [20, 2000, 2],
    [64, 300, 3],
    [1, 10, 4],
    [100, 5000, 5],
  ] as const) {
    it(`keeps and evicts what sorting every row would (max ${max}, ${keys} keys)`, () => {
      const rnd = random(seed);
      const table = new BoundedTable<Row>(max);
      const model = new ModelTable(max, max + Math.max(16, max >> 2));
      let trims = 0;
      let total = 0;
      for (let step = 0; step < 20_000; step++) {
        // Skewed keys (a few hot, many cold), of varied lengths and shared prefixes: ties in calls are common.
        const r = rnd();
        const k = Math.floor(r * r * r * keys);
        const key = `${k % 7 === 0 ? '0a0b' : ''}${k.toString(36)}${k % 3 === 0 ? 'z' : ''}`;
        const add = rnd() < 0.05 ? 1 + Math.floor(rnd() * 50) : 1;
        table.get(key, () => ({ calls: 0 })).calls += add;
        total += add;
        model.get(key).calls += add;
        if (rnd() < 0.002) {
          const n = Math.floor(rnd() * max);
          expect(table.trimTo(n)).toBe(model.trimTo(n));
          trims++;
        }
      }
      expect(contents(table.map)).toEqual(contents(model.map));
      expect(table.evicted).toBe(model.evicted);
      expect(table.evictedCalls).toBe(model.evictedCalls);
      expect(table.evicted).toBeGreaterThan(0);
      // Every call is in a row or in evictedCalls.
      expect(table.evictedCalls + [...table.map.values()].reduce((n, r) => n + r.calls, 0)).toBe(total);
      expect(trims).toBeGreaterThan(0);
      expect(table.bytes).toBe([...table.map.keys()].reduce((s, k) => s + rowBytes(k), 0));
      // sorted() trims to max first.
      model.trimTo(max);
      expect(table.sorted().map(([k]) => k)).toEqual(contents(model.map).map(([k]) => k));
      expect(table.evicted).toBe(model.evicted);
    });
  }

  it('chooses among rows of equal calls by key, and keeps none when asked for none', () => {
    const table = new BoundedTable<Row>(100);
    for (const [k, c] of [['b', 2], ['a', 2], ['d', 5], ['c', 2], ['e', 1]] as const) table.get(k, () => ({ calls: 0 })).calls = c;
    expect(table.trimTo(3)).toBe(2);
    expect(contents(table.map)).toEqual([['a', 2], ['b', 2], ['d', 5]]);
    expect([table.evicted, table.evictedCalls]).toEqual([2, 3]);
    expect(table.trimTo(0)).toBe(3);
    expect(table.map.size).toBe(0);
    expect([table.evicted, table.evictedCalls]).toEqual([5, 12]);
    expect(table.bytes).toBe(0);
  });
});

describe('kthSmallest', () => {
  it('finds what sorting puts at each index, with repeated and shared-prefix keys', () => {
    const rnd = random(11);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rnd() * 60);
      const keys = Array.from({ length: n }, () => {
        const v = Math.floor(rnd() * (round % 3 === 0 ? 5 : 1000));
        return `${v % 2 === 0 ? 'fh00' : ''}${v.toString(16)}`;
      });
      const sorted = [...keys].sort();
      for (let k = 0; k < n; k++) {
        expect(kthSmallest([...keys], k)).toBe(sorted[k]);
        // Only the first `length` keys count: what lies beyond is left out.
        expect(kthSmallest([...keys, '', '~', '0'], k, n)).toBe(sorted[k]);
      }
    }
  });
});

describe('OperationStats tables beyond maxTracked', () => {
  it('every call is in a row or counted as evicted (clients, servers, files), also after the last trim', () => {
    const stats = new OperationStats({ maxTracked: 40 });
    const rnd = random(7);
    const calls = 5000;
    for (let i = 0; i < calls; i++) {
      const r = rnd();
      const client = Math.floor(r * r * 300);
      const file = Math.floor(rnd() * 2000);
      const t = {
        xid: i,
        connId: client,
        client: { addr: `10.0.${client >> 8}.${client & 255}`, port: 800 },
        server: { addr: '10.1.0.1', port: 2049 + (i % 70) },
        program: 100003,
        version: 3,
        procedure: 1,
        call: { frame: { fileIndex: 0, number: 2 * i + 1, tsSec: 1000 + i, tsNsec: 0 } },
        reply: undefined,
        latency: -1,
        decoded: { call: { fh: file.toString(16).padStart(8, '0') }, reply: undefined },
      } as unknown as Transaction;
      stats.unanswered(t);
    }
    const j = stats.toJSON();
    for (const [name, section] of [['clients', j.clients], ['servers', j.servers], ['files', j.files]] as const) {
      expect(section.rows.length, name).toBe(40);
      expect(section.evicted, name).toBeGreaterThan(0);
      expect(section.rows.reduce((n, row) => n + row.calls, 0) + section.evictedCalls, name).toBe(calls);
    }
  });
});
