/**
 * A one-line progress display on stderr for long inputs, only when stderr is
 * a terminal: which file, how far in, how fast. Redrawn at most ten times a
 * second; cleared before any other stderr output and at the end.
 */
import type { ReadProgress } from '../capture/source.js';

const REDRAW_MS = 100;
/** Inputs smaller than this finish before a progress line would help. */
const MIN_BYTES_SHOWN = 32 << 20;

export interface ProgressLine {
  onProgress(p: ReadProgress): void;
  /** Removes the line (before printing something else on stderr, and at the end). */
  clear(): void;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The text of the progress line (no terminal control codes). */
export function progressText(p: ReadProgress, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? ` ${(p.bytes / 1e6 / elapsedSeconds).toFixed(0)} MB/s` : '';
  const where = p.files > 1 ? `[${p.fileIndex + 1}/${p.files}] ` : '';
  const howFar = p.size !== undefined && p.size > 0 ? `${Math.min(100, Math.floor((p.bytes / p.size) * 100))}% of ${mb(p.size)}` : mb(p.bytes);
  return `nfsight: ${where}${p.file} ${howFar}${rate}`;
}

export function progressLine(stream: NodeJS.WriteStream, now: () => number = Date.now): ProgressLine | undefined {
  if (!stream.isTTY) return undefined;
  const started = now();
  let last = 0;
  let shown = false;
  return {
    onProgress(p) {
      const t = now();
      if (t - last < REDRAW_MS || (p.size ?? p.bytes) < MIN_BYTES_SHOWN) return;
      last = t;
      const width = (stream.columns ?? 80) - 1;
      stream.write(`\r${progressText(p, (t - started) / 1000).slice(0, width)}\u001b[K`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\u001b[K');
      shown = false;
    },
  };
}
