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
 * least recently used to go when it is full (used: learnt, learnt under,
 * or looked up, with every directory on the way, so that a directory in
 * use outlives its files), counted as dropped `fileHandles` with the
 * budget's one warning; they also go beyond the account's ceiling (a
 * quarter of the limit, ACCOUNT_CEILINGS) while the budget has room, with
 * a warning of their own. Without a budget, the least recently used beyond
 * `capacity` are dropped (a dropped directory leaves its children
 * unresolvable).
 */
import { FNV_OFFSET, FNV_PRIME, HASH_SEED } from '../fnv.js';

/** FNV's offset basis with the process's seed: handles and names are the capture's to choose (src/fnv.ts HASH_SEED). */
const SEEDED_OFFSET = FNV_OFFSET ^ HASH_SEED;
import { grownTo } from '../memory/typed-arrays.js';
import type { MemoryAccount, MemoryBudget } from '../memory/budget.js';
import type { Transaction, TransactionSink } from '../rpc/transaction.js';

/** A path deeper than this is a loop in the learnt links (a bad capture), not a path. */
const MAX_DEPTH = 256;
const DEFAULT_CAPACITY = 100_000;
/**
 * Estimated bytes of a slot besides its handle's and name's bytes: its
 * fields in the typed arrays (37 bytes, arrays grown by doubling) and its
 * places in the two hash tables (kept at most three quarters full, grown
 * by doubling; at most half full until 2026-12-02 night); the bytes of handle and name count twice (the arena keeps
 * room to grow and the garbage of dropped entries until it is compacted).
 * docs/memory.md, "Wide captures".
 */
const SLOT_BYTES = 80;
/** A handle or a name longer than this (bytes as stored) is not learnt: no file handle or name is so long. */
const MAX_STORED = 4096;

/** Slot flags. */
const NAMED = 1;
/** Named by an absolute path (a mounted export): no parent. */
const ROOT = 2;
/** The handle is lowercase hex, stored packed (two digits a byte); else its UTF-16 code units. */
const KEY_HEX = 4;
/** The name's code units are all below 256, stored a byte each; else two bytes each. */
const NAME_LATIN1 = 8;
/** The slot holds a handle (else it is free). */
const USED = 16;

/**
 * File handle → (parent, name), without an object per handle: slots in
 * typed arrays (a handle's flags, parent slot, offsets into one byte arena
 * holding its handle packed from hex and its name, links of the
 * least-recently-learnt list, how many slots name it as parent), found by
 * two open-addressing hash tables in Int32Arrays (handle → slot, and
 * (parent slot, name) → slot for REMOVE and RENAME). A handle known only as
 * the directory of others (its own name unknown) keeps an unnamed slot
 * while it has children, so that its children resolve once it is learnt.
 * About 110 bytes a handle on a wide capture (was about 245 with a Map,
 * objects and strings per handle: docs/memory.md).
 */
export class FileHandlePaths implements TransactionSink {
  private readonly budget: MemoryBudget | undefined;
  private readonly account: MemoryAccount | undefined;

  /**
   * `capacity` defaults to 100,000 handles without a budget, and to no fixed
   * cap with one: a fixed cap would drop handles with no count or warning,
   * while the budget drops, counts and warns.
   */
  readonly capacity: number;

  // Slots (index = slot id).
  private cap = 0;
  private flags = new Uint8Array(0);
  private parent = new Int32Array(0);
  private keyOff = new Int32Array(0);
  private keyLen = new Uint16Array(0);
  private nameOff = new Int32Array(0);
  private nameLen = new Uint16Array(0);
  private keyHash = new Int32Array(0);
  private childHash = new Int32Array(0);
  private children = new Int32Array(0);
  /** Least-recently-learnt list of named slots (prev/next; −1 ends); `next` also chains free slots. */
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private oldestSlot = -1;
  private newestSlot = -1;
  private freeSlot = -1;
  /** Slots in use (named or not) and named ones. */
  private used = 0;
  /** Slots ever taken (those above are untouched). */
  private top = 0;
  private named = 0;

  /** Handle → slot + 1 (0: empty), linear probing. */
  private byKey = new Int32Array(16);
  /** (parent, name) → slot + 1 of the child that name now denotes. */
  private byChild = new Int32Array(16);
  private indexedChildren = 0;

