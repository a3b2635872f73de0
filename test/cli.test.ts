/**
 * The command line as a user meets it: the compiled `nfsight` (built by
 * test/global-setup.ts when a source is newer), its output streams and exit
 * statuses.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { CAPTURES, expectedOf, tempDir, writeTemp } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function nfsight(args: string[], input?: Buffer, nodeOptions: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...nodeOptions, CLI, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '100', ...env },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('nfsight CLI', () => {
  it('prints the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    const r = nfsight(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('report: tables on stdout, nothing on stderr, exit 0', () => {
    const r = nfsight(['report', 'captures/nfsv3-errors.pcap']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    // The capture's path once, in the first line, then its span.
    expect(r.stdout.split('\n')[0]).toBe('Capture captures/nfsv3-errors.pcap');
    expect(r.stdout.split('captures/nfsv3-errors.pcap')).toHaveLength(2);
    expect(r.stdout).toMatch(/^290 frames, 2026-11-22T02:53:21\.842837Z → /m);
    // No colour escapes with NO_COLOR or when not on a terminal.
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('report --format json: the library report, with the figures tshark gives', () => {
    const exp = expectedOf('nfsv4-grace-restart.pcap');
    const r = nfsight(['report', '--format', 'json', join(CAPTURES, 'nfsv4-grace-restart.pcap')]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.schemaVersion).toBe(3);
    expect(report.capture.frames).toBe(exp.frames);
    expect(report.capture.wireBytes).toBe(exp.wireBytes);
    expect(report.tcp.connections).toBe(exp.tcp.streams.length);
    expect(report.capture.last.frame).toBe(exp.last.frame);
  });

  it('report --format json: the same bytes written as one string (a small input) as in chunks (standard input, a large one as far as nfsight knows)', () => {
    const file = join(CAPTURES, 'nfsv4-grace-restart.pcap');
    const whole = nfsight(['report', '--format', 'json', file]);
    const chunked = nfsight(['report', '--format', 'json', '-'], readFileSync(file));
    expect([whole.status, chunked.status]).toEqual([0, 0]);
    expect(chunked.stdout.length).toBeGreaterThan(10_000);
    expect(whole.stdout.split(JSON.stringify(file).slice(1, -1)).join('-')).toBe(chunked.stdout);
  });

  it('reads standard input for -', () => {
    const r = nfsight(['report', '--format', 'json', '-'], readFileSync(join(CAPTURES, 'nfsv3-nanosec.pcap')));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).capture.frames).toBe(expectedOf('nfsv3-nanosec.pcap').frames);
  });

  it('a cut file: a warning naming file and offset on stderr, the report of what was read, exit 2', () => {
    const bytes = readFileSync(join(CAPTURES, 'nfsv3-errors.pcap'));
    const p = writeTemp(tempDir(), 'cut.pcap', bytes.subarray(0, 20_000));
    const r = nfsight(['report', '--format', 'json', p]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^nfsight: warning: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte \\d+: file is cut short`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const report = JSON.parse(r.stdout);
    expect(report.capture.files[0].truncated).toBe(true);
    expect(report.capture.frames).toBeGreaterThan(100);
  });

  it('unreadable input: a clear error and exit 2, no stack trace', () => {
    const r = nfsight(['report', 'no/such/file.pcap']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('nfsight: error: no/such/file.pcap: cannot read: no such file\n');
    expect(r.stdout).toBe('');
    // One readable file among others: the report of what was read, still exit 2.
    const mixed = nfsight(['report', '--format', 'json', 'no/such/file.pcap', 'captures/nfsv3-nanosec.pcap']);
    expect(mixed.status).toBe(2);
    expect(JSON.parse(mixed.stdout).capture.frames).toBe(92);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const notCapture = nfsight(['report', 'package.json']);
    expect(notCapture.status).toBe(2);
    expect(notCapture.stderr).toContain('not a pcap or pcapng capture');
  });

  it('bad usage exits 2 with one line on stderr: the cause and where the help is', () => {
    const r = nfsight(['report']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("nfsight: error: missing required argument 'capture' (see nfsight report --help)\n");
    const f = nfsight(['report', '--format', 'xml', 'captures/nfsv3-errors.pcap']);
    expect(f.status).toBe(2);
    expect(f.stderr).toBe('nfsight: error: --format xml: allowed choices are table, json, csv, html. (see nfsight report --help)\n');
    const t = nfsight(['calls', '--top', '3', 'captures/nfsv3-errors.pcap']);
    expect(t.stderr).toBe("nfsight: error: unknown option '--top' (Did you mean --op?) (see nfsight calls --help)\n");
    const c = nfsight(['reprot', 'captures/nfsv3-errors.pcap']);
    expect(c.status).toBe(2);
    expect(c.stderr).toBe("nfsight: error: unknown command 'reprot' (Did you mean report?) (see nfsight --help)\n");
    // A misspelt operation or status matches nothing: refused, with the nearest name nfsight gives.
    const op = nfsight(['calls', '--op', 'RAED', 'captures/nfsv3-errors.pcap']);
    expect(op.status).toBe(2);
    expect(op.stdout).toBe('');
    expect(op.stderr).toBe('nfsight: error: --op RAED: unknown operation "RAED" (nearest: READ) (see nfsight calls --help)\n');
    expect(nfsight(['calls', '--status', 'NFS4ERR_GRAC', 'captures/nfsv3-errors.pcap']).stderr).toBe(
      'nfsight: error: --status NFS4ERR_GRAC: unknown status "NFS4ERR_GRAC" (nearest: NFS4ERR_GRACE) (see nfsight calls --help)\n',
    );
    expect(nfsight(['calls', '--op', 'lookup', '--status', 'nfs3err_noent', 'captures/nfsv3-errors.pcap']).status).toBe(0);
    const n = nfsight(['report', '--top', '0', 'captures/nfsv3-errors.pcap']);
    expect(n.stderr).toBe('nfsight: error: --top 0: expected a whole number of rows, at least 1 (see nfsight report --help)\n');
  });

  it('shows no deprecation notice, even with --pending-deprecation, on piped input', () => {
    // Piped input arrives in 64 KiB pieces: the path where the pcap-parser
    // nfsight once used called the deprecated Buffer().
    const input = readFileSync(join(CAPTURES, 'lossy-read-cut.pcap'));
    const r = nfsight(['report', '-'], input, ['--pending-deprecation']);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('DEP0005');
    expect(r.stderr).not.toContain('DeprecationWarning');
  });
});

describe('nfsight report: RPC', () => {
  it('lists the unanswered READ with the frame where its reply began and never completed', () => {
    const r = nfsight(['report', '--sections', 'rpc', 'captures/unanswered-read-tail.pcap'], undefined, [], { COLUMNS: '160' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/│ #66 +│ 2026-11-22T03:12:20\.983690Z │ 0x351ccd70 │ READ .* began #67, never completed/);
  });

  it('--nfs-port: validated, and accepted comma-separated or repeated', () => {
    const bad = nfsight(['report', '--nfs-port', '70000', 'captures/nfsv3-errors.pcap']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not a port number: 70000');
    const ok = nfsight(['report', '--format', 'json', '--nfs-port', '3049,4049', '--nfs-port', '5049', 'captures/nfsv3-errors.pcap']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).rpc.matched).toBe(79);
  });
});

describe('nfsight report --time-window', () => {
  it('limits the frames, and rejects a bad window with exit 2', () => {
    const ok = nfsight(['report', '--format', 'json', '--time-window', '..5', 'captures/nfsv4-grace-restart.pcap']);
    expect(ok.status).toBe(0);
    const r = JSON.parse(ok.stdout);
    expect(r.capture.frames + r.capture.framesOutsideTimeWindow).toBe(176);
    expect(r.capture.framesOutsideTimeWindow).toBeGreaterThan(0);
    const bad = nfsight(['report', '--time-window', 'soon..later', 'captures/nfsv4-grace-restart.pcap']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('neither an ISO 8601 time');
  });
});

describe('nfsight calls', () => {
  it('lists calls as jsonl with NFSv3 paths from the file-handle map', () => {
    const r = nfsight(['calls', '--format', 'jsonl', '--op', 'READ', 'captures/nfsv3-basic-head.pcap']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((x) => x.procName === 'READ' && x.status === 'NFS3_OK')).toBe(true);
    // The MNT reply names the export's root; LOOKUP names the files under it.
    expect(rows.map((x) => x.path)).toContain('/export/hello.txt');
  });

  it('filters by status, and bad filters exit 2', () => {
    const r = nfsight(['calls', '--format', 'csv', '--status', 'MNT3ERR_ACCES', 'captures/nfsv3-errors.pcap']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\r\n');
    expect(lines[0]!.startsWith('file,frame,replyFrame')).toBe(true);
    expect(lines.length - 1).toBe(4);
    const bad = nfsight(['calls', '--min-latency', 'fast', 'captures/nfsv3-errors.pcap']);
    expect(bad.status).toBe(2);
  });
});

describe('nfsight report shapes, merge and findings', () => {
  it('report --format csv: the operations table, RFC 4180', () => {
    const r = nfsight(['report', '--format', 'csv', 'captures/nfsv3-errors.pcap']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\r\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => l.split(',').length === lines[0]!.split(',').length || l.includes('"'))).toBe(true);
  });

  it('report --by client --top 2 puts the client table first and limits rows; a bad --top exits 2', () => {
    const r = nfsight(['report', '--by', 'client', '--top', '2', 'captures/nfsv4-grace-restart.pcap']);
    expect(r.status).toBe(0);
    expect(r.stdout.indexOf('Clients (by address)')).toBeLessThan(r.stdout.indexOf('Timing by operation'));
    expect(nfsight(['report', '--top', '0', 'captures/nfsv4-grace-restart.pcap']).status).toBe(2);
  });

  it('merge: reports of two captures add up; the same capture twice, a capture, an older report: one line, exit 2', () => {
    const dir = tempDir();
    const one = nfsight(['report', '--format', 'json', 'captures/nfsv3-errors.pcap']);
    const two = nfsight(['report', '--format', 'json', 'captures/nfsv4-errors.pcap']);
    const a = writeTemp(dir, 'a.json', Buffer.from(one.stdout));
    const b = writeTemp(dir, 'b.json', Buffer.from(two.stdout));
    const m = nfsight(['merge', a, b]);
    expect(m.status).toBe(0);
    const merged = JSON.parse(m.stdout);
    expect(merged.rpc.calls).toBe(JSON.parse(one.stdout).rpc.calls + JSON.parse(two.stdout).rpc.calls);
    // The same capture in two reports (a copy of a.json): its calls would count twice.
    const copy = writeTemp(dir, 'copy.json', Buffer.from(one.stdout));
    const twice = nfsight(['merge', a, copy]);
    expect(twice.status).toBe(2);
    expect(twice.stdout).toBe('');
    expect(twice.stderr).toBe(`nfsight: error: ${copy} and ${a} are both reports of captures/nfsv3-errors.pcap (290 frames): merged, its calls would count twice\n`);
    expect(nfsight(['merge', a, a]).stderr).toBe(`nfsight: error: ${a} is given twice (its calls would count twice)\n`);
    // A capture given to merge: one printable line, not the bytes JSON.parse choked on.
    const pcap = nfsight(['merge', 'captures/nfsv3-errors.pcap']);
    expect(pcap.status).toBe(2);
    expect(pcap.stderr).toBe(
      'nfsight: error: captures/nfsv3-errors.pcap: a capture, not a JSON report (give it to nfsight report; merge takes what nfsight report --format json wrote)\n',
    );
    // A report of an older nfsight (schemaVersion 2 had no timeline): its version named, not a missing section.
    const old = JSON.parse(one.stdout);
    old.schemaVersion = 2;
    delete old.timeline;
    const o = writeTemp(dir, 'old.json', Buffer.from(JSON.stringify(old)));
    const older = nfsight(['merge', o, b]);
    expect(older.status).toBe(2);
    expect(older.stderr).toMatch(new RegExp(`^nfsight: error: ${o}: a report of schemaVersion 2, made by nfsight [0-9.]+ \\(older\\); this nfsight reads schemaVersion 3: make the report again with nfsight report --format json\n$`));
    const junk = writeTemp(dir, 'junk.json', Buffer.from('{"schemaVersion": 1}'));
    const bad = nfsight(['merge', a, junk]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`nfsight: error: ${junk}: not an nfsight report (no tool.name "nfsight")\n`);
    expect(nfsight(['merge', a, join(dir, 'missing.json')]).stderr).toContain('no such file');
  });

  it('standard input twice, or a capture twice: exit 2 before reading anything', () => {
    const input = readFileSync(join(CAPTURES, 'nfsv3-errors.pcap'));
    const r = nfsight(['report', '-', '-'], input);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('nfsight: error: standard input (-) can be read only once\n');
    const c = nfsight(['calls', 'captures/nfsv3-errors.pcap', 'captures/nfsv3-errors.pcap']);
    expect(c.status).toBe(2);
    expect(c.stderr).toBe('nfsight: error: captures/nfsv3-errors.pcap is given twice (its calls would count twice)\n');
  });

  it('a pcapng corrupt at its tail: the report of what came before, the error, and exit 2 (never 0)', () => {
    const bytes = readFileSync(join(CAPTURES, 'nfsv4-dumpcap.pcapng'));
    // A block with an absurd length after the last good one.
    const tail = Buffer.alloc(28);
    tail.writeUInt32LE(6, 0);
    tail.writeUInt32LE(0x0fffffff, 4);
    const p = writeTemp(tempDir(), 'tail.pcapng', Buffer.concat([bytes, tail]));
    for (const cmd of ['report', 'findings', 'calls', 'timeline', 'check']) {
      const r = nfsight([cmd, p]);
      expect([cmd, r.status]).toEqual([cmd, 2]);
      expect(r.stderr).toContain(`nfsight: error: ${p}: byte ${bytes.length}: block of type 0x6: total length 268435455 is invalid`);
    }
    const r = nfsight(['report', '--format', 'json', p]);
    const whole = JSON.parse(nfsight(['report', '--format', 'json', 'captures/nfsv4-dumpcap.pcapng']).stdout);
    expect(JSON.parse(r.stdout).rpc.calls).toBe(whole.rpc.calls);
  });

  it('findings: JSON verdict and list (no problems, no finding for a clean capture)', () => {
    const r = nfsight(['findings', '--format', 'json', 'captures/linux-v42-basic-head.pcap']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.findings).toEqual([]);
    expect(out.verdict).toEqual({ status: 'no-problems', summary: 'No problems found in 33 RPC calls.', notJudged: [], problems: [], notes: 0 });
  });
});
