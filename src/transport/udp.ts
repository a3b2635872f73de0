/**
 * UDP header (RFC 768) read straight out of the captured bytes.
 */

export const UDP_HEADER_LEN = 8;

export function udpSrcPort(b: Buffer, o = 0): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function udpDstPort(b: Buffer, o = 0): number {
  return (b[o + 2]! << 8) | b[o + 3]!;
}

/** Length field: header + payload, in bytes. 0 means "see the IPv6 jumbogram length" (RFC 2675). */
export function udpLengthField(b: Buffer, o = 0): number {
  return (b[o + 4]! << 8) | b[o + 5]!;
}

export function udpChecksum(b: Buffer, o = 0): number {
  return (b[o + 6]! << 8) | b[o + 7]!;
}

/**
 * UDP datagram length (header + payload) as the headers state it, or -1 when
 * the header (`captured` bytes at `o` of `b`) is cut or inconsistent with
 * the IP length `l4WireLength`.
 *
 * The UDP length may be smaller than the IP payload (trailing padding is not
 * part of the datagram) but never larger; a length of 0 is only valid for an
 * IPv6 jumbogram, whose real length is the IP one.
 */
export function udpDatagramLength(b: Buffer, l4WireLength: number, ipVersion: number, o = 0, captured = b.length - o): number {
  if (captured < UDP_HEADER_LEN || l4WireLength < UDP_HEADER_LEN) return -1;
  const len = udpLengthField(b, o);
  if (len === 0 && ipVersion === 6) return l4WireLength;
  if (len < UDP_HEADER_LEN || len > l4WireLength) return -1;
  return len;
}
