import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { parseTimeWindow } from '../src/capture/time-window.js';
import { formatFrameTime } from '../src/report/time.js';
import { CAPTURES, readOne, tempDir } from './helpers.js';

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

  it('reads a time without a zone as UTC (as nfsight prints times), whatever the zone of the machine', () => {
    // A machine 5 hours behind UTC (Node reads TZ again when it changes).
    const zone = process.env['TZ'];
    process.env['TZ'] = 'America/New_York';
    expect(new Date(2026, 10, 22).getTimezoneOffset()).toBe(300);
    const utc = parseTimeWindow('2026-11-22T02:53:21.842837Z..').start!.seconds;
    expect(parseTimeWindow('2026-11-22T02:53:21.842837..').start!.seconds).toBe(utc);
    expect(parseTimeWindow('2026-11-22 02:53:21.842837..').start!.seconds).toBe(utc);
    // 2026-11-22 02:53:00 UTC is 1795315980 s after the epoch.
    expect(parseTimeWindow('..2026-11-22T02:53').end!.seconds).toBe(1_795_315_980);
    // A zone given is honoured: 03:53 at +01:00 is 02:53 UTC.
    expect(parseTimeWindow('..2026-11-22T03:53+01:00').end!.seconds).toBe(1_795_315_980);
    expect(parseTimeWindow('..2026-11-22T02:53Z').end!.seconds).toBe(1_795_315_980);
    if (zone === undefined) delete process.env['TZ'];
    else process.env['TZ'] = zone;
  });

  it('a window outside the capture: a warning naming its span; check exits 1', async () => {
    const diagnostics: Diagnostic[] = [];
    const r = await analyze(GRACE, { timeWindow: parseTimeWindow('2027-01-01T00:00..'), onDiagnostic: (d) => diagnostics.push(d) });
    expect(r.capture.frames).toBe(0);
    expect(diagnostics).toEqual([
      {
        severity: 'warning',
        code: 'time-window-empty',
        file: GRACE,
        message: '--time-window selects no frame: the capture runs from 2026-11-22T02:55:09.690Z to 2026-11-22T02:55:34.185Z (times without a zone are UTC)',
      },
    ]);
    const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
    const rules = join(tempDir(), 'r.json');
    writeFileSync(rules, JSON.stringify({ requireRpcTraffic: false, rules: [{ type: 'unanswered', max: 0 }] }));
    const c = spawnSync(process.execPath, [cli, 'check', '--rules', rules, '--time-window', '2027-01-01T00:00..', GRACE], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(c.status).toBe(1);
    expect(c.stderr).toContain('nfsight: warning: ');
    expect(c.stderr).toContain('--time-window selects no frame');
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

describe('formatFrameTime', () => {
  it('the ISO time of each frame, also when seconds alternate (the text of the last second is remembered)', () => {
    const iso = (sec: number, nsec: number): string => {
      const frac = nsec % 1000 === 0 ? String(nsec / 1000).padStart(6, '0') : String(nsec).padStart(9, '0');
      return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${frac}Z`;
    };
    const times: [number, number][] = [
      [1763779858, 500000000], [1763779858, 1000], [1763779859, 7], [1763779858, 999999999], [0, 0], [1763779859, 123456000], [1763779859, 123456789],
    ];
    for (const [tsSec, tsNsec] of times) expect(formatFrameTime({ tsSec, tsNsec })).toBe(iso(tsSec, tsNsec));
    expect(formatFrameTime({ tsSec: 1763779858, tsNsec: 5000 })).toBe('2025-11-22T02:50:58.000005Z');
    expect(formatFrameTime({ tsSec: 0, tsNsec: 1 })).toBe('1970-01-01T00:00:00.000000001Z');
  });
});
