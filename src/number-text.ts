/**
 * A number with its digits grouped in thousands, as `n.toLocaleString('en-US')`
 * writes it ("1,234,567"), without Intl: the first toLocaleString of a process
 * loads ICU's number formatting, 40-100 ms, a third of a short run's startup
 * (docs/performance.md). Whole numbers are grouped here; any other number
 * (fractions, NaN, beyond 2^53) still goes to toLocaleString.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(n < 0 ? -n : n);
  let out = digits.length > 3 ? digits.slice(0, ((digits.length - 1) % 3) + 1) : digits;
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
