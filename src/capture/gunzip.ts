/**
 * gzip decompression of a capture that hands over every byte zlib produced
 * before it failed.
 *
 * A Node stream that errors is destroyed, and an async iterator over it
 * throws at once, dropping what was decompressed but not yet read: a small
 * file whose only damage is its CRC (every byte of the capture intact)
 * gave no frame at all. Here the output is taken as zlib pushes it ('data'
 * events) and the error is thrown only once all of it has been yielded,
 * with where in the compressed file zlib stopped.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, createGunzip } from 'node:zlib';

/** The first two bytes of a gzip file (RFC 1952). */
export const GZIP_MAGIC_0 = 0x1f;
export const GZIP_MAGIC_1 = 0x8b;

/** Whether a file starts as gzip data does (false when it cannot be read: its error comes when it is). */
export function isGzipFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** zlib failed: its own words, and where in the compressed input. */
export class GunzipError extends Error {
  constructor(
    /** zlib's message ("unexpected end of file", "incorrect data check", ...). */
    readonly zlibMessage: string,
    /** Compressed bytes zlib had taken in the steps that worked: the damage is past them. */
    readonly goodBytes: number,
    /** Compressed bytes handed to zlib: the damage is before them. */
    readonly fedBytes: number,
  ) {
    super(`gzip: ${zlibMessage} between bytes ${goodBytes} and ${fedBytes} of the compressed file`);
    this.name = 'GunzipError';
  }

  /** The compressed data stops before its end (cut), rather than holding bytes zlib rejects. */
  get cut(): boolean {
    return this.zlibMessage === 'unexpected end of file';
  }

  /** The data decoded whole but does not match the trailer's CRC or length: some of it is damaged. */
  get trailerMismatch(): boolean {
    return this.zlibMessage === 'incorrect data check' || this.zlibMessage === 'incorrect length check';
  }
}

/** Decompressed bytes zlib hands over at a time: what a failing step can take with it. */
export const GUNZIP_OUTPUT_CHUNK = 64 * 1024;
/** Decompressed chunks waiting for the consumer before zlib is paused. */
const OUTPUT_WAITING = 4;
/** A gzip member's trailer: CRC-32 and length of the data, 4 bytes each. */
const TRAILER = 8;

/**
 * Decompresses `input` (the compressed bytes, in chunks) and yields the
 * decompressed chunks. A read error of the input is thrown as it is, after
 * the output before it; a zlib error as a GunzipError, after all the output
 * zlib produced.
 *
 * zlib drops the output of the step in which it fails. So that the step
 * that reads the trailer (where a cut file runs out, and where a damaged
 * CRC or length is found) has no output to drop, the last TRAILER bytes of
 * the input are held back until its end, and everything before them is
 * flushed out first. A step that fails inside the data drops at most
 * GUNZIP_OUTPUT_CHUNK bytes decoded just before the damage.
 */
export async function* gunzipChunks(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip({ chunkSize: GUNZIP_OUTPUT_CHUNK });
  const out: Buffer[] = [];
  let failure: unknown;
  let ended = false;
  /** Compressed bytes handed to zlib. */
  let fed = 0;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // A few chunks at most wait for the consumer: past them zlib is paused, and
  // a paused zlib decompresses nothing more (its output buffer is full), so
  // it cannot fail with output still held back.
  z.on('data', (c: Buffer) => {
    out.push(c);
    if (out.length >= OUTPUT_WAITING) z.pause();
    poke();
  });
  z.on('end', () => {
    ended = true;
    poke();
  });
  z.on('error', (err: Error) => {
    failure ??= new GunzipError(err.message, z.bytesWritten, fed);
    poke();
  });
  /** Until zlib wants more input (or has failed). */
  const drained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        z.off('drain', done);
        z.off('close', done);
        resolve();
      };
      z.on('drain', done);
      z.on('close', done);
    });
  const write = async (bytes: Buffer): Promise<void> => {
    if (bytes.length === 0 || failure !== undefined || z.destroyed) return;
    fed += bytes.length;
    if (!z.write(bytes)) await drained();
  };
  const feed = async (): Promise<void> => {
    let held: Buffer = Buffer.alloc(0);
    try {
      for await (const chunk of input) {
        if (failure !== undefined || z.destroyed) return;
        if (chunk.length >= TRAILER) {
          await write(held);
          await write(chunk.subarray(0, chunk.length - TRAILER));
          held = Buffer.from(chunk.subarray(chunk.length - TRAILER));
        } else {
          const all = Buffer.concat([held, chunk]);
          const keep = Math.min(TRAILER, all.length);
          await write(all.subarray(0, all.length - keep));
          held = all.subarray(all.length - keep);
        }
      }
      if (failure !== undefined || z.destroyed) return;
      // Everything before the last bytes decoded and handed over, then the trailer.
      await new Promise<void>((resolve) => {
        z.once('close', resolve);
        z.flush(constants.Z_SYNC_FLUSH, () => {
          z.off('close', resolve);
          resolve();
        });
      });
      if (z.destroyed) return;
      await write(held);
      if (failure === undefined && !z.destroyed) z.end();
    } catch (err) {
      // Reading the compressed input failed: stop zlib, keep its output so far.
      failure ??= err;
      z.destroy();
      poke();
    }
  };
  const feeding = feed();
  try {
    for (;;) {
      const chunk = out.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      if (z.isPaused()) z.resume();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // The consumer stopped early (or zlib failed): let go. The feeding stops
    // at its next input chunk (not awaited: standard input may send none).
    if (!ended) z.destroy();
    void feeding;
  }
}
