import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LoopResult, LoopStatus } from '../protocol/schemas/messages.js';
import { approveUpdate, statusQuery } from '../workflows/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { node, toyRoot, toySpec } from './helpers/loops.js';
import { useTestWorker } from './helpers/worker.js';

/** An agent supervisor decides, held to the engine's rules (docs/protocol.md#agent-supervisor). */
const worker = useTestWorker();

describe('agent supervisor', () => {
  test('its decision is taken, a bad block falls back to the built-in one, and a stop without cause asks the user', async () => {
    const root = await toyRoot({ 'judge-plan.json': JSON.stringify({ 1: 'keep', 2: 'garbage', 3: 'stop' }) });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 5 },
      reviewers: [],
      supervisor: { name: 'judge', agent: 'shell', command: node('judge.mjs') },
    });
    const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
      workflowId: `loop-judge-${process.pid}-${Date.now()}`,
      taskQueue: worker.taskQueue,
      args: [{ config }],
    });
    let waiting: LoopStatus | undefined;
    for (let i = 0; i < 300 && !waiting; i++) {
      const s = await handle.query(statusQuery).catch(() => undefined);
      if (s?.pending?.kind === 'approval') waiting = s;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(waiting?.pending).toMatchObject({ session: 3, decision: 'ask_user' });
    // The agent's stop, turned into a question, leaves the best where it was (`agent-ask-holds-best`):
    // the built-in rules would have promoted session 3, the agent did not.
    expect(waiting?.best?.session).toBe(2);
    await handle.executeUpdate(approveUpdate, { args: [{ session: 3 }] });
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('supervisor_stop_approved');
    expect(result.history.map((h) => h.class)).toEqual(['keep', 'promote', 'ask_user']);

    const source = async (n: number) =>
      /^source: (.*)$/m.exec(
        await readFile(join(root, `loop_station/sessions/session_00${n}/decision.md`), 'utf8'),
      )?.[1];
    expect([await source(1), await source(2), await source(3)]).toEqual(['agent', 'builtin-fallback', 'agent']);
    // The agent's own text is kept beside the engine's decision.
    expect(await readdir(join(root, 'loop_station/sessions/session_002'))).toContain('decision.agent.md');
    const third = await readFile(join(root, 'loop_station/sessions/session_003/decision.md'), 'utf8');
    expect(third).toMatch(/^on_approve: stop\non_deny: keep$/m);
    expect(third).toMatch(/^best_session: 0*2$/m);
  });

  test('a budget stop on the last session ends the loop, and the agent supervisor judges whether its candidate is the best', async () => {
    // Each toy session beats the last: the built-in rules alone would make session 2 the best.
    const run = async (plan: Record<number, string>) => {
      const root = await toyRoot({ 'judge-plan.json': JSON.stringify(plan) });
      const config = toySpec(root, worker.taskQueue, {
        budget: { sessions: 2 },
        reviewers: [],
        supervisor: { name: 'judge', agent: 'shell', command: node('judge.mjs') },
      });
      const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
        workflowId: `loop-judge-budget-${process.pid}-${Date.now()}-${plan[2]}`,
        taskQueue: worker.taskQueue,
        args: [{ config }],
      });
      const result = (await handle.result()) as LoopResult;
      const decision = await readFile(join(root, 'loop_station/sessions/session_002/decision.md'), 'utf8');
      const prompt = await readFile(
        join(root, 'loop_station/sessions/session_002/runs/JUDGE-SUPERVISOR.prompt.md'),
        'utf8',
      );
      return { result, decision, prompt };
    };
    const [kept, promoted] = await Promise.all([run({ 1: 'keep', 2: 'keep' }), run({ 1: 'keep', 2: 'promote' })]);
    for (const { result, decision, prompt } of [kept, promoted]) {
      // The budget's stop is not the agent's to judge: the loop ends with its reason.
      expect([result.stopReason, result.history.map((h) => h.class)]).toEqual(['budget_sessions', ['keep', 'stop']]);
      expect(decision).toMatch(/^class: stop$/m);
      expect(decision).toMatch(/^stop_reason: budget_sessions$/m);
      expect(decision).toMatch(/^source: agent$/m);
      expect(prompt).toContain('the loop ends after this decision');
    }
    // The agent's keep leaves the best where it was (the baseline), its promote makes session 2 the best.
    expect(kept.result.best?.session).toBe(0);
    expect(kept.decision).toMatch(/^best_session: 0*0$/m);
    expect(kept.decision).toContain('keep: the best stays as it was');
    expect(promoted.result.best?.session).toBe(2);
    expect(promoted.decision).toMatch(/^best_session: 0*2$/m);
  });
});
