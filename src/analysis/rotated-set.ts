/**
 * The seams of a rotated set (several files read as one capture, in the
 * order of their first frames): two files whose times overlap (two
 * captures taken at once, not one cut in pieces), and a pause between two
 * files longer than any inside them (a file of the set may be missing).
 */
import type { Diagnostic } from '../capture/frame.js';
import { secondsBetween } from '../capture/frame.js';
import type { FileSpan } from './capture-summary.js';
import type { DuplicateFrameFilter } from '../capture/duplicate-frames.js';
import { groupDigits } from '../number-text.js';

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

/** One warning per file with frames that an earlier file holds too (read once), and one when the filter could not remember them all. */
export function duplicateDiagnostics(names: readonly string[], filter: DuplicateFrameFilter): Diagnostic[] {
  const out: Diagnostic[] = filter.runs.map((r) => ({
    severity: 'warning',
    code: 'frames-in-earlier-file',
    file: names[r.fileIndex] ?? '?',
    frame: r.first,
    message: `${r.frames === 1 ? 'this frame is' : r.frames === r.last - r.first + 1 ? `frames ${r.first}-${r.last} are` : `${groupDigits(r.frames)} frames from frame ${r.first} to ${r.last} are`} also in ${names[r.originalFileIndex] ?? '?'} (the same time, length and bytes: the same capture given twice, or overlapping cuts of one): read once`,
  }));
  if (filter.notRemembered > 0) {
    out.push({
      severity: 'warning',
      code: 'frames-in-earlier-file',
      file: names[0] ?? '?',
      message: `the files overlap by more than ${groupDigits(filter.maxRemembered)} frames: ${groupDigits(filter.notRemembered)} frames were not checked for copies in the later files, and copies of them are read twice (merge the files with mergecap and drop duplicates with editcap -d)`,
    });
  }
  return out;
}
