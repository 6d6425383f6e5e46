import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { resolve } from 'node:path';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { workerLogger } from './logger.js';
import { probeAddress } from '../server/address.js';
import { type ConnectionFlags, resolveConnection } from '../server/connection-options.js';
import { heapLimitGiven, nodeFlagGiven, WORKER_HEAP_MB } from '../server/defaults.js';
import { createLoopWorkers } from './create-worker.js';

export interface WorkerCommandOptions extends ConnectionFlags {
  taskQueue: string;
  /** Folders loop roots must lie in. @default the current directory */
  allowRoot?: string[];
  maxConcurrentAgents?: number;
  maxCachedWorkflows?: number;
  identity?: string;
  log?: (line: string) => void;
}

/** The connection failed: the CLI maps it to exit code 3 with the address it tried. */
export class WorkerConnectError extends Error {
  override readonly name = 'WorkerConnectError';
  constructor(
    readonly address: string,
    readonly namespace: string,
    readonly detail: string,
    readonly kind: 'refused' | 'unknown-host' | 'timeout' | 'other' = 'other',
  ) {
    super(`cannot reach Temporal at ${address}: ${detail}`);
  }
}

let runtimeInstalled = false;

/**
 * A worker bounds its memory whether or not it was started with a heap limit. With one (`dev` gives
 * its worker `--max-old-space-size`; a user may set NODE_OPTIONS), V8 keeps to it. Without one
 * (`loop-station worker` by hand), the limit is set now for the workflow thread, whose isolate V8
 * makes after this call, and the main thread, whose limit was fixed at its start, gets
 * `--optimize-for-size`, which V8 reads at every collection: it collects before it grows the heap.
 * 200 busy loops, RSS peak (2026-12-06, BENCH.md `concurrency`): 457 MB with the workflow thread
 * capped alone, 292.5 MB with `--optimize-for-size` too, 373.8 MB with both threads capped. The price:
 * about a fifth more CPU for the same workflow work (replaying the recorded histories), which a
 * heap limit avoids. `node --no-optimize-for-size` keeps V8's default (node refuses it in NODE_OPTIONS).
 */
function boundHeaps(): void {
  const { execArgv } = process;
  const nodeOptions = process.env.NODE_OPTIONS;
  if (heapLimitGiven(execArgv, nodeOptions)) return;
  setFlagsFromString(`--max-old-space-size=${WORKER_HEAP_MB}`);
  if (!nodeFlagGiven('--optimize-for-size', execArgv, nodeOptions)) setFlagsFromString('--optimize-for-size');
}

/**
 * `loop-station worker`: connects with the standard TEMPORAL_* settings plus flags, serves loops
 * until SIGINT/SIGTERM, then drains: running agents get the shutdown grace time, and what is still
 * running after it is cancelled so Temporal retries it on another worker.
 */
export async function runWorker(options: WorkerCommandOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!runtimeInstalled) {
    Runtime.install({ logger: workerLogger(), shutdownSignals: ['SIGINT', 'SIGTERM'] });
    runtimeInstalled = true;
  }
  const settings = resolveConnection(options);
  // A refused port or an unknown host is said at once, not after the native client's timeout.
  const probe = await probeAddress(settings.host, settings.port);
  if (!probe.ok) throw new WorkerConnectError(settings.address, settings.namespace, probe.detail, probe.kind);
  let connection: NativeConnection;
  let timer: NodeJS.Timeout | undefined;
  try {
    connection = await Promise.race([
      NativeConnection.connect({
        address: settings.address,
        ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
        ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
        ...(settings.metadata ? { metadata: settings.metadata } : {}),
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 8 s')), 8000);
      }),
    ]);
    clearTimeout(timer);
    // NativeConnection connects lazily on some paths: one cheap call proves the server answers.
    await connection.workflowService.getSystemInfo({});
  } catch (error) {
    clearTimeout(timer);
    throw new WorkerConnectError(
      settings.address,
      settings.namespace,
      error instanceof Error ? error.message.split('\n')[0]! : String(error),
    );
  }
  boundHeaps();
  const allowRoots = (options.allowRoot?.length ? options.allowRoot : [process.cwd()]).map((r) => resolve(r));
  const workers = await createLoopWorkers({
    connection,
    namespace: settings.namespace,
    taskQueue: options.taskQueue,
    allowRoots,
    ...(options.maxConcurrentAgents ? { maxConcurrentAgents: options.maxConcurrentAgents } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    identity: options.identity ?? `loop-station@${hostname()}:${process.pid}`,
  });
  log(
    `worker on ${settings.address} namespace ${settings.namespace} task queue ${options.taskQueue}; loop roots allowed under ${allowRoots.join(', ')}`,
  );
  // Started by `loop-station dev` or `demo` (an IPC channel to that process): it ends with its
  // parent, even one killed with SIGKILL, instead of living on as an orphan.
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => {
      log('the process that started this worker is gone: stopping');
      workers.shutdown();
    });
  }
  try {
    await workers.run();
  } finally {
    await connection.close();
  }
  log('worker stopped');
}
