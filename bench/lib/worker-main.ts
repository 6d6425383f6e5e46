import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createLoopWorkers } from '../../worker/create-worker.js';

/**
 * `loop-station worker` with a prebuilt workflow bundle (`--bundle`): the same createLoopWorkers,
 * minus the ~2–5 s of bundling at every start. Spawned by worker-process.ts for chaos runs, which
 * restart the worker many times; it logs the same `worker on …` line when it polls.
 */
const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    namespace: { type: 'string', default: 'default' },
    'task-queue': { type: 'string' },
    'allow-root': { type: 'string', multiple: true },
    'max-concurrent-agents': { type: 'string' },
    bundle: { type: 'string' },
    // sdk-core's DEBUG log as JSON lines on stdout, for the critical path (bench/lib/critical-path.ts).
    'core-log': { type: 'boolean', default: false },
  },
});
if (!values.address || !values['task-queue'] || !values.bundle || !values['allow-root']?.length) {
  process.stderr.write(
    'usage: worker-main.ts --address host:port --task-queue q --allow-root dir --bundle file [--namespace ns] [--max-concurrent-agents n] [--core-log]\n',
  );
  process.exitCode = 2;
} else {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(values['core-log']
      ? { telemetryOptions: { logging: { filter: { core: 'DEBUG', other: 'WARN' }, console: { format: 'json' } } } }
      : {}),
  });
  const connection = await NativeConnection.connect({ address: values.address });
  const workers = await createLoopWorkers({
    connection,
    namespace: values.namespace,
    taskQueue: values['task-queue'],
    allowRoots: values['allow-root'].map((r) => resolve(r)),
    workflowBundle: { codePath: values.bundle },
    identity: `bench-worker:${process.pid}`,
    ...(values['max-concurrent-agents'] ? { maxConcurrentAgents: Number(values['max-concurrent-agents']) } : {}),
  });
  process.stderr.write(
    `worker on ${values.address} namespace ${values.namespace} task queue ${values['task-queue']} (pid ${process.pid})\n`,
  );
  try {
    await workers.run();
  } finally {
    await connection.close();
  }
}
