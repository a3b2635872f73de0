/**
 * The message bytes of compact waiting calls (waiting-calls.ts), kept in
 * one ring instead of a one-byte string each.
 *
 * Why: a compact call's bytes were made a string at the call
 * (`toString('latin1')`) and a Buffer again at its reply (`Buffer.from`: a
 * piece of Node's pool and a copy), for every call of a metadata workload;
 * the ring costs one copy in and a view out.
 *
 * Nearly every call is answered within a few hundred calls. The ring is
 * written round and round; before bytes are written over, the call that
 * owns them is told (`spill`): one still waiting takes them as a string
 * then, as every call did before. A call's bytes are in the ring at the
 * offset it was given while the call's own record says so (the spill
 * compares the offset: a record reused by a later call has another).
 *
 * A view of the ring (`view`) is valid until the next `put`: the matcher
 * hands it to the decoders and lets go of it before it takes another call.
 */

/** Bytes of the ring: about 1,000 metadata calls. */
export const RING_BYTES = 256 * 1024;

/** Told that the bytes [off, off + len) of `owner` are about to be written over. */
export type SpillFn = (owner: number, off: number, len: number) => void;

export class CallBytesRing {
  readonly ring: Buffer;
  /** Where the next bytes go. */
  private w = 0;
  /** The regions put and not yet written over, oldest first: a circular queue of owner, offset, length. */
  private readonly qOwner: Int32Array;
  private readonly qOff: Int32Array;
  private readonly qLen: Int32Array;
  private qHead = 0;
  private qCount = 0;

  constructor(
    private readonly spill: SpillFn,
    bytes = RING_BYTES,
  ) {
    this.ring = Buffer.allocUnsafeSlow(bytes);
    // A call is at least 40 bytes (RFC 5531's call header with empty credentials): room for every region.
    const slots = Math.max(16, bytes >>> 5);
    this.qOwner = new Int32Array(slots);
    this.qOff = new Int32Array(slots);
    this.qLen = new Int32Array(slots);
  }

  /** Longest `src` that put takes (longer calls are kept as strings: a few such would go round the ring). */
  get putMax(): number {
    return this.ring.length >>> 4;
  }

  /** Copies `src` (1 to putMax bytes) into the ring for `owner`; returns its offset there. */
  put(owner: number, src: Buffer): number {
    const len = src.length;
    const offs = this.qOff;
    if (this.w + len > this.ring.length) {
      // No room before the end: the regions there are the oldest, and go.
      while (this.qCount > 0 && offs[this.qHead]! >= this.w) this.pop();
      this.w = 0;
    }
    // The oldest regions lie ahead of `w` (when the ring has gone round): those in the way go.
    while (this.qCount > 0 && offs[this.qHead]! >= this.w && offs[this.qHead]! < this.w + len) this.pop();
    if (this.qCount === offs.length) this.pop();
    const off = this.w;
    this.ring.set(src, off);
    const q = (this.qHead + this.qCount) % offs.length;
    this.qOwner[q] = owner;
    offs[q] = off;
    this.qLen[q] = len;
    this.qCount++;
    this.w = off + len;
    return off;
  }

  /** The bytes [off, off + len): valid until the next put. */
  view(off: number, len: number): Buffer {
    return this.ring.subarray(off, off + len);
  }

  /** The bytes [off, off + len) as a one-byte string (what a call keeps when its bytes are to be written over). */
  text(off: number, len: number): string {
    return this.ring.toString('latin1', off, off + len);
  }

  /** Regions not yet written over (for tests). */
  get regions(): number {
    return this.qCount;
  }

  private pop(): void {
    const i = this.qHead;
    this.qHead = (i + 1) % this.qOff.length;
    this.qCount--;
    this.spill(this.qOwner[i]!, this.qOff[i]!, this.qLen[i]!);
  }
}
