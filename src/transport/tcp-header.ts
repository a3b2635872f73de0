/**
 * TCP header (RFC 9293 §3.1) read straight out of the captured bytes.
 *
 * The reassembler parses every segment of a multi-gigabyte capture, so the
 * parser fills one reused {@link TcpHeader} object instead of allocating a
 * record per segment. Options are skipped (only their length, via the data
 * offset, matters here: nothing in reassembly needs MSS/SACK/timestamps).
 */

import { u32be as u32 } from '../capture/bytes.js';

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

export function tcpSrcPort(b: Buffer, o = 0): number {
  return (b[o + OFF_SRC_PORT]! << 8) | b[o + OFF_SRC_PORT + 1]!;
}

export function tcpDstPort(b: Buffer, o = 0): number {
  return (b[o + OFF_DST_PORT]! << 8) | b[o + OFF_DST_PORT + 1]!;
}

export function tcpSeq(b: Buffer, o = 0): number {
  return u32(b, o + OFF_SEQ);
}

export function tcpAck(b: Buffer, o = 0): number {
  return u32(b, o + OFF_ACK);
}

/** Header length in bytes, options included (data offset * 4). */
export function tcpHeaderLength(b: Buffer, o = 0): number {
  return (b[o + OFF_DATA_OFFSET]! >> 4) * 4;
}

export function tcpFlags(b: Buffer, o = 0): number {
  return b[o + OFF_FLAGS]!;
}

/** Advertised receive window, unscaled (the scale option is not tracked). */
export function tcpWindow(b: Buffer, o = 0): number {
  return (b[o + OFF_WINDOW]! << 8) | b[o + OFF_WINDOW + 1]!;
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
   * Reads the header at `start` of the segment bytes `b[start, end)`.
   * Returns false (fields unspecified) when they are fewer than the header
   * says it has or the data offset is below the minimum: the header is cut
   * or malformed.
   */
  parse(b: Buffer, start = 0, end = b.length): boolean {
    const len = end - start;
    if (len < TCP_MIN_HEADER_LEN) return false;
    const hl = tcpHeaderLength(b, start);
    if (hl < TCP_MIN_HEADER_LEN || hl > len) return false;
    this.srcPort = tcpSrcPort(b, start);
    this.dstPort = tcpDstPort(b, start);
    this.seq = tcpSeq(b, start);
    this.ack = tcpAck(b, start);
    this.headerLen = hl;
    this.flags = tcpFlags(b, start);
    this.window = tcpWindow(b, start);
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
