/**
 * What every text renderer shares to fit its output into a terminal: the
 * width to fit (`terminalWidth`), the width of text as a terminal shows it
 * (`displayWidth`), long cells shortened in the middle (`shortenMiddle`),
 * prose wrapped (`wrapText`), tables fitted by shortening and then dropping
 * columns (`fitTable`, drawn as cli-table3 draws them), name/value lists (`keyValues`)
 * and frame references (`frameLabel`).
 *
 * Nothing here reads the process's state unless asked to: `terminalWidth`
 * takes the stream and the environment as arguments (defaulting to the
 * process's), everything else is a pure function of its arguments.
 */
import Table from 'cli-table3';

/** The width used when neither the terminal nor COLUMNS says. */
export const DEFAULT_WIDTH = 100;
/** No layout is attempted below this width (a table needs some room). */
export const MIN_WIDTH = 40;

/**
 * The width to fit: the terminal's columns when `out` is a terminal, else
 * the COLUMNS environment variable when it is a positive whole number, else
 * DEFAULT_WIDTH. Never below MIN_WIDTH.
 */
export function terminalWidth(
  out: { isTTY?: boolean; columns?: number } = process.stdout,
  env: Record<string, string | undefined> = process.env,
): number {
  let w: number | undefined;
  if (out.isTTY && typeof out.columns === 'number' && out.columns > 0) w = out.columns;
  else {
    const c = env['COLUMNS'];
    if (c !== undefined && /^\s*\d+\s*$/.test(c) && Number(c) > 0) w = Number(c);
  }
  return Math.max(MIN_WIDTH, w ?? DEFAULT_WIDTH);
}

// ---- display width ------------------------------------------------------------

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Text without its colour escapes. */
export function stripAnsi(s: string): string {
  return s.includes('\u001b') ? s.replace(ANSI, '') : s;
}

/** East Asian wide and fullwidth characters take two columns (the ranges string-width uses). */
function isWide(cp: number): boolean {
  return (
    cp >= 0x1100 &&
    (cp <= 0x115f ||
      cp === 0x2329 ||
      cp === 0x232a ||
      (cp >= 0x2e80 && cp <= 0x3247 && cp !== 0x303f) ||
      (cp >= 0x3250 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0xa4c6) ||
      (cp >= 0xa960 && cp <= 0xa97c) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe10 && cp <= 0xfe19) ||
      (cp >= 0xfe30 && cp <= 0xfe6b) ||
      (cp >= 0xff01 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1b000 && cp <= 0x1b001) ||
      (cp >= 0x1f200 && cp <= 0x1f251) ||
      (cp >= 0x1f300 && cp <= 0x1f64f) ||
      (cp >= 0x1f900 && cp <= 0x1f9ff) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
  );
}

/** Control characters, combining marks and zero-width characters take no column. */
function isZeroWidth(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0xfe00 && cp <= 0xfe0f)
  );
}

function charWidth(cp: number): number {
  return isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
}

/** Columns a line of text takes on a terminal (colour escapes take none). */
export function displayWidth(s: string): number {
  const plain = stripAnsi(s);
  // Fast path: printable ASCII is one column per character.
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  let w = 0;
  for (const ch of plain) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** The longest prefix of `chars` that fits in `max` columns. */
function takeColumns(chars: readonly string[], max: number): string[] {
  const out: string[] = [];
  let w = 0;
  for (const ch of chars) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > max) break;
    out.push(ch);
    w += cw;
  }
  return out;
}

/** The mark that replaces what a shortened text left out. */
export const ELLIPSIS = '…';

/**
 * `s` in at most `max` columns: unchanged when it fits, else its beginning
 * and its end around `…` (a path keeps its root and its file name, an
 * address its port). Colour escapes are dropped from shortened text.
 */
export function shortenMiddle(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= 1) return max === 1 ? ELLIPSIS : '';
  const chars = [...stripAnsi(s)];
  const room = max - 1;
  const head = takeColumns(chars, Math.ceil(room / 2));
  const tail = takeColumns([...chars].reverse(), room - displayWidth(head.join(''))).reverse();
  return `${head.join('')}${ELLIPSIS}${tail.join('')}`;
}

/** `s` in at most `max` columns: its beginning and `…` when it does not fit. */
export function shortenEnd(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= 1) return max === 1 ? ELLIPSIS : '';
  return `${takeColumns([...stripAnsi(s)], max - 1).join('')}${ELLIPSIS}`;
}

