import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { type LoopConfig, toLoopConfig } from '../../protocol/schemas/loop-config.js';
import { type LoopSpecInput, LoopSpecSchema } from '../../protocol/schemas/loop-spec.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import type { loopWorkflow } from '../../workflows/loop.js';
import { testdir } from './testdir.js';

export const FIXTURE_AGENTS = fileURLToPath(new URL('../fixtures/agents/', import.meta.url));
export const node = (script: string, ...args: string[]) =>
  [process.execPath, join(FIXTURE_AGENTS, script), ...args].map((a) => JSON.stringify(a)).join(' ');

/** A loop root with the toy problem: work/x.txt is the workspace, eval.mjs the protected evaluator. */
export async function toyRoot(files: Record<string, string> = {}): Promise<string> {
  const root = await testdir({ 'work/x.txt': '0\n', ...files });
  await copyFile(join(FIXTURE_AGENTS, 'toy-eval.mjs'), join(root, 'eval.mjs'));
  return root;
}

/**
 * A toy loop spec whose agents run on `taskQueue` (the test's worker); `overrides` replace top-level
 * fields. The evaluator is protected, and the plans the toy agents read where the root has them: a
 * protected pattern must match a file when the frame locks.
 */
export function toySpec(root: string, taskQueue: string, overrides: Partial<LoopSpecInput> = {}): LoopConfig {
  const spec = LoopSpecSchema.parse({
    name: 'toy',
    root,
    goal: 'Raise the toy score without touching the evaluator',
    budget: { sessions: 3, perRun: '30s' },
    evidence: {
      command: `${JSON.stringify(process.execPath)} eval.mjs`,
      metric: 'score',
      direction: 'maximize',
      protect: ['guard >= 1'],
      plateau: 3,
      minDelta: 0,
    },
    workspace: ['work/**'],
    protected: ['eval.mjs', ...['plan.json', 'review-plan.json'].filter((f) => existsSync(join(root, f)))],
    executor: { name: 'toy_exec', agent: 'shell', command: node('toy-executor.mjs') },
    reviewers: [{ name: 'toy_rev', agent: 'shell', command: node('toy-reviewer.mjs'), required: true }],
    reviewWait: { startTimeout: '20s', doneTimeout: '30s', heartbeatTimeout: '20s', skipOnTimeout: true },
    taskQueue,
    ...overrides,
  });
  return toLoopConfig(spec, root);
}

let counter = 0;
export async function runLoop(
  client: Client,
  taskQueue: string,
  config: LoopConfig,
  id?: string,
): Promise<{ workflowId: string; result: LoopResult }> {
  const workflowId = id ?? `loop-test-${process.pid}-${Date.now()}-${counter++}`;
  const handle = await client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId,
    taskQueue,
    args: [{ config }],
  });
  const result = (await handle.result()) as LoopResult;
  return { workflowId, result };
}

/** Flag names of one session folder in `seq` order (read from each body). */
export async function flagsInOrder(root: string, session: number): Promise<string[]> {
  const dir = join(root, 'loop_station', 'flags', `session_${String(session).padStart(3, '0')}`);
  const names = await readdir(dir);
  const withSeq = await Promise.all(
    names.map(async (n) => ({ n, seq: Number(/^seq: (\d+)$/m.exec(await readFile(join(dir, n), 'utf8'))?.[1] ?? -1) })),
  );
  return withSeq.sort((a, b) => a.seq - b.seq).map((f) => f.n);
}

/**
 * What the protocol's state machine found wrong in the engine's own steps, session by session
 * (SessionOutput.selfCheck): every list is empty unless the engine broke its protocol.
 */
export async function selfChecks(client: Client, loopWorkflowId: string, sessions: number): Promise<string[][]> {
  const out: string[][] = [];
  for (let n = 1; n <= sessions; n++) {
    const result = (await client.workflow
      .getHandle(`${loopWorkflowId}/session-${String(n).padStart(3, '0')}`)
      .result()) as { selfCheck?: string[] };
    out.push(result.selfCheck ?? ['(no selfCheck in this run)']);
  }
  return out;
}
