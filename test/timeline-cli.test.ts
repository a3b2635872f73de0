/**
 * `nfsight timeline` as a user meets it: the compiled CLI (npm test builds
 * it first), its table at 80 columns, CSV and JSON that carry the report's
 * figures, the filters, and usage errors.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { renderTimelineText, TIMELINE_CSV_COLUMNS } from '../src/report/render-timeline.js';
import { CAPTURES, bundledCaptures } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function nfsight(args: string[], columns = 80) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', COLUMNS: String(columns) },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const width = (s: string): number => Math.max(...s.split('\n').map((l) => [...l].length));

describe('nfsight timeline', () => {
  it('fits 40, 80 and 100 columns on every bundled capture, and shows more operations when wider', async () => {
    for (const name of bundledCaptures()) {
      const report = await analyze(join(CAPTURES, name));
      for (const w of [40, 80, 100]) expect(width(renderTimelineText(report.timeline, { width: w })), `${name} at ${w}`).toBeLessThanOrEqual(w);
    }
    const narrow = nfsight(['timeline', 'captures/nfsv41-pynfs-mid.pcap'], 80);
    const wide = nfsight(['timeline', 'captures/nfsv41-pynfs-mid.pcap'], 160);
    const p99s = (s: string) => (s.split('\n').find((l) => l.startsWith('time (UTC)'))!.match(/p99/g) ?? []).length;
    expect(p99s(narrow.stdout)).toBe(2);
    expect(p99s(wide.stdout)).toBeGreaterThan(4);
    expect(width(wide.stdout)).toBeLessThanOrEqual(160);
  });

  it('table: the GRACE retries every 2 s, the silence before them folded into one line, the finding marked', () => {
    const r = nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--interval', '1s']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    // The last frame is at 02:55:34.096: 26 intervals, 02:55:09 through 02:55:34.
    expect(lines[0]).toBe('Timeline 2026-11-22 02:55:09 to 02:55:35 UTC: 26 intervals of 1s (as asked)');
    // 12 s without a frame between the server's restart and the client's return.
    expect(r.stdout).toContain('02:55:10 … 12 intervals (12 s) without a frame');
    // One OPEN → NFS4ERR_GRACE each 2 s: an error every other second.
    const errs = lines.filter((l) => /^02:55:(2[2-9]|3[0-3]) /.test(l)).map((l) => `${l.slice(6, 8)}:${l.split(/\s+/)[3]}`);
    expect(errs.join(' ')).toBe('22:1 23:0 24:1 25:0 26:1 27:0 28:1 29:0 30:1 31:0 32:1 33:0');
    expect(r.stdout).toMatch(/^a 02:55:22\.142-02:55:34\.185 warning grace-period: OPEN/m);
  });

  it('csv: one row per interval (all operations) and per operation in it, the figures of the report', async () => {
    const r = nfsight(['timeline', 'captures/nfsv3-errors.pcap', '--format', 'csv', '--interval', '10ms']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trimEnd().split('\r\n').map((l) => l.split(','));
    expect(rows[0]).toEqual([...TIMELINE_CSV_COLUMNS]);
    const report = await analyze(join(CAPTURES, 'nfsv3-errors.pcap'), { timeline: { intervalNs: 10e6 } });
    const t = report.timeline;
    const all = rows.slice(1).filter((c) => c[3] === '');
    expect(all).toHaveLength(t.count);
    const col = (name: (typeof TIMELINE_CSV_COLUMNS)[number]) => TIMELINE_CSV_COLUMNS.indexOf(name);
    for (const iv of t.intervals) {
      const row = all[iv.index]!;
      expect(Number(row[col('calls')])).toBe(iv.calls);
      expect(Number(row[col('errors')])).toBe(iv.errors);
      expect(row[col('p99_ms')]).toBe(iv.latency.p99 === null ? '' : String(iv.latency.p99));
      expect(Number(row[col('start_seconds')])).toBeCloseTo(iv.start, 6);
    }
    const opRows = rows.slice(1).filter((c) => c[3] !== '');
    expect(opRows.length).toBe(t.intervals.reduce((a, iv) => a + iv.ops.length, 0));
    expect(opRows.reduce((a, c) => a + Number(c[col('calls')]), 0)).toBe(report.rpc.calls);
  });

  it('json: the report’s timeline; --op and --client select calls as `calls` does', async () => {
    const r = nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--format', 'json', '--op', 'open', '--client', '127.0.0.1']);
    expect(r.status).toBe(0);
    const t = JSON.parse(r.stdout);
    const report = await analyze('captures/nfsv4-grace-restart.pcap', { timeline: { filter: { op: 'open', client: { addr: '127.0.0.1' } } } });
    expect(t).toEqual(report.timeline);
    expect(t.filter).toEqual({ op: 'open', client: { addr: '127.0.0.1' } });
    // 8 OPENs: 6 refused with NFS4ERR_GRACE, then 2 after the grace period.
    expect(t.operations.map((o: { key: string; calls: number; errors: number }) => [o.key, o.calls, o.errors])).toEqual([['NFS v4 OPEN', 8, 6]]);
    const none = JSON.parse(nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--format', 'json', '--client', '127.0.0.1', '--server', '127.0.0.1:111']).stdout);
    expect(none.operations).toEqual([]);
  });

  it('a misspelt op is refused with the nearest name, exit 2', () => {
    const r = nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--op', 'OPNE']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('nfsight: error: --op OPNE: unknown operation "OPNE" (nearest: OPEN) (see nfsight timeline --help)\n');
  });

  it('a filter no call matches is warned about, naming the capture’s operations; -q silences it', () => {
    const r = nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--op', 'WRITE']);
    expect(r.status).toBe(0);
    // 58 calls (tshark: rpc.msgtyp == 0), among them OPENs, and no WRITE.
    expect(r.stderr).toMatch(/^nfsight: warning: none of the capture's 58 calls matches --op WRITE \(its\noperations: .*\bOPEN\b/s);
    expect(width(r.stderr)).toBeLessThanOrEqual(80);
    const client = nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--client', '10.9.9.9', '--format', 'json']);
    expect(client.stderr).toBe("nfsight: warning: none of the capture's 58 calls matches --client 10.9.9.9\n");
    expect(nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--op', 'WRITE', '-q']).stderr).toBe('');
    expect(nfsight(['timeline', 'captures/nfsv4-grace-restart.pcap', '--op', 'open']).stderr).toBe('');
  });

  it('table: the first 26 findings lettered, the rest counted in one line; dates on the findings of a capture over several days', async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    const t = report.timeline;
    const e0 = t.episodes[0]!;
    const many = { ...t, episodes: Array.from({ length: 30 }, (_, i) => ({ ...e0, finding: i, title: `finding ${i + 1}` })) };
    const lines = renderTimelineText(many, { width: 80 }).trimEnd().split('\n');
    expect(lines.filter((l) => /^[a-z] \d\d:\d\d:\d\d\.\d{3}-/.test(l)).map((l) => l.split(': ').pop())).toEqual(Array.from({ length: 26 }, (_, i) => `finding ${i + 1}`));
    expect(lines.at(-1)).toBe('+ 4 more findings (nfsight findings lists them all).');
    // The same capture seen as lasting two days (its last interval a day later): each finding's span with its dates.
    const day = 86_400 / t.intervalSeconds;
    const long = { ...t, count: t.count + day, intervals: [...t.intervals, { ...t.intervals.at(-1)!, index: t.count + day - 1 }] };
    const text = renderTimelineText(long, { width: 80 });
    // The GRACE episode: 02:55:22.142 to 02:55:34.185 on 2026-11-22 (the capture's frames).
    expect(text).toMatch(/^a 11-22 02:55:22\.142 to 11-22 02:55:34\.185 warning grace-period: OPEN/m);
  });

  it('usage errors exit 2 with a one-line message', () => {
    const bad = nfsight(['timeline', 'captures/nfsv3-errors.pcap', '--interval', '300ms']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('neither divides a second nor is a whole number of seconds');
    const missing = nfsight(['timeline', 'captures/no-such.pcap']);
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
  });
});
