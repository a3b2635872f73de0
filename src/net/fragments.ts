/**
 * IP fragment reassembly (IPv4 and IPv6), with bounded memory and a capture-
 * time timeout, plus the small structures the IP decoders fill to describe a
 * header's outcome.
 *
 * Policy choices (all counted, none silent):
 *  - Overlaps: the bytes that arrived first win. A later fragment only adds
 *    the byte ranges nobody covered yet; a fragment that adds nothing (an
 *    exact or contained duplicate) is dropped and counted in
 *    `fragmentsDropped`. (Stacks differ here: Linux drops overlapping IPv6
 *    datagrams per RFC 5722, BSD lets new data win at the tail; an analyzer
 *    cannot know which the receiver did, and first-wins keeps stored pieces
 *    disjoint, so memory use never exceeds the datagram size.)
 *  - A second final fragment (MF=0) that disagrees with the first one about
 *    the datagram length is dropped (first wins); so is a final fragment
 *    that ends before bytes already received.
 *  - A fragment cut by the snaplen cannot complete a datagram: dropped.
 *  - A fragment reaching past 65535 bytes of payload (IPv4 "ping of death",
 *    or an IPv6 fragment RFC 8200 says to discard) is dropped.
 *  - Timeout: a datagram not complete `timeoutSec` seconds (capture time)
 *    after its first fragment is dropped with all its fragments.
 *  - Bounds: at most `maxDatagrams` in progress and `maxBytes` of stored
 *    fragment bytes; the oldest datagram (by first fragment) is evicted.
 *
 * Counting: every fragment given to `add` is counted in `fragments`; it ends
 * up either in a reassembled datagram, in `fragmentsDropped`, or pending.
 */
import type { MemoryAccount, MemoryBudget } from '../memory/budget.js';
import type { NetStats } from './packet.js';
import { loopBound, type InternalError } from '../internal-error.js';

/** Estimated heap bytes of a datagram in progress, and of each stored piece, besides the bytes (docs/memory.md). */
const DATAGRAM_BYTES = 250;
const PIECE_BYTES = 150;

/** What an IP decoder did with one header. */
export const IpOutcome = {
  /** `IpPacket` filled: transport bytes ready. */
  DELIVER: 1,
  /** `IpPacket` filled with the fragment's data; `IpScratch` describes the fragment. */
  FRAGMENT: 2,
  /** Header cut short or inconsistent; `IpScratch.reason` says why. */
  MALFORMED: 3,
} as const;
export type IpOutcome = (typeof IpOutcome)[keyof typeof IpOutcome];

/** Reused per decoder: side results of decoding one IP header. */
export interface IpScratch {
  /** Why the header is malformed (a constant string). */
  reason: string;
  /** Identification field (IPv4: 16 bits, IPv6 fragment header: 32 bits). */
  fragId: number;
  /** Byte offset of the fragment's data within the datagram's fragmentable part. */
  fragOffset: number;
  /** More-fragments flag. */
  fragMore: boolean;
  /** Protocol of the reassembled payload (IPv4: the header's protocol; IPv6: the fragment header's next header). */
  fragNextHeader: number;
}

export function newIpScratch(): IpScratch {
  return { reason: '', fragId: 0, fragOffset: 0, fragMore: false, fragNextHeader: 0 };
}

