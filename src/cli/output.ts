/**
 * Where a command's result goes: standard output, or the file of `-o` /
 * `--output` (an HTML report is a page to open, not text for a terminal).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EXIT_USAGE } from './common.js';
import { writeStderr, writeStdout } from './stdio.js';

/** The option's help line, the same for every command that takes it. */
export const OUTPUT_HELP = 'write the result to this file instead of standard output';

/**
 * Writes `text` (one string, or chunks written one after the other and
 * never joined) to `file` (or standard output, each chunk whole before
 * the next is made); returns 0, or EXIT_USAGE after a one-line message when
 * the file cannot be written.
 */
export async function writeOutput(text: string | Iterable<string>, file: string | undefined, err: (s: string) => void = writeStderr): Promise<number> {
  const chunks = typeof text === 'string' ? [text] : text;
  if (file === undefined || file === '-') {
    for (const chunk of chunks) writeStdout(chunk);
    return 0;
  }
  let fd: number | undefined;
  try {
    fd = openSync(file, 'w');
    for (const chunk of chunks) writeAll(fd, chunk);
    return 0;
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    if (typeof x.code !== 'string') throw e;
    const why = x.code === 'ENOENT' ? 'no such folder' : x.code === 'EACCES' ? 'permission denied' : x.code === 'EISDIR' ? 'is a folder' : x.message;
    err(`nfsight: error: ${file}: cannot write: ${why}\n`);
    return EXIT_USAGE;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes all of `text` at the file's position (a write may take fewer bytes than given). */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}
