/**
 * `JSON.stringify(value, null, 2) + '\n'` in pieces: the same bytes, never
 * the whole text at once. A report of a wide capture is tens of MB of JSON
 * (2,000-row tables with their histograms, the timeline); built as one
 * string it was the largest single object of the run (docs/memory.md).
 *
 * The walk goes through objects and arrays down to SPLIT_DEPTH (the report,
 * its sections, their row arrays), and stringifies each value below as a
 * whole with JSON.stringify (fast), re-indented; a value whose text comes
 * out longer than MAX_PIECE is walked instead. Pieces are gathered into
 * chunks of about CHUNK characters for the writer.
 *
 * Same result as JSON.stringify for JSON data: objects' own enumerable
 * string keys in order, `toJSON` applied (with its key), undefined,
 * functions and symbols left out of objects and null in arrays, non-finite
 * numbers as null, boxed primitives unboxed, a cycle a TypeError.
 * (Below the walk, `toJSON` receives '' or '0' as its key, not the key it
 * has in its holder: no toJSON in the report reads its key.)
 */
/** Containers above this depth are walked; values at it are stringified whole. */
const SPLIT_DEPTH = 3;
/** A stringified value longer than this (characters) is walked instead. */
export const MAX_PIECE = 64 * 1024;
/** Characters gathered before a chunk is handed to the writer. */
export const CHUNK = 64 * 1024;

type Json = unknown;

/** The value JSON.stringify serialises for `holder[key]`: toJSON applied, boxed primitives unboxed. */
function prepared(value: Json, key: string): Json {
  let v = value;
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
  if (v instanceof Number) return Number(v);
  if (v instanceof String) return String(v);
  if (v instanceof Boolean) return v.valueOf();
  return v;
}

/** True for a value JSON.stringify leaves out of an object (undefined in an array). */
function omitted(v: Json): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/**
 * JSON.stringify(value, null, 2) with every line after the first indented
 * by `indent` (two spaces per level). Made by JSON.stringify itself, the
 * value nested in one array per level, and the nesting's own text cut off:
 * re-indenting the text with a replace took as long as stringifying it
 * (about 60 ms of the 12 MB report of a 105 MB capture; the rows of
 * `calls --format json` are written with it too).
 */
export function indentedText(value: Json, indent: string): string {
  const levels = indent.length >> 1;
  if (levels === 0 || indent.length !== levels * 2) {
    const text = JSON.stringify(value, null, 2);
    return indent === '' ? text : text.replace(/\n/g, '\n' + indent);
  }
  let nested: Json = value;
  for (let i = 0; i < levels; i++) nested = [nested];
  const text = JSON.stringify(nested, null, 2);
  // Each level opens with '[\n' and its indent, and closes with '\n', its indent less two spaces, and ']'.
  const head = levels * 2 + (levels * (levels + 1));
  const tail = levels * 2 + (levels * (levels - 1));
  return text.slice(head, text.length - tail);
}

/** The pieces of the text of `value` (prepared) at `indent`, walking containers above SPLIT_DEPTH. */
function* walk(value: Json, indent: string, depth: number, ancestors: Set<object>): Generator<string> {
  if (typeof value !== 'object' || value === null) {
    // A primitive: JSON.stringify's own text (throws on a BigInt, as it does).
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (depth >= SPLIT_DEPTH) {
    const text = indentedText(value, indent);
    if (text.length <= MAX_PIECE) {
      yield text;
      return;
    }
  }
  if (ancestors.has(value)) throw new TypeError('Converting circular structure to JSON');
  ancestors.add(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) yield '[]';
    else {
      for (let i = 0; i < value.length; i++) {
        yield i === 0 ? '[\n' + inner : ',\n' + inner;
        const v = prepared(value[i], String(i));
        if (omitted(v)) yield 'null';
        else yield* walk(v, inner, depth + 1, ancestors);
      }
      yield '\n' + indent + ']';
    }
  } else {
    let n = 0;
    for (const k of Object.keys(value)) {
      const v = prepared((value as Record<string, unknown>)[k], k);
      if (omitted(v)) continue;
      yield (n++ === 0 ? '{\n' : ',\n') + inner + JSON.stringify(k) + ': ';
      yield* walk(v, inner, depth + 1, ancestors);
    }
    yield n === 0 ? '{}' : '\n' + indent + '}';
  }
  ancestors.delete(value);
}

/**
 * The text of `JSON.stringify(value, null, 2) + '\n'` as chunks of about
 * CHUNK characters (a chunk holds whole pieces: one longer than CHUNK is a
 * single leaf or value that could not be cut). Nothing for a value
 * JSON.stringify makes undefined (a function, undefined).
 */
export function* jsonChunks(value: unknown): Generator<string> {
  const top = prepared(value, '');
  if (omitted(top)) return;
  let buf = '';
  for (const piece of walk(top, '', 0, new Set())) {
    buf += piece;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  yield buf + '\n';
}

/** Where the chunks go: a stream's `write`, which returns false when it wants the writer to wait for 'drain'. */
export interface ChunkSink {
  write(chunk: string): boolean;
  once(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
  removeListener(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
}

/**
 * Writes chunks to a writable stream, waiting for 'drain' whenever the
 * stream asks (backpressure): at most one chunk is held beyond what the
 * stream buffers. Rejects if the stream fails or closes while waiting.
 */
export async function writeChunks(chunks: Iterable<string>, out: ChunkSink): Promise<void> {
  for (const chunk of chunks) {
    if (out.write(chunk)) continue;
    await drained(out);
  }
}

/** Writes `JSON.stringify(value, null, 2) + '\n'` to a writable stream in chunks, with backpressure. */
export function writeJson(value: unknown, out: ChunkSink): Promise<void> {
  return writeChunks(jsonChunks(value), out);
}

/** Resolves at the stream's next 'drain'; rejects at an 'error' or 'close' first. */
function drained(out: ChunkSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.removeListener('drain', onDrain);
      out.removeListener('error', onError);
      out.removeListener('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => done();
    const onError = (e: unknown): void => done(e instanceof Error ? e : new Error(String(e)));
    const onClose = (): void => done(new Error('the output closed before the report was written'));
    out.once('drain', onDrain);
    out.once('error', onError);
    out.once('close', onClose);
  });
}
