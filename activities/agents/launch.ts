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
import { IdleTracker, type IdleWatch } from './idle.js';
import { spawnDetached } from './spawner.js';
import {
  commandLineHas,
  commandText,
  descendantsOf,
  groupMembers,
  isAlive,
  killAll,
  killTree,
  processesWithArg,
  processesWithEnv,
  runMembers,
  startTicks,
} from './process-tree.js';

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
  /** Aborted by the caller to stop the run (a budget crossed): the tree is killed, status `budget`. */
  stopSignal?: AbortSignal;
  /** Called every half second while the process runs (heartbeats, stream parsing). */
  onTick?: (info: { pid: number; elapsedMs: number; stdoutBytes: number }) => void;
  /**
   * Called every BEAT_MS while the process runs, for a cheap heartbeat (the last tick's details
   * again): a cancel reaches the activity only in a heartbeat's response (see BEAT_MS).
   */
  onBeat?: () => void;
  /** Output cap for stdout + stderr; past it the process tree is killed. */
  maxOutputBytes?: number;
  /** How long the tree has after SIGTERM before SIGKILL (killTree). @default KILL_GRACE_MS */
  graceMs?: number;
  /** Makes the run adoptable by a later attempt of the same activity (see DurableRun). */
  durable?: DurableRun;
  /** A run an earlier attempt started (findPriorRun): watched to its end instead of started again. */
  adopt?: PriorRun | null;
  /**
   * Who may end this run at once with preemptRuns (its activity's workflow id): `stop --now` kills
   * the tree as soon as the loop has the message, not when the cancel reaches this activity.
   */
  preemptKey?: string | undefined;
  /** Polled every tick: true stops the run (status `stopped`), for conditions only the caller can see. */
  stopWhen?: () => boolean;
  /** Stall detection: no output and no change under the folders for the timeout kills the tree (status `stalled`). */
  idle?: IdleWatch | null;
  /**
   * What to do with processes the command leaves behind when it exits (see Leftovers); without it,
   * they are killed unlisted with the group.
   */
  leftovers?: LeftoverPolicy;
}

/**
 * Processes a run leaves when its command exits: members of its process group or session, its
 * descendants seen while it ran, and every process carrying the run's marker variable (which each
 * process the command starts inherits, however detached). Listed, then killed, or waited for.
 */
export interface LeftoverPolicy {
  /** `name=value` set in the command's environment by the caller (launch does not add it). */
  marker: { name: string; value: string };
  /** Wait for them to end (heartbeating, bounded by the timeout, the idle rule and cancel) instead of killing them. */
  wait: boolean;
}

export interface Leftover {
  pid: number;
  command: string;
  waitedFor: boolean;
}

