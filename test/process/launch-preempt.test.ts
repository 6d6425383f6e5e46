import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { launch, type LaunchResult, preemptRuns } from '../../activities/agents/launch.js';
import { isAlive, killAll, processesWithEnv } from '../../activities/agents/process-tree.js';
import { FIXTURE_AGENTS } from '../helpers/loops.js';
import { testdir } from '../helpers/testdir.js';

/**
 * stop --now's direct path (launch.ts preemptRuns) with real processes, no Temporal: the tree of a
 * bash agent that defers SIGTERM is gone when preemptRuns resolves, and the run still returns only
 * once its activity's cancel arrives, as `cancelled`.
 */

describe('preempted runs', () => {
  test('preemptRuns ends the whole tree; the run waits for its cancel before it returns', async () => {
    const dir = await testdir();
    const ready = join(dir, 'tree.ready');
    const marker = `preempt-${process.pid}-${Date.now()}`;
    const cancel = new AbortController();
    // A failed assertion must not leave the tree running.
    onTestFinished(async () => {
      cancel.abort();
      await killAll(processesWithEnv('TREE_MARKER', marker), 200);
    });
    const order: string[] = [];
    const running = launch({
      command: `bash ${JSON.stringify(join(FIXTURE_AGENTS, 'bash-tree.sh'))} ${JSON.stringify(ready)} defer`,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TREE_MARKER: marker },
      stdoutFile: join(dir, 'out.log'),
      stderrFile: join(dir, 'err.log'),
      timeoutMs: 60_000,
      cancelSignal: cancel.signal,
      preemptKey: 'loop-x/session-001',
    }).then((result: LaunchResult) => {
      order.push('returned');
      return result;
    });
    await expect.poll(() => existsSync(ready), { timeout: 30_000 }).toBe(true);
    const tree = processesWithEnv('TREE_MARKER', marker);
    expect(tree.length).toBeGreaterThanOrEqual(8);

    expect(await preemptRuns('loop-x/session-other')).toBe(0);
    expect(tree.filter((pid) => isAlive(pid))).toHaveLength(tree.length);

    expect(await preemptRuns('loop-x/session-001')).toBe(1);
    expect(tree.filter((pid) => isAlive(pid))).toEqual([]);
    expect(processesWithEnv('TREE_MARKER', marker)).toEqual([]);
    // Time for a run that did not wait to return before the cancel comes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    order.push('cancel');
    cancel.abort();
    expect(await running).toMatchObject({ status: 'cancelled' });
    expect(order).toEqual(['cancel', 'returned']);
  });

  test("stop --now does not wait out a run's own grace: a slow cleanup trap is cut short", async () => {
    const dir = await testdir();
    const ready = join(dir, 'trap.ready');
    const trace = join(dir, 'trap.trace');
    const cancel = new AbortController();
    onTestFinished(() => cancel.abort());
    // A cleanup that takes 3 s, well inside the run's own grace (an agent CLI's 10 s) and far past
    // stop --now's: it begins on SIGTERM and must never end.
    writeFileSync(
      join(dir, 'trap.sh'),
      [
        `trap 'echo begun >> trap.trace; sleep 3; echo ended >> trap.trace; exit 0' TERM`,
        'echo started > trap.ready',
        'while :; do sleep 0.05; done',
      ].join('\n'),
    );
    const running = launch({
      command: 'bash trap.sh',
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdoutFile: join(dir, 'out.log'),
      stderrFile: join(dir, 'err.log'),
      timeoutMs: 60_000,
      graceMs: 10_000,
      cancelSignal: cancel.signal,
      preemptKey: 'loop-y/session-001',
    });
    await expect.poll(() => existsSync(ready), { timeout: 30_000 }).toBe(true);
    expect(await preemptRuns('loop-y/session-001')).toBe(1);
    cancel.abort();
    expect(await running).toMatchObject({ status: 'cancelled', survivors: [] });
    // Its trap began (SIGTERM came first) and was killed mid-way: the run's 10 s were not waited out.
    await expect.poll(() => existsSync(trace) && readFileSync(trace, 'utf8'), { timeout: 10_000 }).toBe('begun\n');
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(readFileSync(trace, 'utf8')).toBe('begun\n');
  });
});
