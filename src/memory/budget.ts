/**
 * The memory budget: one object shared by every holder of state that grows
 * with the input (TCP connections, out-of-order bytes, partial RPC records,
 * outstanding calls, IP fragments, NFSv4 state, file-handle paths, the
 * per-client/server/file tables).
 *
 * Each holder opens an {@link MemoryAccount}, keeps it told how many bytes
 * it holds (an estimate of the JavaScript heap its state takes, from sizes
 * measured on Node 20: see docs/memory.md), and evicts its oldest entries
 * when the budget asks, counting what it dropped. Holders never evict on
 * their own account in the middle of a packet: `reclaim` runs between
 * packets (analyze() calls it after each frame when over the limit), so no
 * state disappears under the code that is using it.
 *
 * Which holder gives up bytes: each account has a share of the limit; when
 * the total is over the limit, the account furthest above its share evicts
 * first, until the total is back under the low-water mark (a little below
 * the limit, so that eviction runs in batches, not on every packet). A
 * holder within its share is never asked while another is above its own.
 */

/** What the report counts as dropped, per kind. */
export interface DroppedCounts {
  /** TCP connections whose state was evicted (data after it resynchronises like a capture starting mid-stream). */
  connections: number;
  /** Out-of-order bytes given up on: discarded with their connection, or delivered after the hole before them was declared lost early. */
  outOfOrderBytes: number;
  /** RPC messages in progress (partial records) whose bytes were freed: the message is not analysed. */
  partialRecords: number;
  /** Outstanding calls dropped: their fate (answered or not) is unknown. */
  outstandingCalls: number;
  /** Answered calls forgotten early (remembered to tell late retransmissions and duplicate replies from new calls and replies without call). */
  answeredCalls: number;
  /** IP fragments dropped with the incomplete datagrams they belonged to. */
  fragments: number;
  /** NFSv4 clients, sessions and stateids forgotten. */
  nfs4State: number;
  /** File handle → path entries forgotten. */
  fileHandles: number;
  /** Rows of the per-client, per-server and per-file tables dropped (beyond those their row cap drops). */
  tableRows: number;
}

export type DropKind = keyof DroppedCounts;

export function newDroppedCounts(): DroppedCounts {
  return {
    connections: 0,
    outOfOrderBytes: 0,
    partialRecords: 0,
    outstandingCalls: 0,
    answeredCalls: 0,
    fragments: 0,
    nfs4State: 0,
    fileHandles: 0,
    tableRows: 0,
  };
}

/** The budget's default limit (`--max-memory`). */
export const DEFAULT_MAX_MEMORY = 64 * 1024 * 1024;
/** Eviction brings the total down to this fraction of the limit. */
const LOW_WATER = 0.9;

/** The accounts, and the share of the limit each may hold before it is the first asked to give up bytes. */
export const ACCOUNT_SHARES = {
  connections: 0.35,
  calls: 0.25,
  outOfOrder: 0.1,
  partialRecords: 0.1,
  fragments: 0.02,
  nfs4State: 0.05,
  fileHandles: 0.05,
  tables: 0.08,
} as const;

export type AccountName = keyof typeof ACCOUNT_SHARES;

/**
 * The most of the limit an account may hold even while the budget has
 * room: its holder gives up its least recently used entries beyond it, with
 * a warning of its own. File handles keep paths of files that may never be
 * seen again and only grow with the capture (a quarter of a million on a
 * 900 MB capture of 3,000 clients): unbounded but for the limit, they took
 * 24 MB of typed arrays there, and the limit let them grow to twice that on
 * a longer capture (docs/memory.md, "Wide captures").
 */
export const ACCOUNT_CEILINGS: Partial<Record<AccountName, number>> = {
  fileHandles: 0.25,
};

/**
 * Evicts the holder's oldest entries worth at least `bytes` bytes (or all
 * it can), counting what it drops; returns the bytes freed (its account
 * already updated). `now` is the capture time in seconds of the frame after
 * which the budget reclaims.
 */
export type Evictor = (bytes: number, now: number) => number;

export class MemoryAccount {
  /** Bytes held now (estimate). */
  bytes = 0;
  /** The most held at once. */
  peak = 0;
  evictor: Evictor | undefined;

