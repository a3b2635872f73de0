// A vitest reporter for .ci/run: keeps .ci/out/progress.json up to date with
// the test files started and not finished, and the tests passed and failed
// so far, so that when the run is stopped for taking too long (a loop that
// never ends cannot be interrupted from inside vitest), .ci/run can name the
// files that were running and count what had finished.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';

export default class ProgressReporter {
  constructor(options = {}) {
    this.file = options.file ?? '.ci/out/progress.json';
    this.running = new Map();
    this.passed = 0;
    this.failed = 0;
    this.finishedFiles = 0;
    mkdirSync(dirname(this.file), { recursive: true });
    this.write();
  }

  onInit(vitest) {
    this.root = vitest.config.root;
  }

  name(testModule) {
    return this.root ? relative(this.root, testModule.moduleId) : testModule.moduleId;
  }

  onTestModuleQueued(testModule) {
    // Queued is the last event a worker that hangs while loading the file sends.
    this.running.set(testModule.moduleId, { file: this.name(testModule), since: Date.now() });
    this.write();
  }

  onTestModuleStart(testModule) {
    if (!this.running.has(testModule.moduleId)) this.onTestModuleQueued(testModule);
  }

  onTestCaseResult(testCase) {
    const state = testCase.result().state;
    if (state === 'passed') this.passed++;
    else if (state === 'failed') this.failed++;
    this.write();
  }

  onTestModuleEnd(testModule) {
    this.running.delete(testModule.moduleId);
    this.finishedFiles++;
    this.write();
  }

  write() {
    const state = {
      passed: this.passed,
      failed: this.failed,
      finishedFiles: this.finishedFiles,
      // Longest running first: a file stuck in a loop stays while the others come and go.
      running: [...this.running.values()].sort((a, b) => a.since - b.since).map((r) => ({ file: r.file, startedAt: r.since })),
    };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(state) + '\n');
    renameSync(tmp, this.file);
  }
}