export interface LaunchResult {
  status: 'exited' | 'timeout' | 'cancelled' | 'spawn_failed' | 'output_limit' | 'stalled' | 'stopped' | 'budget';
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  pid: number | null;
  survivors: number[];
  spawnError: string | null;
  /** Set when this attempt adopted a run an earlier attempt started (DurableRun). */
  adopted?: 'running' | 'finished' | null;
  /** With a leftover policy: what the command left behind when it exited. */
  leftovers?: Leftover[];
  /** With `idle`: how long the run had been idle when it was stopped for it. */
  idleMs?: number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * How often a running process's activity heartbeats. Temporal tells an activity of its cancel only
 * in a heartbeat's response, and the worker sends heartbeats at most this often
 * (worker/create-worker.ts): `stop --now` reaches the run within about this long plus one round trip.
 */
export const BEAT_MS = 100;

/**
 * A command's time to end after SIGTERM before its tree is SIGKILLed: enough for a script's cleanup
 * trap, short enough that a shell deferring the signal (it runs a trap only after its foreground
 * child ends) does not hold a `stop --now`. Agent CLIs that need longer pass their own.
 */
export const KILL_GRACE_MS = 400;

/**
 * `stop --now`'s grace, shorter than any run's own: the user asked for now. A tree that ends on
 * SIGTERM (a Node or Python agent, a shell without a trap) is gone within it anyway; one that takes
 * its time (a cleanup trap, Claude Code ending its tools over ~1.2 s) is SIGKILLed after it.
 */
export const PREEMPT_GRACE_MS = 150;

/** Runs that preemptRuns may end, by preemptKey (this process's runs only); each resolves once its tree is killed. */
const preemptible = new Map<string, Set<() => Promise<void>>>();

/**
 * `stop --now`'s direct path: kills the trees of the runs this process runs for `key` (a session
 * workflow's id) now, as a cancel would, and resolves once they are gone (or killTree gave up on
 * them). Each run then waits for the cancel itself (which comes with a heartbeat's response) before
 * it returns, so its activity ends as it would have without this. Resolves with how many runs it
 * reached; a run in another worker process is reached by the cancel alone.
 */
export async function preemptRuns(key: string): Promise<number> {
  const runs = [...(preemptible.get(key) ?? [])];
  await Promise.all(runs.map((preempt) => preempt()));
  return runs.length;
}

/** How long a preempted run waits for its activity's cancel before it returns `cancelled` anyway. */
const PREEMPT_CANCEL_WAIT_MS = 30_000;

function abortedOrAfter(signal: AbortSignal, ms: number): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** How often a running process is looked at (onTick: output size, stall, heartbeat details). */
const TICK_MS = 500;

/** How often the descendants of a running command are listed (a full process-table scan). */
const SEEN_SCAN_MS = 2000;

/** How long processes a run left get to end on their own before they are killed (LeftoverPolicy). */
export const LEFTOVER_SETTLE_MS = 1000;

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
  | { kind: 'running'; pid: number; startedMs: number; marker?: string }
  | { kind: 'finished'; pid: number; exitCode: number; startedMs: number; endedMs: number; marker?: string };

interface RunRecord {
  owner: string;
  attempt: number;
  host: string;
  pid: number;
  startedMs: number;
  /** The run's leftover marker value (LeftoverPolicy), so an adopting attempt finds what the run left. */
  marker?: string;
}

const recordFile = (run: DurableRun) => `${run.base}.run.json`;
const exitFile = (run: DurableRun) => `${run.base}.exit`;

/**
 * The wrapper: runs "$@", then records its exit status, then exits with it. The status is written
 * in place, not under a temporary name moved over (an `mv` is one more process per run, 1.5–2 ms
 * here): a few bytes in one write(2) are seen whole or not at all, as the file's size grows only
 * once they are in, and readExit takes the status only with its closing newline. The file is
 * cleared before each start (clearStaleRun).
 */
const WRAPPER = 'f=$1; shift; "$@"; s=$?; printf "%s\\n" "$s" > "$f"; exit $s';

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
    const text = readFileSync(exitFile(run), 'utf8');
    // Without its newline the status is not all there yet (see WRAPPER).
    if (!/^\d+\n$/.test(text)) return null;
    return { code: Number(text.trim()), endedMs: statSync(exitFile(run)).mtimeMs };
  } catch {
    return null;
  }
}