  /** Handles' and names' bytes; `arenaUsed` of them written, `arenaGarbage` of those no longer referenced. */
  private arena = Buffer.alloc(4096);
  private arenaUsed = 0;
  private arenaGarbage = 0;
  /** A handle or name being looked up, encoded as stored. */
  private scratch = Buffer.alloc(512);
  /** Bytes accounted (in the budget, when there is one). */
  private bytes = 0;
  /**
   * Bumped by every change to the order of use (pushNewest, unlink): only
   * named slots have paths, and a slot is named, renamed or unnamed only
   * with one of those. The last pathOf is remembered with the count it
   * left: asked again for the same handle with nothing changed since, it is
   * answered from memory (a call's handle is looked up two or three times:
   * the NFSv4 state walk, the operation statistics, a detector), and its
   * touches are skipped: they would leave the order of use as it is.
   */
  private changes = 0;
  private memoFh: string | undefined = undefined;
  private memoPath: string | undefined = undefined;
  private memoChanges = -1;
  /** Slots freed so far: a slot remembered by number is still the same handle's while this has not moved. */
  private frees = 0;
  /** The directory set() last named a handle under, and its slot (a count of `frees` ago). */
  private lastDir: string | undefined = undefined;
  private lastDirSlot = -1;
  private lastDirFrees = -1;

  constructor(capacity?: number, budget?: MemoryBudget) {
    this.capacity = capacity ?? (budget === undefined ? DEFAULT_CAPACITY : Number.POSITIVE_INFINITY);
    this.budget = budget;
    if (budget !== undefined) {
      this.account = budget.account('fileHandles');
      this.account.evictor = (bytes) => this.evictForBudget(bytes);
    }
  }

  /** The memory budget asks: the least recently used handles go. */
  private evictForBudget(want: number): number {
    const before = this.bytes;
    while (this.oldestSlot >= 0 && before - this.bytes < want) {
      this.unname(this.oldestSlot);
      this.budget!.drop('fileHandles', 1);
    }
    return before - this.bytes;
  }

  /**
   * Above the account's ceiling (a quarter of the limit) the least recently
   * used go, down to 90% of it so that this runs in batches; the slot just
   * learnt is the newest and stays.
   */
  private shedToCeiling(account: MemoryAccount): void {
    const low = 0.9 * account.ceiling;
    let n = 0;
    while (this.bytes > low && this.oldestSlot >= 0 && this.oldestSlot !== this.newestSlot) {
      this.unname(this.oldestSlot);
      n++;
    }
    this.budget!.dropAtCeiling(account, 'fileHandles', n);
  }

  /** Handles known. */
  get size(): number {
    return this.named;
  }

  /**
   * The path of a handle (lowercase hex), when it is known back to a mount
   * root. The handle and the directories on the way become the most
   * recently used.
   */
  pathOf(fhHex: string): string | undefined {
    if (fhHex === this.memoFh && this.changes === this.memoChanges) return this.memoPath;
    const path = this.walkPath(fhHex);
    this.memoFh = fhHex;
    this.memoPath = path;
    this.memoChanges = this.changes;
    return path;
  }

