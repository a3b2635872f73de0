/**
 * Finding a TCP connection by its 4-tuple without allocating: the key is
 * read from the packet into one reused {@link ConnKey} (addresses as 32-bit
 * words, the endpoints in a canonical order so both directions give the same
 * key), hashed, and looked up in a chained hash table of entries that carry
 * a copy of their key. No string is built per segment.
 */
import type { IpPacket } from '../net/packet.js';

/**
 * The key as text (for maps of closed connections, off the per-segment
 * path): its fields as UTF-16 code units, 16 bits each, in one flat string
 * of 7 (IPv4) or 19 code units. Never shown. (Written as decimal fields
 * joined by template, each key was a tree of 11 joined strings, about 350
 * bytes: 3.4 MB for the 10,000 closed connections remembered,
 * docs/memory.md, session 37.)
 */
function keyText(
  version: number, lo0: number, lo1: number, lo2: number, lo3: number, loPort: number,
  hi0: number, hi1: number, hi2: number, hi3: number, hiPort: number,
): string {
  const u = String.fromCharCode;
  if (version === 4 && (lo0 | lo1 | lo2 | hi0 | hi1 | hi2) === 0) return u(4, lo3 >>> 16, lo3 & 0xffff, loPort, hi3 >>> 16, hi3 & 0xffff, hiPort);
  return u(
    version,
    lo0 >>> 16, lo0 & 0xffff, lo1 >>> 16, lo1 & 0xffff, lo2 >>> 16, lo2 & 0xffff, lo3 >>> 16, lo3 & 0xffff, loPort,
    hi0 >>> 16, hi0 & 0xffff, hi1 >>> 16, hi1 & 0xffff, hi2 >>> 16, hi2 & 0xffff, hi3 >>> 16, hi3 & 0xffff, hiPort,
  );
}

/** The key fields, lower endpoint (address words, then port) first. */
export class KeyFields {
  version = 0;
  lo0 = 0;
  lo1 = 0;
  lo2 = 0;
  lo3 = 0;
  loPort = 0;
  hi0 = 0;
  hi1 = 0;
  hi2 = 0;
  hi3 = 0;
  hiPort = 0;
  hash = 0;

  /** An IPv4 key: the first three words of both addresses are 0. */
  get narrow(): boolean {
    return this.version === 4 && (this.lo0 | this.lo1 | this.lo2 | this.hi0 | this.hi1 | this.hi2) === 0;
  }

  /** The key as text (for maps of closed connections, off the per-segment path). */
  keyText(): string {
    return keyText(this.version, this.lo0, this.lo1, this.lo2, this.lo3, this.loPort, this.hi0, this.hi1, this.hi2, this.hi3, this.hiPort);
  }

  /** Copies another key's fields (hash included). */
  copyFrom(k: KeyFields): this {
    this.version = k.version;
    this.lo0 = k.lo0;
    this.lo1 = k.lo1;
    this.lo2 = k.lo2;
    this.lo3 = k.lo3;
    this.loPort = k.loPort;
    this.hi0 = k.hi0;
    this.hi1 = k.hi1;
    this.hi2 = k.hi2;
    this.hi3 = k.hi3;
    this.hiPort = k.hiPort;
    this.hash = k.hash;
    return this;
  }
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x85ebca6b);
  return h ^ (h >>> 15);
}

/** The key of the segment being processed (one object, refilled per segment). */
export class ConnKey extends KeyFields {
  /** The segment's source is the lower endpoint (true too when both endpoints are the same). */
  srcIsLo = true;
  /** Source and destination are the same endpoint (a degenerate loopback). */
  same = false;

  /** Fills the key from a packet's addresses and the TCP ports. */
  fill(pkt: IpPacket, srcPort: number, dstPort: number): this {
    const s0 = pkt.src0;
    const s1 = pkt.src1;
    const s2 = pkt.src2;
    const s3 = pkt.src3;
    const d0 = pkt.dst0;
    const d1 = pkt.dst1;
    const d2 = pkt.dst2;
    const d3 = pkt.dst3;
    // Lexicographic order of (w0, w1, w2, w3, port); the words are unsigned.
    let order =
      s0 !== d0 ? s0 - d0 : s1 !== d1 ? s1 - d1 : s2 !== d2 ? s2 - d2 : s3 !== d3 ? s3 - d3 : srcPort - dstPort;
    this.same = order === 0;
    if (order <= 0) {
      this.lo0 = s0;
      this.lo1 = s1;
      this.lo2 = s2;
      this.lo3 = s3;
      this.loPort = srcPort;
      this.hi0 = d0;
      this.hi1 = d1;
      this.hi2 = d2;
      this.hi3 = d3;
      this.hiPort = dstPort;
    } else {
      this.lo0 = d0;
      this.lo1 = d1;
      this.lo2 = d2;
      this.lo3 = d3;
      this.loPort = dstPort;
      this.hi0 = s0;
      this.hi1 = s1;
      this.hi2 = s2;
      this.hi3 = s3;
      this.hiPort = srcPort;
      order = 1;
    }
    this.srcIsLo = order <= 0;
    const v = pkt.ipVersion;
    this.version = v;
    let h = mix(v, this.lo3);
    h = mix(h, this.hi3);
    h = mix(h, (this.loPort << 16) | this.hiPort);
    if (v !== 4) {
      h = mix(h, this.lo0);
      h = mix(h, this.lo1);
      h = mix(h, this.lo2);
      h = mix(h, this.hi0);
      h = mix(h, this.hi1);
      h = mix(h, this.hi2);
    }
    this.hash = h | 0;
    return this;
  }
}

