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
