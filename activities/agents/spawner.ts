import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Agent and evidence processes are started by a small helper process, not by the worker itself.
 * Node starts a child with fork + exec, and the fork copies the parent's page tables while the
 * calling thread waits: from a worker with 300–500 MB resident that blocked the worker's main thread
 * (every loop's activations, heartbeats and file steps) for 8–11 ms per start on a busy 2-core
 * machine, three starts per session, against about 1 ms from a 45 MB helper (timed 2026-12-06;
 * docs/performance.md#changes).
 *
 * The helper only starts processes and reports their pid and exit; everything else (the exit file,
 * kills by process group, leftovers) works on pids as before. Runs are detached (their own process
 * group and session), so they outlive the helper as they outlived the worker. Should the helper die
 * while runs go on, those runs' exits are read from their exit files instead (launch.ts waitForAdopted).
 *
 * Written by hand, as a source text run with `node -e`: it must not depend on where the package is
 * installed or on a TypeScript loader, and it is 30 lines.
 */
const HELPER_SOURCE = `
'use strict';
const { spawn } = require('node:child_process');
const { openSync, closeSync, writeFileSync, renameSync } = require('node:fs');
process.title = 'loop-station-spawner';
const send = (m) => { if (process.connected) process.send(m); };
process.on('message', (m) => {
  const fds = [];
  const open = (path, flags) => { const fd = openSync(path, flags); fds.push(fd); return fd; };
  let child;
  try {
    child = spawn(m.file, m.args, {
      cwd: m.cwd,
      env: m.env,
      detached: true,
      stdio: [m.stdin === null ? 'ignore' : open(m.stdin, 'r'), open(m.stdout, 'a'), open(m.stderr, 'a')],
    });
  } catch (error) {
    send({ id: m.id, spawnError: String(error && error.message || error) });
    return;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  // Not started (a missing cwd): 'error' says why, and no exit is reported.
  child.on('error', (error) => { if (child.pid === undefined) send({ id: m.id, spawnError: error.message }); });
  child.on('exit', (code, signal) => { if (child.pid !== undefined) send({ id: m.id, exit: { code, signal } }); });
  if (child.pid === undefined) return;
  // The run record, before anything else: a worker killed from here on finds the run and adopts it.
  let recordError;
  if (m.record) {
    try {
      writeFileSync(m.record.path + '.tmp', JSON.stringify({ ...m.record.fields, pid: child.pid }) + '\\n');
      renameSync(m.record.path + '.tmp', m.record.path);
    } catch (error) {
      recordError = String(error && error.message || error);
    }
  }
  send({ id: m.id, pid: child.pid, recordError });
});
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the worker's whole process group: the worker drains, and its runs
// (in sessions of their own) go on; the helper too, until the worker is gone.
process.on('SIGINT', () => {});
`;

export interface SpawnRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Paths: stdin is opened for reading (null: none), stdout and stderr for appending. */
  stdin: string | null;
  stdout: string;
  stderr: string;
  /**
   * A run record the helper writes (temp file, then rename) with the pid added, right after the
   * start: the run must not go on unrecorded while its pid travels back to the worker.
   */
  record: { path: string; fields: Record<string, unknown> } | null;
}

export type SpawnExit =
  | { kind: 'exit'; exitCode: number | null; signal: string | null }
  | { kind: 'spawnError'; message: string }
  /** The helper died before the run ended: the caller finds the exit another way. */
  | { kind: 'lost' }
  /** The helper could not be started at all (so neither was the run): the caller starts the run itself. */
  | { kind: 'unavailable'; message: string };

export interface Spawned {
  /** null when the process could not be started (then `exited` says why). */
  pid: number | null;
  /** Why the helper could not write the run record (the caller writes it itself). */
  recordError?: string;
  exited: Promise<SpawnExit>;
}

interface Pending {
  onPid: (pid: number | null, recordError?: string) => void;
  onExit: (exit: SpawnExit) => void;
}

interface Helper {
  child: ChildProcess;
  /** Runs sent to this helper and not yet ended, by request id. */
  pending: Map<number, Pending>;
}

type HelperMessage =
  | { id: number; pid: number; recordError?: string }
  | { id: number; exit: { code: number | null; signal: string | null } }
  | { id: number; spawnError: string };

let current: Helper | null = null;
let nextId = 0;
let warned = false;

function settle(p: Pending, exit: SpawnExit): void {
  p.onPid(null);
  p.onExit(exit);
}

function helperProcess(): Helper {
  if (current) {
    const { child } = current;
    if (child.exitCode === null && child.signalCode === null && child.connected) return current;
  }
  const env = { ...process.env };
  // A loader the worker was started with (tsx in development) would only slow the helper's start.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--max-old-space-size=64', '-e', HELPER_SOURCE], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env,
  });
  const h: Helper = { child, pending: new Map() };
  child.on('message', (m: HelperMessage) => {
    const p = h.pending.get(m.id);
    if (!p) return;
    if ('pid' in m) p.onPid(m.pid, m.recordError);
    else {
      h.pending.delete(m.id);
      if ('spawnError' in m) settle(p, { kind: 'spawnError', message: m.spawnError });
      else p.onExit({ kind: 'exit', exitCode: m.exit.code, signal: m.exit.signal });
      idle(h);
    }
  });
  const lost = (error?: Error) => {
    if (current === h) current = null;
    // An 'error' before the helper had a pid: it never ran, so neither did anything sent to it.
    const unavailable = error !== undefined && child.pid === undefined;
    const message = `${process.execPath}: ${error?.message ?? ''}`;
    if (unavailable && !warned) {
      warned = true;
      process.stderr.write(
        `loop-station: the helper that starts agents could not start (${message}); this process starts them itself\n`,
      );
    }
    for (const p of h.pending.values()) settle(p, unavailable ? { kind: 'unavailable', message } : { kind: 'lost' });
    h.pending.clear();
  };
  child.on('exit', () => lost());
  // Other errors (a failed send) are the send's to handle.
  child.on('error', (error) => {
    if (child.pid === undefined) lost(error);
  });
  current = h;
  return h;
}

