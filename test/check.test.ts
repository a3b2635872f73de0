/**
 * `nfsight check` and `nfsight diff`: rules parsing and evaluation, the
 * JUnit writer, the comparison, and the built CLI on bundled captures
 * (test/global-setup.ts builds it when a source is newer).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { diffReports } from '../src/check/diff.js';
import { evaluateRules } from '../src/check/evaluate.js';
import { renderJunit, xmlEscape } from '../src/check/junit.js';
import { DEFAULT_RULES, parseRules, parseRulesText, RulesError } from '../src/check/rules.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const GRACE = join(CAPTURES, 'nfsv4-grace-restart.pcap');
const CLEAN = join(CAPTURES, 'nfsv3-basic-head.pcap');

function nfsight(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '100', ...env },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A copy of a classic little-endian microsecond Ethernet pcap with every
 * frame sent from port 2049 (TCP or UDP over IPv4) 50 ms later: the server's
 * replies slowed down.
 */
function slowedCopy(path: string, delayUs = 50_000): Buffer {
  const b = Buffer.from(readFileSync(path));
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(b.readUInt32LE(20)).toBe(1); // Ethernet
  let at = 24;
  let moved = 0;
  while (at + 16 <= b.length) {
    const incl = b.readUInt32LE(at + 8);
    const p = at + 16;
    if (b.readUInt16BE(p + 12) === 0x0800) {
      const ihl = (b[p + 14]! & 15) * 4;
      const proto = b[p + 14 + 9];
      if ((proto === 6 || proto === 17) && b.readUInt16BE(p + 14 + ihl) === 2049) {
        let sec = b.readUInt32LE(at);
        let usec = b.readUInt32LE(at + 4) + delayUs;
        sec += Math.floor(usec / 1e6);
        usec %= 1e6;
        b.writeUInt32LE(sec, at);
        b.writeUInt32LE(usec, at + 4);
        moved++;
      }
    }
    at = p + incl;
  }
  expect(moved).toBeGreaterThan(0);
  return b;
}

