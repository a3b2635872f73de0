/**
 * `--time-window START..END`: the frames to analyse, by capture time. Each
 * bound is an ISO 8601 time (`2026-11-22T02:53:21Z`; without a zone it is
 * UTC, as nfsight prints times, never the local time of the machine that
 * reads the capture), or seconds from the first frame of the run (`10`,
 * `2.5s`, `1500ms`); either may be left out (`..30`, `10..`). Frames
 * outside are skipped before decoding and counted.
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
  // `2026-11-22 03:38:05` as `2026-11-22T03:38:05`; no zone (Z, +01:00, -0500) is UTC.
  const iso = t.replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  const zoned = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(zoned);
  if (/^\d{4}-\d{2}-\d{2}T/.test(iso) && !Number.isNaN(ms)) {
    // Date.parse keeps milliseconds only; finer digits are taken from the text.
    const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
    const extra = frac.length > 3 ? Number(`0.000${frac.slice(3)}`) : 0;
    return { seconds: ms / 1000 + extra, relative: false };
  }
  throw new Error(`"${text}" is neither an ISO 8601 time (UTC unless it names a zone) nor seconds from the first frame (e.g. 10, 2.5s, 1500ms)`);
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
  /** The last frame's time (seconds since the epoch), for the message when nothing was accepted. */
  private latest: number | undefined;
  skipped = 0;
  accepted = 0;

  constructor(private readonly window: TimeWindow) {}

  /**
   * When frames were read and none lay in the window: a sentence for the
   * user naming the capture's span (UTC); else undefined.
   */
  emptyWindowMessage(): string | undefined {
    if (this.accepted > 0 || this.origin === undefined || this.latest === undefined) return undefined;
    const iso = (s: number): string => new Date(Math.floor(s * 1000)).toISOString();
    return `--time-window selects no frame: the capture runs from ${iso(this.origin)} to ${iso(this.latest)} (times without a zone are UTC)`;
  }

  accepts(f: FrameRef): boolean {
    const t = f.tsSec + f.tsNsec / 1e9;
    if (this.origin === undefined) this.origin = t;
    if (this.latest === undefined || t > this.latest) this.latest = t;
    const { start, end } = this.window;
    const ok =
      (start === undefined || t >= (start.relative ? this.origin + start.seconds : start.seconds)) &&
      (end === undefined || t <= (end.relative ? this.origin + end.seconds : end.seconds));
    if (ok) this.accepted++;
    else this.skipped++;
    return ok;
  }
}
