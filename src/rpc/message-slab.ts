/**
 * Buffers for the kept bytes of RPC messages that are complete in the bytes
 * at hand (a datagram; a TCP message whose last fragment ends in the segment
 * being read) but cannot be handed on in place, carved out of shared slabs.
 *
 * Why: such a message is delivered, decoded and let go before the next
 * segment is read, and small ones are the whole of a metadata workload. A
 * Buffer of its own for each (Buffer.allocUnsafeSlow: a new ArrayBuffer with
 * its backing store, counted as external memory) cost 12% of the CPU time of
 * the metadata benchmark; a view into a slab costs one small object. A short
 * TCP message in one segment needs not even that: the record stream hands
 * it on as a view of the segment's bytes (record-stream.ts, startMessage),
 * and the reader overwrites those once it reads on.
 *
 * So a message's bytes are valid while it is delivered only, and whatever
 * keeps them past that copies them (the matcher's calls keep their bytes as
 * strings and let go of the bodies once the transaction is handed on; the
 * RPCSEC_GSS context handle is copied by the header decoder; decoders make
 * strings of handles and names). test/read-buffer-views.test.ts checks it.
 * What keeps a slab view keeps its whole slab, so a message still being
 * gathered (waiting for more segments, held by a connection for any length
 * of time) gets a Buffer of its own, so that a slow trickle of data on
 * thousands of connections cannot pin a slab each.
 */

/** Bytes per slab. */
export const SLAB_BYTES = 64 * 1024;
/** Longer pieces get a Buffer of their own: a slab holds at least eight of the longest. */
export const SLAB_PIECE_MAX = SLAB_BYTES / 8;

/**
 * Uninitialised buffers for message bytes that nothing keeps after the
 * message's delivery (an object, so that tests can watch what is taken).
 */
export const deliveredBuffers = {
  slab: Buffer.allocUnsafeSlow(SLAB_BYTES),
  used: 0,
  /** `n` bytes: a view into the current slab when `n` is at most SLAB_PIECE_MAX, else a Buffer of their own. */
  take(n: number): Buffer {
    if (n > SLAB_PIECE_MAX) return Buffer.allocUnsafeSlow(n);
    if (this.used + n > SLAB_BYTES) {
      // The old slab lives on only as long as views into it do.
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const b = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return b;
  },
};

/** Buffers of each reused size kept for the next message. */
export const REUSED_MAX = 32;

/**
 * Buffers of their own, of a few sizes, for the heads and tails of messages
 * waiting for more segments (the READ replies and WRITE calls of a
 * metadata mix, every message of a bulk one): a message takes the size
 * that holds what it keeps (takeAtLeast), and the record stream gives them
 * back once the message has been delivered, which nothing keeps past, to
 * be taken again by the next. Made
 * afresh, each is an ArrayBuffer with a backing store and its finaliser,
 * made and collected per message. At most REUSED_MAX of each size wait here
 * (496 KB at the sizes in use, 512 bytes to 8 KB).
 */
export class ReusedBuffers {
  private readonly free: Buffer[][];

  /** `sizes` ascending. */
  constructor(private readonly sizes: readonly number[]) {
    for (let i = 1; i < sizes.length; i++) if (!(sizes[i]! > sizes[i - 1]!)) throw new Error('ReusedBuffers: sizes must ascend');
    this.free = sizes.map(() => []);
  }

  /** `n` bytes, uninitialised: a Buffer given back when `n` is one of the sizes, else a new one. */
  take(n: number): Buffer {
    const i = this.sizes.indexOf(n);
    return (i >= 0 ? this.free[i]!.pop() : undefined) ?? Buffer.allocUnsafeSlow(n);
  }

  /**
   * At least `n` bytes, uninitialised: above the smallest size and up to
   * the largest, a Buffer of the smallest size that holds them (given back
   * or new); else exactly `n` (take). Below the smallest size nothing is
   * rounded up: a message in progress on each of many connections holds
   * only what it needs.
   */
  takeAtLeast(n: number): Buffer {
    const sizes = this.sizes;
    if (n <= sizes[0]! || n > sizes[sizes.length - 1]!) return this.take(n);
    let i = 1;
    while (sizes[i]! < n) i++;
    return this.free[i]!.pop() ?? Buffer.allocUnsafeSlow(sizes[i]!);
  }

  /** A Buffer that nothing refers to any more; kept if it is one of the sizes and a Buffer of its own (not a view). */
  giveBack(b: Buffer): void {
    const i = this.sizes.indexOf(b.length);
    if (i < 0 || b.byteOffset !== 0 || b.buffer.byteLength !== b.length) return;
    const free = this.free[i]!;
    if (free.length < REUSED_MAX) free.push(b);
  }

  /** Buffers waiting to be taken (for tests). */
  get waiting(): number {
    let n = 0;
    for (const f of this.free) n += f.length;
    return n;
  }
}