/** `s` in at most `max` columns: `…` and its end when it does not fit (a path keeps its file's name). */
export function shortenStart(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= 1) return max === 1 ? ELLIPSIS : '';
  return `${ELLIPSIS}${takeColumns([...stripAnsi(s)].reverse(), max - 1).reverse().join('')}`;
}

/** Pads `s` with spaces to `width` columns (left-aligned, or right-aligned). */
export function pad(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? fill + s : s + fill;
}

// ---- prose ----------------------------------------------------------------------

export interface WrapOptions {
  /** Put before the first line (default: `indent`). */
  firstIndent?: string;
  /** Put before every following line (default: none). */
  indent?: string;
}

/**
 * Prose wrapped at word boundaries into lines of at most `width` columns,
 * indents included. Line breaks in the text are kept; a word longer than a
 * line (a path, a file handle) is broken across lines rather than cut.
 */
export function wrapText(text: string, width: number, options: WrapOptions = {}): string[] {
  const indent = options.indent ?? '';
  const firstIndent = options.firstIndent ?? indent;
  const lines: string[] = [];
  let prefix = firstIndent;
  for (const paragraph of text.split('\n')) {
    let line = prefix;
    let lineWidth = displayWidth(prefix);
    let empty = true;
    const flush = (): void => {
      lines.push(line.trimEnd());
      prefix = indent;
      line = prefix;
      lineWidth = displayWidth(prefix);
      empty = true;
    };
    for (const word of paragraph.split(/\s+/).filter((w) => w !== '')) {
      let w = word;
      let ww = displayWidth(w);
      if (!empty && lineWidth + 1 + ww > width) flush();
      // A word wider than a whole line: as many columns as fit, then the rest on the next.
      while (lineWidth + (empty ? 0 : 1) + ww > width) {
        const room = Math.max(1, width - lineWidth - (empty ? 0 : 1));
        const piece = takeColumns([...stripAnsi(w)], room).join('') || [...w][0]!;
        line += (empty ? '' : ' ') + piece;
        w = w.slice(piece.length);
        ww = displayWidth(w);
        flush();
        if (w === '') break;
      }
      if (w === '') continue;
      line += (empty ? '' : ' ') + w;
      lineWidth += (empty ? 0 : 1) + ww;
      empty = false;
    }
    flush();
  }
  return lines;
}

// ---- tables ---------------------------------------------------------------------

export interface ColumnSpec {
  /** The heading (shortened like the cells if it must). */
  head: string;
  /** Numbers read best right-aligned (default left). */
  align?: 'left' | 'right';
  /**
   * The narrowest this column's text is shortened (or wrapped) to before
   * columns are dropped; unset: not shortened while a column can be dropped.
   */
  min?: number;
  /**
   * Columns that may be left out when shortening is not enough, lowest
   * first (e.g. 1 for the first to go); never dropped when unset.
   */
  drop?: number;
  /** How a cell too long for the column is shortened: in the middle (default), at the end, or wrapped onto more lines. */
  fit?: 'middle' | 'end' | 'wrap';
}

export interface TableOptions {
  /** Columns the whole table may take, borders included. */
  width: number;
  /** Colour the borders and headings. */
  color?: boolean;
  /** Print the heading row (default true; false for name/value lists). */
  heading?: boolean;
  /** Add a line naming the columns left out for width (default true). */
  noteDropped?: boolean;
}

/** What a fitted table holds: its text and the columns left out. */
export interface FittedTable {
  text: string;
  dropped: string[];
}

/** The columns a box table of these text widths takes: `│ a │ b │`. */
function boxWidth(widths: readonly number[]): number {
  return widths.reduce((n, w) => n + w + 3, 1);
}

const cellLines = (s: string): string[] => s.split('\n');

/**
 * Chooses the columns and their widths so that the table fits `width`:
 * first the widest shortenable columns (those with a `min`) give up columns
 * down to their minimum, then the columns with the lowest `drop` go; when
 * nothing is left to drop, shortenable columns go below their minimum (to a
 * few characters), and as a last resort every column is narrowed. Returns
 * the indices kept and each kept column's text width.
 */
