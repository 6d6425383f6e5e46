/**
 * `npm test`: the static checks (scripts/checks.ts) and `vitest run` at once, the checks at the
 * lowest CPU priority. The integration files mostly wait on the server, timers and child
 * processes, so the checks' 70 s of CPU fit in the time the tests leave the cores idle, and lowered
 * they take little from a test that needs the CPU. One after the other, the checks added 36–44 s
 * to the run on two cores (2026-12-06). Arguments go to vitest (`npm test -- test/cli.test.ts`).
 * The checks' lines come after vitest's summary; the exit code is 1 if either failed.
 */
import { execa } from 'execa';
import { reportChecks, runChecks } from './checks.js';

const checks = runChecks({ lowPriority: true });
const vitest = execa('vitest', ['run', ...process.argv.slice(2)], {
  preferLocal: true,
  stdio: 'inherit',
  reject: false,
});
// Ctrl-C reaches vitest from the terminal; a SIGTERM sent to this process alone is passed on.
process.on('SIGINT', () => undefined).on('SIGTERM', () => vitest.kill('SIGTERM'));
const testsCode = (await vitest).exitCode ?? 1;
process.stdout.write('\nstatic checks (run beside the tests):\n');
const checksOk = reportChecks(await checks);
process.exitCode = testsCode === 0 && checksOk ? 0 : 1;
