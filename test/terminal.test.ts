/**
 * The terminal-width helpers every text renderer uses: the width chosen,
 * display widths, shortening in the middle, wrapping, fitted tables.
 */
import Table from 'cli-table3';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import {
  boxTable,
  DEFAULT_WIDTH,
  displayWidth,
  fitTable,
  frameLabel,
  keyValues,
  layoutColumns,
  oneColumnText,
  shortenEnd,
  shortenMiddle,
  terminalWidth,
  wrapText,
  type ColumnSpec,
} from '../src/report/terminal.js';

const widest = (text: string): number => Math.max(...text.split('\n').map(displayWidth));

describe('terminalWidth', () => {
  it('is the terminal’s columns on a terminal, else COLUMNS, else 100', () => {
    expect(terminalWidth({ isTTY: true, columns: 132 }, { COLUMNS: '80' })).toBe(132);
    expect(terminalWidth({ isTTY: false, columns: 132 }, { COLUMNS: '80' })).toBe(80);
    expect(terminalWidth({}, { COLUMNS: '120' })).toBe(120);
    expect(terminalWidth({}, {})).toBe(DEFAULT_WIDTH);
    expect(DEFAULT_WIDTH).toBe(100);
    // Not a width: ignored.
    expect(terminalWidth({}, { COLUMNS: 'wide' })).toBe(100);
    expect(terminalWidth({}, { COLUMNS: '0' })).toBe(100);
    // Too narrow to lay anything out: the floor.
    expect(terminalWidth({}, { COLUMNS: '10' })).toBe(40);
  });
});

