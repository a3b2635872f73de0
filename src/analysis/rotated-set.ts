/**
 * The seams of a rotated set (several files read as one capture, in the
 * order of their first frames): two files whose times overlap (two
 * captures taken at once, not one cut in pieces), and a pause between two
 * files longer than any inside them (a file of the set may be missing).
 */
import type { Diagnostic } from '../capture/frame.js';
import { secondsBetween } from '../capture/frame.js';
import type { FileSpan } from './capture-summary.js';

/**
 * A pause between files shorter than this is never called a hole: traffic
 * with a period of its own (a client retrying every 2 s) pauses between
 * files as it pauses inside them, and a missing file of a busy set leaves
 * a pause of that file's length.
 */
export const HOLE_MIN_SECONDS = 10;

/** Warnings for the seams between consecutive files (`spans` by file index, as read). */
export function fileSeamDiagnostics(names: readonly string[], spans: readonly (FileSpan | undefined)[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  let prev: { name: string; span: FileSpan } | undefined;
  names.forEach((name, i) => {
    const span = spans[i];
    if (span === undefined) return;
    if (prev !== undefined) {
      const pause = secondsBetween(prev.span.last, span.first);
      if (pause < 0) {
        out.push({
          severity: 'warning',
          code: 'files-overlap',
          file: name,
          frame: span.first.number,
          message: `starts ${(-pause).toFixed(3)} s before ${prev.name} ends: the two files overlap in time (two captures taken at once, not one rotated set?); they are read one after the other`,
        });
      } else if (pause >= HOLE_MIN_SECONDS && pause > 2 * Math.max(prev.span.maxPauseSeconds, span.maxPauseSeconds)) {
        out.push({
          severity: 'warning',
          code: 'files-hole',
          file: name,
          frame: span.first.number,
          message: `starts ${pause.toFixed(3)} s after ${prev.name} ends, a pause longer than any inside either file: a file of the set may be missing`,
        });
      }
    }
    prev = { name, span };
  });
  return out;
}