export function layoutColumns(columns: readonly ColumnSpec[], rows: readonly (readonly string[])[], width: number, heading = true): { keep: number[]; widths: number[] } {
  const natural = columns.map((c, i) => {
    let w = heading ? displayWidth(c.head) : 0;
    for (const r of rows) for (const l of cellLines(r[i] ?? '')) w = Math.max(w, displayWidth(l));
    return Math.max(1, w);
  });
  const minOf = (i: number): number => Math.min(natural[i]!, columns[i]!.min ?? natural[i]!);
  /** Below their minimum, shortenable columns keep this much. */
  const SHORTEST = 6;
  let keep = columns.map((_, i) => i);
  for (;;) {
    const widths = keep.map((i) => natural[i]!);
    const excess = boxWidth(widths) - width;
    if (excess <= 0) return { keep, widths };
    const slackAbove = (floor: readonly number[]): number => keep.reduce((n, _, k) => n + widths[k]! - floor[k]!, 0);
    const atMin = keep.map(minOf);
    const droppable = keep.filter((i) => columns[i]!.drop !== undefined);
    if (slackAbove(atMin) < excess && droppable.length > 0) {
      const drop = droppable.reduce((a, b) => (columns[b]!.drop! < columns[a]!.drop! ? b : a));
      keep = keep.filter((i) => i !== drop);
      continue;
    }
    const floors = [atMin, keep.map((i) => (columns[i]!.min === undefined ? natural[i]! : Math.min(natural[i]!, SHORTEST))), keep.map(() => 1)];
    const floor = floors.find((f) => slackAbove(f) >= excess) ?? floors[2]!;
    // Take one column at a time from the widest column still above its floor.
    let left = excess;
    while (left > 0) {
      let widest = -1;
      for (let k = 0; k < keep.length; k++) {
        if (widths[k]! > floor[k]! && (widest < 0 || widths[k]! > widths[widest]!)) widest = k;
      }
      if (widest < 0) break; // cannot fit: as narrow as it gets
      widths[widest]!--;
      left--;
    }
    return { keep, widths };
  }
}

/** One cell's text in `w` columns, as its column says. */
function fitCell(s: string, w: number, fit: ColumnSpec['fit']): string {
  if (fit === 'wrap') return cellLines(s).flatMap((l) => (displayWidth(l) <= w ? [l] : wrapText(l, w))).join('\n');
  const shorten = fit === 'end' ? shortenEnd : shortenMiddle;
  return cellLines(s).map((l) => shorten(l, w)).join('\n');
}

/**
 * Whether cli-table3 and `boxTable` measure `s` alike: every character one
 * column wide for cli-table3's string-width (no colour escapes, no wide,
 * combining, zero-width or emoji characters), or a line break. Printable
 * ASCII, Latin, Greek and Cyrillic letters, punctuation such as `…`, `–`,
 * `µ`, `×`, arrows, mathematical operators and box drawing are.
 */
export function oneColumnText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) continue;
    if (
      c === 10 ||
      (c >= 0xa0 && c <= 0x2ff) ||
      (c >= 0x370 && c <= 0x482) ||
      (c >= 0x2010 && c <= 0x2027) ||
      (c >= 0x2030 && c <= 0x205e) ||
      (c >= 0x2190 && c <= 0x22ff) ||
      (c >= 0x2500 && c <= 0x257f)
    ) {
      continue;
    }
    return false;
  }
  return true;
}

/**
 * The lines cli-table3 draws for a table without colours, padding 1, every
 * row ruled (`new Table({ head, colAligns, style: { head: [], border: [] } })`),
 * for cells of `oneColumnText` only: the same text, without cli-table3's
 * per-cell objects and option merging (a third of a short report's time to
 * draw its tables). `head` undefined or empty: no heading row. Every row
 * has one cell per alignment.
 */