/** The run an earlier attempt of the same activity left on this host: still running, or ended. */
export function findPriorRun(run: DurableRun): PriorRun | null {
  const record = readRecord(run);
  if (!record || record.owner !== run.owner || record.host !== hostname()) return null;
  const marker = record.marker === undefined ? {} : { marker: record.marker };
  if (isRunOf(run, record.pid)) return { kind: 'running', pid: record.pid, startedMs: record.startedMs, ...marker };
  const exit = readExit(run);
  return exit
    ? {
        kind: 'finished',
        pid: record.pid,
        exitCode: exit.code,
        startedMs: record.startedMs,
        endedMs: exit.endedMs,
        ...marker,
      }
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
      ...(adopt.marker === undefined ? {} : { marker: adopt.marker }),
    });
  if (adopt?.kind === 'finished') return adoptedFinished(adopt, options.leftovers);
  const started = adopt?.startedMs ?? Date.now();
  // stdout and stderr are opened here for the output-size checks of each tick; stdin only for a run
  // started from here (one started by the helper opens its own).
  let stdin: number | 'ignore' = 'ignore';
  const stdout = openSync(options.stdoutFile, 'a');
  const stderr = openSync(options.stderrFile, 'a');
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let pid: number | null;
  let exited: Promise<{ exitCode: number | null; signal: string | null; spawnError: string | null }>;
  if (adopt) {
    pid = adopt.pid;
    exited = waitForAdopted(options.durable!, adopt.pid);
  } else {
    const durable = options.durable;
    if (durable) await clearStaleRun(durable);
    const shellArgs =
      options.args === undefined ? ['/bin/sh', '-c', options.command] : [options.command, ...options.args];
    const [file, args] = durable
      ? ['/bin/sh', ['-c', WRAPPER, 'loop-station-run', exitFile(durable), ...shellArgs]]
      : [options.command, options.args ?? []];
    // A durable run starts from the helper (spawner.ts); any other (doctor's evidence check), or one
    // whose helper could not start at all, from this process.
    const record = durable && {
      owner: durable.owner,
      attempt: durable.attempt,
      host: hostname(),
      startedMs: started,
      ...(options.leftovers ? { marker: options.leftovers.marker.value } : {}),
    };
    const viaHelper = () =>
      spawnDetached({
        file,
        args,
        cwd: options.cwd,
        env: options.env,
        stdin: options.stdinFile ?? null,
        stdout: options.stdoutFile,
        stderr: options.stderrFile,
        record: durable && record ? { path: recordFile(durable), fields: record } : null,
      });
    let helped = durable ? await viaHelper() : null;
    // The helper died before it said whether it started the run: what the run left says. An exit
    // file (cleared before the start) means it ran and ended, a live wrapper naming that file is the
    // run still going (watched, not started twice), and with neither it is started again.
    let settled: { pid: number | null; exited: typeof exited } | null = null;
    if (durable && helped?.pid === null && (await helped.exited).kind === 'lost') {
      const ended = readExit(durable);
      const orphan = ended ? undefined : processesWithArg(exitFile(durable))[0];
      if (ended)
        settled = { pid: null, exited: Promise.resolve({ exitCode: ended.code, signal: null, spawnError: null }) };
      else if (orphan !== undefined) settled = { pid: orphan, exited: waitForAdopted(durable, orphan) };
      else helped = await viaHelper();
    }
    const unavailable = helped?.pid === null && (await helped.exited).kind === 'unavailable';
    if (settled) {
      pid = settled.pid;
      exited = settled.exited;
    } else if (helped && !unavailable) {
      pid = helped.pid;
      const runPid = pid;
      exited = helped.exited.then((exit) => {
        if (exit.kind === 'exit') return { exitCode: exit.exitCode, signal: exit.signal, spawnError: null };
        if (exit.kind === 'spawnError') return { exitCode: null, signal: null, spawnError: exit.message };
        // The helper died while the run went on: its wrapper still writes the exit file.
        return runPid === null || !durable
          ? {
              exitCode: null,
              signal: null,
              spawnError: 'the helper that starts runs exited twice before it started this one',
            }
          : waitForAdopted(durable, runPid);
      });
    } else {
      if (options.stdinFile) stdin = openSync(options.stdinFile, 'r');
      // With `reject: false` a spawn failure comes back as a failed result, not a throw.
      const child = execa(file, args, {
        shell: !durable && options.args === undefined,
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
      exited = child.then((result) => {
        const spawnFailed = result.failed && result.exitCode === undefined && result.signal === undefined;
        return {
          exitCode: result.exitCode ?? null,
          signal: result.signal ?? null,
          spawnError: spawnFailed ? (result.originalMessage ?? result.shortMessage ?? 'spawn failed') : null,
        };
      });
    }
    // The helper wrote the record of a run it started (unless it could not: then it is written here,
    // and fails as it did there); one started here, or found orphaned, is recorded here.
    const recorded = helped !== null && !unavailable && settled === null && helped.recordError === undefined;
    if (durable && record && pid !== null && !recorded) writeRecord(durable, { ...record, pid });
  }
  // The run's start as the process table counts it, read right after the start: leftovers are looked
  // for among younger processes only. (A leader already gone leaves it unknown: all are looked at.)
  const leaderStart = pid === null ? undefined : startTicks(pid);
  let ending: LaunchResult['status'] | null = null;
  let released = false;
  let survivors: number[] = [];
  const kill: { done: Promise<void> | null } = { done: null };
  let letGo: () => void = () => undefined;
  const superseded = new Promise<null>((resolve) => {
    letGo = () => resolve(null);
  });
  const stop = (why: LaunchResult['status'], graceMs = options.graceMs ?? KILL_GRACE_MS) => {
    if (ending || pid === null) return;
    ending = why;
    // A cancelled attempt whose run a later attempt adopted leaves it running and returns now.
    if (why === 'cancelled' && options.durable && supersededBy(options.durable)) {
      released = true;
      letGo();
      return;
    }
    kill.done = killTree(pid, graceMs).then((r) => {
      survivors = r.survivors;
    });
  };
  const onAbort = () => stop('cancelled');
  options.cancelSignal?.addEventListener('abort', onAbort, { once: true });
  let preempted = false;
  const onPreempt = async () => {
    if (!ending) {
      stop('cancelled', Math.min(PREEMPT_GRACE_MS, options.graceMs ?? KILL_GRACE_MS));
      preempted = !released;
    }
    // Already ending (a cancel, a timeout): its kill is the one to wait for.
    await kill.done;
  };
  const key = options.preemptKey;
  if (options.cancelSignal?.aborted) stop('cancelled');
  const onStop = () => stop('budget');
  options.stopSignal?.addEventListener('abort', onStop, { once: true });
  if (options.stopSignal?.aborted) stop('stopped');
  const timer =
    options.timeoutMs !== null
      ? setTimeout(() => stop('timeout'), Math.max(0, started + options.timeoutMs - Date.now()))
      : null;
  const idle = options.idle ? new IdleTracker(options.idle) : null;
  let idleMs: number | undefined;
  // Descendants seen while the command runs: a tool's child re-parented to init is still found.
  // The first scan waits for the first interval tick: at once, the command has not started anything
  // yet (it is barely exec'd), and a run that ends before that tick pays for no scan of the table.
  const seen = new Map<number, string>();
  let lastSeenScan = Date.now() - SEEN_SCAN_MS + TICK_MS;
  const tick = () => {
    let bytes = 0;
    try {
      bytes = fstatSync(stdout).size + fstatSync(stderr).size;
    } catch {
      // closed already
    }
    if (bytes > maxOutput) stop('output_limit');
    if (options.stopWhen && !ending && options.stopWhen()) stop('stopped');
    if (idle && !ending) {
      idle.outputSeen(bytes);
      if (idle.stalled()) {
        idleMs = idle.idleMs();
        stop('stalled');
      }
    }
    if (options.leftovers && pid !== null && !ending && Date.now() - lastSeenScan >= SEEN_SCAN_MS) {
      lastSeenScan = Date.now();
      for (const d of descendantsOf(pid)) if (!seen.has(d)) seen.set(d, commandText(d) ?? '');
    }
    if (pid !== null) options.onTick?.({ pid, elapsedMs: Date.now() - started, stdoutBytes: bytes });
  };
  // A first tick at once: the heartbeat carrying the pid lets a retry reap a crashed attempt.
  tick();
  const ticker = setInterval(tick, TICK_MS);
  // Beats go on while the tree is killed and, after a preemption, until the cancel arrives.
  const beater = options.onBeat ? setInterval(() => options.onBeat!(), BEAT_MS) : null;
  try {
    if (key !== undefined) preemptible.set(key, (preemptible.get(key) ?? new Set()).add(onPreempt));
    const result = (await Promise.race([exited, superseded])) ?? { exitCode: null, signal: null, spawnError: null };
    let leftovers: Leftover[] | undefined;
    if (options.leftovers && pid !== null && !released) {
      // The leader is gone (or was stopped): list what it left, wait for it if asked, end the rest.
      const leader = pid;
      const marker = { name: options.leftovers.marker.name, value: adopt?.marker ?? options.leftovers.marker.value };
      if (kill.done) await kill.done;
      // What each leftover runs at its latest sighting: the first may come between its fork and its
      // exec (a backgrounded `nohup sleep` still shown as the shell that starts it).
      const latest = new Map<number, string>();
      const find = () => {
        const found = findLeftovers(leader, seen, marker, leaderStart);
        for (const l of found) latest.set(l.pid, l.command);
        return found;
      };
      const waiting = options.leftovers.wait && !ending;
      // Each look at the table is a full scan (every process's stat and environment), so the
      // listing is looked at again only after a wait: with nothing left, one scan decides it all.
      let current = find();
      leftovers = current.map((l) => ({ ...l, waitedFor: waiting }));
      if (waiting)
        while (!ending && current.length > 0) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          current = find();
        }
      else if (!ending) {
        // Bookkeeping a shell left behind (a profile's `pyenv rehash`, a `git gc --auto`) usually
        // ends within a moment; killed mid-way it can leave a stale lock behind. Give it that moment.
        const settled = Date.now() + LEFTOVER_SETTLE_MS;
        while (Date.now() < settled && current.length > 0) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          current = find();
        }
      }
      if (kill.done) {
        await kill.done;
        current = find();
      }
      const remaining = current;
      // A process started after the listing (a job that forked again) is one of the run's too.
      for (const l of remaining)
        if (!leftovers.some((k) => k.pid === l.pid)) leftovers.push({ ...l, waitedFor: false });
      leftovers = leftovers.map((l) => ({ ...l, command: latest.get(l.pid) ?? l.command }));
      survivors = [
        ...survivors,
        ...(await killAll(
          remaining.map((l) => l.pid),
          options.graceMs ?? KILL_GRACE_MS,
        )),
      ];
    } else if (!ending && pid !== null) {
      // The leader is gone; anything it left in its group goes too, so no run outlives its session.
      const left = await killTree(pid, 200);
      survivors = left.survivors;
    }
    if (kill.done) await kill.done;
    // Ended before its activity knew of the cancel: the activity must not return (nor report a
    // cancel that Temporal has not asked for) until it does.
    if (preempted && options.cancelSignal) await abortedOrAfter(options.cancelSignal, PREEMPT_CANCEL_WAIT_MS);
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
      ...(leftovers ? { leftovers } : {}),
      ...(idleMs !== undefined ? { idleMs } : {}),
    };
  } finally {
    clearInterval(ticker);
    if (beater) clearInterval(beater);
    if (timer) clearTimeout(timer);
    options.cancelSignal?.removeEventListener('abort', onAbort);
    if (key !== undefined) {
      preemptible.get(key)?.delete(onPreempt);
      if (preemptible.get(key)?.size === 0) preemptible.delete(key);
    }
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

async function adoptedFinished(
  prior: Extract<PriorRun, { kind: 'finished' }>,
  policy: LeftoverPolicy | undefined,
): Promise<LaunchResult> {
  // Its pid may belong to another process by now; a group id is never reused while the group has
  // members, so only a group that still exists is the run's own leftovers.
  const { survivors } = groupMembers(prior.pid).length > 0 ? await killTree(prior.pid, 200) : { survivors: [] };
  // Marked processes are the run's whatever became of its pid: nobody waited for them, so end them.
  const marked =
    policy && prior.marker !== undefined
      ? processesWithEnv(policy.marker.name, prior.marker).map((p) => ({ pid: p, command: commandText(p) ?? '' }))
      : [];
  if (marked.length > 0) survivors.push(...(await killAll(marked.map((l) => l.pid))));
  return {
    status: 'exited',
    exitCode: prior.exitCode,
    signal: null,
    durationMs: Math.max(0, Math.round(prior.endedMs - prior.startedMs)),
    pid: prior.pid,
    survivors,
    spawnError: null,
    adopted: 'finished',
    ...(policy ? { leftovers: marked.map((l) => ({ ...l, waitedFor: false })) } : {}),
  };
}

/** The live processes a run whose leader is `leader` left: its group, its session, descendants seen, marked ones. */
function findLeftovers(
  leader: number,
  seen: ReadonlyMap<number, string>,
  marker: { name: string; value: string },
  since: number | undefined,
): { pid: number; command: string }[] {
  const pids = new Set(runMembers(leader, marker, since));
  // A pid seen earlier counts only while it still runs the same command (pids are reused).
  for (const [p, command] of seen) if (commandText(p) === command) pids.add(p);
  pids.delete(leader);
  pids.delete(process.pid);
  return [...pids]
    .sort((a, b) => a - b)
    .flatMap((p) => {
      const command = isAlive(p) ? commandText(p) : undefined;
      return command === undefined ? [] : [{ pid: p, command }];
    });
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