/** With no run pending, the helper keeps no one alive: a worker (or a test) that is done exits, and the helper with it. */
function idle(h: Helper): void {
  if (h.pending.size === 0) {
    h.child.unref();
    h.child.channel?.unref();
  }
}

/**
 * Starts `file args` detached (its own process group and session) through the helper; resolves once
 * it runs, with its pid. With no pid, `exited` says why: it could not start (`spawnError`), there is
 * no helper (`unavailable`), or the helper died before it said (`lost`: the run may have started).
 */
export async function spawnDetached(req: SpawnRequest): Promise<Spawned> {
  const h = helperProcess();
  const id = nextId++;
  const p: Pending = { onPid: () => undefined, onExit: () => undefined };
  const started = new Promise<Pick<Spawned, 'pid' | 'recordError'>>(
    (resolve) => (p.onPid = (pid, recordError) => resolve(recordError === undefined ? { pid } : { pid, recordError })),
  );
  const exited = new Promise<SpawnExit>((resolve) => (p.onExit = resolve));
  h.pending.set(id, p);
  h.child.ref();
  h.child.channel?.ref();
  const written = (error: Error | null) => {
    if (!error || !h.pending.delete(id)) return;
    // A helper that cannot be written to is gone (this process has not yet seen its exit): the
    // next run starts another. Its other runs are settled by its exit.
    if (current === h) current = null;
    h.child.kill('SIGKILL');
    settle(p, { kind: 'lost' });
  };
  try {
    h.child.send({ id, ...req }, written);
  } catch (error) {
    written(error as Error);
  }
  return { ...(await started), exited };
}

/** The helper's pid while it runs (diagnostics and tests); `ps` shows it as `loop-station-spawner`. */
export function helperPid(): number | null {
  return current?.child.pid ?? null;
}
