/**
 * An exception out of the analysis (not an I/O error of the read) is an
 * nfsight bug: the run stops with one line naming the file and the frame,
 * and the CLI exits 2, never 0 (a report of the frames before it would look
 * complete) nor 1 (`check`: a rule failed). The bug is injected through the
 * library API (a throwing onCall listener) and, for the CLI, through a
 * preloaded module that makes a Buffer read throw a RangeError as a decoder
 * bug would.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { AnalysisBug } from '../src/internal-error.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CAPTURE = join(CAPTURES, 'nfsv3-basic-head.pcap');

/** A preload: the 40th Buffer#readUInt32BE of the process throws what Node throws for a bad offset. */
const HOOK = `
let n = 0;
const orig = Buffer.prototype.readUInt32BE;
Buffer.prototype.readUInt32BE = function (...a) {
  if (++n === 40) throw new RangeError('The value of "offset" is out of range. It must be >= 0 and <= 96. Received 100');
  return orig.apply(this, a);
};
`;

function nfsightWithBug(args: string[]) {
  const hook = writeTemp(tempDir(), 'throw-in-analysis.mjs', Buffer.from(HOOK));
  const r = spawnSync(process.execPath, ['--import', hook, CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '80' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('an exception out of the analysis is an nfsight bug, not a read error', () => {
  it('analyze() rejects with an AnalysisBug naming the file and the frame, and reports no read error', async () => {
    const diagnostics: Diagnostic[] = [];
    let calls = 0;
    const run = analyze([CAPTURE], {
      onDiagnostic: (d) => diagnostics.push(d),
      onCall: () => {
        if (++calls === 3) throw new RangeError('The value of "offset" is out of range.');
      },
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AnalysisBug);
    const bug = err as AnalysisBug;
    // tshark -Y rpc.msgtyp==0: the RPC calls are frames 4, 8, 14, …
    expect(bug.file).toBe(CAPTURE);
    expect(bug.frame).toBe(14);
    expect(bug.cause).toBeInstanceOf(RangeError);
    expect(bug.message).toBe(`nfsight bug: ${CAPTURE}: frame 14: RangeError: The value of "offset" is out of range; please report it`);
    expect(diagnostics.map((d) => d.code)).toEqual([]);
  });

  it('report: one error line, no "read error" warning, no report, exit 2', () => {
    const r = nfsightWithBug(['report', '--format', 'json', 'captures/nfsv3-basic-head.pcap']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nfsight: error: nfsight bug: captures\/nfsv3-basic-head\.pcap: frame \d+: RangeError: The value of "offset" is out of range\. .*; please report it$/);
    expect(r.stderr).not.toContain('read error');
  });

  it('check: exit 2 (an internal error), not 1 (a rule failed)', () => {
    const r = nfsightWithBug(['check', 'captures/nfsv3-basic-head.pcap']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^nfsight: error: nfsight bug: captures\/nfsv3-basic-head\.pcap: frame \d+: RangeError: .*; please report it\n$/);
  });

  it('check on the same capture without the bug: exit 0', () => {
    const r = spawnSync(process.execPath, [CLI, 'check', 'captures/nfsv3-basic-head.pcap'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
