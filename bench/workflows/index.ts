import {
  condition,
  defineSignal,
  executeChild,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PrimitiveActivities } from '../lib/primitive-activities.js';

/**
 * Tiny workflows that time one Temporal primitive each, on the same server and worker settings as
 * the engine (bench/benchmarks/overhead.ts): the floor under what a loop session can cost.
 */

const acts = proxyActivities<PrimitiveActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<PrimitiveActivities>({ startToCloseTimeout: '1 minute' });

export const pingSignal = defineSignal<[number]>('ping');

export async function emptyWorkflow(): Promise<void> {}

/** `n` regular activities one after another: each is a full round trip through the server. */
export async function activityLoopWorkflow(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await acts.noop();
}

/** `n` local activities one after another: run inside the workflow task, one marker each. */
export async function localActivityLoopWorkflow(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await local.noop();
}

/** `n` child workflows one after another, each awaited to its result (as the loop awaits a session). */
export async function childLoopWorkflow(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await executeChild(emptyWorkflow, { workflowId: `${workflowInfo().workflowId}/child-${i}` });
}

/** Waits for `n` pings; each starts an activity that reports its arrival (signal → activity latency). */
export async function signalToActivityWorkflow(n: number): Promise<void> {
  const inbox: number[] = [];
  setHandler(pingSignal, (i) => {
    inbox.push(i);
  });
  for (let i = 0; i < n; i++) {
    await condition(() => inbox.length > 0);
    await acts.mark(inbox.shift()!);
  }
}
