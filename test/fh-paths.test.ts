/**
 * FileHandlePaths (handles in typed arrays and one byte arena) against a
 * plain model of what it must do, the Map-per-handle store it replaced:
 * random LOOKUP-like learning, roots, REMOVE, RENAME onto existing names,
 * loops, handles that are not hex and names beyond Latin-1, paths looked
 * up between, with a fixed capacity (least recently learnt or looked up
 * dropped) and with a memory budget.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../src/memory/budget.js';
import { FileHandlePaths } from '../src/nfs/fh-paths.js';
import type { Transaction } from '../src/rpc/transaction.js';

/** The semantics, plainly: fh → (parent fh, name), (dir, name) → fh, least recently learnt or looked up first in insertion order. */
class Model {
  entries = new Map<string, { parent: string | undefined; name: string }>();
  children = new Map<string, Map<string, string>>();
  constructor(readonly capacity: number) {}
  set(fh: string, parent: string | undefined, name: string): void {
    // A handle learnt under a directory: the directory is the most recently used.
    const dir = parent === undefined ? undefined : this.entries.get(parent);
    if (dir !== undefined) {
      this.entries.delete(parent!);
      this.entries.set(parent!, dir);
    }
    const old = this.entries.get(fh);
    if (old !== undefined && old.parent === parent && old.name === name) {
      this.entries.delete(fh);
      this.entries.set(fh, old);
      if (parent !== undefined) this.index(parent, name, fh);
      return;
    }
    if (old !== undefined) this.drop(fh);
    this.entries.set(fh, { parent, name });
    if (parent !== undefined) this.index(parent, name, fh);
    while (this.entries.size > this.capacity) this.drop(this.entries.keys().next().value!);
  }
  index(dir: string, name: string, fh: string): void {
    let d = this.children.get(dir);
    if (d === undefined) this.children.set(dir, (d = new Map()));
    d.set(name, fh);
  }
  drop(fh: string): void {
    const e = this.entries.get(fh);
    if (e === undefined) return;
    this.entries.delete(fh);
    if (e.parent !== undefined && this.children.get(e.parent)?.get(e.name) === fh) this.children.get(e.parent)!.delete(e.name);
  }
  child(dir: string, name: string): string | undefined {
    return this.children.get(dir)?.get(name);
  }
  pathOf(fh: string): string | undefined {
    const parts: string[] = [];
    let at: string | undefined = fh;
    for (let depth = 0; depth < 256 && at !== undefined; depth++) {
      const e = this.entries.get(at);
      if (e === undefined) return undefined;
      // Looked up: the most recently used, and so is every directory on the way.
      this.entries.delete(at);
      this.entries.set(at, e);
      if (e.parent === undefined) return [e.name, ...parts.reverse()].reduce((p, c) => (p.endsWith('/') ? p + c : `${p}/${c}`));
      parts.push(e.name);
      at = e.parent;
    }
    return undefined;
  }
}

/** A successful REMOVE or RENAME as FileHandlePaths sees it. */
function op(mainOp: string, fh: string, names: string[], toDir?: string): Transaction {
  return { decoded: { call: { mainOp, fh, names, args: toDir === undefined ? {} : { toDir } }, reply: { statusCode: 0, handles: [] } } } as unknown as Transaction;
}

function run(seed: number, steps: number, capacity: number): void {
  let s = seed;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const handles = ['', 'aa', '0a1b', 'zz', 'AB', '0123456789abcdef0123456789abcdef', 'a', 'é1', ...Array.from({ length: 40 }, (_, i) => (i * 7919).toString(16).padStart(6, '0'))];
  const names = ['x', 'y', 'file.txt', 'dir', 'a/b', 'naïve', '日本', 'z'.repeat(300)];
  const p = new FileHandlePaths(capacity);
  const m = new Model(capacity);
  let last: string | undefined;
  let lastDir = handles[0]!;
  for (let i = 0; i < steps; i++) {
    const fh = handles[rand(handles.length)]!;
    // Half the time the directory of the step before, as the entries of a READDIRPLUS reply
    // (FileHandlePaths remembers that directory's slot while no slot is freed).
    const dir = rand(2) === 0 ? lastDir : handles[rand(handles.length)]!;
    lastDir = dir;
    const name = names[rand(names.length)]!;
    switch (rand(8)) {
      case 0:
        p.learnRoot(fh, `/export/${name}`);
        m.set(fh, undefined, `/export/${name}`);
        break;
      case 1: {
        p.transaction(op('REMOVE', dir, [name]));
        const c = m.child(dir, name);
        if (c !== undefined) m.drop(c);
        break;
      }
      case 2: {
        const to = handles[rand(handles.length)]!;
        const toName = names[rand(names.length)]!;
        p.transaction(op('RENAME', dir, [name, toName], to));
        const f = m.child(dir, name);
        const replaced = m.child(to, toName);
        if (replaced !== undefined && replaced !== f) m.drop(replaced);
        if (f !== undefined && f !== to) m.set(f, to, toName);
        break;
      }
      default:
        p.learnRelative(fh, dir, name);
        if (fh !== dir) m.set(fh, dir, name);
    }
    expect(p.size).toBe(m.entries.size);
    // A few paths looked up (each lookup makes its handle and directories the most recently used):
    // first the one looked up last, across the step's change (FileHandlePaths remembers its last
    // answer while nothing changes), and now and then the same one twice in a row.
    for (let k = 0; k < 4; k++) {
      const h = k === 0 && last !== undefined ? last : k === 2 && rand(2) === 0 ? last! : handles[rand(handles.length)]!;
      expect([h, p.pathOf(h)]).toEqual([h, m.pathOf(h)]);
      last = h;
    }
  }
  for (const h of handles) expect([h, p.pathOf(h)]).toEqual([h, m.pathOf(h)]);
}

