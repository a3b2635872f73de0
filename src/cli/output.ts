/**
 * Where a command's result goes: standard output, or the file of `-o` /
 * `--output` (an HTML report is a page to open, not text for a terminal).
 */
import { writeFileSync } from 'node:fs';
import { EXIT_USAGE } from './common.js';

/** The option's help line, the same for every command that takes it. */
export const OUTPUT_HELP = 'write the result to this file instead of standard output';

/**
 * Writes `text` to `file` (or standard output); returns 0, or EXIT_USAGE
 * after a one-line message when the file cannot be written.
 */
export function writeOutput(text: string, file: string | undefined, err: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return 0;
  }
  try {
    writeFileSync(file, text);
    return 0;
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    const why = x.code === 'ENOENT' ? 'no such folder' : x.code === 'EACCES' ? 'permission denied' : x.code === 'EISDIR' ? 'is a folder' : x.message;
    err(`nfsight: error: ${file}: cannot write: ${why}\n`);
    return EXIT_USAGE;
  }
}
