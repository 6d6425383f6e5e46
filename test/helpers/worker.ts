import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { workerLogger } from '../../worker/logger.js';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, inject } from 'vitest';
import { createLoopWorkers, type LoopWorkerOptions, type LoopWorkers } from '../../worker/create-worker.js';

let runtimeReady = false;

export interface TestWorker {
  client: Client;
  taskQueue: string;
  address: string;
  namespace: string;
  workers: LoopWorkers;
  /** Shuts the workers down and waits for them to stop. */
  stop(): Promise<void>;
}

/** A worker on a task queue of its own against the shared dev server; each test gets its own. */
export async function startTestWorker(options: {
  allowRoots: string[];
  taskQueue?: string;
  maxConcurrentAgents?: number;
  identity?: string;
  wrapActivities?: LoopWorkerOptions['wrapActivities'];
}): Promise<TestWorker> {
  if (!runtimeReady) {
    Runtime.install({ logger: workerLogger(), shutdownSignals: [] });
    runtimeReady = true;
  }
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const workers = await createLoopWorkers({
    connection: nativeConnection,
    namespace,
    taskQueue,
    allowRoots: options.allowRoots,
    maxConcurrentAgents: options.maxConcurrentAgents ?? 4,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    shutdownGraceTime: '2s',
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.wrapActivities ? { wrapActivities: options.wrapActivities } : {}),
  });
  const running = workers.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    client,
    taskQueue,
    address,
    namespace,
    workers,
    stop: async () => {
      workers.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/**
 * The usual setup of a test file: one worker (loop roots allowed under the temp folder) started
 * before its tests and stopped after them; the returned object reads through to it.
 */
export function useTestWorker(
  options: {
    taskQueue?: string;
    maxConcurrentAgents?: number;
    identity?: string;
    wrapActivities?: LoopWorkerOptions['wrapActivities'];
  } = {},
): TestWorker {
  let worker: TestWorker | undefined;
  beforeAll(async () => {
    worker = await startTestWorker({ allowRoots: [await realpath(tmpdir())], ...options });
  });
  afterAll(async () => {
    await worker?.stop();
  });
  const current = (): TestWorker => {
    if (!worker) throw new Error('useTestWorker(): the worker starts in beforeAll; use it inside tests');
    return worker;
  };
  return {
    get client() {
      return current().client;
    },
    get taskQueue() {
      return current().taskQueue;
    },
    get address() {
      return current().address;
    },
    get namespace() {
      return current().namespace;
    },
    get workers() {
      return current().workers;
    },
    stop: () => current().stop(),
  };
}