export function boxTable(head: readonly string[] | undefined, rows: readonly (readonly string[])[], aligns: readonly ('left' | 'right')[]): string {
  const n = aligns.length;
  const all = head !== undefined && head.length > 0 ? [head, ...rows] : rows;
  const cells = all.map((r) => r.map(cellLines));
  // Each column's width: its longest line, padding included (at least 1); each row's height: its tallest cell.
  const widths: number[] = new Array<number>(n).fill(1);
  for (const r of cells) {
    for (let x = 0; x < n; x++) {
      for (const l of r[x]!) if (l.length + 2 > widths[x]!) widths[x] = l.length + 2;
    }
  }
  const rule = (left: string, mid: string, right: string): string => left + widths.map((w) => '─'.repeat(w)).join(mid) + right;
  const out: string[] = [];
  for (let y = 0; y < cells.length; y++) {
    out.push(y === 0 ? rule('┌', '┬', '┐') : rule('├', '┼', '┤'));
    const r = cells[y]!;
    let height = 1;
    for (const c of r) if (c.length > height) height = c.length;
    for (let k = 0; k < height; k++) {
      let line = '│';
      for (let x = 0; x < n; x++) {
        const l = r[x]![k];
        const w = widths[x]!;
        if (l === undefined) line += ' '.repeat(w);
        else {
          const fill = ' '.repeat(w - 2 - l.length);
          line += aligns[x] === 'right' ? ` ${fill}${l} ` : ` ${l}${fill} `;
        }
        line += '│';
      }
      out.push(line);
    }
  }
  if (cells.length > 0) out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

/**
 * A table (one line per row, a rule under the heading) that fits
 * `options.width`; see layoutColumns for how. Cells are plain strings
 * (multi-line cells allowed). Drawn as cli-table3 draws it: by boxTable
 * when the text allows (no colour, `oneColumnText`), else by cli-table3.
 */
export function fitTable(columns: readonly ColumnSpec[], rows: readonly (readonly string[])[], options: TableOptions): FittedTable {
  const heading = options.heading ?? true;
  const { keep, widths } = layoutColumns(columns, rows, options.width, heading);
  const color = options.color ?? false;
  const head = heading ? keep.map((i, k) => shortenMiddle(columns[i]!.head, widths[k]!)) : undefined;
  const aligns = keep.map((i) => columns[i]!.align ?? 'left');
  const body = rows.map((r) => keep.map((i, k) => fitCell(r[i] ?? '', widths[k]!, columns[i]!.fit)));
  let drawn: string;
  if (!color && keep.length > 0 && (head === undefined || head.every(oneColumnText)) && body.every((r) => r.every(oneColumnText))) {
    drawn = boxTable(head, body, aligns);
  } else {
    const t = new Table({
      ...(head !== undefined ? { head } : {}),
      colAligns: aligns,
      style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 },
    });
    for (const r of body) t.push(r);
    drawn = t.toString();
  }
  // Every row is ruled; keep only the top, the one under the heading and the bottom.
  const lines = rows.length === 0 && !heading ? [] : drawn.split('\n');
  const ruleAt = heading ? 2 : -1;
  const text = lines.filter((l, n) => n === ruleAt || !stripAnsi(l).startsWith('├')).join('\n');
  const dropped = columns.filter((_, i) => !keep.includes(i)).map((c) => c.head);
  const note = dropped.length > 0 && (options.noteDropped ?? true) ? `\n${wrapText(`(left out for width: ${dropped.join(', ')})`, options.width).join('\n')}` : '';
  return { text: text + note, dropped };
}

/**
 * Names and values as aligned lines, `name  value`, the value wrapped under
 * itself when long (a plain list: summaries read faster without boxes).
 */
export function keyValues(rows: readonly (readonly [string, string])[], width: number, indent = ''): string[] {
  if (rows.length === 0) return [];
  const nameWidth = Math.min(
    Math.max(...rows.map(([k]) => displayWidth(k))),
    Math.max(8, Math.floor((width - displayWidth(indent)) / 2)),
  );
  const out: string[] = [];
  for (const [k, v] of rows) {
    const name = shortenMiddle(k, nameWidth);
    const first = `${indent}${pad(name, nameWidth)}  `;
    out.push(...wrapText(v, width, { firstIndent: first, indent: ' '.repeat(displayWidth(first)) }));
  }
  return out;
}

// ---- frames ---------------------------------------------------------------------

/** The last part of a path (`/a/b/cap.pcap1` → `cap.pcap1`). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 && i < path.length - 1 ? path.slice(i + 1) : path;
}

/**
 * A frame as a reader finds it in Wireshark: `#153`, preceded by the file's
 * name (not its whole path, which the report shows once) only when several
 * files were read.
 */
export function frameLabel(file: string, frame: number, multiFile: boolean): string {
  return multiFile ? `${baseName(file)} #${frame}` : `#${frame}`;
}
