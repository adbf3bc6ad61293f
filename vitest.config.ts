import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time even on two cores (vitest's default is one fewer than the CPUs):
    // much of the suite waits on child processes, sockets and PostgreSQL, not on its CPU.
    // On the project's two-core CI machine the full run takes about a third less time.
    maxWorkers: 2,
    // dist/ built when a source is newer; one log directory for the run, scanned for
    // credentials at its end (see the files).
    globalSetup: ['test/helpers/build-setup.ts', 'test/helpers/log-scan-setup.ts'],
  },
});
