import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from '@temporalio/client';
import { type Readiness, ReadinessSchema } from '../protocol/schemas/cli-output.js';
import { SEARCH_ATTRIBUTES } from '../server/defaults.js';

/**
 * Whether a Temporal namespace can run loops now: the loop search attributes exist (a start
 * without them fails) and a worker polls the task queue (without one nothing moves). What
 * `loop-station dev` waits for before it says it is ready, and what `server status` reports.
 */
export type { Readiness };

const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

export async function missingSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = listed.customAttributes ?? {};
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in custom));
}

export async function checkReadiness(
  connection: Connection,
  target: { address: string; namespace: string; taskQueue: string | null },
): Promise<Readiness> {
  const missing = await missingSearchAttributes(connection, target.namespace);
  let pollers: number | null = null;
  if (target.taskQueue !== null) {
    const described = await connection.workflowService.describeTaskQueue({
      namespace: target.namespace,
      taskQueue: { name: target.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
    });
    pollers = described.pollers?.length ?? 0;
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`namespace ${target.namespace} lacks the search attributes ${missing.join(', ')}`);
  if (pollers === 0) problems.push(`no worker polls task queue ${target.taskQueue}`);
  return ReadinessSchema.parse({
    ...target,
    missingSearchAttributes: missing,
    workflowPollers: pollers,
    ready: problems.length === 0,
    problems,
  });
}

/** Polls until ready or `timeoutMs` has passed; returns the last state either way. */
export async function waitReady(
  check: () => Promise<Readiness>,
  timeoutMs: number,
  options: { intervalMs?: number; stop?: () => string | undefined } = {},
): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await check();
    const stopped = options.stop?.();
    if (state.ready || Date.now() >= deadline) return state;
    if (stopped !== undefined) return { ...state, problems: [...state.problems, stopped] };
    await sleep(options.intervalMs ?? 200);
  }
}
