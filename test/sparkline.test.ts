/**
 * The latency sparklines of the text report: drawn from the report's
 * timeline (each character the highest p99 of its intervals, log scale),
 * within the width, and left out where they cannot tell anything.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { latencySparklines } from '../src/report/render-sparkline.js';
import { renderReportText } from '../src/report/render-text.js';
import { CAPTURES } from './helpers.js';

describe('latency sparklines', () => {
  it('nfsv4-grace-restart at 1 s: one character per interval, a mark where OPEN was answered, the highest p99 full height', async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'), { timeline: { intervalNs: 1e9 } });
    const t = report.timeline;
    const lines = latencySparklines(t, 80);
    expect(lines[0]).toBe('Latency over time (p99 per interval, log scale), 02:55:09 to 02:55:35 UTC');
    const open = lines.find((l) => l.startsWith('  OPEN '))!;
    const spark = [...open.slice(2 + 14 + 1, 2 + 14 + 1 + t.count)];
    // OPEN replies: 02:55:09, then each GRACE retry (22, 24 … 32) and the success at 34.
    const answered = t.intervals.filter((iv) => iv.ops.some((o) => o.op === 'NFS v4 OPEN' && o.latency.p99 !== null)).map((iv) => iv.index);
    expect(spark.map((c, k) => (c === ' ' ? -1 : k)).filter((k) => k >= 0)).toEqual(answered);
    const p99s = answered.map((k) => t.intervals.find((iv) => iv.index === k)!.ops.find((o) => o.op === 'NFS v4 OPEN')!.latency.p99!);
    expect(spark[answered[p99s.indexOf(Math.max(...p99s))]!]).toBe('█');
    expect(spark[answered[p99s.indexOf(Math.min(...p99s))]!]).toBe('▁');
    expect(open.endsWith(`${Math.min(...p99s).toFixed(3)}–${Math.max(...p99s).toFixed(3)} ms`)).toBe(true);
    for (const w of [60, 80, 100]) for (const l of latencySparklines(t, w)) expect([...l].length).toBeLessThanOrEqual(w);
  });

  it('a range wider than usual (a latency of days) takes room from the sparkline, not past the width', async () => {
    // At 0.1 s, more intervals than any width has characters.
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'), { timeline: { intervalNs: 1e8 } });
    const t = structuredClone(report.timeline);
    expect(t.count).toBeGreaterThan(120);
    // The last OPEN answered three days late (a capture clock step, say): 259,200,000 ms.
    const last = t.intervals.filter((iv) => iv.ops.some((o) => o.op === 'NFS v4 OPEN' && o.latency.p99 !== null)).at(-1)!;
    last.ops.find((o) => o.op === 'NFS v4 OPEN')!.latency.p99 = 259_200_000;
    for (const w of [60, 80, 100, 120]) {
      const lines = latencySparklines(t, w);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(w);
      if (w < 80) continue;
      const open = lines.find((l) => l.startsWith('  OPEN '))!;
      expect(open.endsWith('–259200000 ms')).toBe(true);
      // The sparkline gave up what the range needs beyond its usual 17 characters, no more.
      expect([...open].length).toBeGreaterThanOrEqual(w - 2);
    }
  });

  it('is left out with one interval, or where the width leaves no room', async () => {
    const one = await analyze(join(CAPTURES, 'nfsv3-stale-cut.pcap'), { timeline: { intervalNs: 1e9 } });
    expect(one.timeline.count).toBe(1);
    expect(latencySparklines(one.timeline, 100)).toEqual([]);
    const grace = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    expect(latencySparklines(grace.timeline, 40)).toEqual([]);
    expect(renderReportText(grace, { width: 100 })).toContain('Latency over time (p99 per interval, log scale)');
  });
});
