import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandText, descendantsOf } from '../../activities/agents/process-tree.js';

/**
 * A loop-station worker in a child process, so its memory can be read from /proc and it can be
 * killed with SIGKILL like a crashed machine. Two flavours: the real CLI (`loop-station worker`,
 * which bundles the workflows at start) or bench/lib/worker-main.ts with a prebuilt bundle (starts
 * in well under a second: what a chaos run that restarts it twenty times wants).
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/loop-station.mjs', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

export interface WorkerProcessOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  allowRoot: string;
  maxConcurrentAgents?: number;
  /** Run worker-main.ts with this prebuilt workflow bundle instead of the CLI. */
  bundlePath?: string;
  /** The worker's stdout and stderr are appended here. */
  logFile: string;
  /** Node flags for the worker process, e.g. `--max-old-space-size=256`. */
  nodeArgs?: string[];
  /** sdk-core's DEBUG log into logFile as JSON lines (worker-main.ts only: needs bundlePath). */
  coreLog?: boolean;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  /** Resolves once the worker logged that it polls; rejects if it exits first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Resident memory now (VmRSS), in MB, plus the anonymous memory of the helper that starts its
   * agents (activities/agents/spawner.ts; its file pages are the node binary the worker maps too);
   * null once the process is gone.
   */
  rssMb(): number | null;
  /** The helper's own anonymous memory (RssAnon), in MB; 0 before it starts. */
  helperMb(): number;
  /** Peak resident memory since start (VmHWM), in MB. */
  peakRssMb(): number | null;
  /** SIGKILL: no shutdown, no drain (a crash). Resolves when the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM and wait (graceful drain). */
  stop(): Promise<void>;
}

/** The worker's process-starting helper: its descendant named `loop-station-spawner` (agents are the helper's children). */
const helperOf = (pid: number): number[] => descendantsOf(pid).filter((p) => commandText(p) === 'loop-station-spawner');

function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

export function spawnWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const connection = [
    '--address',
    options.address,
    '--namespace',
    options.namespace,
    '--task-queue',
    options.taskQueue,
    '--allow-root',
    options.allowRoot,
  ];
  if (options.maxConcurrentAgents !== undefined)
    connection.push('--max-concurrent-agents', String(options.maxConcurrentAgents));
  const args = [
    ...(options.nodeArgs ?? []),
    ...(options.bundlePath === undefined
      ? [CLI, 'worker', ...connection]
      : [
          '--import',
          'tsx',
          WORKER_MAIN,
          ...connection,
          '--bundle',
          options.bundlePath,
          ...(options.coreLog ? ['--core-log'] : []),
        ]),
  ];
  // TEMPORAL_* settings of the user must not redirect a benchmark worker.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<void>((resolve, reject) => {
    let buffer = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (/^worker on /m.test(buffer)) resolve();
      if (buffer.length > 65536) buffer = buffer.slice(-4096);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`worker exited (code ${code}, signal ${signal}) before it was ready; see ${options.logFile}`)),
    );
  });
  // Nobody may be left waiting on a worker that was killed on purpose before it got ready.
  ready.catch(() => undefined);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  // 'close', not 'exit': the pipes may still hold output when the process has exited.
  child.once('close', () => log.end());
  const logClosed = new Promise<void>((resolve) => log.once('close', () => resolve()));
  const pid = child.pid!;
  const helperMb = () => helperOf(pid).reduce((sum, p) => sum + (procStatusMb(p, 'RssAnon') ?? 0), 0);
  return {
    pid,
    child,
    logFile: options.logFile,
    ready,
    exited,
    rssMb: () => {
      const own = procStatusMb(pid, 'VmRSS');
      return own === null ? null : own + helperMb();
    },
    helperMb,
    peakRssMb: () => procStatusMb(pid, 'VmHWM'),
    crash: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      // Everything it wrote is in logFile once stop() returns.
      await logClosed;
    },
  };
}

/** Samples a worker's RSS every `everyMs` until stopped; returns the samples (time from start, MB). */
export function sampleRss(worker: WorkerProcess, everyMs: number): { stop(): { atS: number; mb: number }[] } {
  const started = Date.now();
  const samples: { atS: number; mb: number }[] = [];
  const take = () => {
    const mb = worker.rssMb();
    if (mb !== null) samples.push({ atS: (Date.now() - started) / 1000, mb });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
