/**
 * File handles as nfsight shows them: lowercase hex, and a short hash that
 * matches Wireshark's nfs.fh.hash, so a handle in a report can be found in
 * Wireshark with a filter such as `nfs.fh.hash == 0x88ede9d8`.
 */

/** Lowercase hex of a file handle. */
export function fhHex(fh: Buffer): string {
  return fh.toString('hex');
}

/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the zlib one), which
 * is what Wireshark's crc32_ccitt_tvb computes for nfs.fh.hash. Table-driven;
 * the table is built once. (node:zlib has crc32 only from Node 20.15.)
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = (CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return (c ^ 0xffffffff) >>> 0;
}

/** Wireshark's nfs.fh.hash of a handle, formatted as Wireshark shows it: 0x%08x. */
export function fhHash(fh: Buffer): string {
  return `0x${crc32(fh).toString(16).padStart(8, '0')}`;
}

/** A hex digit's value (either case), or −1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * CRC-32 of the bytes a hex string stands for, read as Buffer.from(s, 'hex')
 * reads it (up to the first pair that is not hex; an odd last digit left
 * out), without making the Buffer: a `calls` listing hashes the handle of
 * every call.
 */
export function crc32Hex(s: string): number {
  let c = 0xffffffff;
  const end = s.length - 1;
  for (let i = 0; i < end; i += 2) {
    const hi = hexDigit(s.charCodeAt(i));
    const lo = hexDigit(s.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) break;
    c = (CRC_TABLE[(c ^ ((hi << 4) | lo)) & 0xff]! ^ (c >>> 8)) >>> 0;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** The hash of a handle given as hex (as decoders store it). */
export function fhHashHex(fhHexStr: string): string {
  return `0x${crc32Hex(fhHexStr).toString(16).padStart(8, '0')}`;
}
