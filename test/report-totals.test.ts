/**
 * The report's sections count the same calls: on every bundled capture the
 * per-procedure rows, the clients and servers tables (rows and what they
 * evicted), the timeline's intervals and series and the latency histograms
 * add up to the RPC totals. A section that loses or counts twice a call
 * (as the tables did, for each row evicted at its first call, until
 * 2026-12-04) fails here.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { bundledCaptures } from './helpers.js';

const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((n, x) => n + f(x), 0);

describe('report totals agree', () => {
  for (const file of bundledCaptures()) {
    it(file.replace(/.*\//, ''), async () => {
      const r = await analyze(file);
      const { rpc } = r;
      const procedures = r.operations.filter((o) => o.kind === 'procedure');
      const totals = {
        calls: rpc.calls,
        answered: rpc.matched,
        unanswered: rpc.unanswered,
        frames: r.capture.frames,
        retransmits: rpc.retransmittedCalls,
        errors: sum(procedures, (o) => o.errors),
      };
      const iv = r.timeline.intervals;
      expect({
        calls: sum(procedures, (o) => o.calls),
        answered: sum(procedures, (o) => o.answered),
        unanswered: sum(procedures, (o) => o.unanswered),
        frames: sum(iv, (i) => i.frames),
        retransmits: sum(iv, (i) => i.rpcRetransmits),
        errors: sum(iv, (i) => i.errors),
      }).toEqual(totals);
      expect(sum(iv, (i) => i.calls)).toBe(rpc.calls);
      expect(sum(iv, (i) => i.answered)).toBe(rpc.matched);
      expect(sum(iv, (i) => i.unanswered)).toBe(rpc.unanswered);
      expect(sum(r.timeline.operations, (o) => o.calls)).toBe(rpc.calls);
      expect(sum(procedures, (o) => o.latency.histogram.count)).toBe(rpc.matched);
      for (const table of [r.clients, r.servers]) expect(sum(table.rows, (x) => x.calls) + table.evictedCalls).toBe(rpc.calls);
    });
  }
});
