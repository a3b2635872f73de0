import type { FrameRef } from '../capture/frame.js';

/**
 * ISO 8601 UTC time of a frame, with microseconds, or nanoseconds when the
 * capture has them (a microsecond capture never shows three trailing zeros).
 */
export function formatFrameTime(t: Pick<FrameRef, 'tsSec' | 'tsNsec'>): string {
  // The second's text is remembered: a listing formats thousands of frames a second (a Date and its ISO text each).
  let base = lastBase;
  if (t.tsSec !== lastSec) {
    base = new Date(t.tsSec * 1000).toISOString().slice(0, 19);
    lastSec = t.tsSec;
    lastBase = base;
  }
  const frac = t.tsNsec % 1000 === 0 ? String(t.tsNsec / 1000).padStart(6, '0') : String(t.tsNsec).padStart(9, '0');
  return `${base}.${frac}Z`;
}

let lastSec = Number.NaN;
let lastBase = '';
