import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { runCli } from './helpers/cli.js';
import { runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

describe('fork', () => {
  test('a new loop starts from session N: its workspace, its value as the baseline, the origin recorded, the redirect applied', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 1: 7, 2: 3, 3: 9 }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 4 }, reviewers: [] });
    const { workflowId } = await runLoop(worker.client, worker.taskQueue, config);
    const forked = await runCli(['fork', workflowId, '--from-session', '1', '--name', `forked-${process.pid}-${Date.now()}`, '--redirect', 'try the other axis', '--json']);
    expect(forked.code).toBe(0);
    const { workflowId: newId, root: newRoot, sessions } = JSON.parse(forked.stdout) as { workflowId: string; root: string; sessions: number };
    expect([newRoot, sessions]).toEqual([`${root}-fork-001`, 3]);
    const result = (await worker.client.workflow.getHandle(newId).result()) as LoopResult;
    // Session 1 of the original left x = 7: that is the fork's baseline, and its sessions build on it.
    expect(result.baseline).toBe(7);
    expect(await readFile(join(newRoot, 'loop_station/FRAME.md'), 'utf8')).toMatch(new RegExp(`Forked from ${workflowId} at session 001`));
    expect(await readFile(join(newRoot, 'loop_station/forked_from/decision.md'), 'utf8')).toMatch(/^class: promote$/m);
    expect(await readFile(join(newRoot, 'loop_station/sessions/session_001/runs/TOY_EXEC-EXECUTOR.prompt.md'), 'utf8')).toMatch(/^- try the other axis$/m);
    expect(result.interventions.map((i) => i.kind)).toEqual(['fork', 'redirect', 'budget_warning']);
    // The original is untouched.
    expect(await readFile(join(root, 'work/x.txt'), 'utf8')).toBe('10\n');
  });
});
