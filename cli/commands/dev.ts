import { type ChildProcess, spawn } from 'node:child_process';
import { sdk } from '../temporal-sdk.js';
import { type DevReady, DevReadySchema } from '../../protocol/schemas/cli-output.js';
import { DEFAULTS, type DevServer, startDevServer } from '../../server/dev-server.js';
import { devWorkerNodeFlags } from '../../server/defaults.js';
import { BIN_PATH } from '../../server/package-paths.js';
import { ensureTemporalBinary } from '../../server/temporal-binary.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import { emit, type Output } from '../output.js';
import { checkReadiness, type Readiness, waitReady } from '../readiness.js';
import type { ServedDashboard } from './ui.js';

export interface DevOptions {
  port?: number | undefined;
  uiPort?: number | undefined;
  headless?: boolean;
  db?: string;
  taskQueue?: string;
  allowRoot?: string[];
  maxConcurrentAgents?: number | undefined;
  worker?: boolean;
  /** false: no dashboard. @default true */
  dashboard?: boolean;
  /** @default 8234, or a free port when that is busy */
  dashboardPort?: number | undefined;
}

export interface DevStack {
  server: DevServer;
  worker: ChildProcess | null;
  /** What was checked before the stack counted as ready. */
  readiness: Readiness;
  /** Stops the worker (letting it drain), then the server; idempotent. */
  stop(): Promise<void>;
  /** Settles when the worker or the server ends by itself. */
  ended: Promise<string>;
}

/** How long the worker gets to poll its task queue after the server is up. */
const WORKER_READY_MS = 90_000;

/** Starts the worker as a child process: the CLI stays a client and never loads worker code itself. */
export function spawnWorker(
  address: string,
  namespace: string,
  options: Pick<DevOptions, 'taskQueue' | 'allowRoot' | 'maxConcurrentAgents'>,
): ChildProcess {
  const queue = options.taskQueue ?? DEFAULTS.taskQueue;
  const args = [BIN_PATH, 'worker', '--address', address, '--namespace', namespace, '--task-queue', queue];
  for (const root of options.allowRoot?.length ? options.allowRoot : [process.cwd()]) args.push('--allow-root', root);
  if (options.maxConcurrentAgents) args.push('--max-concurrent-agents', String(options.maxConcurrentAgents));
  // Its heap is capped from the start (both its threads) and its young generation bounded, each unless
  // the user's NODE_OPTIONS says otherwise.
  const node = devWorkerNodeFlags(process.env.NODE_OPTIONS);
  // The IPC channel is how the worker knows this process is gone, whatever killed it (worker/main.ts).
  return spawn(process.execPath, [...node, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/**
 * Binary, dev server (UI, SQLite state, search attributes, retention) and a worker: the local
 * stack. Returns once it is ready: the search attributes exist and the worker polls its queue, so
 * a loop submitted right after starts and moves.
 */
export async function startDevStack(options: DevOptions, out: Output): Promise<DevStack> {
  const binary = await ensureTemporalBinary({ log: (line) => out.log(`temporal: ${line}`) });
  const server = await startDevServer({
    binary: binary.path,
    port: options.port ?? DEFAULTS.port,
    ...(options.uiPort !== undefined ? { uiPort: options.uiPort } : {}),
    headless: options.headless ?? false,
    dbFile: options.db ?? DEFAULTS.dbFile,
    namespace: DEFAULTS.namespace,
  });
  const worker = options.worker === false ? null : spawnWorker(server.address, server.namespace, options);
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (worker && worker.exitCode === null && worker.signalCode === null) {
        worker.kill('SIGTERM');
        const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
        await exitOf(worker);
        clearTimeout(timer);
      }
      await server.stop();
    })());
  const ended = Promise.race([
    server.exited.then((code) => `the Temporal dev server exited (code ${code ?? 'signal'})`),
    ...(worker ? [exitOf(worker).then((code) => `the worker exited (code ${code ?? 'signal'})`)] : []),
  ]);
  let endedWhy: string | undefined;
  void ended.then((why) => (endedWhy = why));
  try {
    const connection = await sdk().Connection.connect({ address: server.address });
    try {
      const taskQueue = worker ? (options.taskQueue ?? DEFAULTS.taskQueue) : null;
      const target = { address: server.address, namespace: server.namespace, taskQueue };
      const readiness = await waitReady(() => checkReadiness(connection, target), WORKER_READY_MS, {
        stop: () => endedWhy,
      });
      if (!readiness.ready) {
        throw new ExitError(ExitCode.failed, `loop-station dev did not become ready: ${readiness.problems.join('; ')}`);
      }
      return { server, worker, readiness, stop, ended };
    } finally {
      await connection.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `loop-station dev`: says it is ready only once loops can run, then runs until Ctrl-C / SIGTERM. */
export async function devCommand(options: DevOptions, out: Output): Promise<DevReady> {
  const stack = await startDevStack(options, out);
  const dashboard = await startStackDashboard(stack, options, out).catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  const ready: DevReady = DevReadySchema.parse({
    ready: true,
    address: stack.server.address,
    namespace: stack.server.namespace,
    taskQueue: stack.readiness.taskQueue,
    ui: stack.server.uiUrl,
    db: options.db ?? DEFAULTS.dbFile,
    serverPid: stack.server.pid,
    workerPid: stack.worker?.pid ?? null,
    dashboard: dashboard?.url ?? null,
  });
  const polling =
    ready.taskQueue === null ? '(no worker: --no-worker)' : `, worker polling task queue ${ready.taskQueue}`;
  emit(out, ready, (r) =>
    [
      `Temporal gRPC: ${r.address}`,
      `Temporal UI:   ${r.ui ?? '(headless)'}`,
      `State:         ${r.db}`,
      ...(r.dashboard ? [`dashboard: ${r.dashboard}`] : []),
      `Ready:         search attributes registered${polling}`,
    ].join('\n'),
  );
  out.log('loop-station dev is ready; Ctrl-C stops the worker and the server');
  const signalled = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  const why = await Promise.race([signalled, stack.ended]);
  out.log(`stopping (${why})`);
  await dashboard?.stop();
  await stack.stop();
  if (!['SIGINT', 'SIGTERM'].includes(why)) throw new ExitError(ExitCode.failed, `loop-station dev stopped: ${why}`);
  return ready;
}

/** The dashboard of a local stack (loaded only when wanted), reading loops under the worker's allowed roots. */
export async function startStackDashboard(
  stack: DevStack,
  options: Pick<DevOptions, 'dashboard' | 'dashboardPort' | 'allowRoot'>,
  out: Output,
  print: { printUrl: boolean } = { printUrl: false },
): Promise<ServedDashboard | null> {
  if (options.dashboard === false) return null;
  const { serveDashboard } = await import('./ui.js');
  return serveDashboard(
    {
      address: stack.server.address,
      namespace: stack.server.namespace,
      temporalUi: stack.server.uiUrl,
      ...(options.dashboardPort !== undefined ? { port: options.dashboardPort } : {}),
      ...(options.allowRoot?.length ? { allowRoot: options.allowRoot } : {}),
    },
    out,
    print,
  );
}
