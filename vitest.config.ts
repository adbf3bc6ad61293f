import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // dist/ built when a source is newer; one log directory for the run, scanned for
    // credentials at its end (see the files).
    globalSetup: ['test/helpers/build-setup.ts', 'test/helpers/log-scan-setup.ts'],
  },
});
