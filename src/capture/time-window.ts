/**
 * `--time-window START..END`: the frames to analyse, by capture time. Each
 * bound is an ISO 8601 time (`2026-11-22T02:53:21Z`), or seconds from the
 * first frame of the run (`10`, `2.5s`, `1500ms`); either may be left out
 * (`..30`, `10..`). Frames outside are skipped before decoding and counted.
 */
import type { FrameRef } from './frame.js';

export interface TimeBound {
  /** Seconds since the epoch, or seconds after the first frame when `relative`. */
  seconds: number;
  relative: boolean;
}

export interface TimeWindow {
  start?: TimeBound;
  end?: TimeBound;
}

function parseBound(text: string): TimeBound | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const rel = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(t);
  if (rel) return { seconds: Number(rel[1]) / (rel[2] === 'ms' ? 1000 : 1), relative: true };
  const ms = Date.parse(t);
  if (/^\d{4}-\d{2}-\d{2}T/.test(t) && !Number.isNaN(ms)) {
    // Date.parse keeps milliseconds only; finer digits are taken from the text.
    const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
    const extra = frac.length > 3 ? Number(`0.000${frac.slice(3)}`) : 0;
    return { seconds: ms / 1000 + extra, relative: false };
  }
  throw new Error(`"${text}" is neither an ISO 8601 time nor seconds from the first frame (e.g. 10, 2.5s, 1500ms)`);
}

/** Parses `START..END`; throws an Error with a message for the user on bad input. */
export function parseTimeWindow(text: string): TimeWindow {
  const parts = text.split('..');
  if (parts.length !== 2) throw new Error(`expected START..END, got "${text}"`);
  const w: TimeWindow = {};
  const start = parseBound(parts[0]!);
  const end = parseBound(parts[1]!);
  if (start) w.start = start;
  if (end) w.end = end;
  if (start && end && start.relative === end.relative && end.seconds < start.seconds) throw new Error(`the window ends before it starts: "${text}"`);
  return w;
}

/** Decides per frame whether it lies in the window (inclusive bounds). */
export class TimeWindowFilter {
  private origin: number | undefined;
  skipped = 0;

  constructor(private readonly window: TimeWindow) {}

  accepts(f: FrameRef): boolean {
    const t = f.tsSec + f.tsNsec / 1e9;
    if (this.origin === undefined) this.origin = t;
    const { start, end } = this.window;
    const ok =
      (start === undefined || t >= (start.relative ? this.origin + start.seconds : start.seconds)) &&
      (end === undefined || t <= (end.relative ? this.origin + end.seconds : end.seconds));
    if (!ok) this.skipped++;
    return ok;
  }
}
