/**
 * V8 lets its heap grow to up to four times what survived the last full
 * collection before it collects again, when collections look cheap. Once
 * the memory budget drops state, the buffered state is as large as it will
 * get and is replaced as fast as the capture is read (evicted connections
 * and calls become garbage): at that growth the process would hold several
 * times the budget, mostly garbage (1.1 GB of RSS for a 256 MB budget on
 * the hostile capture of docs/memory.md). The same holds, more slowly,
 * for a capture whose state grows toward the limit (many clients, servers
 * and files: 638 MB of RSS for 90 MB of live heap on the wide capture of
 * docs/memory.md). So from the first drop, or from when the budget first
 * holds HEAP_TIGHTEN_AT of its limit, to the end of the analysis V8 is
 * asked to grow the heap by at most HEAP_GROWTH_PERCENT past what survived
 * each full collection (the V8 flag `--heap-growing-percent`, read at each
 * collection); the default (0: V8 chooses) is restored when the last
 * analysis that asked is done. Nothing changes for a run whose buffered
 * state stays small (the bench workloads: at most 12 MB of 64).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWTH_PERCENT = 100;
/** The fraction of the memory limit the buffered state reaches when the heap growth is tightened (if nothing was dropped before). */
export const HEAP_TIGHTEN_AT = 0.25;

let holders = 0;

/** Tightens V8's heap growth until the returned function is called (once; nested calls count). */
export function tightenHeapGrowth(): () => void {
  if (holders++ === 0) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWTH_PERCENT}`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) setFlagsFromString('--heap-growing-percent=0');
  };
}
