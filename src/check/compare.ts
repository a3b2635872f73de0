/**
 * Limits compared as a person means them: a figure exactly at its limit is
 * within it even when the arithmetic that produced it rounded up (7 errors
 * in 50 calls is 14%, though 7 / 50 × 100 computes to 14.000000000000002;
 * 1.1 ms − 1 ms computes to 0.10000000000000009).
 */

/** Relative slack for floating-point noise: far below the report's resolution (1 ns on a 1 s latency is 1e-9). */
const NOISE = 1e-12;

/** Whether `value` is above `limit` by more than floating-point noise. */
export function above(value: number, limit: number): boolean {
  return value - limit > NOISE * Math.max(1, Math.abs(value), Math.abs(limit));
}