  constructor(
    private readonly budget: MemoryBudget,
    readonly name: AccountName,
    readonly share: number,
    /** The most the account may hold even while the budget has room (ACCOUNT_CEILINGS; Infinity without one). */
    readonly ceiling: number = Number.POSITIVE_INFINITY,
  ) {}

  /** The holder holds `delta` more bytes (negative: fewer). */
  add(delta: number): void {
    this.bytes += delta;
    if (this.bytes > this.peak) this.peak = this.bytes;
    this.budget.used += delta;
  }
}

export interface MemoryReport {
  /** The limit in bytes (`--max-memory`). */
  limitBytes: number;
  /** The most buffered state held at once, in bytes (estimated as the limit is). */
  peakBytes: number;
  /** What was dropped to stay within the limit, per kind; all 0 when nothing was. */
  dropped: DroppedCounts;
}

export class MemoryBudget {
  /** Bytes held by all accounts (estimate). */
  used = 0;
  private peak = 0;
  readonly dropped: DroppedCounts = newDroppedCounts();
  private readonly accounts = new Map<AccountName, MemoryAccount>();
  private readonly lowWater: number;
  /** Called once, the first time anything is dropped because the limit was reached (the warning). */
  onFirstDrop: ((kind: DropKind) => void) | undefined;
  /** Called once per account, the first time it drops at its ceiling (ACCOUNT_CEILINGS) while the budget has room. */
  onFirstCeilingDrop: ((account: MemoryAccount) => void) | undefined;
  private warned = false;
  private readonly ceilingsReached = new Set<AccountName>();

  constructor(readonly limit: number = DEFAULT_MAX_MEMORY) {
    if (!(limit > 0)) throw new RangeError(`memory limit must be positive: ${limit}`);
    this.lowWater = Math.floor(limit * LOW_WATER);
  }

  /** The account of a holder (one per name; a second holder of the same name shares it). */
  account(name: AccountName): MemoryAccount {
    let a = this.accounts.get(name);
    if (a === undefined) {
      const ceiling = ACCOUNT_CEILINGS[name];
      a = new MemoryAccount(this, name, ACCOUNT_SHARES[name], ceiling === undefined ? Number.POSITIVE_INFINITY : Math.floor(ceiling * this.limit));
      this.accounts.set(name, a);
    }
    return a;
  }

  /** Counts what a holder dropped. */
  drop(kind: DropKind, n: number): void {
    if (!(n > 0)) return;
    this.dropped[kind] += n;
    if (!this.warned) {
      this.warned = true;
      this.onFirstDrop?.(kind);
    }
  }

  /**
   * Counts what a holder dropped at its account's ceiling (not for the
   * limit): the same counters, its own warning, and no sign that the
   * budget is full.
   */
  dropAtCeiling(account: MemoryAccount, kind: DropKind, n: number): void {
    if (!(n > 0)) return;
    this.dropped[kind] += n;
    if (!this.ceilingsReached.has(account.name)) {
      this.ceilingsReached.add(account.name);
      this.onFirstCeilingDrop?.(account);
    }
  }

  /** Notes the peak (call after each packet, and after reclaiming). */
  notePeak(): void {
    if (this.used > this.peak) this.peak = this.used;
  }

  /**
   * Brings the total under the low-water mark by asking the accounts
   * furthest above their shares to evict. Call between packets.
   */
  reclaim(now: number): void {
    if (this.used > this.peak) this.peak = this.used;
    if (this.used <= this.limit) return;
    const tried = new Set<MemoryAccount>();
    while (this.used > this.lowWater) {
      let victim: MemoryAccount | undefined;
      let most = -Infinity;
      for (const a of this.accounts.values()) {
        if (a.evictor === undefined || a.bytes <= 0 || tried.has(a)) continue;
        const above = a.bytes - a.share * this.limit;
        if (above > most) {
          most = above;
          victim = a;
        }
      }
      if (victim === undefined) return;
      const want = Math.max(this.used - this.lowWater, 1);
      // Ask at most for what brings the account back to its share, when it is above it.
      const ask = most > 0 ? Math.min(want, most) : want;
      if (victim.evictor!(ask, now) <= 0) tried.add(victim);
    }
  }

  /** The most held at once so far (including now). */
  peakBytes(): number {
    return Math.max(this.peak, this.used);
  }

  report(): MemoryReport {
    return { limitBytes: this.limit, peakBytes: Math.round(this.peakBytes()), dropped: { ...this.dropped } };
  }
}