  private walkPath(fhHex: string): string | undefined {
    let slot = this.find(fhHex);
    if (slot < 0) return undefined;
    const parts: string[] = [];
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const f = this.flags[slot]!;
      if ((f & NAMED) === 0) return undefined;
      this.touch(slot);
      if ((f & ROOT) !== 0) {
        let path = this.nameOf(slot);
        for (let i = parts.length - 1; i >= 0; i--) path = path.endsWith('/') ? path + parts[i] : `${path}/${parts[i]}`;
        return path;
      }
      parts.push(this.nameOf(slot));
      slot = this.parent[slot]!;
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
    if (call.mainOp === 'LINK' && call.fh !== undefined && !this.isNamed(call.fh)) {
      const toDir = toDirOf(call.args);
      const name = call.names?.[0];
      if (toDir !== undefined && name !== undefined) this.learn(call.fh, toDir, name);
    }
    for (const h of reply.handles ?? []) {
      if (h.name === undefined || h.name === '' || h.name === '.' || h.name === '..') continue;
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

  private isNamed(fh: string): boolean {
    const slot = this.find(fh);
    return slot >= 0 && (this.flags[slot]! & NAMED) !== 0;
  }

  private set(fh: string, dir: string | undefined, name: string): void {
    if (name.length * 2 > MAX_STORED) return;
    // The parent first (made if unknown), so that it holds a child before the old parent may let go of one.
    let p = -1;
    if (dir !== undefined) {
      // The entries of a READDIRPLUS reply name one directory in a row: its slot is remembered while no slot is freed.
      if (dir === this.lastDir && this.frees === this.lastDirFrees) p = this.lastDirSlot;
      else {
        p = this.slotFor(dir);
        if (p < 0) return;
        this.lastDir = dir;
        this.lastDirSlot = p;
        this.lastDirFrees = this.frees;
      }
      // The directory is in use: the most recently used.
      if ((this.flags[p]! & NAMED) !== 0) this.touch(p);
    }
    let slot = this.find(fh);
    // The scratch holds the name from here (slotFor and find encode handles into it).
    const nameBytes = this.encodeName(name);
    const nameLatin1 = nameBytes === name.length;
    const chash = p < 0 ? 0 : this.hashChild(p, nameBytes);
    if (slot >= 0 && (this.flags[slot]! & NAMED) !== 0) {
      const f = this.flags[slot]!;
      const sameParent = p < 0 ? (f & ROOT) !== 0 : (f & ROOT) === 0 && this.parent[slot] === p;
      if (sameParent && this.nameIs(slot, nameBytes, nameLatin1)) {
        // Learnt again as it was (a LOOKUP or READDIRPLUS seen before): the newest again.
        this.touch(slot);
        if (p >= 0 && this.childOf(p, chash, nameBytes, nameLatin1) !== slot) this.indexChild(slot, chash);
        return;
      }
    }
    if (p >= 0) this.children[p]!++;
    if (slot >= 0) {
      if ((this.flags[slot]! & NAMED) !== 0) this.unname(slot, true);
    } else {
      slot = this.slotFor(fh);
      if (slot < 0) {
        if (p >= 0) this.releaseChild(p);
        return;
      }
      this.encodeName(name);
    }
    // The name's bytes, from the scratch.
    this.reserve(nameBytes);
    this.nameOff[slot] = this.arenaUsed;
    this.nameLen[slot] = nameBytes;
    this.scratch.copy(this.arena, this.arenaUsed, 0, nameBytes);
    this.arenaUsed += nameBytes;
    this.flags[slot] = (this.flags[slot]! & (USED | KEY_HEX)) | NAMED | (p < 0 ? ROOT : 0) | (nameLatin1 ? NAME_LATIN1 : 0);
    this.parent[slot] = p;
    this.childHash[slot] = chash;
    this.charge(nameBytes * 2);
    this.named++;
    this.pushNewest(slot);
    if (p >= 0) this.indexChild(slot, chash);
    while (this.named > this.capacity) this.unname(this.oldestSlot);
    if (this.account !== undefined && this.bytes > this.account.ceiling) this.shedToCeiling(this.account);
  }

  /** The slot of a handle, or −1. */
  private find(fh: string): number {
    const n = this.encodeKey(fh);
    if (n < 0) return -1;
    const h = this.hashScratch(n, SEEDED_OFFSET);
    const hex = n !== fh.length * 2 ? KEY_HEX : 0;
    const mask = this.byKey.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = this.byKey[i]! - 1;
      if (s < 0) return -1;
      if (this.keyHash[s] === h && this.keyLen[s] === n && (this.flags[s]! & KEY_HEX) === hex && this.arenaEquals(this.keyOff[s]!, n)) return s;
    }
  }

  /** The slot of a handle, made (unnamed) if it has none; −1 for a handle too long to keep. */
  private slotFor(fh: string): number {
    const found = this.find(fh);
    if (found >= 0) return found;
    const n = this.encodeKey(fh);
    if (n < 0) return -1;
    const h = this.hashScratch(n, SEEDED_OFFSET);
    this.reserve(n);
    const slot = this.allocSlot();
    this.keyOff[slot] = this.arenaUsed;
    this.keyLen[slot] = n;
    this.scratch.copy(this.arena, this.arenaUsed, 0, n);
    this.arenaUsed += n;
    this.keyHash[slot] = h;
    this.flags[slot] = USED | (n !== fh.length * 2 ? KEY_HEX : 0);
    this.parent[slot] = -1;
    this.children[slot] = 0;
    this.nameLen[slot] = 0;
    if (4 * (this.used + 1) > 3 * this.byKey.length) this.byKey = this.rehash(this.byKey, this.keyHash, 2 * this.byKey.length);
    this.insert(this.byKey, h, slot);
    this.used++;
    this.charge(SLOT_BYTES + 2 * n);
    return slot;
  }

  /**
   * Forgets a named slot's name (dropped, replaced or renamed): it leaves the
   * list, the index and its parent; the slot goes when no child names it.
   */
  private unname(slot: number, keepSlot = false): void {
    const f = this.flags[slot]!;
    this.unlink(slot);
    this.named--;
    if ((f & ROOT) === 0) {
      const p = this.parent[slot]!;
      const at = this.placeOf(this.byChild, this.childHash, slot);
      if (at >= 0) this.removeAt(this.byChild, this.childHash, at);
      this.releaseChild(p);
    }
    const n = this.nameLen[slot]!;
    this.arenaGarbage += n;
    this.charge(-2 * n);
    this.flags[slot] = f & (USED | KEY_HEX);
    this.parent[slot] = -1;
    this.nameLen[slot] = 0;
    if (!keepSlot && this.children[slot] === 0) this.freeSlotOf(slot);
  }

  /** A child of `p` let go of it: an unnamed parent without children goes. */
  private releaseChild(p: number): void {
    if (--this.children[p]! === 0 && (this.flags[p]! & NAMED) === 0) this.freeSlotOf(p);
  }

  private freeSlotOf(slot: number): void {
    this.frees++;
    const i = this.placeOf(this.byKey, this.keyHash, slot);
    if (i >= 0) this.removeAt(this.byKey, this.keyHash, i);
    const n = this.keyLen[slot]!;
    this.arenaGarbage += n;
    this.charge(-(SLOT_BYTES + 2 * n));
    this.keyLen[slot] = 0;
    this.flags[slot] = 0;
    this.next[slot] = this.freeSlot;
    this.freeSlot = slot;
    this.used--;
    if (this.arenaGarbage > 65536 && this.arenaGarbage * 2 > this.arenaUsed) this.compact();
  }

  private charge(n: number): void {
    this.bytes += n;
    this.account?.add(n);
  }

  /** Where a table (the handles' or the children's, with its hashes) holds `slot`, or −1 (a child whose name another handle took). */
  private placeOf(table: Int32Array, hashes: Int32Array, slot: number): number {
    const mask = table.length - 1;
    for (let i = hashes[slot]! & mask; ; i = (i + 1) & mask) {
      const s = table[i]! - 1;
      if (s < 0) return -1;
      if (s === slot) return i;
    }
  }

  /** The slot `name` (encoded in the scratch) denotes under `p` now, or −1. */
  private childOf(p: number, chash: number, n: number, latin1: boolean): number {
    const mask = this.byChild.length - 1;
    for (let i = chash & mask; ; i = (i + 1) & mask) {
      const s = this.byChild[i]! - 1;
      if (s < 0) return -1;
      if (this.childHash[s] === chash && this.parent[s] === p && this.nameIs(s, n, latin1)) return s;
    }
  }

  /** Makes `slot` what its (parent, name) denotes, replacing the slot that did (which keeps its name). */
  private indexChild(slot: number, chash: number): void {
    const n = this.nameLen[slot]!;
    const latin1 = (this.flags[slot]! & NAME_LATIN1) !== 0;
    this.arena.copy(this.scratch, 0, this.nameOff[slot]!, this.nameOff[slot]! + n);
    const old = this.childOf(this.parent[slot]!, chash, n, latin1);
    if (old >= 0) this.removeAt(this.byChild, this.childHash, this.placeOf(this.byChild, this.childHash, old));
    if (4 * (this.indexedChildren + 1) > 3 * this.byChild.length) this.byChild = this.rehash(this.byChild, this.childHash, 2 * this.byChild.length);
    this.insert(this.byChild, chash, slot);
    this.indexedChildren++;
  }

  private insert(table: Int32Array, h: number, slot: number): void {
    const mask = table.length - 1;
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  /** Empties place i of a linear-probing table, shifting back the entries after it (no tombstones). */
  private removeAt(table: Int32Array, hashes: Int32Array, i: number): void {
    const mask = table.length - 1;
    table[i] = 0;
    if (table === this.byChild) this.indexedChildren--;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[table[j]! - 1]! & mask;
      // The entry at j may move to i when its home is not in (i, j] (cyclically).
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        table[i] = table[j]!;
        table[j] = 0;
        i = j;
      }
    }
  }

