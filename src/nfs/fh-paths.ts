/**
 * File handle → path, learnt from decoded transactions, as Wireshark's
 * file-handle name snooping does: a MOUNT reply names the export's root
 * handle, LOOKUP / CREATE / MKDIR / SYMLINK / MKNOD / READDIRPLUS name the
 * handles they hand out under their directory, RENAME moves an entry,
 * REMOVE / RMDIR forget it.
 *
 * Generic over programs: it reads only DecodedCall.fh (the directory), the
 * call's names and DecodedReply.handles. A reply handle's name is relative
 * to the call's fh (it may hold several components, "a/b", for an NFSv4
 * LOOKUP chain), or absolute when it starts with "/" or the call has no fh
 * (a MOUNT reply). RENAME and LINK need the target directory: read from the
 * call's args `toDir` (NFSv3 fills it; see the report for a proposed
 * DecodedCall field instead).
 *
 * Each handle is stored as (parent handle, name), not as a full path, so
 * renaming a directory moves everything under it, and a path is built on
 * demand. Memory is bounded: with a memory budget (as `analyze()` runs it)
 * what the handles hold is accounted there, and the budget asks for the
 * least recently learnt to go when it is full, counted as dropped
 * `fileHandles` with the budget's one warning; without one, the least
 * recently learnt beyond `capacity` are dropped (a dropped directory leaves
 * its children unresolvable).
 */
import type { MemoryAccount, MemoryBudget } from '../memory/budget.js';
import type { Transaction, TransactionSink } from '../rpc/transaction.js';
import { LruMap } from '../memory/lru.js';

interface Entry {
  /** Parent directory handle (the string its `children` record holds, shared by its children), or undefined for a root named by an absolute path. */
  parent: string | undefined;
  /** Name within the parent, or the absolute path of a root. */
  name: string;
}

/** A directory's children by name, in `children`: its handle string is the one its children's entries share as `parent`. */
interface Dir {
  fh: string;
  names: Map<string, string>;
}

/** A path deeper than this is a loop in the learnt links (a bad capture), not a path. */
const MAX_DEPTH = 256;
const DEFAULT_CAPACITY = 100_000;
/**
 * Estimated heap bytes of an entry besides its strings' characters: the
 * entry and its LruMap entry, the index's entry under its directory, the
 * strings' headers; the parent's handle is shared (docs/memory.md).
 */
const ENTRY_BYTES = 200;

/** Estimated heap bytes of a handle's entry. */
function entryBytes(fh: string, e: Entry): number {
  return ENTRY_BYTES + 2 * fh.length + 2 * e.name.length;
}
/** Names that do not name a new object under the directory. */
const SELF_OR_PARENT = new Set(['.', '..']);

export class FileHandlePaths implements TransactionSink {
  private readonly entries = new LruMap<string, Entry>();
  /** Directory handle → name → child handle, to find what REMOVE and RENAME name. */
  private readonly children = new Map<string, Dir>();

  private readonly budget: MemoryBudget | undefined;
  private readonly account: MemoryAccount | undefined;

  /**
   * `capacity` defaults to 100,000 handles without a budget, and to no fixed
   * cap with one: a fixed cap would drop handles with no count or warning,
   * while the budget drops, counts and warns.
   */
  readonly capacity: number;

  constructor(capacity?: number, budget?: MemoryBudget) {
    this.capacity = capacity ?? (budget === undefined ? DEFAULT_CAPACITY : Number.POSITIVE_INFINITY);
    this.budget = budget;
    if (budget !== undefined) {
      this.account = budget.account('fileHandles');
      this.account.evictor = (bytes) => this.evictForBudget(bytes);
    }
  }

  /** The memory budget asks: the least recently learnt handles go. */
  private evictForBudget(want: number): number {
    let freed = 0;
    for (let oldest = this.entries.oldest(); oldest !== undefined && freed < want; oldest = this.entries.oldest()) {
      freed += entryBytes(oldest[0], oldest[1]);
      this.drop(oldest[0]);
      this.budget!.drop('fileHandles', 1);
    }
    return freed;
  }

  /** Handles known. */
  get size(): number {
    return this.entries.size;
  }

  /** The path of a handle (lowercase hex), when it is known back to a mount root. */
  pathOf(fhHex: string): string | undefined {
    const parts: string[] = [];
    let fh: string | undefined = fhHex;
    for (let depth = 0; depth < MAX_DEPTH && fh !== undefined; depth++) {
      const e = this.entries.get(fh);
      if (e === undefined) return undefined;
      if (e.parent === undefined) {
        let path = e.name;
        for (let i = parts.length - 1; i >= 0; i--) path = path.endsWith('/') ? path + parts[i] : `${path}/${parts[i]}`;
        return path;
      }
      parts.push(e.name);
      fh = e.parent;
    }
    return undefined;
  }

