import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { parseTimeWindow } from '../src/capture/time-window.js';
import { formatFrameTime } from '../src/report/time.js';
import { CAPTURES, readOne } from './helpers.js';

// nfsv4-grace-restart has a ~12 s gap while the server restarts.
const GRACE = join(CAPTURES, 'nfsv4-grace-restart.pcap');

describe('--time-window', () => {
  it('parses ISO times and offsets from the first frame, and rejects nonsense', () => {
    expect(parseTimeWindow('10..25.5s')).toEqual({ start: { seconds: 10, relative: true }, end: { seconds: 25.5, relative: true } });
    expect(parseTimeWindow('..1500ms')).toEqual({ end: { seconds: 1.5, relative: true } });
    expect(parseTimeWindow('2026-11-22T02:53:21.842837Z..').start!.seconds).toBeCloseTo(1_795_316_001.842837, 6);
    expect(() => parseTimeWindow('10')).toThrow('START..END');
    expect(() => parseTimeWindow('yesterday..')).toThrow('neither an ISO 8601 time');
    expect(() => parseTimeWindow('20..10')).toThrow('ends before it starts');
  });

  it('analyses only the frames inside, counting the others', async () => {
    const { frames } = await readOne(GRACE);
    const t = (i: number): number => frames[i]!.tsSec + frames[i]!.tsNsec / 1e9;
    const within = (lo: number, hi: number): number => frames.filter((_, i) => t(i) - t(0) >= lo && t(i) - t(0) <= hi).length;
    const before = within(0, 5);
    expect(before).toBeGreaterThan(10);
    expect(before).toBeLessThan(frames.length);
    const head = await analyze(GRACE, { timeWindow: parseTimeWindow('..5') });
    expect(head.capture.frames).toBe(before);
    expect(head.capture.framesOutsideTimeWindow).toBe(frames.length - before);
    const tail = await analyze(GRACE, { timeWindow: parseTimeWindow('5..') });
    expect(tail.capture.frames).toBe(frames.length - before);
    // Absolute bounds: from the first frame after the gap to the end.
    const firstAfter = frames.findIndex((_, i) => t(i) - t(0) > 5);
    const iso = formatFrameTime(frames[firstAfter]!);
    const abs = await analyze(GRACE, { timeWindow: parseTimeWindow(`${iso}..`) });
    expect(abs.capture.frames).toBe(frames.length - firstAfter);
    expect(abs.capture.first!.frame).toBe(firstAfter + 1);
    // RPC is still matched inside the window.
    expect(head.rpc.matched + tail.rpc.matched).toBeLessThanOrEqual((await analyze(GRACE)).rpc.matched);
    expect(head.rpc.matched).toBeGreaterThan(0);
  });
});
