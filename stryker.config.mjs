// StrykerJS (mutation testing) for `npm run mutate` (scripts/mutate.mjs),
// outside CI: one module at a time, its own test files only, one process,
// so that a run stays tractable on a small shared machine. The module is
// chosen by NFSIGHT_MUTATE_MODULE (a key of MODULES); scores go to
// reports/mutation/<module>.json and docs/mutation.md records them.

/** Module → the files mutated, the test files that guard them, and tests (by name) too slow to run per mutant. */
export const MODULES = {
  'record-marking': {
    mutate: ['src/rpc/record-stream.ts'],
    tests: ['test/rpc-record.test.ts', 'test/rpc-record-edges.test.ts', 'test/loop-bounds.test.ts'],
    // Exhaustive variants of the segmentation tests (10-40 s a run): the single cuts stay.
    skip: ['split in two at every offset', 'under random segmentations'],
  },
  matcher: {
    mutate: ['src/rpc/matcher.ts'],
    tests: ['test/matcher.test.ts', 'test/matcher-scenarios.test.ts', 'test/rpc-transactions.test.ts'],
  },
  'tcp-reassembly': {
    mutate: ['src/transport/tcp-reassembly.ts'],
    tests: ['test/tcp.test.ts', 'test/tcp-edges.test.ts', 'test/tcp-analysis.test.ts', 'test/loop-bounds.test.ts'],
  },
  nfs3: {
    mutate: ['decoders/nfs3.ts'],
    tests: ['test/nfs3-decode.test.ts', 'test/names.test.ts'],
  },
  nfs4: {
    mutate: ['decoders/nfs4.ts', 'decoders/nfs4-ops.ts', 'decoders/nfs4-status.ts', 'decoders/nfs4-cb.ts', 'decoders/nfs4-callback.ts'],
    tests: ['test/nfs4-decode.test.ts', 'test/nfs4-op-fields.test.ts', 'test/nfs4-compound.test.ts', 'test/names.test.ts'],
  },
  check: {
    mutate: ['src/check/*.ts'],
    tests: ['test/check-rules.test.ts', 'test/check-boundaries.test.ts', 'test/check.test.ts'],
  },
};

const name = process.env.NFSIGHT_MUTATE_MODULE ?? 'matcher';
const module = MODULES[name];
if (module === undefined) throw new Error(`NFSIGHT_MUTATE_MODULE: unknown module ${name} (${Object.keys(MODULES).join(', ')})`);
// vitest.mutate.config.ts reads the test files from here (Stryker's test runner inherits the environment).
process.env.NFSIGHT_MUTATE_TESTS = module.tests.join(',');
process.env.NFSIGHT_MUTATE_SKIP = (module.skip ?? []).join('|');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: module.mutate,
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // dist/ stays: the CLI tests spawn the built CLI (which no mutant reaches; they pass, and cost the dry run only).
  ignorePatterns: ['reports', 'bench/out', '.ci/out', 'docs'],
  thresholds: { high: 90, low: 85, break: null },
};
