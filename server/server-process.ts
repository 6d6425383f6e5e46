import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SupervisedChild {
  readonly pid: number;
  /** Settles once the process has exited and its output is read. */
  readonly exited: Promise<ChildExit>;
  /** Its last lines of output (stdout and stderr, interleaved). */
  tail(): string;
  /** How it ended, once `exited` has settled; undefined while it runs. */
  exitStatus(): ChildExit | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. Safe to call twice. */
  stop(graceMs: number): Promise<ChildExit>;
  /** Detached mode: stop reading its log and let this process exit while it runs on. */
  release(): void;
}

export interface SpawnOptions {
  /**
   * Detached mode: output is appended to this file (a pipe would kill a Go server with SIGPIPE
   * once we are gone) and the child gets its own session, so it outlives us.
   */
  readonly logFile?: string;
}

const TAIL_LINES = 40;
const FOLLOW_MS = 100;

/**
 * Spawns a long-running server. Attached (the default), it must not outlive us; three layers,
 * none complete alone:
 * - `stop()` for the normal path;
 * - a SIGKILL from our `exit` event, which covers `process.exit` and uncaught errors but not a
 *   fatal signal (Node runs no `exit` handlers on a SIGTERM/SIGKILL it does not handle);
 * - a detached shell watchdog polling our pid every second, which covers those too, unless the
 *   watchdog itself is killed. Ctrl-C in a terminal reaches the child anyway: same process group.
 */
export function spawnSupervised(
  file: string,
  args: readonly string[],
  onLine: (line: string) => void,
  options: SpawnOptions = {},
): SupervisedChild {
  const lines: string[] = [];
  const push = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    onLine(line);
  };
  const { child, outputDone, stopFollowing } =
    options.logFile === undefined ? spawnPiped(file, args, push) : spawnDetached(file, args, options.logFile, push);

  const exited = new Promise<ChildExit>((resolveExit) => {
    child.once('error', (error) => {
      push(`cannot start ${file}: ${error.message}`);
      resolveExit({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  }).then(async (exit) => {
    await outputDone();
    return exit;
  });

  if (options.logFile === undefined) {
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const watchdog = child.pid === undefined ? undefined : spawnWatchdog(child.pid);
    void exited.then(() => {
      process.removeListener('exit', killOnExit);
      watchdog?.kill('SIGKILL');
    });
  }

  let status: ChildExit | undefined;
  void exited.then((exit) => (status = exit));
  let stopping: Promise<ChildExit> | undefined;
  return {
    pid: child.pid ?? -1,
    exited,
    tail: () => lines.join('\n'),
    exitStatus: () => status,
    stop: (graceMs) => (stopping ??= stopChild(child, exited, graceMs)),
    release: () => {
      stopFollowing();
      child.unref();
    },
  };
}

interface Spawned {
  readonly child: ChildProcess;
  /** Resolves once all output up to the exit has been passed on. */
  readonly outputDone: () => Promise<void>;
  readonly stopFollowing: () => void;
}

function spawnPiped(file: string, args: readonly string[], push: (line: string) => void): Spawned {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const read = (stream: NodeJS.ReadableStream | null) =>
    new Promise<void>((resolveRead) => {
      if (stream === null) return resolveRead();
      const reader = createInterface({ input: stream, crlfDelay: Infinity });
      reader.on('line', push);
      reader.on('close', resolveRead);
    });
  const done = Promise.all([read(child.stdout), read(child.stderr)]).then(() => undefined);
  return { child, outputDone: () => done, stopFollowing: () => undefined };
}

function spawnDetached(file: string, args: readonly string[], logFile: string, push: (line: string) => void): Spawned {
  const out = openSync(logFile, 'a');
  let position = fstatSync(out).size;
  const child = spawn(file, args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  // Follow the file from where this run starts, line by line, until released or exited.
  const input = openSync(logFile, 'r');
  let partial = '';
  let open = true;
  const readNew = () => {
    if (!open) return;
    const buffer = Buffer.alloc(64 * 1024);
    for (
      let n = readSync(input, buffer, 0, buffer.length, position);
      n > 0;
      n = readSync(input, buffer, 0, buffer.length, position)
    ) {
      position += n;
      const parts = (partial + buffer.toString('utf8', 0, n)).split('\n');
      partial = parts.pop() ?? '';
      parts.forEach(push);
    }
  };
  const timer = setInterval(readNew, FOLLOW_MS);
  const stopFollowing = () => {
    if (!open) return;
    readNew();
    if (partial !== '') push(partial);
    open = false;
    clearInterval(timer);
    closeSync(input);
  };
  return { child, outputDone: async () => stopFollowing(), stopFollowing };
}

async function stopChild(child: ChildProcess, exited: Promise<ChildExit>, graceMs: number): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** `sh` loop: while both we and the child live, sleep; if we die first, TERM the child, KILL it after 10 s. */
function spawnWatchdog(childPid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'kill -0 "$2" 2>/dev/null || exit 0; kill -TERM "$2"; i=0; ' +
    'while kill -0 "$2" 2>/dev/null && [ "$i" -lt 10 ]; do sleep 1; i=$((i+1)); done; ' +
    'kill -0 "$2" 2>/dev/null && kill -KILL "$2"';
  const watchdog = spawn('/bin/sh', ['-c', script, 'loop-station-watchdog', String(process.pid), String(childPid)], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.on('error', () => undefined); // no /bin/sh: the other two layers remain
  watchdog.unref();
  return watchdog;
}
