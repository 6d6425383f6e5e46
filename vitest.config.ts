import { defineConfig } from 'vitest/config';

// Two projects (STYLE.md §4). `unit`: in-process tests only (no child process, server or CLI
// install; test/unit-setup.ts makes spawning fail), well under a minute. `integration`: one real
// Temporal dev server started by test/global-setup.ts, plus the multi-process tests in
// test/process/ and the real agent CLIs (installed by the suites that run them). Pool `forks`:
// Temporal workers segfault under worker threads, and process-group kills want real processes.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['protocol/**/*.test.ts', 'test/unit/**/*.test.ts'],
          setupFiles: ['test/unit-setup.ts'],
          pool: 'forks',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
