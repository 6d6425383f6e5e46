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

const cancel = new AbortController();
const checks = runChecks({ lowPriority: true, cancelSignal: cancel.signal });
const vitest = execa('vitest', ['run', ...process.argv.slice(2)], {
  preferLocal: true,
  stdio: 'inherit',
  reject: false,
});
// A stop sent to this process alone (npm passes SIGINT and SIGTERM on to its script) reaches vitest
// too, and ends the checks; from a terminal vitest gets Ctrl-C itself as well.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    vitest.kill(signal);
    cancel.abort();
  });
const testsCode = (await vitest).exitCode ?? 1;
process.stdout.write('\nstatic checks (run beside the tests):\n');
const checksOk = reportChecks(await checks);
process.exitCode = testsCode === 0 && checksOk ? 0 : 1;
