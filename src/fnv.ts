/**
 * FNV-1a's 32-bit constants, for the hashes kept in typed arrays (file
 * handle paths, frame fingerprints, packet copies): `Math.imul(h ^ x,
 * FNV_PRIME)` per byte or word, from FNV_OFFSET.
 */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;
