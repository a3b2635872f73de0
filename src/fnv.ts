/**
 * FNV-1a's 32-bit constants, for the hashes kept in typed arrays (file
 * handle paths, frame fingerprints, packet copies): `Math.imul(h ^ x,
 * FNV_PRIME)` per byte or word, from FNV_OFFSET.
 */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a of a text, a code unit at a time: for texts hashed once and kept (not per message). */
export function fnvText(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h | 0;
}

/**
 * A random number per process that the hash tables keyed by what a capture
 * chooses (xids, endpoints) mix into their hashes: their functions are
 * public, so without it a capture could be made whose calls all fall in
 * one hash chain (xids picked by inverting the function), and every
 * lookup would walk them all. The tables are only looked up by it, never
 * listed in its order: no output depends on it.
 */
// Math.random (seeded by V8 from the system's entropy), not node:crypto:
// the file being read cannot observe it, and crypto would load Node's
// streams into a command that otherwise never does (test/bundle.test.ts).
export const HASH_SEED: number = (Math.random() * 0x100000000) | 0;

/**
 * A 32-bit hash of two numbers (a direction and an xid, or a key and 0)
 * with a seed: murmur3's finalizer, so that every input bit moves every
 * output bit (the low bits pick a chain in one table, the high bits in
 * another).
 */
export function seededMix(a: number, b: number, seed: number): number {
  let h = Math.imul(a ^ seed ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 13);
}
