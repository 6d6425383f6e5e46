import { defineConfig } from 'vitest/config';
import { useRunTmpdir } from './test/run-tmpdir.js';
import LongWaitsFirst from './test/sequencer.js';

// Every temp folder of the run in one folder of its own, removed when the run ends.
useRunTmpdir();

// Two projects (docs/architecture.md#tests): `unit` is pure and needs no server; `integration` shares one real
// Temporal dev server started by test/global-setup.ts. Pool `forks`: Temporal workers segfault
// under worker threads, and process-group kills want real processes.
export default defineConfig({
  test: {
    pool: 'forks',
    // Vitest's default is one file at a time on 2 cores (CPUs − 1); the integration files mostly wait
    // on the server, timers and child processes, so more at once overlap those waits: 820 s → 440 s
    // with two; on an Intel Xeon machine (2026-12-07) 386–397 s with three in four runs, against
    // 577 s with two in the run before them, which kept 1.3 of the 2 cores busy on average.
    maxWorkers: 3,
    sequence: { sequencer: LongWaitsFirst },
    projects: [
      {
        test: {
          // In-process tests only, well under a minute: no child process (test/unit-setup.ts makes
          // spawning fail), no server, no CLI install. Tests that spawn live in test/process/.
          name: 'unit',
          include: ['protocol/**/*.test.ts', 'test/unit/**/*.test.ts'],
          setupFiles: ['test/unit-setup.ts'],
          // One module graph per fork, not per file: these files only call functions, and importing
          // the graph again for each of 72 files was most of the project's time (19 s -> 7.5 s here,
          // 2026-12-06; the files also pass in shuffled orders).
          isolate: false,
          pool: 'forks',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          // The real server, test/process/, and the agent-CLI suites (each installs the CLIs it runs).
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
