import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { type LoopConfig, toLoopConfig } from '../../protocol/schemas/loop-config.js';
import { type LoopSpecInput, LoopSpecSchema } from '../../protocol/schemas/loop-spec.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import type { loopWorkflow } from '../../workflows/loop.js';

/** Loop roots and specs for benchmarks: near no-op shell agents, or the toy node agents of the tests. */

export const BENCH_AGENTS = fileURLToPath(new URL('../agents/', import.meta.url));
export const TEST_AGENTS = fileURLToPath(new URL('../../test/fixtures/agents/', import.meta.url));

const sh = (script: string) => `sh ${JSON.stringify(join(BENCH_AGENTS, script))}`;
export const nodeAgent = (script: string, ...args: string[]) =>
  [process.execPath, join(TEST_AGENTS, script), ...args].map((a) => JSON.stringify(a)).join(' ');

/** A fresh loop root under `parent`: work/x.txt = 0 and the evaluator copied in (it is protected). */
export async function makeRoot(parent: string, label: string, kind: 'noop' | 'toy'): Promise<string> {
  const root = await mkdtemp(join(parent, `${label}-`));
  await mkdir(join(root, 'work'));
  await writeFile(join(root, 'work/x.txt'), '0\n');
  if (kind === 'noop') await copyFile(join(BENCH_AGENTS, 'noop-eval.sh'), join(root, 'eval.sh'));
  else await copyFile(join(TEST_AGENTS, 'toy-eval.mjs'), join(root, 'eval.mjs'));
  return root;
}

const base = (root: string, taskQueue: string, sessions: number) => ({
  name: 'bench',
  root,
  goal: 'Raise x by one per session (benchmark)',
  budget: { sessions, perRun: '5m' },
  workspace: ['work/**'],
  reviewWait: { startTimeout: '10m', doneTimeout: '10m', heartbeatTimeout: '10m', skipOnTimeout: true },
  taskQueue,
});

/**
 * Executor, reviewer and evaluator are one `sh` process each that writes the artifacts the gates
 * want; `reviewer: 'external'` makes the reviewer a person or agent that writes flags itself.
 */
export function noopSpec(
  root: string,
  taskQueue: string,
  sessions: number,
  options: { reviewer: 'noop' | 'external' | 'none' },
  overrides: Partial<LoopSpecInput> = {},
): LoopConfig {
  const reviewers = {
    noop: [{ name: 'noop_rev', agent: 'shell' as const, command: sh('noop-reviewer.sh'), required: true }],
    external: [{ name: 'outside', agent: 'external' as const, required: true }],
    none: [],
  }[options.reviewer];
  const spec = LoopSpecSchema.parse({
    ...base(root, taskQueue, sessions),
    evidence: {
      command: 'sh eval.sh',
      metric: 'score',
      direction: 'maximize',
      protect: ['guard >= 1'],
      plateau: 3,
      minDelta: 0,
    },
    protected: ['eval.sh'],
    executor: { name: 'noop_exec', agent: 'shell', command: sh('noop-executor.sh') },
    reviewers,
    ...overrides,
  });
  return toLoopConfig(spec, root);
}

/** The toy loop of the engine tests: node executor, node reviewer, node evaluator (deterministic). */
export function toyLoopSpec(
  root: string,
  taskQueue: string,
  sessions: number,
  overrides: Partial<LoopSpecInput> = {},
): LoopConfig {
  const spec = LoopSpecSchema.parse({
    ...base(root, taskQueue, sessions),
    evidence: {
      command: `${JSON.stringify(process.execPath)} eval.mjs`,
      metric: 'score',
      direction: 'maximize',
      protect: ['guard >= 1'],
      plateau: 3,
      minDelta: 0,
    },
    // A protected pattern must match a file at frame lock: plan.json only where the bench wrote one.
    protected: ['eval.mjs', ...(existsSync(join(root, 'plan.json')) ? ['plan.json'] : [])],
    executor: { name: 'toy_exec', agent: 'shell', command: nodeAgent('toy-executor.mjs') },
    reviewers: [{ name: 'toy_rev', agent: 'shell', command: nodeAgent('toy-reviewer.mjs'), required: true }],
    ...overrides,
  });
  return toLoopConfig(spec, root);
}

export async function startLoop(client: Client, config: LoopConfig, workflowId: string) {
  return client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId,
    taskQueue: config.taskQueue,
    args: [{ config }],
  });
}

export async function runLoop(client: Client, config: LoopConfig, workflowId: string): Promise<LoopResult> {
  return (await (await startLoop(client, config, workflowId)).result()) as LoopResult;
}

/** Every flag file of one session folder (names only). */
export async function sessionFlags(root: string, session: number): Promise<string[]> {
  return readdir(join(root, 'loop_station/flags', `session_${String(session).padStart(3, '0')}`)).catch(() => []);
}
