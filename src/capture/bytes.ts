/**
 * Integer reads from a buffer for the per-packet path. Buffer's own
 * readUInt32BE and friends check their arguments and cost several times
 * these plain byte reads there; the callers check bounds themselves.
 */

export function u16be(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** `>>> 0` keeps the value an unsigned 32-bit integer. */
export function u32be(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function u32le(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