describe('displayWidth', () => {
  it('counts columns: colour escapes none, wide characters two, combining marks none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('\u001b[31mERROR\u001b[39m')).toBe(5);
    expect(displayWidth('│ → ≤ …')).toBe(7);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
  });
});

describe('shortenMiddle / shortenEnd', () => {
  it('keeps what fits, else the beginning and the end around …', () => {
    expect(shortenMiddle('/export/hello.txt', 17)).toBe('/export/hello.txt');
    expect(shortenMiddle('/export/very/long/directory/name/file.txt', 15)).toBe('/export…ile.txt');
    expect(displayWidth(shortenMiddle('/export/very/long/directory/name/file.txt', 15))).toBe(15);
    expect(shortenMiddle('abcdef', 1)).toBe('…');
    expect(shortenMiddle('abcdef', 0)).toBe('');
    expect(shortenEnd('NFS4ERR_STALE_CLIENTID', 10)).toBe('NFS4ERR_S…');
    // Wide characters are not split: the result never exceeds the width.
    const s = shortenMiddle('日本語のファイル名.txt', 9);
    expect(displayWidth(s)).toBeLessThanOrEqual(9);
    expect(s).toContain('…');
  });
});

describe('wrapText', () => {
  it('wraps at word boundaries within the width, indents included', () => {
    const text = 'The client retried OPEN 7 times while the server was in its grace period, with doubling delays.';
    const lines = wrapText(text, 30, { firstIndent: '   ', indent: '   ' });
    expect(lines).toEqual([
      '   The client retried OPEN 7',
      '   times while the server was',
      '   in its grace period, with',
      '   doubling delays.',
    ]);
    expect(lines.join(' ').replace(/\s+/g, ' ').trim()).toBe(text);
  });

  it('keeps line breaks and breaks a word longer than a line', () => {
    expect(wrapText('a b\nc', 10)).toEqual(['a b', 'c']);
    const path = '/export/' + 'x'.repeat(40);
    const lines = wrapText(`file ${path}`, 20);
    expect(lines.every((l) => displayWidth(l) <= 20)).toBe(true);
    expect(lines.join('').replace(/^file/, '')).toBe(path);
  });
});

describe('fitTable', () => {
  const columns: ColumnSpec[] = [
    { head: 'operation', min: 10 },
    { head: 'calls', align: 'right' },
    { head: 'p99 ms', align: 'right' },
    { head: 'read', align: 'right', drop: 2 },
    { head: 'throughput', align: 'right', drop: 1 },
  ];
  const rows = [
    ['NFS v4.1 COMPOUND(SEQUENCE PUTFH OPEN GETFH GETATTR)', '1,234', '12.345', '1.2 MiB', '3.4 MiB/s'],
    ['NFS v3 READ', '7', '0.512', '-', '-'],
  ];

  it('leaves a table that fits as it is', () => {
    const t = fitTable(columns, rows, { width: 120 });
    expect(t.dropped).toEqual([]);
    expect(t.text).toContain('NFS v4.1 COMPOUND(SEQUENCE PUTFH OPEN GETFH GETATTR)');
    // One line per row: top rule, heading, rule, 2 rows, bottom rule.
    expect(t.text.split('\n')).toHaveLength(6);
    expect(t.text.split('\n')[1]).toMatch(/^│ operation +│ calls │ p99 ms │/);
    expect(t.text).toMatch(/│ +7 │ +0\.512 │/);
  });

  it('shortens the widest column in the middle first', () => {
    const t = fitTable(columns, rows, { width: 80 });
    expect(widest(t.text)).toBeLessThanOrEqual(80);
    expect(t.dropped).toEqual([]);
    expect(t.text).toMatch(/NFS v4\.1 COMPOUND.*…/);
    expect(t.text).toContain('GETATTR)');
  });

  it('then drops columns, lowest drop first, and says which', () => {
    const t = fitTable(columns, rows, { width: 44 });
    expect(widest(t.text)).toBeLessThanOrEqual(44);
    expect(t.dropped).toEqual(['throughput']);
    expect(t.text).toContain('(left out for width: throughput)');
    const narrower = fitTable(columns, rows, { width: 40 });
    expect(widest(narrower.text)).toBeLessThanOrEqual(40);
    expect(narrower.dropped).toEqual(['read', 'throughput']);
  });

  it('chooses widths that sum to the width (borders included)', () => {
    const { keep, widths } = layoutColumns(columns, rows, 60);
    expect(keep).toEqual([0, 1, 2, 3, 4]);
    expect(widths.reduce((n, w) => n + w + 3, 1)).toBe(60);
  });

  it('wraps cells of a wrap column and keeps multi-line cells', () => {
    const t = fitTable(
      [{ head: 'frame' }, { head: 'what', fit: 'wrap' }],
      [['#12', 'OPEN answered NFS4ERR_GRACE while the server was restarting']],
      { width: 40 },
    );
    expect(widest(t.text)).toBeLessThanOrEqual(40);
    expect(t.text.replace(/[│ ]+/g, ' ')).toContain('restarting');
    expect(t.text.split('\n').length).toBeGreaterThan(4);
  });

  it('without a heading: a plain list of rows', () => {
    const t = fitTable([{ head: 'k' }, { head: 'v' }], [['frames', '200']], { width: 80, heading: false });
    expect(t.text.split('\n')).toEqual(['┌────────┬─────┐', '│ frames │ 200 │', '└────────┴─────┘']);
  });
});

describe('boxTable: tables drawn as cli-table3 draws them', () => {
  /** cli-table3 itself, as fitTable configures it without colour. */
  const cliTable3 = (head: string[] | undefined, rows: string[][], aligns: ('left' | 'right')[]): string => {
    const t = new Table({ ...(head !== undefined ? { head } : {}), colAligns: aligns, style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 } });
    for (const r of rows) t.push(r);
    return t.toString();
  };

  it('draws the same text as cli-table3 for random tables', () => {
    // A small deterministic generator (xorshift): cells of one-column characters, empty, long, multi-line.
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = ['a', 'Z', '0', ' ', '-', '|', '…', 'µ', '×', '→', '≥', 'é', 'Ω', 'Ж', '─', '│', '–', '‰', '\n'];
    const text = (): string => {
      const len = rnd(4) === 0 ? 0 : rnd(3) === 0 ? rnd(40) : rnd(8);
      let s = '';
      for (let i = 0; i < len; i++) s += rnd(6) === 0 ? alphabet[rnd(alphabet.length)]! : String.fromCharCode(0x61 + rnd(26));
      return s;
    };
    for (let t = 0; t < 400; t++) {
      const n = 1 + rnd(5);
      const aligns = Array.from({ length: n }, () => (rnd(2) === 0 ? 'left' : 'right') as 'left' | 'right');
      const head = rnd(4) === 0 ? undefined : Array.from({ length: n }, text);
      const rows = Array.from({ length: rnd(6) }, () => Array.from({ length: n }, text));
      expect(boxTable(head, rows, aligns), JSON.stringify({ head, rows, aligns })).toBe(cliTable3(head, rows, aligns));
    }
  });

  it('measures as cli-table3 does: every oneColumnText character is one column for string-width', () => {
    let checked = 0;
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      if (c === 10 || (c >= 0xd800 && c <= 0xdfff) || !oneColumnText(ch)) continue;
      checked++;
      if (stringWidth(ch) !== 1 || displayWidth(ch) !== 1) expect.fail(`U+${c.toString(16)} is ${stringWidth(ch)} columns for string-width, ${displayWidth(ch)} for displayWidth`);
    }
    expect(checked).toBeGreaterThan(1000);
    expect(oneColumnText('\u001b[31mred\u001b[39m')).toBe(false);
    expect(oneColumnText('日本')).toBe(false);
    expect(oneColumnText('e\u0301')).toBe(false);
  });

  it('fitTable draws colour and other text with cli-table3, as before', () => {
    const columns: ColumnSpec[] = [{ head: 'name' }, { head: 'n', align: 'right' }];
    const wide = fitTable(columns, [['日本語のファイル', '3']], { width: 80 });
    expect(wide.text).toBe(cliTable3(['name', 'n'], [['日本語のファイル', '3']], ['left', 'right']));
    const plain = fitTable(columns, [['file', '3'], ['other', '12']], { width: 80 });
    expect(plain.text.split('\n')).toEqual(['┌───────┬────┐', '│ name  │  n │', '├───────┼────┤', '│ file  │  3 │', '│ other │ 12 │', '└───────┴────┘']);
  });
});

describe('keyValues', () => {
  it('aligns names and wraps long values under themselves', () => {
    const lines = keyValues(
      [
        ['frames', '200'],
        ['first frame', '2026-11-22T03:39:05.525706Z in a file with a long name that goes on'],
      ],
      50,
    );
    expect(lines[0]).toBe('frames       200');
    expect(lines[1]).toBe('first frame  2026-11-22T03:39:05.525706Z in a file');
    expect(lines[2]).toBe('             with a long name that goes on');
  });
});

describe('frameLabel', () => {
  it('is the frame alone for one file, with the file’s name (not path) for several', () => {
    expect(frameLabel('captures/a.pcap', 12, false)).toBe('#12');
    expect(frameLabel('/tmp/set/cap.pcap10', 12, true)).toBe('cap.pcap10 #12');
  });
});
