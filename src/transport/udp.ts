/**
 * UDP header (RFC 768) read straight out of the captured bytes.
 */

export const UDP_HEADER_LEN = 8;

export function udpSrcPort(b: Buffer): number {
  return (b[0]! << 8) | b[1]!;
}

export function udpDstPort(b: Buffer): number {
  return (b[2]! << 8) | b[3]!;
}

/** Length field: header + payload, in bytes. 0 means "see the IPv6 jumbogram length" (RFC 2675). */
export function udpLengthField(b: Buffer): number {
  return (b[4]! << 8) | b[5]!;
}

export function udpChecksum(b: Buffer): number {
  return (b[6]! << 8) | b[7]!;
}

/**
 * UDP datagram length (header + payload) as the headers state it, or -1 when
 * the header is cut or inconsistent with the IP length `l4WireLength`.
 *
 * The UDP length may be smaller than the IP payload (trailing padding is not
 * part of the datagram) but never larger; a length of 0 is only valid for an
 * IPv6 jumbogram, whose real length is the IP one.
 */
export function udpDatagramLength(b: Buffer, l4WireLength: number, ipVersion: number): number {
  if (b.length < UDP_HEADER_LEN || l4WireLength < UDP_HEADER_LEN) return -1;
  const len = udpLengthField(b);
  if (len === 0 && ipVersion === 6) return l4WireLength;
  if (len < UDP_HEADER_LEN || len > l4WireLength) return -1;
  return len;
}