  private rehash(old: Int32Array, hashes: Int32Array, size: number): Int32Array<ArrayBuffer> {
    const table = new Int32Array(size);
    for (let i = 0; i < old.length; i++) {
      const s = old[i]! - 1;
      if (s >= 0) this.insert(table, hashes[s]!, s);
    }
    return table;
  }

  private allocSlot(): number {
    if (this.freeSlot >= 0) {
      const s = this.freeSlot;
      this.freeSlot = this.next[s]!;
      return s;
    }
    if (this.top === this.cap) this.grow();
    return this.top++;
  }

  private grow(): void {
    const cap = Math.max(64, this.cap * 2);
    this.flags = grownTo(this.flags, cap);
    this.parent = grownTo(this.parent, cap);
    this.keyOff = grownTo(this.keyOff, cap);
    this.keyLen = grownTo(this.keyLen, cap);
    this.nameOff = grownTo(this.nameOff, cap);
    this.nameLen = grownTo(this.nameLen, cap);
    this.keyHash = grownTo(this.keyHash, cap);
    this.childHash = grownTo(this.childHash, cap);
    this.children = grownTo(this.children, cap);
    this.prev = grownTo(this.prev, cap);
    this.next = grownTo(this.next, cap);
    this.cap = cap;
  }

  /** Room for n more bytes in the arena (compacted or grown). */
  private reserve(n: number): void {
    if (this.arenaUsed + n <= this.arena.length) return;
    if (this.arenaGarbage * 2 > this.arenaUsed) this.compact();
    if (this.arenaUsed + n <= this.arena.length) return;
    const bigger = Buffer.alloc(Math.max(2 * this.arena.length, this.arenaUsed + n));
    this.arena.copy(bigger, 0, 0, this.arenaUsed);
    this.arena = bigger;
  }

