import { type ChildProcess, spawn } from 'node:child_process';
import { DEFAULTS, type DevServer, startDevServer } from '../../server/dev-server.js';
import { BIN_PATH } from '../../server/package-paths.js';
import { ensureTemporalBinary } from '../../server/temporal-binary.js';
import { ExitCode, ExitError } from '../exit-codes.js';
import type { Output } from '../output.js';


export interface DevOptions {
  port?: number;
  uiPort?: number;
  headless?: boolean;
  db?: string;
  taskQueue?: string;
  allowRoot?: string[];
  maxConcurrentAgents?: number;
  worker?: boolean;
}

export interface DevStack {
  server: DevServer;
  worker: ChildProcess | null;
  /** Stops the worker (letting it drain), then the server; idempotent. */
  stop(): Promise<void>;
  /** Settles when the worker or the server ends by itself. */
  ended: Promise<string>;
}

/** Starts the worker as a child process: the CLI stays a client and never loads worker code itself. */
export function spawnWorker(address: string, namespace: string, options: Pick<DevOptions, 'taskQueue' | 'allowRoot' | 'maxConcurrentAgents'>): ChildProcess {
  const args = [BIN_PATH, 'worker', '--address', address, '--namespace', namespace, '--task-queue', options.taskQueue ?? DEFAULTS.taskQueue];
  for (const root of options.allowRoot?.length ? options.allowRoot : [process.cwd()]) args.push('--allow-root', root);
  if (options.maxConcurrentAgents) args.push('--max-concurrent-agents', String(options.maxConcurrentAgents));
  // The IPC channel is how the worker knows this process is gone, whatever killed it (worker/main.ts).
  return spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/** Binary, dev server (UI, SQLite state, search attributes, retention) and a worker: the local stack. */
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
  return { server, worker, stop, ended };
}

/** `loop-station dev`: runs until Ctrl-C / SIGTERM, then stops everything it started. */
export async function devCommand(options: DevOptions, out: Output): Promise<void> {
  const stack = await startDevStack(options, out);
  out.data(`Temporal gRPC: ${stack.server.address}`);
  out.data(`Temporal UI:   ${stack.server.uiUrl ?? '(headless)'}`);
  out.data(`State:         ${options.db ?? DEFAULTS.dbFile}`);
  out.log('loop-station dev is running; Ctrl-C stops the worker and the server');
  const signalled = new Promise<string>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
  });
  const why = await Promise.race([signalled, stack.ended]);
  out.log(`stopping (${why})`);
  await stack.stop();
  if (!['SIGINT', 'SIGTERM'].includes(why)) throw new ExitError(ExitCode.failed, `loop-station dev stopped: ${why}`);
}
