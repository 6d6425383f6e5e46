import { readdirSync, readFileSync } from 'node:fs';
import { statFields } from '../../activities/agents/process-tree.js';

/**
 * Where a benchmark's CPU goes, from /proc (Linux): the server process, and this process's threads
 * by kind. An in-process worker's threads all read `node` in /proc except sdk-core's, so the
 * workflow threads are told apart as the `node` threads that a worker's start created
 * (`threadIds()` before and after). Times are in ms, at the kernel's 10 ms tick.
 */

const TICK_MS = 10;

/** utime + stime (and with `children`, cutime + cstime: reaped children) of a /proc stat file, in ms; 0 once gone. */
function statCpuMs(path: string, children = false): number {
  try {
    const f = statFields(path);
    // Fields 14–17 of stat: utime, stime, cutime, cstime.
    const own = Number(f[11]) + Number(f[12]);
    return (children ? own + Number(f[13]) + Number(f[14]) : own) * TICK_MS;
  } catch {
    return 0;
  }
}

const threadName = (tid: string): string => {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** This process's thread ids now. */
export const threadIds = (): Set<string> => new Set(readdirSync('/proc/self/task'));

export interface CpuSample {
  /** The Temporal server process, all its threads. */
  server: number;
  /** This process's main thread: activities, local activities, the SDK's bridge, the benchmark itself. */
  main: number;
  /** The workflow threads (the threads given as such). */
  workflow: number;
  /** sdk-core's threads (`tokio-runtime-w…` and the like: polling, history, gRPC). */
  core: number;
  /** Every other thread: libuv's pool (file I/O, fsync) and V8's helpers (GC, compiler). */
  pool: number;
  /** The agent-starting helper and every process it reaped: the agents and their wrappers. */
  agents: number;
}

/**
 * A sample as taken: with the server's figure read again after the threads'. cpuPer counts the
 * server from a sample's first reading to the next sample's last, so its window holds the threads'
 * (exactly, when the server is this very process).
 */
export interface CpuReading extends CpuSample {
  serverEnd: number;
}

export function sampleCpu(
  serverPid: number,
  workflowThreads: ReadonlySet<string>,
  helperPid: number | null,
): CpuReading {
  const sample: CpuReading = {
    server: statCpuMs(`/proc/${serverPid}/stat`),
    main: 0,
    workflow: 0,
    core: 0,
    pool: 0,
    agents: helperPid === null ? 0 : statCpuMs(`/proc/${helperPid}/stat`, true),
    serverEnd: 0,
  };
  const self = String(process.pid);
  for (const tid of threadIds()) {
    const ms = statCpuMs(`/proc/self/task/${tid}/stat`);
    if (tid === self) sample.main += ms;
    else if (workflowThreads.has(tid)) sample.workflow += ms;
    else if (threadName(tid) !== 'node') sample.core += ms;
    else sample.pool += ms;
  }
  sample.serverEnd = statCpuMs(`/proc/${serverPid}/stat`);
  return sample;
}

/** `after − before`, per key, divided by `per`. */
export function cpuPer(before: CpuReading, after: CpuReading, per: number): CpuSample {
  const d = (k: keyof CpuSample) => (after[k] - before[k]) / per;
  return {
    server: (after.serverEnd - before.server) / per,
    main: d('main'),
    workflow: d('workflow'),
    core: d('core'),
    pool: d('pool'),
    agents: d('agents'),
  };
}