  /** Copies the bytes still referenced to a fresh arena. */
  private compact(): void {
    const out = Buffer.alloc(Math.max(4096, this.arena.length));
    let at = 0;
    for (let s = 0; s < this.top; s++) {
      if ((this.flags[s]! & USED) === 0) continue;
      const k = this.keyLen[s]!;
      this.arena.copy(out, at, this.keyOff[s]!, this.keyOff[s]! + k);
      this.keyOff[s] = at;
      at += k;
      const n = this.nameLen[s]!;
      if ((this.flags[s]! & NAMED) !== 0 && n > 0) {
        this.arena.copy(out, at, this.nameOff[s]!, this.nameOff[s]! + n);
        this.nameOff[s] = at;
        at += n;
      }
    }
    this.arena = out;
    this.arenaUsed = at;
    this.arenaGarbage = 0;
  }

  private pushNewest(slot: number): void {
    this.changes++;
    this.prev[slot] = this.newestSlot;
    this.next[slot] = -1;
    if (this.newestSlot >= 0) this.next[this.newestSlot] = slot;
    else this.oldestSlot = slot;
    this.newestSlot = slot;
  }

  /** A named slot becomes the most recently used. */
  private touch(slot: number): void {
    if (slot === this.newestSlot) return;
    this.unlink(slot);
    this.pushNewest(slot);
  }

  private unlink(slot: number): void {
    this.changes++;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.oldestSlot = n;
    if (n >= 0) this.prev[n] = p;
    else this.newestSlot = p;
  }