  transaction(t: Transaction): void {
    const call = t.decoded?.call;
    const reply = t.decoded?.reply;
    if (call === undefined || reply === undefined || reply.statusCode !== 0) return;
    switch (call.mainOp) {
      case 'REMOVE':
      case 'RMDIR':
        if (call.fh !== undefined && call.names?.[0] !== undefined) this.forget(call.fh, call.names[0]);
        return;
      case 'RENAME':
        this.rename(call.fh, call.names?.[0], toDirOf(call.args), call.names?.[1]);
        return;
    }
    // LINK: the file gains a name; keep the one it has, else learn this one.
    if (call.mainOp === 'LINK' && call.fh !== undefined && !this.entries.has(call.fh)) {
      const toDir = toDirOf(call.args);
      const name = call.names?.[0];
      if (toDir !== undefined && name !== undefined) this.learn(call.fh, toDir, name);
    }
    for (const h of reply.handles ?? []) {
      if (h.name === undefined || h.name === '' || SELF_OR_PARENT.has(h.name)) continue;
      if (h.name.startsWith('/') || call.fh === undefined) this.learnRoot(h.fh, h.name);
      else this.learnRelative(h.fh, call.fh, h.name);
    }
  }

  unanswered(): void {}

  orphanReply(): void {}

  /** A root (mounted export): its absolute path. */
  learnRoot(fh: string, path: string): void {
    this.set(fh, undefined, path);
  }

  /** `fh` is `name` (one or more components) under `dir`. */
  learnRelative(fh: string, dir: string, name: string): void {
    // One component (nearly always): itself.
    if (!name.includes('/')) {
      if (name !== '' && name !== '.') this.learn(fh, dir, name);
      return;
    }
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0) return;
    // Intermediate components of a multi-component name have no handle of
    // their own here: fold them into the last name.
    this.learn(fh, dir, parts.join('/'));
  }

  private learn(fh: string, dir: string, name: string): void {
    if (fh === dir) return;
    this.set(fh, dir, name);
  }

  private set(fh: string, parent: string | undefined, name: string): void {
    const old = this.entries.get(fh);
    if (old !== undefined && old.parent === parent && old.name === name) {
      // Learnt again as it was (a LOOKUP or READDIRPLUS seen before): the newest again, as if dropped and set anew.
      this.entries.touch(fh);
      if (parent !== undefined && this.child(parent, name) !== fh) this.index(parent, name, fh);
      return;
    }
    if (old !== undefined) this.drop(fh);
    const e: Entry = { parent: parent === undefined ? undefined : this.index(parent, name, fh), name };
    this.entries.set(fh, e);
    this.account?.add(entryBytes(fh, e));
    while (this.entries.size > this.capacity) this.drop(this.entries.oldest()![0]);
  }

  /** The child handle named `name` under `dir`, if known. */
  private child(dir: string, name: string): string | undefined {
    return this.children.get(dir)?.names.get(name);
  }

  /** Indexes `fh` as `name` under `dir`; returns the directory's shared handle string. */
  private index(dir: string, name: string, fh: string): string {
    let d = this.children.get(dir);
    if (d === undefined) this.children.set(dir, (d = { fh: dir, names: new Map() }));
    d.names.set(name, fh);
    return d.fh;
  }

  private drop(fh: string): void {
    const e = this.entries.get(fh);
    if (e === undefined) return;
    this.unindex(fh, e);
    this.entries.delete(fh);
    this.account?.add(-entryBytes(fh, e));
  }

  private unindex(fh: string, e: Entry): void {
    if (e.parent === undefined) return;
    const d = this.children.get(e.parent);
    if (d === undefined || d.names.get(e.name) !== fh) return;
    d.names.delete(e.name);
    if (d.names.size === 0) this.children.delete(e.parent);
  }

  private forget(dir: string, name: string): void {
    const fh = this.child(dir, name);
    if (fh !== undefined) this.drop(fh);
  }

  private rename(fromDir: string | undefined, fromName: string | undefined, toDir: string | undefined, toName: string | undefined): void {
    if (fromDir === undefined || fromName === undefined || toDir === undefined || toName === undefined) return;
    const fh = this.child(fromDir, fromName);
    // The target name, if it existed, is replaced.
    const replaced = this.child(toDir, toName);
    if (replaced !== undefined && replaced !== fh) this.drop(replaced);
    if (fh !== undefined) this.learn(fh, toDir, toName);
  }
}

/** The target directory of a RENAME or LINK call, from its args. */
function toDirOf(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const v = (args as { toDir?: unknown }).toDir;
  return typeof v === 'string' ? v : undefined;
}
