/**
 * vitest for `npm run mutate` (stryker.config.mjs): only the test files that
 * guard the module being mutated (NFSIGHT_MUTATE_TESTS), and no global setup
 * (the sandbox's sources are instrumented; nothing is built from them).
 */
import { defineConfig } from 'vitest/config';

const tests = (process.env.NFSIGHT_MUTATE_TESTS ?? '').split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: tests.length > 0 ? tests : ['test/**/*.test.ts'],
    // Tests of the built CLI run dist/, which no mutant reaches: they could kill nothing.
    // Fuzz tests (random inputs, invariants only) take seconds per run: left to npm test.
    testNamePattern: /^(?!.*(\(CLI\)|fuzz))/,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
