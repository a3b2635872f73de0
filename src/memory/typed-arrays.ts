/**
 * Growing the typed arrays that hold per-entry state in columns (call
 * tables, file handle paths, per-server tallies, frame fingerprints).
 */

type Column = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** A typed array of `a`'s kind, `length` long, starting with `a`'s elements (the rest zero). */
export function grownTo<T extends Column>(a: T, length: number): T {
  const b = new (a.constructor as new (length: number) => T)(length);
  b.set(a);
  return b;
}
