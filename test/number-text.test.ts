/**
 * groupDigits writes numbers as Intl's en-US formatting does (the reference
 * here is toLocaleString itself), without loading ICU.
 */
import { describe, expect, it } from 'vitest';
import { groupDigits } from '../src/number-text.js';

describe('groupDigits', () => {
  it('groups whole numbers in thousands with commas', () => {
    expect(groupDigits(0)).toBe('0');
    expect(groupDigits(7)).toBe('7');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(1000)).toBe('1,000');
    expect(groupDigits(17380)).toBe('17,380');
    expect(groupDigits(918598)).toBe('918,598');
    expect(groupDigits(1000000)).toBe('1,000,000');
    expect(groupDigits(-1234567)).toBe('-1,234,567');
  });

  it('writes what toLocaleString("en-US") writes, at every digit count, signs, -0, fractions, NaN, infinities and beyond 2^53', () => {
    const xs = [-0, 0.5, 1234.5678, -0.001, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, 1e21, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    for (let d = 1, n = 1; d <= 16; d++, n *= 10) xs.push(n, n - 1, -n, n + 1, Math.floor(n * 1.2345));
    for (const x of xs) expect(groupDigits(x), String(x)).toBe(x.toLocaleString('en-US'));
  });
});
