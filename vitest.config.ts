import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ when a source is newer: the CLI tests spawn the built CLI.
    globalSetup: ['test/global-setup.ts'],
    // A test that made no assertion fails (unless named a fuzz test).
    setupFiles: ['test/setup-assertions.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
