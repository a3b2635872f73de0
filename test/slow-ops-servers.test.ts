import { describe, expect, it } from 'vitest';
import type { FrameRef } from '../src/capture/frame.js';
import { ServerTallies, type SlowCause } from '../src/detectors/slow-ops.js';
import { frameCompare } from '../src/detectors/transport-common.js';

const CAUSES: SlowCause[] = ['server-stall', 'client-stall', 'server-zero-window', 'client-zero-window', 'retransmissions', 'capture-gap', 'server'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const frame = (fileIndex: number, number: number): FrameRef => ({ fileIndex, number, tsSec: 1000 + number, tsNsec: number * 7 });

describe('slow-ops: an operation’s servers in typed arrays', () => {
  it('gives what a record per server gave: servers in order, the first call, the latest last reply, causes merged server by server', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      const tallies = new ServerTallies();
      // The model: a record per server, as the detector kept before.
      const model = new Map<string, { first: FrameRef; last: FrameRef; causes: Map<SlowCause, number>; slowCalls: number }>();
      for (let i = 0; i < 20_000; i++) {
        const server = `10.0.${Math.floor(r() * 6)}.${Math.floor(r() * 250)}:2049`;
        // Frames mostly in order, some from another file or out of order.
        const call = frame(r() < 0.1 ? 1 : 0, i * 2 - Math.floor(r() * 50));
        const reply = frame(call.fileIndex, call.number + 1 + Math.floor(r() * 30));
        const n = tallies.numberOf(server, call);
        let m = model.get(server);
        if (m === undefined && model.size < 1000) {
          m = { first: call, last: reply, causes: new Map(), slowCalls: 0 };
          model.set(server, m);
        }
        expect(n >= 0).toBe(m !== undefined);
        if (m === undefined) continue;
        tallies.setLast(n, reply);
        m.last = reply;
        if (r() < 0.2) {
          const cause = CAUSES[Math.floor(r() * r() * CAUSES.length)]!;
          tallies.slow(n, cause);
          m.slowCalls++;
          m.causes.set(cause, (m.causes.get(cause) ?? 0) + 1);
        }
      }
      const all = [...model.values()];
      const causes = new Map<SlowCause, number>();
      for (const v of all) for (const [c, k] of v.causes) causes.set(c, (causes.get(c) ?? 0) + k);
      expect(model.size).toBe(1000);
      expect([...tallies.numbers.keys()]).toEqual([...model.keys()]);
      expect(tallies.slowCalls).toBe(all.reduce((n, v) => n + v.slowCalls, 0));
      expect([...tallies.causes()]).toEqual([...causes]);
      expect(tallies.first).toEqual(all.map((v) => v.first).sort(frameCompare)[0]);
      expect(tallies.last()).toEqual(all.map((v) => v.last).sort(frameCompare)[all.length - 1]);
    }
  });
});
