import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One log directory for the run, scanned for credentials at its end (see the file).
    globalSetup: ['test/helpers/log-scan-setup.ts'],
  },
});