  /**
   * Encodes a handle into the scratch: packed when it is lowercase hex of
   * even length, else its UTF-16 code units; returns the bytes, −1 if too long.
   */
  private encodeKey(fh: string): number {
    const len = fh.length;
    if (len > MAX_STORED / 2) return -1;
    this.ensureScratch(2 * len);
    const b = this.scratch;
    if ((len & 1) === 0) {
      let i = 0;
      for (; i < len; i += 2) {
        const hi = hexDigit(fh.charCodeAt(i));
        const lo = hexDigit(fh.charCodeAt(i + 1));
        if ((hi | lo) < 0) break;
        b[i >> 1] = (hi << 4) | lo;
      }
      // (A handle of 0 characters packs to 0 bytes and is told from a UTF-16 one by its flag.)
      if (i === len && len > 0) return len >> 1;
    }
    return this.scratch.write(fh, 0, 'utf16le') === 2 * len ? 2 * len : -1;
  }

  /** Encodes a name into the scratch: a byte a code unit when all are below 256, else two; returns the bytes. */
  private encodeName(name: string): number {
    const len = name.length;
    this.ensureScratch(2 * len);
    const b = this.scratch;
    // Byte by byte while the code units fit (names are short: no native call for them).
    for (let i = 0; i < len; i++) {
      const c = name.charCodeAt(i);
      if (c > 255) return b.write(name, 0, 'utf16le');
      b[i] = c;
    }
    return len;
  }

  private ensureScratch(n: number): void {
    if (this.scratch.length < n) this.scratch = Buffer.alloc(Math.max(n, 2 * this.scratch.length));
  }

  private hashScratch(n: number, seed: number): number {
    let h = seed;
    const b = this.scratch;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
    // As an Int32Array stores it (a seed alone is not yet a 32-bit signed integer).
    return h | 0;
  }

  /** The hash of (parent slot, name in the scratch). */
  private hashChild(p: number, n: number): number {
    return this.hashScratch(n, Math.imul(SEEDED_OFFSET ^ p, FNV_PRIME));
  }

  private arenaEquals(off: number, n: number): boolean {
    const a = this.arena;
    const b = this.scratch;
    for (let i = 0; i < n; i++) if (a[off + i] !== b[i]) return false;
    return true;
  }

  /** Whether the slot's name is the one in the scratch (n bytes, latin1 or not). */
  private nameIs(slot: number, n: number, latin1: boolean): boolean {
    return this.nameLen[slot] === n && ((this.flags[slot]! & NAME_LATIN1) !== 0) === latin1 && this.arenaEquals(this.nameOff[slot]!, n);
  }

  private nameOf(slot: number): string {
    const off = this.nameOff[slot]!;
    const n = this.nameLen[slot]!;
    return this.arena.toString((this.flags[slot]! & NAME_LATIN1) !== 0 ? 'latin1' : 'utf16le', off, off + n);
  }

  private forget(dir: string, name: string): void {
    const p = this.find(dir);
    if (p < 0) return;
    const n = this.encodeName(name);
    const s = this.childOf(p, this.hashChild(p, n), n, n === name.length);
    if (s >= 0) this.unname(s);
  }

  private rename(fromDir: string | undefined, fromName: string | undefined, toDir: string | undefined, toName: string | undefined): void {
    if (fromDir === undefined || fromName === undefined || toDir === undefined || toName === undefined) return;
    const fh = this.childFh(fromDir, fromName);
    // The target name, if it existed, is replaced.
    const replaced = this.childFh(toDir, toName);
    if (replaced !== undefined && replaced !== fh) this.forget(toDir, toName);
    if (fh !== undefined) this.learn(fh, toDir, toName);
  }

  /** The handle `name` under `dir` denotes, as a string, if known. */
  private childFh(dir: string, name: string): string | undefined {
    const p = this.find(dir);
    if (p < 0) return undefined;
    const n = this.encodeName(name);
    const s = this.childOf(p, this.hashChild(p, n), n, n === name.length);
    return s < 0 ? undefined : this.keyOf(s);
  }

  private keyOf(slot: number): string {
    const off = this.keyOff[slot]!;
    const n = this.keyLen[slot]!;
    return (this.flags[slot]! & KEY_HEX) !== 0 ? this.arena.toString('hex', off, off + n) : this.arena.toString('utf16le', off, off + n);
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The target directory of a RENAME or LINK call, from its args. */
function toDirOf(args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const v = (args as { toDir?: unknown }).toDir;
  return typeof v === 'string' ? v : undefined;
}
