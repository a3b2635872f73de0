/**
 * Strings in the order of their UTF-16 code units: the order of `<`, and of
 * Array.prototype.sort without a comparator (not localeCompare's), so that
 * reports sort the same on every machine.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
