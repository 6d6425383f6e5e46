import { closeSync, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { execa, type Options } from 'execa';
import { killTree } from './process-tree.js';

export interface LaunchOptions {
  /** A shell command line (run with /bin/sh) or, with `args`, an executable. */
  command: string;
  args?: string[];
  cwd: string;
  env: Record<string, string>;
  /** File fed to stdin; stdin is closed (empty) when absent: an open pipe makes agent CLIs wait. */
  stdinFile?: string;
  stdoutFile: string;
  stderrFile: string;
  timeoutMs: number | null;
  /** Aborted when Temporal cancels the activity. */
  cancelSignal?: AbortSignal;
  /** Called every half second while the process runs (heartbeats, stream parsing). */
  onTick?: (info: { pid: number; elapsedMs: number; stdoutBytes: number }) => void;
  /** Output cap for stdout + stderr; past it the process tree is killed. */
  maxOutputBytes?: number;
  graceMs?: number;
}

export interface LaunchResult {
  status: 'exited' | 'timeout' | 'cancelled' | 'spawn_failed' | 'output_limit';
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  pid: number | null;
  survivors: number[];
  spawnError: string | null;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs one agent or evidence process in its own session and process group, with stdio on raw
 * file descriptors: with pipes, a grandchild holding them keeps execa's promise open forever
 * (notes/TEMPORAL.md §9). Timeout, cancel and output overflow kill the whole tree.
 */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const started = Date.now();
  const stdin: number | 'ignore' = options.stdinFile ? openSync(options.stdinFile, 'r') : 'ignore';
  const stdout = openSync(options.stdoutFile, 'a');
  const stderr = openSync(options.stderrFile, 'a');
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  // With `reject: false` a spawn failure comes back as a failed result, not a throw.
  const child = execa(options.command, options.args ?? [], {
    shell: options.args === undefined,
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    reject: false,
    // execa's types accept only literal descriptor numbers; ours come from openSync.
    stdin: stdin as 'ignore',
    stdout: stdout as unknown as 'ignore',
    stderr: stderr as unknown as 'ignore',
  } satisfies Options);
  const pid = child.pid ?? null;
  let ending: LaunchResult['status'] | null = null;
  let survivors: number[] = [];
  const kill: { done: Promise<void> | null } = { done: null };
  const stop = (why: LaunchResult['status']) => {
    if (ending || pid === null) return;
    ending = why;
    kill.done = killTree(pid, options.graceMs ?? 1000).then((r) => {
      survivors = r.survivors;
    });
  };
  const onAbort = () => stop('cancelled');
  options.cancelSignal?.addEventListener('abort', onAbort, { once: true });
  if (options.cancelSignal?.aborted) stop('cancelled');
  const timer = options.timeoutMs !== null ? setTimeout(() => stop('timeout'), options.timeoutMs) : null;
  const tick = () => {
    let bytes = 0;
    try {
      bytes = fstatSync(stdout).size + fstatSync(stderr).size;
    } catch {
      // closed already
    }
    if (bytes > maxOutput) stop('output_limit');
    if (pid !== null) options.onTick?.({ pid, elapsedMs: Date.now() - started, stdoutBytes: bytes });
  };
  // A first tick at once: the heartbeat carrying the pid lets a retry reap a crashed attempt.
  tick();
  const ticker = setInterval(tick, 500);
  try {
    const result = await child;
    // The leader is gone; anything it left in its group goes too, so no run outlives its session.
    if (!ending && pid !== null) {
      const leftovers = await killTree(pid, 200);
      survivors = leftovers.survivors;
    }
    if (kill.done) await kill.done;
    if (ending === 'output_limit') for (const file of new Set([options.stdoutFile, options.stderrFile])) keepTail(file, LOG_TAIL_BYTES);
    const spawnFailed = result.failed && result.exitCode === undefined && result.signal === undefined;
    return {
      status: ending ?? (spawnFailed ? 'spawn_failed' : 'exited'),
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      durationMs: Date.now() - started,
      pid,
      survivors,
      spawnError: spawnFailed ? (result.originalMessage ?? result.shortMessage ?? 'spawn failed') : null,
    };
  } finally {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    options.cancelSignal?.removeEventListener('abort', onAbort);
    for (const fd of [stdin, stdout, stderr]) if (typeof fd === 'number') closeSync(fd);
  }
}

const LOG_TAIL_BYTES = 1024 * 1024;

/** Shrinks a flooded log to its tail, so a runaway agent cannot fill the disk one session at a time. */
function keepTail(path: string, maxBytes: number): void {
  const size = statSync(path).size;
  if (size <= maxBytes) return;
  const tail = Buffer.alloc(maxBytes);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, tail, 0, maxBytes, size - maxBytes);
  } finally {
    closeSync(fd);
  }
  writeFileSync(path, Buffer.concat([Buffer.from(`[loop-station: output limit; the first ${size - maxBytes} bytes were dropped]\n`), tail]));
}

/** The last `maxBytes` of a file, decoded as UTF-8 (a cut first character is dropped). */
export function tailOf(path: string, maxBytes = 4096): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    return size > maxBytes ? text.replace(/^[^\n]*\n?/, '') : text;
  } finally {
    closeSync(fd);
  }
}
