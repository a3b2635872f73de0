/**
 * CallOrder: rows released in call-frame order as soon as no older call is
 * outstanding, with at most `maxHeld` rows waiting; past that, the calls
 * waited for are given up on and their rows come late, flagged.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyze } from '../src/analyze.js';
import { CallOrder } from '../src/report/call-order.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { writeHostileFile } from './gen/hostile.js';
import { tempDir } from './helpers.js';

/** A call at frame `frame` of file `file`. */
const at = (frame: number, file = 0) => ({ file, frame, firstFrame: frame });

function recorder(maxHeld?: number) {
  const out: [string, boolean][] = [];
  const order = new CallOrder<string>((item, late) => out.push([item, late]), maxHeld);
  return { out, order, items: () => out.map(([i]) => i) };
}

describe('CallOrder', () => {
  it('holds a row until every older call has finished, then releases in call order', () => {
    const { order, items } = recorder();
    const [a, b, c] = [{}, {}, {}];
    order.called(a, at(1));
    order.called(b, at(3));
    order.called(c, at(5));
    order.finished(c, at(5), 'c');
    order.finished(b, at(3), 'b');
    expect(items()).toEqual([]); // a (frame 1) is still outstanding
    order.finished(a, at(1), 'a');
    expect(items()).toEqual(['a', 'b', 'c']);
  });

  it('releases at once when nothing older is outstanding', () => {
    const { order, items } = recorder();
    const [a, b] = [{}, {}];
    order.called(a, at(1));
    order.finished(a, at(1), 'a');
    expect(items()).toEqual(['a']);
    order.called(b, at(2));
    order.finished(b, at(2), 'b');
    expect(items()).toEqual(['a', 'b']);
  });

  it('a call left out by a filter no longer holds the rows after it', () => {
    const { order, items } = recorder();
    const [a, b] = [{}, {}];
    order.called(a, at(1));
    order.called(b, at(2));
    order.finished(b, at(2), 'b');
    order.finished(a, at(1), undefined);
    expect(items()).toEqual(['b']);
  });

  it('orders by input file first, then frame (frame numbers restart per file)', () => {
    const { order, items } = recorder();
    const [a, b] = [{}, {}];
    order.called(a, at(90, 0));
    order.called(b, at(2, 1));
    order.finished(b, at(2, 1), 'file1#2');
    order.finished(a, at(90, 0), 'file0#90');
    expect(items()).toEqual(['file0#90', 'file1#2']);
  });

  it('keeps at most maxHeld rows: past that, the oldest call is given up on and its row comes late', () => {
    const { order, out } = recorder(3);
    const slow = {};
    order.called(slow, at(1));
    const fast = [2, 3, 4, 5, 6].map((f) => {
      const t = {};
      order.called(t, at(f));
      return [t, f] as const;
    });
    for (const [t, f] of fast.slice(0, 3)) order.finished(t, at(f), `#${f}`);
    expect(out).toEqual([]); // 3 held: at the bound, still waiting
    expect(order.givenUp(slow)).toBe(false);
    order.finished(fast[3]![0], at(5), '#5');
    // Its row will not be held (the listing writes it from the row, marked late).
    expect([order.givenUp(slow), order.givenUp(fast[4]![0]), order.givenUp({})]).toEqual([true, false, false]);
    // A fourth row: the oldest is released and the slow call given up on.
    expect(out).toEqual([['#2', false], ['#3', false], ['#4', false], ['#5', false]]);
    order.finished(slow, at(1), '#1');
    expect(out.at(-1)).toEqual(['#1', true]);
    expect(order.givenUp(slow)).toBe(false);
    expect(order.lateRows).toBe(1);
    order.finished(fast[4]![0], at(6), '#6');
    expect(out.at(-1)).toEqual(['#6', false]);
  });

  it('end() releases what is held, in order', () => {
    const { order, items } = recorder();
    const [a, b, c] = [{}, {}, {}];
    order.called(a, at(1));
    order.called(b, at(2));
    order.called(c, at(3));
    order.finished(c, at(3), 'c');
    order.finished(b, at(2), 'b');
    order.end();
    expect(items()).toEqual(['b', 'c']);
  });
});

describe('calls in call-frame order under the memory budget', () => {
  it('a call the budget drops (fate unknown) holds no row back: none late, every row in frame order', async () => {
    // 20,000 GETATTR calls never answered on one connection, 4 MiB: the oldest calls are dropped.
    const file = join(tempDir(), 'hostile.pcap');
    writeHostileFile(file, { connections: 0, calls: 20_000, hugeRecord: false });
    const released: number[] = [];
    const order = new CallOrder<number>((frame) => released.push(frame));
    const at = (t: Transaction) => ({ file: t.call.frame.fileIndex, frame: t.call.frame.number, firstFrame: t.call.firstFrame.number });
    let forgotten = 0;
    const report = await analyze(file, {
      maxMemory: 4 * 1024 * 1024,
      onDiagnostic: () => undefined,
      onCall: (t) => order.called(t, at(t)),
      onCallForgotten: (t) => {
        forgotten++;
        order.finished(t, at(t), undefined);
      },
      onTransaction: (t) => order.finished(t, at(t), t.call.frame.number),
    });
    order.end();
    expect(forgotten).toBe(report.memory.dropped.outstandingCalls);
    expect(forgotten).toBeGreaterThan(10_000);
    expect(released).toHaveLength(report.rpc.unanswered);
    expect(forgotten + released.length).toBe(20_000);
    expect(order.lateRows).toBe(0);
    expect(released).toEqual([...released].sort((a, b) => a - b));
  });
});
