import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { isAlive, killAll, processesWithEnv } from '../activities/agents/process-tree.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { runCli, runTemporal } from './helpers/cli.js';
import { FIXTURE_AGENTS, toyRoot, toySpec } from './helpers/loops.js';
import { until } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * `stop --now` against a bash-wrapped agent (test/fixtures/agents/bash-tree.sh): background children
 * and grandchildren (sleep, python, node), one in a session of its own, and in the `defer` case a
 * TERM trap that starts a slow cleanup once its foreground child ends. When the loop reports its
 * stop, no process of the tree may be left: neither one seen while it ran nor one forked since
 * (every process of an agent run carries the run's LOOP_STATION_ROOT).
 */

const worker = useTestWorker();

let n = 0;
async function startTreeLoop(mode: 'plain' | 'defer') {
  const root = await toyRoot();
  const ready = join(root, 'tree.ready');
  const command = `bash ${JSON.stringify(join(FIXTURE_AGENTS, 'bash-tree.sh'))} ${JSON.stringify(ready)} ${mode}`;
  const config = toySpec(root, worker.taskQueue, {
    budget: { sessions: 3, perRun: '5m' },
    reviewers: [],
    executor: { name: 'tree', agent: 'shell', command },
  });
  const name = `stop-now-${process.pid}-${Date.now()}-${n++}`;
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-${name}`,
    taskQueue: worker.taskQueue,
    args: [{ config: { ...config, name } }],
  });
  // A failed assertion must leave neither the loop nor its tree running.
  onTestFinished(async () => {
    await handle.terminate('test finished').catch(() => undefined);
    await killAll(processesWithEnv('LOOP_STATION_ROOT', root), 200);
  });
  await until(async () => existsSync(ready), 'the bash tree to start', 60_000);
  const tree = processesWithEnv('LOOP_STATION_ROOT', root);
  return { root, handle, name, tree };
}

describe('stop --now ends every process of a bash-wrapped agent', () => {
  test.each([
    { mode: 'plain' as const, via: 'loop-station stop --now' },
    { mode: 'defer' as const, via: 'temporal workflow signal' },
  ])('$mode bash tree, stopped by $via: no process of it is left once the loop reports the stop', async ({ mode }) => {
    const { root, handle, name, tree } = await startTreeLoop(mode);
    // The run's wrapper, sh -c, bash, and bash's children and grandchildren: the whole tree formed.
    expect(tree.length).toBeGreaterThanOrEqual(8);
    const sent =
      mode === 'plain'
        ? await runCli(['stop', name, '--now', '--reason', 'enough'])
        : await runTemporal([
            'workflow',
            'signal',
            '--workflow-id',
            `loop-${name}`,
            '--name',
            'stop',
            '--input',
            JSON.stringify({ mode: 'now', reason: 'enough' }),
          ]);
    expect(sent.code, sent.stderr).toBe(0);
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('user_stop');
    // No wait here: the loop's stop must come after the tree's end, not before it.
    expect(tree.filter((pid) => isAlive(pid))).toEqual([]);
    expect(processesWithEnv('LOOP_STATION_ROOT', root)).toEqual([]);
  });
});
