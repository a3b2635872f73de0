/**
 * The vitest reporter .ci/run reads when it has to stop a test run that
 * takes too long: the files started and not finished (longest first), and
 * the tests passed and failed so far.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module without types
import ProgressReporter from '../.ci/progress-reporter.mjs';
import { tempDir } from './helpers.js';

interface Progress {
  passed: number;
  failed: number;
  finishedFiles: number;
  running: { file: string; startedAt: number }[];
}

describe('.ci/progress-reporter.mjs', () => {
  it('keeps the files still running and the counts of finished tests', () => {
    const file = join(tempDir(), 'progress.json');
    const r = new ProgressReporter({ file });
    const read = (): Progress => JSON.parse(readFileSync(file, 'utf8')) as Progress;
    expect(read()).toEqual({ passed: 0, failed: 0, finishedFiles: 0, running: [] });
    r.onInit({ config: { root: '/repo' } });
    const mod = (name: string) => ({ moduleId: `/repo/test/${name}` });
    const test = (state: string) => ({ result: () => ({ state }) });
    r.onTestModuleQueued(mod('stuck.test.ts'));
    r.onTestModuleStart(mod('stuck.test.ts'));
    r.onTestModuleStart(mod('quick.test.ts'));
    r.onTestCaseResult(test('passed'));
    r.onTestCaseResult(test('failed'));
    r.onTestCaseResult(test('skipped'));
    r.onTestModuleEnd(mod('quick.test.ts'));
    const p = read();
    expect({ ...p, running: p.running.map((x) => x.file) }).toEqual({ passed: 1, failed: 1, finishedFiles: 1, running: ['test/stuck.test.ts'] });
    expect(p.running[0]!.startedAt).toBeGreaterThan(Date.UTC(2020, 0, 1));
  });
});
