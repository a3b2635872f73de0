/**
 * V8's heap, held tight while a capture is analysed.
 *
 * Old generation: V8 lets its heap grow to up to four times what survived
 * the last full collection before it collects again, when collections look
 * cheap. An analysis makes garbage that dies old at a steady rate (evicted
 * connections and calls, answered calls forgotten, the tables' turnover):
 * at that growth the process holds several times its live state, mostly
 * garbage (1.1 GB of RSS for a 256 MB budget on the hostile capture of
 * docs/memory.md; 78 MB of heap for 17 MB live on the 100 MB `meta` bench
 * capture). So V8 is asked to grow the heap by at most HEAP_GROWTH_PERCENT
 * past what survived each full collection (the V8 flag
 * `--heap-growing-percent`, read at each collection), also once the memory
 * budget drops state. (It was 100% from the first drop, the live state
 * being then as large as the limit lets it and each full collection marking
 * all of it; since 2026-12-03 evening 50% there too: the combined hostile
 * capture's peak RSS 285-299 → 243-257 MB, its CPU the same within the
 * spread of runs, docs/memory.md.)
 *
 * Young generation: with no V8 flags (a library user's process, or plain
 * `node`) V8 doubles the semi-spaces whenever many objects survive a
 * scavenge, up to 16 MB each: 33.6 MB of new space for a stream of
 * short-lived per-packet objects. The `nfsight` command fixes them with its
 * shebang (2 MB: `--min-semi-space-size=2 --max-semi-space-size=2`; 4 MB
 * until session 33, docs/memory.md); a
 * process cannot change that cap
 * once started, but V8 reads its growth factor (`--semi-space-growth-factor`)
 * each time it grows the new space, so a factor of 1 keeps the new space
 * at the size it has when the analysis starts (1-2 MB in a fresh process
 * that loaded the bundled library).
 *
 * Both are V8 flags of the whole process: set when an analysis of a
 * capture of HOLD_FROM_BYTES or more (or of standard input) starts, or at
 * its first drop, and V8's defaults restored when the last analysis that
 * asked is done. (The limit of the old generation takes a new growth at
 * the next full collection.) A small capture is left alone: its heap stays
 * small anyway, and node:v8 costs 8-20 ms to load (it loads Node's
 * streams), which a short run would feel. Measured in docs/memory.md.
 *
 * The `nfsight` command starts Node with the heap already held that way
 * (its shebang: `--heap-growing-percent=50` and fixed semi-spaces), so
 * that holding asks V8 for nothing and the command never loads node:v8
 * (startedHeld): 2-3% of a 0.5 s run on a 1 GB bulk capture.
 */
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { isGzipFile } from '../capture/gunzip.js';

/** Input bytes from which an analysis holds the heap tight from its start. */
export const HOLD_FROM_BYTES = 8 * 1024 * 1024;

/**
 * Whether the inputs are large enough to hold the heap from the start.
 * Standard input counts as large (its size is unknown), and so does a
 * gzip-compressed file: a 7 MB one held a 105 MB capture, whose report the
 * CLI then made in one JSON string (163 MB of peak RSS, against 85 MB read
 * from standard input).
 */
export function largeInput(files: readonly string[]): boolean {
  let total = 0;
  for (const f of files) {
    if (f === '-') return true;
    try {
      const size = statSync(f).size;
      if (size < HOLD_FROM_BYTES && isGzipFile(f)) return true;
      total += size;
    } catch {
      // Unreadable: its error comes when it is read.
    }
  }
  return total >= HOLD_FROM_BYTES;
}

export const HEAP_GROWTH_PERCENT = 50;
/** The new space's growth factor while tightened (1: it does not grow), and V8's default. */
export const SEMI_SPACE_GROWTH_TIGHT = 1;
export const SEMI_SPACE_GROWTH_DEFAULT = 2;

let holders = 0;

/**
 * Whether a process started with these flags (process.execArgv) has its
 * heap held as a hold holds it: the old generation growing by
 * HEAP_GROWTH_PERCENT, the new space unable to grow (semi-spaces of one
 * fixed size, or a growth factor of 1).
 */
export function startedHeld(execArgv: readonly string[]): boolean {
  const value = (name: string): string | undefined => {
    let v: string | undefined;
    for (const a of execArgv) if (a.startsWith(`--${name}=`)) v = a.slice(name.length + 3);
    return v;
  };
  if (value('heap-growing-percent') !== String(HEAP_GROWTH_PERCENT)) return false;
  const min = value('min-semi-space-size');
  return (min !== undefined && min === value('max-semi-space-size')) || value('semi-space-growth-factor') === String(SEMI_SPACE_GROWTH_TIGHT);
}

/** This process was started held (the command): holds ask V8 for nothing. */
let preset = startedHeld(process.execArgv);

/** For tests: as if the process had been started held, or not. Returns the previous setting. */
export function setStartedHeld(held: boolean): boolean {
  const was = preset;
  preset = held;
  return was;
}

/** What a holder of the tight heap can do. */
export interface HeapHold {
  /** Gives the hold back (once; later calls do nothing). */
  release(): void;
}

/** Tightens V8's heap growth until the hold is released (nested holds count). */
export function tightenHeapGrowth(): HeapHold {
  if (holders++ === 0 && !preset) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWTH_PERCENT} --semi-space-growth-factor=${SEMI_SPACE_GROWTH_TIGHT}`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (--holders > 0 || preset) return;
      setFlagsFromString(`--heap-growing-percent=0 --semi-space-growth-factor=${SEMI_SPACE_GROWTH_DEFAULT}`);
    },
  };
}
