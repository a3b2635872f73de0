/**
 * The bytes of one RPC message as nfsight keeps them. Bulk data (READ
 * replies, WRITE calls) is never copied: a large message keeps only its head
 * and its tail, and the middle is counted, not stored. A message cut by the
 * capture (gaps, snaplen) keeps the captured prefix.
 *
 * Decoders read through an XdrReader over this, which knows which offsets
 * were kept, so that a decoder can skip a large opaque in the middle and go
 * on decoding in the tail (e.g. the GETATTR after a WRITE in a COMPOUND).
 */
export interface MessageBytes {
  /** Length of the message on the wire (record marks excluded). */
  readonly length: number;
  /** Bytes kept from offset 0: `head.length <= length`. */
  readonly head: Buffer;
  /** Bytes kept at the end of the message (possibly empty): they start at `tailOffset`. */
  readonly tail: Buffer;
  /** Offset in the message of `tail[0]`; equal to `length` when `tail` is empty. */
  readonly tailOffset: number;
  /**
   * Bytes of the message the capture never saw (lost segments, snaplen).
   * 0 means every byte was captured, whether kept or skipped.
   */
  readonly missing: number;
  /**
   * A reduced RPC-over-RDMA reply (RFC 8166): the responder
   * RDMA-wrote the data of these write chunks (their lengths, in write-list
   * order) instead of sending it inline. The bytes, `length` and every offset
   * are those of the reduced message: a DDP-eligible data item (RFC 8267: the
   * data of a READ, the link of a READLINK) keeps its length word in it, and
   * its bytes and XDR padding are in the next write chunk. Decoders step over
   * such items with XdrReader.skipDataItem. Absent for other messages.
   */
  readonly writeChunks?: readonly number[];
}

/** The message's length on the wire: `length`, plus data moved to write chunks (XDR-padded, as inline). */
export function messageLength(b: MessageBytes): number {
  let n = b.length;
  if (b.writeChunks !== undefined) for (const c of b.writeChunks) n += c + ((4 - (c & 3)) & 3);
  return n;
}

export function wholeMessage(bytes: Buffer): MessageBytes {
  return { length: bytes.length, head: bytes, tail: EMPTY, tailOffset: bytes.length, missing: 0 };
}

const EMPTY = Buffer.alloc(0);
