import { randomUUID } from 'node:crypto';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { type DevServer, findFreePorts, startDevServer } from '../../server/dev-server.js';
import { ensureTemporalBinary } from '../../server/temporal-binary.js';
import { createLoopWorkers, type LoopWorkers } from '../../worker/create-worker.js';
import { writeWorkflowBundle } from '../../worker/workflow-bundle.js';
import { spawnWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './worker-process.js';

/**
 * What every benchmark runs on: its own dev server (same dynamic config as `loop-station dev`, a
 * SQLite file like `dev`) on free ports, a client, a scratch folder for loop roots, the workflow
 * bundle built once, and workers in this process or in child processes. `close()` tears it all down.
 */
export interface BenchEnv {
  readonly binary: string;
  readonly server: DevServer;
  readonly address: string;
  readonly namespace: string;
  readonly client: Client;
  /** Real path of the scratch folder; loop roots go under it and workers allow it. */
  readonly workDir: string;
  log(line: string): void;
  /** The loop workflows bundled once, as a file (child workers load it too). */
  loopBundlePath(): Promise<string>;
  /** createLoopWorkers in this process on a fresh task queue, running. */
  startLoopWorkers(options?: { maxConcurrentAgents?: number }): Promise<InProcessWorkers>;
  /** A worker child process on `taskQueue`, tracked so close() ends it. */
  spawnWorker(
    options: Pick<WorkerProcessOptions, 'taskQueue' | 'maxConcurrentAgents' | 'nodeArgs' | 'coreLog'> & {
      bundled?: boolean;
    },
  ): Promise<WorkerProcess>;
  /** A NativeConnection for extra in-process workers (closed by close()). */
  nativeConnection(): Promise<NativeConnection>;
  close(): Promise<void>;
}

export interface InProcessWorkers {
  taskQueue: string;
  workers: LoopWorkers;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export const newTaskQueue = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export interface BenchEnvOptions {
  /** Server state in memory instead of a SQLite file (`loop-station dev` uses a file). @default false */
  inMemory?: boolean;
  /** More `--dynamic-config-value` pairs (experiments only; benchmarks use `dev`'s config). */
  extraDynamicConfig?: Record<string, unknown>;
  /** More `--sqlite-pragma` pairs over `dev`'s own (experiments only). */
  extraSqlitePragmas?: Record<string, string>;
}

export async function openBenchEnv(
  name: string,
  log: (line: string) => void,
  options: BenchEnvOptions = {},
): Promise<BenchEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    runtimeInstalled = true;
  }
  const binary = (await ensureTemporalBinary({ log })).path;
  const workDir = await realpath(await mkdtemp(join(tmpdir(), `loop-station-bench-${name}-`)));
  const [port] = await findFreePorts(1);
  const server = await startDevServer({
    binary,
    port: port!,
    headless: true,
    namespace: 'default',
    ...(options.inMemory ? {} : { dbFile: join(workDir, 'temporal.db') }),
    ...(options.extraDynamicConfig ? { extraDynamicConfig: options.extraDynamicConfig } : {}),
    ...(options.extraSqlitePragmas ? { extraSqlitePragmas: options.extraSqlitePragmas } : {}),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  let native: NativeConnection | null = null;
  let bundlePath: Promise<string> | null = null;
  const inProcess: InProcessWorkers[] = [];
  const children: WorkerProcess[] = [];

  const nativeConnection = async () => (native ??= await NativeConnection.connect({ address: server.address }));
  const env: BenchEnv = {
    binary,
    server,
    address: server.address,
    namespace: server.namespace,
    client,
    workDir,
    log,
    loopBundlePath: () =>
      (bundlePath ??= (async () => {
        const path = join(workDir, 'loop-workflows.js');
        await writeWorkflowBundle(path);
        return path;
      })()),
    startLoopWorkers: async (options = {}) => {
      const taskQueue = newTaskQueue(name);
      const workers = await createLoopWorkers({
        connection: await nativeConnection(),
        namespace: server.namespace,
        taskQueue,
        allowRoots: [workDir],
        maxConcurrentAgents: options.maxConcurrentAgents ?? 4,
        workflowBundle: { codePath: await env.loopBundlePath() },
        shutdownGraceTime: '2s',
      });
      const running = workers.run();
      const handle: InProcessWorkers = {
        taskQueue,
        workers,
        stop: async () => {
          workers.shutdown();
          await running;
        },
      };
      inProcess.push(handle);
      return handle;
    },
    spawnWorker: async (options) => {
      const worker = spawnWorkerProcess({
        address: server.address,
        namespace: server.namespace,
        taskQueue: options.taskQueue,
        allowRoot: workDir,
        // A core log is read back alone: its own file.
        logFile: join(workDir, options.coreLog ? `worker-${options.taskQueue}.log` : 'worker.log'),
        ...(options.coreLog ? { coreLog: true } : {}),
        ...(options.maxConcurrentAgents !== undefined ? { maxConcurrentAgents: options.maxConcurrentAgents } : {}),
        ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
        ...(options.bundled ? { bundlePath: await env.loopBundlePath() } : {}),
      });
      children.push(worker);
      return worker;
    },
    nativeConnection,
    close: async () => {
      for (const w of children) await w.stop();
      for (const w of inProcess) await w.stop();
      await native?.close();
      await connection.close();
      await server.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
  return env;
}