/** A small XML well-formedness check: balanced tags, quoted attributes, known entities; returns the element names in order. */
function parseXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let s = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const tag = /^<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/;
  while (s.length > 0) {
    if (s.startsWith('<')) {
      const m = tag.exec(s);
      if (m === null) throw new Error(`bad tag at: ${s.slice(0, 40)}`);
      const [all, close, name, , selfClose] = m;
      if (close) {
        if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
      } else {
        names.push(name!);
        if (!selfClose) stack.push(name!);
      }
      s = s.slice(all.length);
    } else {
      const end = s.indexOf('<');
      const text = end < 0 ? s : s.slice(0, end);
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(text) || text.includes('>')) throw new Error(`bad text: ${text}`);
      s = end < 0 ? '' : s.slice(end);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

describe('check rules: parsing and validation', () => {
  it('accepts the sample rules file and a bare list', () => {
    const sample = parseRulesText(readFileSync(join(ROOT, 'rules.sample.json'), 'utf8'));
    expect(sample.rules.length).toBeGreaterThanOrEqual(6);
    expect(new Set(sample.rules.map((r) => r.type))).toEqual(new Set(['latency', 'errors', 'findings', 'unanswered', 'calls']));
    expect(parseRules([{ type: 'unanswered', max: 0 }]).rules).toEqual([{ type: 'unanswered', max: 0 }]);
    // stat defaults to p99
    expect(parseRules([{ type: 'latency', op: 'READ', maxMs: 20 }]).rules[0]).toMatchObject({ stat: 'p99' });
  });

  it('names the rule index and field of a mistake', () => {
    const bad = (json: unknown): string => {
      try {
        parseRules(json);
      } catch (e) {
        expect(e).toBeInstanceOf(RulesError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ rules: [{ type: 'calls', min: 1 }, { type: 'latency', op: 'READ', maxMs: '20ms' }] })).toBe(
      'rules[1].maxMs: expected a number ≥ 0, got "20ms"',
    );
    expect(bad({ rules: [{ type: 'speed' }] })).toMatch(/^rules\[0\]\.type: expected one of latency, errors/);
    expect(bad({ rules: [{ type: 'latency', maxMs: 5 }] })).toMatch(/^rules\[0\]\.op: a latency rule needs the operation/);
    expect(bad({ rules: [{ type: 'latency', op: 'READ', stat: 'p95', maxMs: 5 }] })).toMatch(/^rules\[0\]\.stat: expected one of min, mean/);
    expect(bad({ rules: [{ type: 'errors', status: 'NFS4ERR_GRACE' }] })).toMatch(/needs "maxCount" or "maxRatePercent"/);
    expect(bad({ rules: [{ type: 'errors', maxRatePercent: 150 }] })).toMatch(/^rules\[0\]\.maxRatePercent: expected a percentage/);
    expect(bad({ rules: [{ type: 'findings', severities: ['fatal'] }] })).toMatch(/^rules\[0\]\.severities/);
    expect(bad({ rules: [{ type: 'unanswered', max: 0, maxx: 1 }] })).toMatch(/^rules\[0\]: unknown field "maxx"/);
    expect(bad({ rules: [{ type: 'calls', min: 5, max: 1 }] })).toMatch(/"min" \(5\) is above "max" \(1\)/);
    expect(bad({ rules: [] })).toBe('rules: the list is empty');
    expect(bad({ rulez: [] })).toMatch(/unknown top-level field "rulez"/);
    expect(bad(42)).toMatch(/expected an object/);
    expect(() => parseRulesText('{ nope')).toThrow(/^not JSON/);
  });
});

describe('check rules: evaluation on real captures', () => {
  it('a clean capture passes the defaults; the grace capture fails a no-GRACE rule', async () => {
    const clean = await analyze([CLEAN]);
    expect(evaluateRules(DEFAULT_RULES.rules, clean).passed).toBe(true);
    const grace = await analyze([GRACE]);
    const r = evaluateRules(
      [
        { type: 'errors', status: 'NFS4ERR_GRACE', maxCount: 0 },
        { type: 'errors', status: 'nfs4err_grace', maxRatePercent: 0 },
        { type: 'findings', kinds: ['grace-period'] },
        { type: 'latency', op: 'READ', stat: 'p99', maxMs: 50 },
        { type: 'calls', op: 'open', min: 1, max: 8 },
        { type: 'unanswered', max: 0 },
        { type: 'errors', op: 'OPEN', program: 'NFS', version: 4, maxRatePercent: 50 },
        { type: 'latency', op: 'WRITE', stat: 'p99', maxMs: 1 },
      ],
      grace,
    );
    expect(r.results.map((x) => x.passed)).toEqual([false, false, false, true, true, true, false, true]);
    expect(r.results[0]).toMatchObject({ rule: 'NFS4ERR_GRACE errors ≤ 0', actual: 6, limit: '≤ 0' });
    expect(r.results[0]!.detail).toContain('NFS v4 OPEN: 6');
    expect(r.results[2]!.detail).toContain('grace-period');
    expect(r.results[6]!.detail).toContain('6 errors in 8 calls (75%)');
    expect(r.results[7]).toMatchObject({ actual: null, passed: true });
    expect(r).toMatchObject({ passed: false, total: 8, failed: 4 });
  });
});

describe('JUnit writer', () => {
  it('escapes markup and drops characters XML cannot hold', () => {
    expect(xmlEscape(`a<b>&"c'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    const xml = renderJunit(
      { passed: false, total: 2, failed: 1, results: [
        { rule: 'x < 1 & "y"', type: 'calls', passed: false, actual: 3, limit: '≤ 1', detail: '<script>&' },
        { rule: 'ok', type: 'unanswered', passed: true, actual: 0, limit: '≤ 0', detail: 'fine' },
      ] },
      'suite "s"',
    );
    const names = parseXml(xml);
    expect(names.filter((n) => n === 'testcase')).toHaveLength(2);
    expect(names.filter((n) => n === 'failure')).toHaveLength(1);
  });
});

describe('diff', () => {
  it('a report against itself: every row unchanged', async () => {
    const r = await analyze([GRACE]);
    const d = diffReports(r, r);
    expect(d.rows.length).toBe(r.operations.length);
    expect(d.rows.every((x) => x.verdict === 'unchanged')).toBe(true);
    expect(d.regressed).toBe(false);
  });

  it('tolerances: small changes are within tolerance, large ones regressed or improved', async () => {
    const base = await analyze([CLEAN]);
    const scaled = (f: number) => ({
      ...base,
      operations: base.operations.map((o) => ({
        ...o,
        latency: { ...o.latency, p50: o.latency.p50 === null ? null : o.latency.p50 * f, p90: o.latency.p90, p99: o.latency.p99 },
      })),
    });
    // ×1.5 on sub-millisecond figures: below the 1 ms floor.
    expect(diffReports(base, scaled(1.5)).rows.every((x) => x.verdict === 'within tolerance' || x.verdict === 'unchanged')).toBe(true);
    const slower = diffReports(base, scaled(1000), { percent: 10, ms: 0 });
    expect(slower.regressed).toBe(true);
    expect(slower.rows.find((x) => x.name === 'READ')!.reasons[0]).toMatch(/^p50 \+/);
    const faster = diffReports(scaled(1000), base, { percent: 10, ms: 0 });
    expect(faster.regressed).toBe(false);
    expect(faster.summary.improved).toBeGreaterThan(0);
    // New and gone rows.
    const fewer = { ...base, operations: base.operations.filter((o) => o.name !== 'READ') };
    expect(diffReports(base, fewer).rows.find((x) => x.name === 'READ')!.verdict).toBe('gone');
    expect(diffReports(fewer, base).rows.find((x) => x.name === 'READ')!.verdict).toBe('new');
  });
});

describe('nfsight check (CLI)', () => {
  it('a clean capture passes the defaults: exit 0 (52 calls, as tshark counts them)', () => {
    const r = nfsight(['check', 'captures/nfsv3-basic-head.pcap']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      'PASS  the capture holds NFS/RPC traffic: actual 52, limit ≥ 1\n      52 calls; all calls\n' +
        'PASS  no finding of severity error: actual 0, limit = 0\n      none among 0 findings\npassed: 2 of 2 rules\n',
    );
  });

  it('a capture with no RPC traffic fails the built-in rule (unless the rules file turns it off)', () => {
    // The grace capture's first 3 frames: the TCP handshake before its first RPC call (frame 4, as tshark decodes it).
    const bytes = readFileSync(GRACE);
    let end = 24;
    for (let i = 0; i < 3; i++) end += 16 + bytes.readUInt32LE(end + 8);
    const dir = tempDir();
    const p = writeTemp(dir, 'handshake.pcap', bytes.subarray(0, end));
    const r = nfsight(['check', p]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['FAIL  the capture holds NFS/RPC traffic: actual 0, limit ≥ 1', '      0 calls; all calls']);
    expect(r.stdout).toContain('failed: 1 of 2 rules failed');
    const off = writeTemp(dir, 'r.json', Buffer.from(JSON.stringify({ requireRpcTraffic: false, rules: [{ type: 'unanswered', max: 0 }] })));
    const o = nfsight(['check', '--rules', off, p]);
    expect(o.status).toBe(0);
    expect(o.stdout).toBe('PASS  unanswered calls ≤ 0: actual 0, limit ≤ 0\n      0 of 0 calls unanswered; all calls\npassed: 1 of 1 rules\n');
  });

  it('a misspelt name in the rules file: exit 2, the nearest valid name given', () => {
    const dir = tempDir();
    const rules = writeTemp(dir, 'r.json', Buffer.from(JSON.stringify({ rules: [{ type: 'errors', status: 'NFS4ERR_GRAC', maxCount: 0 }] })));
    const r = nfsight(['check', '--rules', rules, GRACE]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`nfsight: error: rules file ${rules}: rules[0].status: unknown status "NFS4ERR_GRAC" (nearest: NFS4ERR_GRACE)\n`);
  });

  it('the grace capture fails the sample rules (GRACE), deterministically; JSON and JUnit agree', () => {
    const args = ['check', '--rules', 'rules.sample.json', 'captures/nfsv4-grace-restart.pcap'];
    const r = nfsight(args);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL  no finding of kind grace-period');
    expect(r.stdout).toContain('FAIL  NFS4ERR_GRACE errors ≤ 0% of calls: actual 6');
    expect(nfsight(args).stdout).toBe(r.stdout);
    const j = nfsight([...args, '--format', 'json']);
    expect(j.status).toBe(1);
    const json = JSON.parse(j.stdout);
    const sample = JSON.parse(readFileSync(join(ROOT, 'rules.sample.json'), 'utf8'));
    // The built-in traffic rule, then the sample's.
    expect(json.total).toBe(sample.rules.length + 1);
    expect(json.passed).toBe(false);
    const x = nfsight([...args, '--format', 'junit']);
    expect(x.status).toBe(1);
    const names = parseXml(x.stdout);
    expect(names.filter((n) => n === 'testcase')).toHaveLength(sample.rules.length + 1);
    expect(names.filter((n) => n === 'failure')).toHaveLength(json.failed);
    expect(x.stdout).toContain(`<testsuites name="nfsight check" tests="${sample.rules.length + 1}" failures="${json.failed}"`);
  });

  it('reads saved JSON reports as input', () => {
    const dir = tempDir();
    const rep = nfsight(['report', '--format', 'json', 'captures/nfsv4-grace-restart.pcap']);
    const p = writeTemp(dir, 'grace.json', Buffer.from(rep.stdout));
    const rules = writeTemp(dir, 'r.json', Buffer.from(JSON.stringify({ rules: [{ type: 'errors', status: 'NFS4ERR_GRACE', maxCount: 0 }] })));
    const r = nfsight(['check', '--rules', rules, p]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('actual 6');
    const junk = writeTemp(dir, 'junk.json', Buffer.from('{"schemaVersion": 1}'));
    const bad = nfsight(['check', junk]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`nfsight: error: ${junk}: not an nfsight report (no tool.name "nfsight")\n`);
  });

  it('a bad rules file or unreadable input: exit 2 with a clear message', () => {
    const dir = tempDir();
    const rules = writeTemp(dir, 'bad.json', Buffer.from('{"rules":[{"type":"latency","op":"READ","maxMs":"20ms"}]}'));
    const r = nfsight(['check', '--rules', rules, 'captures/nfsv3-basic-head.pcap']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`nfsight: error: rules file ${rules}: rules[0].maxMs: expected a number ≥ 0, got "20ms"\n`);
    expect(r.stdout).toBe('');
    expect(nfsight(['check', '--rules', join(dir, 'none.json'), 'captures/nfsv3-basic-head.pcap']).stderr).toContain('no such file');
    const missing = nfsight(['check', 'no/such/file.pcap']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('nfsight: error: no/such/file.pcap: cannot read: no such file\n');
    expect(nfsight(['check', '--format', 'xml', 'captures/nfsv3-basic-head.pcap']).status).toBe(2);
  });

  it('a capture not read whole: the warning says what was read, and one line that nothing was checked or compared', () => {
    const bytes = readFileSync(join(CAPTURES, 'nfsv3-errors.pcap'));
    const cut = writeTemp(tempDir(), 'cut.pcap', bytes.subarray(0, 20_000));
    const warning = /^nfsight: warning: .*cut\.pcap: byte \d+: file is cut short .*\n/;
    const c = nfsight(['check', cut]);
    expect(c.status).toBe(2);
    expect(c.stdout).toBe('');
    expect(c.stderr).toMatch(warning);
    expect(c.stderr.split('\n')[1]).toBe(`nfsight: error: ${cut}: not read whole (see the warning above); rules are checked on whole captures only`);
    const d = nfsight(['diff', 'captures/nfsv3-errors.pcap', cut]);
    expect(d.status).toBe(2);
    expect(d.stdout).toBe('');
    expect(d.stderr.split('\n')[1]).toBe(`nfsight: error: ${cut}: not read whole (see the warning above); diff compares whole captures only`);
    expect(d.stderr.split('\n')).toHaveLength(3);
  });
});

describe('nfsight diff (CLI)', () => {
  it('a capture against itself shows no change; against a copy with slowed replies, the regression', () => {
    const same = nfsight(['diff', '--format', 'json', '--fail-on-regression', 'captures/nfsv3-errors.pcap', 'captures/nfsv3-errors.pcap']);
    expect(same.status).toBe(0);
    const s = JSON.parse(same.stdout);
    expect(s.rows.length).toBeGreaterThan(5);
    expect(s.rows.every((r: { verdict: string; delta: { calls: number } }) => r.verdict === 'unchanged' && r.delta.calls === 0)).toBe(true);

    const slow = writeTemp(tempDir(), 'slow.pcap', slowedCopy(join(CAPTURES, 'nfsv3-errors.pcap')));
    const d = nfsight(['diff', '--format', 'json', 'captures/nfsv3-errors.pcap', slow]);
    expect(d.status).toBe(0); // without --fail-on-regression
    const j = JSON.parse(d.stdout);
    const rows = j.rows as { programName: string; name: string; verdict: string; delta: { calls: number; p99: number } }[];
    const nfs = rows.filter((r) => r.programName === 'NFS');
    expect(nfs.length).toBeGreaterThan(0);
    for (const r of nfs) {
      expect(r.verdict).toBe('regressed');
      expect(r.delta.calls).toBe(0);
      expect(r.delta.p99).toBeGreaterThan(49);
      expect(r.delta.p99).toBeLessThan(51);
    }
    // The MOUNT server (port 20048) was not slowed.
    expect(rows.filter((r) => r.programName === 'MOUNT').every((r) => r.verdict === 'unchanged')).toBe(true);

    const t = nfsight(['diff', '--fail-on-regression', 'captures/nfsv3-errors.pcap', slow]);
    expect(t.status).toBe(1);
    expect(t.stdout).toMatch(/│ NFS v3 READ +│ +1 │ +1 │ .*│ 0\.024 → 50\.024 │ regressed +│/);
    // The table fits the width (COLUMNS).
    for (const w of [80, 100]) {
      const narrow = nfsight(['diff', 'captures/nfsv3-errors.pcap', slow], { COLUMNS: String(w) });
      expect(Math.max(...narrow.stdout.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(w);
      expect(narrow.stdout).toMatch(/│ NFS v3 READ .*│ 0\.024 → 50\.024 │ regressed +│/);
    }
    expect(t.stdout).toContain(`${rows.length} operations (tolerance 10% and 1 ms): ${nfs.length} regressed`);
    // A tolerance wider than the delay: no regression.
    expect(nfsight(['diff', '--fail-on-regression', '--tolerance-ms', '60ms', 'captures/nfsv3-errors.pcap', slow]).status).toBe(0);
  });

  it('bad tolerance or input: exit 2', () => {
    expect(nfsight(['diff', '--tolerance', 'lots', 'captures/nfsv3-errors.pcap', 'captures/nfsv3-errors.pcap']).status).toBe(2);
    const r = nfsight(['diff', 'captures/nfsv3-errors.pcap', 'no/such.json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('nfsight: error: no/such.json: no such file\n');
  });
});
