import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { type Activities, createActivities } from '../activities/index.js';
import { workflowBundlePath } from './workflow-bundle.js';

export interface LoopWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Loop roots must lie inside one of these (absolute) folders. */
  allowRoots: readonly string[];
  /** Agent and evidence runs at once on this worker (regular activities). @default 4 */
  maxConcurrentAgents?: number;
  /**
   * Workflows kept in memory between their tasks; one that is not is replayed from its history at
   * its next task. @default {@link DEFAULT_MAX_CACHED_WORKFLOWS}
   */
  maxCachedWorkflows?: number;
  /** A prebuilt bundle (tests build one per run); else the cached bundle of this source tree (built once, ~5 s). */
  workflowBundle?: WorkflowBundleOption;
  /** How long running agents get to finish on shutdown before they are cancelled. @default 10 s */
  shutdownGraceTime?: string | number;
  identity?: string;
  /** Wraps the activities before the workers get them (tests script agent results through it). */
  wrapActivities?: (activities: Activities) => Activities;
}

/**
 * The SDK sizes its workflow cache from V8's heap limit (about 2,300 workflows on a 24 GB machine),
 * so a worker with many loops keeps every one of them, and V8 lets the heap grow long before it
 * collects: 200 busy loops (400 workflows) peaked near 560 MB on 2026-12-06. A loop's workflow waits
 * minutes between tasks, so replaying one that left the cache costs little (BENCH.md, `concurrency`).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

/** The side queue of a task queue: file steps run remotely and flag watchers (never capped by agents). */
export const ioQueue = (taskQueue: string) => `${taskQueue}.io`;

export interface LoopWorkers {
  workers: Worker[];
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * Two workers share one connection: the main one serves the workflows, their local file steps and
 * at most `maxConcurrentAgents` agent and evidence runs; the `.io` one serves flag watchers and the
 * file steps of loops whose agents run here while their workflow runs elsewhere. A watcher that
 * waits for an external reviewer for an hour must never hold an agent slot.
 */
export async function createLoopWorkers(options: LoopWorkerOptions): Promise<LoopWorkers> {
  const client = new Client({ connection: options.connection, namespace: options.namespace });
  const created = createActivities({ allowRoots: options.allowRoots.map((r) => resolve(r)), client });
  const activities = options.wrapActivities ? options.wrapActivities(created) : created;
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    activities,
    // Cancellation reaches an activity only in a heartbeat's response: running agents heartbeat
    // every BEAT_MS (100 ms, activities/agents/launch.ts) and the worker flushes them as often, so
    // `stop --now` reaches the run within about 100 ms plus a round trip. Activities that heartbeat
    // less often (flag watchers, every 5 s) are not sent more often by this.
    maxHeartbeatThrottleInterval: '100ms',
    defaultHeartbeatThrottleInterval: '100ms',
    shutdownGraceTime: options.shutdownGraceTime ?? '10s',
    ...(options.identity ? { identity: options.identity } : {}),
  } as const;
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? {
      codePath: await workflowBundlePath((line) => process.stderr.write(`${line}\n`)),
    },
    maxConcurrentActivityTaskExecutions: options.maxConcurrentAgents ?? 4,
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
  });
  const io = await Worker.create({
    ...common,
    taskQueue: ioQueue(options.taskQueue),
    maxConcurrentActivityTaskExecutions: 200,
  });
  const workers = [main, io];
  return {
    workers,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
