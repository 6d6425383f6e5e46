import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { toyRoot, toySpec } from './helpers/loops.js';
import { startTestWorker, type TestWorker } from './helpers/worker.js';

/**
 * Scale-out: a loop's agents go to the spec's taskQueue (a GPU machine, say) while its workflow
 * runs on another worker; its file steps follow the agents (the machine that holds the files).
 */
let control: TestWorker;
let gpu: TestWorker;
beforeAll(async () => {
  const roots = [await realpath(tmpdir())];
  control = await startTestWorker({ allowRoots: roots, identity: 'control-machine' });
  gpu = await startTestWorker({
    allowRoots: roots,
    taskQueue: `gpu-${randomUUID()}`,
    maxConcurrentAgents: 1,
    identity: 'gpu-machine',
  });
});
afterAll(async () => {
  await control?.stop();
  await gpu?.stop();
});

describe('task-queue routing', () => {
  test('agents and file steps run on the routed worker, the workflow on its own', async () => {
    const root = await toyRoot();
    const config = toySpec(root, gpu.taskQueue, { budget: { sessions: 2 } });
    const workflowId = `loop-routed-${randomUUID()}`;
    const handle = await control.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId,
      taskQueue: control.taskQueue,
      args: [{ config, localFiles: false }],
    });
    const result = (await handle.result()) as LoopResult;
    expect(result.history.map((h) => h.class)).toEqual(['promote', 'stop']);

    // Lean sessions (patch lean-session-v1): the session workflow runs the steps up to the decision,
    // and the loop writes the close; both histories must send every file step to the GPU machine.
    const byIdentity = new Map<string, Set<string>>();
    for (const id of [`${workflowId}/session-001`, workflowId]) {
      const history = await control.client.workflow.getHandle(id).fetchHistory();
      const scheduled = new Map<string, string>();
      for (const event of history.events ?? []) {
        const s = event.activityTaskScheduledEventAttributes;
        if (s) scheduled.set(String(event.eventId), `${s.activityType?.name}@${s.taskQueue?.name}`);
        const started = event.activityTaskStartedEventAttributes;
        if (started) {
          const what = scheduled.get(String(started.scheduledEventId))!;
          byIdentity.set(started.identity!, (byIdentity.get(started.identity!) ?? new Set()).add(what.split('@')[0]!));
        }
        const wft = event.workflowTaskStartedEventAttributes;
        if (wft) byIdentity.set(`workflow:${wft.identity}`, new Set(['workflow task']));
      }
    }
    expect([...byIdentity.keys()].sort()).toEqual(['gpu-machine', 'workflow:control-machine']);
    expect([...byIdentity.get('gpu-machine')!]).toEqual(
      // Since folded-file-steps and one-step-close, opening, self-review and closing run in fileBatch.
      expect.arrayContaining([
        'emitFlag',
        'fileBatch',
        'inspectExecutor',
        'inspectReview',
        'runAgent',
        'runEvidence',
        'checkWorkspace',
        'lockFrame',
      ]),
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});
