import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { execa, type Options } from 'execa';
import { commandLineHas, groupMembers, isAlive, killTree } from './process-tree.js';

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
  /** Aborted by the caller to stop the run (a budget crossed): the tree is killed, status `stopped`. */
  stopSignal?: AbortSignal;
  /** Called every half second while the process runs (heartbeats, stream parsing). */
  onTick?: (info: { pid: number; elapsedMs: number; stdoutBytes: number }) => void;
  /** Output cap for stdout + stderr; past it the process tree is killed. */
  maxOutputBytes?: number;
  graceMs?: number;
  /** Makes the run adoptable by a later attempt of the same activity (see DurableRun). */
  durable?: DurableRun;
  /** A run an earlier attempt started (findPriorRun): watched to its end instead of started again. */
  adopt?: PriorRun | null;
}

export interface LaunchResult {
  status: 'exited' | 'timeout' | 'cancelled' | 'spawn_failed' | 'output_limit' | 'stopped';
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  pid: number | null;
  survivors: number[];
  spawnError: string | null;
  /** Set when this attempt adopted a run an earlier attempt started (DurableRun). */
  adopted?: 'running' | 'finished' | null;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * A run that survives its worker. Agents run detached with their output in files, so when a worker
 * dies (SIGKILL, OOM, deploy) the agent goes on; the activity is retried after its heartbeat
 * timeout, on this host or another. Without a record the retry would start the agent again beside
 * the orphan, or kill an hour of work to redo it. With one, the retry on the same host adopts the
 * run: it watches the orphan to its end, or reads the exit code it left if it already ended.
 * `${base}.run.json` holds owner, host, pid and start; a small sh wrapper writes `${base}.exit`
 * when the command ends, since nobody may be left to wait for it.
 */
export interface DurableRun {
  /** Absolute path prefix of the run record and exit file. */
  base: string;
  /** Who may adopt the run: one activity (workflow run + activity id); later attempts share it. */
  owner: string;
  /**
   * This activity attempt. The record names the attempt that watches the run; an earlier attempt
   * that is still alive (its heartbeat timed out while its worker was suspended, say) and then gets
   * cancelled must not kill a run a later attempt has adopted.
   */
  attempt: number;
}

export type PriorRun =
  | { kind: 'running'; pid: number; startedMs: number }
  | { kind: 'finished'; pid: number; exitCode: number; startedMs: number; endedMs: number };

interface RunRecord {
  owner: string;
  attempt: number;
  host: string;
  pid: number;
  startedMs: number;
}

const recordFile = (run: DurableRun) => `${run.base}.run.json`;
const exitFile = (run: DurableRun) => `${run.base}.exit`;

/** The wrapper: runs "$@", then records its exit status atomically, then exits with it. */
const WRAPPER = 'f=$1; shift; "$@"; s=$?; printf "%s\\n" "$s" > "$f.tmp" && mv -f "$f.tmp" "$f"; exit $s';

function readRecord(run: DurableRun): RunRecord | null {
  try {
    const record = JSON.parse(readFileSync(recordFile(run), 'utf8')) as Partial<RunRecord>;
    if (
      typeof record.owner !== 'string' ||
      typeof record.attempt !== 'number' ||
      typeof record.host !== 'string' ||
      typeof record.pid !== 'number' ||
      typeof record.startedMs !== 'number'
    )
      return null;
    return record as RunRecord;
  } catch {
    return null;
  }
}

/** Alive and still our wrapper (its command line names the exit file), not a recycled pid. */
function isRunOf(run: DurableRun, pid: number): boolean {
  return isAlive(pid) && commandLineHas(pid, exitFile(run));
}

function readExit(run: DurableRun): { code: number; endedMs: number } | null {
  try {
    const text = readFileSync(exitFile(run), 'utf8').trim();
    if (!/^\d+$/.test(text)) return null;
    return { code: Number(text), endedMs: statSync(exitFile(run)).mtimeMs };
  } catch {
    return null;
  }
}

/** The run an earlier attempt of the same activity left on this host: still running, or ended. */
export function findPriorRun(run: DurableRun): PriorRun | null {
  const record = readRecord(run);
  if (!record || record.owner !== run.owner || record.host !== hostname()) return null;
  if (isRunOf(run, record.pid)) return { kind: 'running', pid: record.pid, startedMs: record.startedMs };
  const exit = readExit(run);
  return exit
    ? { kind: 'finished', pid: record.pid, exitCode: exit.code, startedMs: record.startedMs, endedMs: exit.endedMs }
    : null;
}

/** Before a fresh start: end any run still alive under these files (never two writers of one log). */
async function clearStaleRun(run: DurableRun): Promise<void> {
  const record = readRecord(run);
  if (record && record.host === hostname() && isRunOf(run, record.pid)) await killTree(record.pid, 1000);
  rmSync(exitFile(run), { force: true });
}

/** A later attempt of the same activity has adopted the run: it is that attempt's to watch and to stop. */
function supersededBy(run: DurableRun): boolean {
  return (readRecord(run)?.attempt ?? 0) > run.attempt;
}

function writeRecord(run: DurableRun, record: RunRecord): void {
  writeFileSync(`${recordFile(run)}.tmp`, `${JSON.stringify(record)}\n`);
  renameSync(`${recordFile(run)}.tmp`, recordFile(run));
}

/**
 * Runs one agent or evidence process in its own session and process group, with stdio on raw
 * file descriptors: with pipes, a grandchild holding them keeps execa's promise open forever
 * (docs/architecture.md#process-trees). Timeout, cancel and output overflow kill the whole tree. With `adopt`,
 * the process an earlier attempt started is watched instead (DurableRun).
 */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const adopt = options.adopt ?? null;
  // Adopting claims the run for this attempt (see DurableRun.attempt).
  if (adopt && options.durable)
    writeRecord(options.durable, {
      owner: options.durable.owner,
      attempt: options.durable.attempt,
      host: hostname(),
      pid: adopt.pid,
      startedMs: adopt.startedMs,
    });
  if (adopt?.kind === 'finished') return adoptedFinished(adopt);
  const started = adopt?.startedMs ?? Date.now();
  const stdin: number | 'ignore' = options.stdinFile && !adopt ? openSync(options.stdinFile, 'r') : 'ignore';
  const stdout = openSync(options.stdoutFile, 'a');
  const stderr = openSync(options.stderrFile, 'a');
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let pid: number | null;
  let exited: Promise<{ exitCode: number | null; signal: string | null; spawnError: string | null }>;
  if (adopt) {
    pid = adopt.pid;
    exited = waitForAdopted(options.durable!, adopt.pid);
  } else {
    if (options.durable) await clearStaleRun(options.durable);
    const shellArgs =
      options.args === undefined ? ['/bin/sh', '-c', options.command] : [options.command, ...options.args];
    const [file, args] = options.durable
      ? ['/bin/sh', ['-c', WRAPPER, 'loop-station-run', exitFile(options.durable), ...shellArgs]]
      : [options.command, options.args ?? []];
    // With `reject: false` a spawn failure comes back as a failed result, not a throw.
    const child = execa(file, args, {
      shell: !options.durable && options.args === undefined,
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
    pid = child.pid ?? null;
    if (options.durable && pid !== null)
      writeRecord(options.durable, {
        owner: options.durable.owner,
        attempt: options.durable.attempt,
        host: hostname(),
        pid,
        startedMs: started,
      });
    exited = child.then((result) => {
      const spawnFailed = result.failed && result.exitCode === undefined && result.signal === undefined;
      return {
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        spawnError: spawnFailed ? (result.originalMessage ?? result.shortMessage ?? 'spawn failed') : null,
      };
    });
  }
  let ending: LaunchResult['status'] | null = null;
  let survivors: number[] = [];
  const kill: { done: Promise<void> | null } = { done: null };
  let letGo: () => void = () => undefined;
  const superseded = new Promise<null>((resolve) => {
    letGo = () => resolve(null);
  });
  const stop = (why: LaunchResult['status']) => {
    if (ending || pid === null) return;
    ending = why;
    // A cancelled attempt whose run a later attempt adopted leaves it running and returns now.
    if (why === 'cancelled' && options.durable && supersededBy(options.durable)) {
      letGo();
      return;
    }
    kill.done = killTree(pid, options.graceMs ?? 1000).then((r) => {
      survivors = r.survivors;
    });
  };
  const onAbort = () => stop('cancelled');
  options.cancelSignal?.addEventListener('abort', onAbort, { once: true });
  if (options.cancelSignal?.aborted) stop('cancelled');
  const onStop = () => stop('stopped');
  options.stopSignal?.addEventListener('abort', onStop, { once: true });
  if (options.stopSignal?.aborted) stop('stopped');
  const timer =
    options.timeoutMs !== null
      ? setTimeout(() => stop('timeout'), Math.max(0, started + options.timeoutMs - Date.now()))
      : null;
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
    const result = (await Promise.race([exited, superseded])) ?? { exitCode: null, signal: null, spawnError: null };
    // The leader is gone; anything it left in its group goes too, so no run outlives its session.
    if (!ending && pid !== null) {
      const leftovers = await killTree(pid, 200);
      survivors = leftovers.survivors;
    }
    if (kill.done) await kill.done;
    if (ending === 'output_limit')
      for (const file of new Set([options.stdoutFile, options.stderrFile])) keepTail(file, LOG_TAIL_BYTES);
    return {
      status: ending ?? (result.spawnError !== null ? 'spawn_failed' : 'exited'),
      exitCode: result.exitCode,
      signal: result.signal,
      durationMs: Date.now() - started,
      pid,
      survivors,
      spawnError: result.spawnError,
      adopted: adopt ? 'running' : null,
    };
  } finally {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    options.cancelSignal?.removeEventListener('abort', onAbort);
    options.stopSignal?.removeEventListener('abort', onStop);
    for (const fd of [stdin, stdout, stderr]) if (typeof fd === 'number') closeSync(fd);
  }
}

/** Polls an adopted process (not our child: no wait() possible) until it ends, then reads its exit file. */
async function waitForAdopted(
  run: DurableRun,
  pid: number,
): Promise<{ exitCode: number | null; signal: string | null; spawnError: null }> {
  while (isRunOf(run, pid)) await new Promise((resolve) => setTimeout(resolve, 100));
  const exit = readExit(run);
  // No exit file: the wrapper itself was killed (by a signal from outside), so no status exists.
  return { exitCode: exit?.code ?? null, signal: exit ? null : 'unknown (killed while adopted)', spawnError: null };
}

async function adoptedFinished(prior: Extract<PriorRun, { kind: 'finished' }>): Promise<LaunchResult> {
  // Its pid may belong to another process by now; a group id is never reused while the group has
  // members, so only a group that still exists is the run's own leftovers.
  const { survivors } = groupMembers(prior.pid).length > 0 ? await killTree(prior.pid, 200) : { survivors: [] };
  return {
    status: 'exited',
    exitCode: prior.exitCode,
    signal: null,
    durationMs: Math.max(0, Math.round(prior.endedMs - prior.startedMs)),
    pid: prior.pid,
    survivors,
    spawnError: null,
    adopted: 'finished',
  };
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
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from(`[loop-station: output limit; the first ${size - maxBytes} bytes were dropped]\n`),
      tail,
    ]),
  );
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
