/**
 * Puts listing rows back into call-frame order with bounded buffering.
 *
 * analyze() hands transactions over as their replies complete (unanswered
 * ones when their connection ends or at the end), so a slow call comes after
 * faster calls made later. Told when each call is first seen (`called`),
 * this holds a finished row until every call seen before it has finished
 * too, then releases it: rows come out in (input file, call frame) order.
 *
 * Memory is bounded: at most `maxHeld` finished rows wait. When more would
 * wait, the oldest is released anyway, and the calls still outstanding
 * before it are given up on: their rows are released as soon as they finish,
 * out of order, flagged `late`.
 */

/** Where a call sits in the capture: its input file, its frame, its first frame. */
export interface CallPosition {
  file: number;
  frame: number;
  firstFrame: number;
}

/** Rows held at most before the oldest is released regardless. */
export const MAX_HELD_ROWS = 10_000;

interface Entry<T> extends CallPosition {
  /** Arrival order, for calls completed in the same frame. */
  seq: number;
  state: 'pending' | 'done' | 'late';
  item?: T;
  hasItem: boolean;
}

function before(a: Entry<unknown>, b: Entry<unknown>): boolean {
  return a.file !== b.file ? a.file < b.file : a.frame !== b.frame ? a.frame < b.frame : a.firstFrame !== b.firstFrame ? a.firstFrame < b.firstFrame : a.seq < b.seq;
}

/** A binary min-heap on `before`. */
class Heap<T> {
  private readonly a: Entry<T>[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Entry<T> | undefined {
    return this.a[0];
  }

  push(e: Entry<T>): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Entry<T> | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class CallOrder<T> {
  /** Calls seen and not finished, by token (the transaction). */
  private readonly pending = new Map<object, Entry<T>>();
  /** Calls seen, oldest first (finished ones are skipped when they reach the top). */
  private readonly outstanding = new Heap<T>();
  /** Finished rows waiting for older calls. */
  private readonly held = new Heap<T>();
  private seq = 0;
  /** Rows released out of order (their call was given up on). */
  lateRows = 0;

  constructor(
    private readonly release: (item: T, late: boolean) => void,
    private readonly maxHeld = MAX_HELD_ROWS,
  ) {}

  /** A call first seen: rows of later calls wait for it. */
  called(token: object, at: CallPosition): void {
    const e: Entry<T> = { file: at.file, frame: at.frame, firstFrame: at.firstFrame, seq: this.seq++, state: 'pending', hasItem: false };
    this.pending.set(token, e);
    this.outstanding.push(e);
  }

  /** Whether the call of `token` was given up on: its row, when it finishes, is released at once, `late`, not held. */
  givenUp(token: object): boolean {
    return this.pending.get(token)?.state === 'late';
  }

  /**
   * A call finished; `item` is its row, or undefined when it has none (a
   * filter left it out): either way no row waits for it any longer. A call
   * never announced by `called` is ordered among the held rows only.
   */
  finished(token: object, at: CallPosition, item: T | undefined): void {
    let e = this.pending.get(token);
    if (e !== undefined) this.pending.delete(token);
    else e = { file: at.file, frame: at.frame, firstFrame: at.firstFrame, seq: this.seq++, state: 'pending', hasItem: false };
    const late = e.state === 'late';
    e.state = 'done';
    if (item !== undefined) {
      if (late) {
        this.lateRows++;
        this.release(item, true);
      } else {
        e.item = item;
        e.hasItem = true;
        this.held.push(e);
      }
    }
    this.drain();
  }

  /** Releases every held row (the end of the input). */
  end(): void {
    for (let e = this.held.pop(); e !== undefined; e = this.held.pop()) this.release(e.item as T, false);
  }

  private drain(): void {
    for (;;) {
      const next = this.held.peek();
      if (next === undefined) return;
      let oldest = this.outstanding.peek();
      while (oldest !== undefined && oldest.state !== 'pending') {
        this.outstanding.pop();
        oldest = this.outstanding.peek();
      }
      if (oldest !== undefined && before(oldest, next)) {
        if (this.held.size <= this.maxHeld) return;
        // Too many rows wait for older calls: give up on those calls.
        while (oldest !== undefined && (oldest.state !== 'pending' || before(oldest, next))) {
          this.outstanding.pop();
          if (oldest.state === 'pending') oldest.state = 'late';
          oldest = this.outstanding.peek();
        }
      }
      this.held.pop();
      this.release(next.item as T, false);
    }
  }
}