export interface ReassemblyLimits {
  /** Datagrams in progress at once. */
  maxDatagrams: number;
  /** Stored fragment bytes, all datagrams together. */
  maxBytes: number;
  /** Seconds of capture time from a datagram's first fragment to its completion. */
  timeoutSec: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: Readonly<ReassemblyLimits> = {
  maxDatagrams: 64,
  maxBytes: 4 * 1024 * 1024,
  timeoutSec: 30,
};

/** Largest IP payload a (non-jumbo) datagram can have. */
const MAX_DATAGRAM_PAYLOAD = 65535;

/** Reassembly key of an IPv4 fragment (RFC 791: src, dst, protocol, id). */
export function ipv4FragmentKey(src: string, dst: string, protocol: number, id: number): string {
  return '4 ' + src + ' ' + dst + ' ' + protocol + ' ' + id;
}

/** Reassembly key of an IPv6 fragment (RFC 8200: src, dst, id). */
export function ipv6FragmentKey(src: string, dst: string, id: number): string {
  return '6 ' + src + ' ' + dst + ' ' + id;
}

/** A stored byte range of a datagram (a private copy). */
interface Piece {
  offset: number;
  data: Buffer;
}

interface Datagram {
  /** Capture time of the first fragment, seconds. */
  first: number;
  /** Disjoint, sorted by offset. */
  pieces: Piece[];
  /** Bytes stored (sum of piece lengths). */
  have: number;
  /** Highest end offset stored. */
  maxEnd: number;
  /** Datagram payload length, known once the final fragment arrived; -1 before. */
  total: number;
  /** Fragments that contributed (what is counted as dropped if it never completes). */
  fragments: number;
  nextHeader: number;
  /** Estimated heap bytes accounted for it. */
  accounted: number;
}

export class FragmentReassembler {
  private readonly limits: ReassemblyLimits;
  /** Insertion order = order of first fragments: the first entry is the oldest. */
  private readonly inProgress = new Map<string, Datagram>();
  private bytes = 0;
  /**
   * Capture time (seconds) after which the oldest pending datagram has timed
   * out; Infinity when none is pending. Lets the caller skip `expire` with
   * one comparison per packet.
   */
  nextDeadline = Infinity;
  /** Protocol of the datagram `add` last returned (from its offset-0 fragment). */
  completedNextHeader = 0;
  /** Fragments that were part of the datagram `add` last returned. */
  completedFragments = 0;

  private readonly budget: MemoryBudget | undefined;
  private readonly account: MemoryAccount | undefined;

  constructor(
    private readonly stats: NetStats,
    limits: Partial<ReassemblyLimits> = {},
    budget?: MemoryBudget,
  ) {
    this.limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
    this.budget = budget;
    if (budget !== undefined) {
      this.account = budget.account('fragments');
      this.account.evictor = (bytes) => this.evictForBudget(bytes);
    }
  }

  /** The memory budget asks: the oldest datagrams in progress go (their fragments counted as dropped). */
  private evictForBudget(want: number): number {
    let freed = 0;
    for (const [key, d] of this.inProgress) {
      if (freed >= want) break;
      freed += d.accounted;
      this.budget!.drop('fragments', d.fragments);
      this.drop(key, d);
    }
    if (this.inProgress.size === 0) this.nextDeadline = Infinity;
    return freed;
  }

  /** Keeps the budget told what a datagram in progress holds. */
  private settle(d: Datagram): void {
    const now = DATAGRAM_BYTES + d.have + d.pieces.length * PIECE_BYTES;
    this.account?.add(now - d.accounted);
    d.accounted = now;
  }

  /** Datagrams in progress. */
  get pending(): number {
    return this.inProgress.size;
  }

  /** Fragment bytes held. */
  get bytesHeld(): number {
    return this.bytes;
  }

  /**
   * Adds one fragment. `data` is the fragment's captured payload (a view the
   * caller will reuse: it is copied if kept), `wireLength` its length per the
   * IP header, `now` the frame's capture time in seconds. Returns the
   * complete datagram payload (a fresh Buffer) when this fragment completed
   * it, null otherwise.
   */
  add(key: string, frag: IpScratch, data: Buffer, wireLength: number, now: number): Buffer | null {
    this.stats.fragments++;
    if (now > this.nextDeadline) this.expire(now);

    const start = frag.fragOffset;
    const end = start + data.length;
    if (data.length < wireLength || end > MAX_DATAGRAM_PAYLOAD || (data.length === 0 && frag.fragMore)) {
      this.stats.fragmentsDropped++;
      return null;
    }

    let d = this.inProgress.get(key);
    const isNew = d === undefined;
    if (d === undefined) {
      d = { first: now, pieces: [], have: 0, maxEnd: 0, total: -1, fragments: 0, nextHeader: frag.fragNextHeader, accounted: 0 };
    }

    let stop = end;
    const totalKnown = d.total !== -1;
    if (!frag.fragMore) {
      // The final fragment fixes the length; the first one wins.
      if ((totalKnown && d.total !== end) || end < d.maxEnd) {
        this.stats.fragmentsDropped++;
        return null;
      }
    } else if (totalKnown && stop > d.total) {
      stop = d.total; // bytes past the known end belong to nothing
    }

    const added = start < stop ? insertUncovered(d, data, start, stop) : 0;
    // A fragment adding no byte is a duplicate, unless it is the first to
    // tell the datagram's length.
    if (added === 0 && (frag.fragMore || totalKnown)) {
      this.stats.fragmentsDropped++;
      return null;
    }
    if (!frag.fragMore) d.total = end;

    if (isNew) {
      // Each turn evicts a datagram.
      const maxTurns = this.inProgress.size;
      let turns = 0;
      while (this.inProgress.size >= this.limits.maxDatagrams && this.evictOldest(null)) {
        if (++turns > maxTurns) throw this.stuck('evict to the datagram bound', maxTurns);
      }
      this.inProgress.set(key, d);
      this.nextDeadline = Math.min(this.nextDeadline, now + this.limits.timeoutSec);
    }
    d.fragments++;
    if (start === 0) d.nextHeader = frag.fragNextHeader;
    d.have += added;
    this.bytes += added;
    if (stop > d.maxEnd) d.maxEnd = stop;
    this.settle(d);

    const maxTurns = this.inProgress.size;
    let turns = 0;
    while (this.bytes > this.limits.maxBytes) {
      if (++turns > maxTurns) throw this.stuck('evict to the byte bound', maxTurns);
      if (!this.evictOldest(d)) {
        this.drop(key, d); // alone over the bound: cannot be kept
        return null;
      }
    }

    if (d.total === -1 || d.have !== d.total) return null;
    this.inProgress.delete(key);
    this.bytes -= d.have;
    this.account?.add(-d.accounted);
    if (this.inProgress.size === 0) this.nextDeadline = Infinity;
    this.stats.reassembled++;
    this.completedNextHeader = d.nextHeader;
    this.completedFragments = d.fragments;
    return assemble(d);
  }