/**
 * An entry of a {@link ConnTable}: its key, and the link of its bucket's
 * chain. Kept small (one per open connection): an IPv4 key is its two
 * address words and its ports, as signed 32-bit integers (V8 small
 * integers); any other key keeps all its fields in `wide`.
 */
export class ConnEntry {
  nextInBucket: ConnEntry | undefined = undefined;
  private lo3 = 0;
  private hi3 = 0;
  /** loPort << 16 | hiPort. */
  private ports = 0;
  hash = 0;
  /** The whole key, when it is not an IPv4 one. */
  private wide: KeyFields | null = null;

  copyKey(k: KeyFields): void {
    this.lo3 = k.lo3 | 0;
    this.hi3 = k.hi3 | 0;
    this.ports = (k.loPort << 16) | k.hiPort;
    this.hash = k.hash;
    this.wide = k.narrow ? null : new KeyFields().copyFrom(k);
  }

  /** Copies this entry's key into `k` (hash included). */
  keyInto(k: KeyFields): void {
    const w = this.wide;
    if (w !== null) {
      k.copyFrom(w);
      return;
    }
    k.version = 4;
    k.lo0 = k.lo1 = k.lo2 = 0;
    k.hi0 = k.hi1 = k.hi2 = 0;
    k.lo3 = this.lo3 >>> 0;
    k.hi3 = this.hi3 >>> 0;
    k.loPort = this.ports >>> 16;
    k.hiPort = this.ports & 0xffff;
    k.hash = this.hash;
  }

  /** Whether this entry's key equals `k`. */
  sameKey(k: KeyFields): boolean {
    if (this.hash !== k.hash || this.lo3 !== (k.lo3 | 0) || this.hi3 !== (k.hi3 | 0) || this.ports !== ((k.loPort << 16) | k.hiPort)) {
      return false;
    }
    const w = this.wide;
    if (w === null) return k.narrow;
    return (
      w.lo0 === k.lo0 && w.lo1 === k.lo1 && w.lo2 === k.lo2 && w.hi0 === k.hi0 && w.hi1 === k.hi1 && w.hi2 === k.hi2 &&
      w.version === k.version
    );
  }

  /** The key as text (the same as its KeyFields' text). */
  keyText(): string {
    const w = this.wide;
    if (w !== null) return w.keyText();
    return keyText(4, 0, 0, 0, this.lo3 >>> 0, this.ports >>> 16, 0, 0, 0, this.hi3 >>> 0, this.ports & 0xffff);
  }
}

const INITIAL_BUCKETS = 256;

/** Entries by key; a chained hash table that doubles when the load passes 3/4. */
export class ConnTable<T extends ConnEntry> {
  private buckets: (T | undefined)[] = new Array<T | undefined>(INITIAL_BUCKETS).fill(undefined);
  private mask = INITIAL_BUCKETS - 1;
  size = 0;

  get(k: KeyFields): T | undefined {
    let e = this.buckets[k.hash & this.mask];
    while (e !== undefined) {
      if (e.sameKey(k)) return e;
      e = e.nextInBucket as T | undefined;
    }
    return undefined;
  }

  /** Adds an entry (its key must not be in the table). */
  add(e: T): void {
    if (this.size >= (this.buckets.length >> 2) * 3) this.grow();
    const i = e.hash & this.mask;
    e.nextInBucket = this.buckets[i];
    this.buckets[i] = e;
    this.size++;
  }

  delete(e: T): boolean {
    const i = e.hash & this.mask;
    let prev: T | undefined;
    let cur = this.buckets[i];
    while (cur !== undefined) {
      if (cur === e) {
        if (prev === undefined) this.buckets[i] = cur.nextInBucket as T | undefined;
        else prev.nextInBucket = cur.nextInBucket;
        cur.nextInBucket = undefined;
        this.size--;
        return true;
      }
      prev = cur;
      cur = cur.nextInBucket as T | undefined;
    }
    return false;
  }

  private grow(): void {
    const old = this.buckets;
    const n = old.length * 2;
    this.buckets = new Array<T | undefined>(n).fill(undefined);
    this.mask = n - 1;
    for (let e of old) {
      while (e !== undefined) {
        const next = e.nextInBucket as T | undefined;
        const i = e.hash & this.mask;
        e.nextInBucket = this.buckets[i];
        this.buckets[i] = e;
        e = next;
      }
    }
  }
}
