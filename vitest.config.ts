import { defineConfig } from 'vitest/config';

// Two projects (docs/architecture.md#tests): `unit` is pure and needs no server; `integration` shares one real
// Temporal dev server started by test/global-setup.ts. Pool `forks`: Temporal workers segfault
// under worker threads, and process-group kills want real processes.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['protocol/**/*.test.ts', 'test/unit/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 30_000,
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
