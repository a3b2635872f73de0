/**
 * TCP header (RFC 9293 §3.1) read straight out of the captured bytes.
 *
 * The reassembler parses every segment of a multi-gigabyte capture, so the
 * parser fills one reused {@link TcpHeader} object instead of allocating a
 * record per segment. Options are skipped (only their length, via the data
 * offset, matters here: nothing in reassembly needs MSS/SACK/timestamps).
 */

/** Header without options. */
export const TCP_MIN_HEADER_LEN = 20;
/** Data offset is a 4-bit count of 32-bit words: 15 * 4. */
export const TCP_MAX_HEADER_LEN = 60;

/** Flag bits of byte 13. */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

// Field offsets within the header.
const OFF_SRC_PORT = 0;
const OFF_DST_PORT = 2;
const OFF_SEQ = 4;
const OFF_ACK = 8;
const OFF_DATA_OFFSET = 12;
const OFF_FLAGS = 13;
const OFF_WINDOW = 14;

export function tcpSrcPort(b: Buffer): number {
  return (b[OFF_SRC_PORT]! << 8) | b[OFF_SRC_PORT + 1]!;
}

export function tcpDstPort(b: Buffer): number {
  return (b[OFF_DST_PORT]! << 8) | b[OFF_DST_PORT + 1]!;
}

function u32(b: Buffer, o: number): number {
  // `>>> 0` keeps the value an unsigned 32-bit integer (sequence space).
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function tcpSeq(b: Buffer): number {
  return u32(b, OFF_SEQ);
}

export function tcpAck(b: Buffer): number {
  return u32(b, OFF_ACK);
}

/** Header length in bytes, options included (data offset * 4). */
export function tcpHeaderLength(b: Buffer): number {
  return (b[OFF_DATA_OFFSET]! >> 4) * 4;
}

export function tcpFlags(b: Buffer): number {
  return b[OFF_FLAGS]!;
}

/** Advertised receive window, unscaled (the scale option is not tracked). */
export function tcpWindow(b: Buffer): number {
  return (b[OFF_WINDOW]! << 8) | b[OFF_WINDOW + 1]!;
}

/** The fields reassembly needs, filled in place by {@link TcpHeader.parse}. */
export class TcpHeader {
  srcPort = 0;
  dstPort = 0;
  /** Sequence number, unsigned 32-bit. */
  seq = 0;
  /** Acknowledgment number, unsigned 32-bit (meaningful only with TCP_ACK). */
  ack = 0;
  /** Header length in bytes, options included. */
  headerLen = 0;
  /** TCP_* flag bits. */
  flags = 0;
  /** Raw window field. */
  window = 0;

  /**
   * Reads the header at the start of `b`. Returns false (fields unspecified)
   * when `b` is shorter than the header says it is or the data offset is
   * below the minimum: the header is cut or malformed.
   */
  parse(b: Buffer): boolean {
    if (b.length < TCP_MIN_HEADER_LEN) return false;
    const hl = tcpHeaderLength(b);
    if (hl < TCP_MIN_HEADER_LEN || hl > b.length) return false;
    this.srcPort = tcpSrcPort(b);
    this.dstPort = tcpDstPort(b);
    this.seq = tcpSeq(b);
    this.ack = tcpAck(b);
    this.headerLen = hl;
    this.flags = tcpFlags(b);
    this.window = tcpWindow(b);
    return true;
  }
}

/** "a before b" in 32-bit sequence space (RFC 1982 serial arithmetic). */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Signed distance b - a in sequence space, for |distance| < 2^31. */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}
