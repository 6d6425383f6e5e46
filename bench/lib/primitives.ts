import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type * as primitiveWorkflows from '../workflows/index.js';
import { type BenchEnv, newTaskQueue } from './env.js';
import { createPrimitiveActivities } from './primitive-activities.js';

/**
 * The Temporal primitives a loop session is built from, timed on the benchmark's own server with a
 * worker of their own (bench/workflows/, bundled separately): the floor under the engine.
 */

const WORKFLOWS = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
type WorkflowName = Exclude<keyof typeof primitiveWorkflows, 'pingSignal'>;

export interface PrimitiveRound {
  /** One sequential regular activity, as the workflow sees it (schedule → result → next schedule). */
  activityMs: number;
  localActivityMs: number;
  /** One child workflow, start to result. */
  childMs: number;
  /** Client signal sent → the activity it triggers has started; one sample per ping. */
  signalToActivityMs: number[];
}

export interface PrimitiveBench {
  round(opsPerRun: number): Promise<PrimitiveRound>;
  stop(): Promise<void>;
}

export async function startPrimitiveBench(env: BenchEnv): Promise<PrimitiveBench> {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: env.log, error: env.log };
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: quiet });
  const taskQueue = newTaskQueue('primitives');
  const waiters = new Map<number, (at: number) => void>();
  const worker = await Worker.create({
    connection: await env.nativeConnection(),
    namespace: env.namespace,
    taskQueue,
    workflowBundle: { code },
    activities: createPrimitiveActivities((i) => waiters.get(i)?.(performance.now())),
    // The same slot count as the engine's main worker (createLoopWorkers' default).
    maxConcurrentActivityTaskExecutions: 4,
  });
  const running = worker.run();
  let n = 0;
  const id = (kind: string) => `bench-${kind}-${taskQueue}-${n++}`;
  const timed = async (type: WorkflowName, args: [number] | []): Promise<number> => {
    const started = performance.now();
    await env.client.workflow.execute(type, { workflowId: id(type), taskQueue, args });
    return performance.now() - started;
  };

  const signalLatencies = async (count: number): Promise<number[]> => {
    const handle = await env.client.workflow.start('signalToActivityWorkflow', {
      workflowId: id('signal'),
      taskQueue,
      args: [count],
    });
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const arrived = new Promise<number>((resolve) => waiters.set(i, resolve));
      const sent = performance.now();
      await handle.signal('ping', i);
      samples.push((await arrived) - sent);
      waiters.delete(i);
    }
    await handle.result();
    return samples;
  };

  return {
    round: async (ops) => {
      // A workflow that does nothing: its start and completion are subtracted from the loops below.
      const empty = Math.min(
        await timed('emptyWorkflow', []),
        await timed('emptyWorkflow', []),
        await timed('emptyWorkflow', []),
      );
      const per = async (type: WorkflowName) => Math.max(0, (await timed(type, [ops])) - empty) / ops;
      return {
        activityMs: await per('activityLoopWorkflow'),
        localActivityMs: await per('localActivityLoopWorkflow'),
        childMs: await per('childLoopWorkflow'),
        signalToActivityMs: await signalLatencies(Math.min(ops, 20)),
      };
    },
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}
