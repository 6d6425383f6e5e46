import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

/**
 * Setup of the `unit` project: its tests run in-process, so starting any child process fails the
 * test that tries, naming where such a test belongs (test/process/, in the integration project).
 */
const SPAWNERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
for (const name of SPAWNERS) {
  Object.defineProperty(childProcess, name, {
    value: () => {
      throw new Error(
        `child_process.${name}: the unit project runs in-process tests only\n  fix: move this test to test/process/ (integration project)`,
      );
    },
  });
}
// Named imports (`import { spawn } from 'node:child_process'`, execa's) read the patched functions too.
syncBuiltinESMExports();
