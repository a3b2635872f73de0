/** The words findings are written with: numbers read the way people write them. */
import { describe, expect, it } from 'vitest';
import { burstsText, bytesText, cadenceText, cleanMetrics, intervalsText, listText, percentText, plural, secondsText, sentences, timesText } from '../src/detectors/wording.js';

describe('wording', () => {
  it('seconds: µs, ms, s with sensible digits, never a dropped zero of a whole number', () => {
    expect([0, 0.00005, 0.0126, 0.5, 0.3, 1, 1.5, 2.004, 25.23, 29.6, 120.4].map(secondsText)).toEqual([
      '0 s', '50 µs', '12.6 ms', '500 ms', '300 ms', '1 s', '1.5 s', '2 s', '25.2 s', '29.6 s', '120 s',
    ]);
  });

  it('bytes, percentages, counts and lists', () => {
    expect([1, 1448, 14480, 50 * 1024 * 1024].map(bytesText)).toEqual(['1 byte', '1,448 bytes', '14.1 KiB', '50.0 MiB']);
    expect([0.0005, 0.013, 0.1, 0.22].map(percentText)).toEqual(['0.05%', '1.3%', '10%', '22%']);
    expect([1, 2, 3, 1200].map(timesText)).toEqual(['once', 'twice', '3 times', '1,200 times']);
    expect([plural(1, 'reply', 'replies'), plural(7017, 'call')]).toEqual(['1 reply', '7,017 calls']);
    expect([listText(['a']), listText(['a', 'b']), listText(['a', 'b', 'c']), listText(['a', 'b', 'c', 'd', 'e', 'f'], 3)]).toEqual(['a', 'a and b', 'a, b and c', 'a, b and 4 more']);
    expect(intervalsText([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 15, 15, 15])).toBe('0.2, 0.4, 0.8, 1.6, …, 15, 15, 15 s');
  });

  it('sentences start with a capital and end with one period; empty metrics are left out', () => {
    expect(sentences('the server stopped', '', undefined, 'check it.')).toBe('The server stopped. Check it.');
    expect(cleanMetrics({ a: 1, b: '', c: [], d: [2], e: undefined, f: Number.NaN })).toEqual({ a: 1, d: [2] });
  });

  it('cadence: a period only when the intervals are regular, else bursts or irregular intervals', () => {
    expect(cadenceText([28, 30, 31, 29])).toMatchObject({ text: 'about every 30 s', regular: true, periodSeconds: 30 });
    // Five episodes at 0, 2, 4, 114, 116 s: two bursts, not "about every 29 s".
    expect(cadenceText([2, 2, 110, 2])).toMatchObject({ text: 'in 2 bursts, 110 s apart', regular: false, bursts: 2, periodSeconds: undefined });
    expect(cadenceText([1, 4, 2, 7])).toMatchObject({ text: 'at irregular intervals (1, 4, 2, 7 s)', bursts: 1 });
    expect(cadenceText([30]).text).toBe('30 s apart');
    expect(cadenceText([]).text).toBe('');
    expect([burstsText([11]), burstsText([30, 28, 33]), burstsText([12, 95, 40])]).toEqual(['in 2 bursts, 11 s apart', 'in 4 bursts about 30 s apart', 'in 4 bursts, 12 s to 95 s apart']);
  });
});