describe('FileHandlePaths, compact', () => {
  it('follows the plain model through random learning, removing and renaming', () => {
    for (let seed = 1; seed <= 20; seed++) run(seed, 400, Number.POSITIVE_INFINITY);
  });
  it('drops the least recently learnt or looked up beyond its capacity as the model does', () => {
    for (let seed = 1; seed <= 20; seed++) run(seed, 400, 7);
  });
  it('a directory named twice in a row whose slot went in between (freed and taken by another handle) is not mistaken for it', () => {
    const p = new FileHandlePaths(2);
    p.learnRelative('aa01', 'd1', 'a');
    // Beyond the capacity: 'aa01' goes, and with it d1, an unnamed directory nothing else names under.
    p.learnRoot('bb01', '/b');
    p.learnRoot('cc01', '/c');
    expect(p.pathOf('aa01')).toBeUndefined();
    // The slot d1 had, taken by another handle.
    p.learnRoot('ee01', '/e');
    p.learnRelative('ff01', 'd1', 'f');
    expect(p.pathOf('ee01')).toBe('/e');
    // d1 is unknown again: no path for what is under it.
    expect(p.pathOf('ff01')).toBeUndefined();
    p.learnRoot('d1', '/d');
    expect(p.pathOf('ff01')).toBe('/d/f');
  });
  it('keeps 200,000 handles with their paths, then a budget drops the oldest, counted', () => {
    // Their ceiling is a quarter of the limit: 32 MB here.
    const budget = new MemoryBudget(128 * 1024 * 1024);
    const p = new FileHandlePaths(undefined, budget);
    const fh = (i: number): string => i.toString(16).padStart(56, '0');
    p.learnRoot(fh(0), '/export');
    for (let i = 1; i <= 200_000; i++) p.learnRelative(fh(i), fh(Math.floor(i / 100)), `f${i}`);
    expect(p.size).toBe(200_001);
    expect(p.pathOf(fh(123_456))).toBe('/export/f12/f1234/f123456');
    // About 150 bytes a handle of 28 bytes (accounted as held).
    const perHandle = budget.used / p.size;
    expect(perHandle).toBeGreaterThan(100);
    expect(perHandle).toBeLessThan(200);
    const tight = new MemoryBudget(4 * 1024 * 1024);
    const q = new FileHandlePaths(undefined, tight);
    for (let i = 1; i <= 100_000; i++) {
      q.learnRoot(fh(i), `/e${i}`);
      if (tight.used > tight.limit) tight.reclaim(0);
    }
    expect(q.size + tight.dropped.fileHandles).toBe(100_000);
    expect(tight.dropped.fileHandles).toBeGreaterThan(50_000);
    expect(q.pathOf(fh(100_000))).toBe('/e100000');
    expect(q.pathOf(fh(1))).toBeUndefined();
  });
  it('a full budget takes the least recently used: a file looked up now and then and the directories in use stay', () => {
    const budget = new MemoryBudget(4 * 1024 * 1024);
    const p = new FileHandlePaths(undefined, budget);
    const fh = (i: number): string => i.toString(16).padStart(64, '0');
    const pathOfFile = (i: number): string => `/export/d${1 + (i % 500)}/f${i}`;
    // /export holds 500 directories, learnt first; 100,000 files are learnt round-robin under them.
    p.learnRoot(fh(0), '/export');
    for (let d = 1; d <= 500; d++) p.learnRelative(fh(d), fh(0), `d${d}`);
    const first = 1_000;
    for (let i = first; i < first + 100_000; i++) {
      p.learnRelative(fh(i), fh(1 + (i % 500)), `f${i}`);
      if (i > first + 7 && i % 5_000 === 0) expect(p.pathOf(fh(first + 7))).toBe(pathOfFile(first + 7));
      if (budget.used > budget.limit) budget.reclaim(0);
    }
    expect(budget.dropped.fileHandles).toBeGreaterThan(50_000);
    expect(p.size + budget.dropped.fileHandles).toBe(1 + 500 + 100_000);
    expect(p.pathOf(fh(first + 99_999))).toBe(pathOfFile(first + 99_999));
    expect(p.pathOf(fh(first + 7))).toBe(pathOfFile(first + 7));
    expect(p.pathOf(fh(first + 1))).toBeUndefined();
    for (let d = 1; d <= 500; d += 37) expect(p.pathOf(fh(d))).toBe(`/export/d${d}`);
  });
});