  /** Drops every datagram whose first fragment is more than the timeout older than `now`. */
  expire(now: number): void {
    let next = Infinity;
    for (const [key, d] of this.inProgress) {
      const deadline = d.first + this.limits.timeoutSec;
      if (now > deadline) this.drop(key, d);
      else if (deadline < next) next = deadline;
    }
    this.nextDeadline = next;
  }

  /** Drops everything in progress (end of the run), counting the fragments. */
  dropAll(): void {
    for (const [key, d] of this.inProgress) this.drop(key, d);
    this.nextDeadline = Infinity;
  }

  /** An eviction loop made no progress (an nfsight bug): drop every datagram in progress, return the error to throw. */
  private stuck(loop: string, maxTurns: number): InternalError {
    const n = this.inProgress.size;
    this.dropAll();
    this.bytes = 0;
    return loopBound(`fragments.ts: ${loop}`, maxTurns, `${n} datagrams in reassembly dropped`);
  }

  /** Evicts the oldest datagram other than `keep`; false when there is none. */
  private evictOldest(keep: Datagram | null): boolean {
    for (const [key, d] of this.inProgress) {
      if (d === keep) continue;
      this.drop(key, d);
      return true;
    }
    return false;
  }

  private drop(key: string, d: Datagram): void {
    // Deleting the entry being visited is safe in a Map iteration.
    if (this.inProgress.delete(key)) {
      this.bytes -= d.have;
      this.account?.add(-d.accounted);
      d.accounted = 0;
    }
    this.stats.fragmentsDropped += d.fragments;
  }
}

/**
 * Stores copies of the parts of [start, stop) (datagram offsets; `data`
 * begins at `start`) that no stored piece covers. Returns the bytes added.
 */
function insertUncovered(d: Datagram, data: Buffer, start: number, stop: number): number {
  const pieces = d.pieces;
  let pos = start;
  let added = 0;
  const fresh: Piece[] = [];
  for (const p of pieces) {
    const pEnd = p.offset + p.data.length;
    if (pEnd <= pos) continue;
    if (p.offset >= stop) break;
    if (p.offset > pos) {
      fresh.push({ offset: pos, data: Buffer.from(data.subarray(pos - start, p.offset - start)) });
      added += p.offset - pos;
    }
    pos = pEnd;
    if (pos >= stop) break;
  }
  if (pos < stop) {
    fresh.push({ offset: pos, data: Buffer.from(data.subarray(pos - start, stop - start)) });
    added += stop - pos;
  }
  if (fresh.length > 0) {
    for (const p of fresh) pieces.push(p);
    pieces.sort((a, b) => a.offset - b.offset);
  }
  return added;
}

/** Pieces are disjoint and cover [0, total) exactly when `have === total`. */
function assemble(d: Datagram): Buffer {
  const out = Buffer.allocUnsafe(d.total);
  for (const p of d.pieces) p.data.copy(out, p.offset);
  return out;
}
