/**
 * vitest for `npm run mutate` (stryker.config.mjs): only the test files that
 * guard the module being mutated (NFSIGHT_MUTATE_TESTS), and no global setup
 * (the sandbox's sources are instrumented; nothing is built from them).
 */
import { defineConfig } from 'vitest/config';

const tests = (process.env.NFSIGHT_MUTATE_TESTS ?? '').split(',').filter(Boolean);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Tests left out by name: the built CLI's (dist/, which no mutant reaches), fuzz tests, and those the module lists as too slow. */
const skip = ['\\(CLI\\)', 'fuzz', ...(process.env.NFSIGHT_MUTATE_SKIP ?? '').split('|').filter(Boolean).map(escape)];

export default defineConfig({
  test: {
    include: tests.length > 0 ? tests : ['test/**/*.test.ts'],
    // Fuzz tests (random inputs, invariants only) take seconds per run: they are left to npm test.
    testNamePattern: new RegExp(`^(?!.*(${skip.join('|')}))`),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
