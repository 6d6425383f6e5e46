import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, expect, test } from 'vitest';
import { isAlive, processesWithArg, runMembers, signal, startTicks } from '../../activities/agents/process-tree.js';

/**
 * What a run left (launch.ts findLeftovers) from one read of /proc: its group and session, and
 * processes carrying its marker. Only processes younger than the run's leader can carry the marker,
 * so older ones are not read; real processes, real /proc.
 */

const started: ChildProcess[] = [];
const marker = { name: 'LOOP_STATION_RUN_MARK', value: `t-${process.pid}` };
afterEach(() => {
  // The job that left its session is in no group of ours: it is found by its marker.
  const marked = runMembers(-1, marker);
  for (const c of started.splice(0)) if (c.pid && isAlive(c.pid)) signal(-c.pid, 'SIGKILL');
  for (const p of marked) signal(p, 'SIGKILL');
});

const start = (script: string, env: Record<string, string> = {}) => {
  const child = spawn('/bin/sh', ['-c', script], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  started.push(child);
  return child.pid!;
};

test('a marked process in a session of its own is found; one older than the run is not read, and found without `since`', async () => {
  // Older than the run: carries the same marker (a stale process from before), started first.
  const old = start('exec sleep 301', { [marker.name]: marker.value });
  await expect.poll(() => startTicks(old), { timeout: 5000 }).toBeDefined();
  // The table counts in ticks of 10 ms: the run starts a few ticks later.
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The run: a leader and a job that leaves its group and session (setsid), carrying the marker.
  const leader = start('setsid sleep 302 & exec sleep 303', { [marker.name]: marker.value });
  const since = startTicks(leader);
  expect(since).toBeGreaterThan(startTicks(old)!);
  await expect.poll(() => runMembers(leader, marker, since).length, { timeout: 5000 }).toBe(2);
  const found = runMembers(leader, marker, since);
  expect(found).toContain(leader);
  expect(found).not.toContain(old);
  // Without the run's start every process is read: the old one carries the marker too.
  expect(runMembers(leader, marker)).toContain(old);
});

test('a process is found by one of its arguments (how a run whose helper died unheard is recognized)', async () => {
  const exitFile = `/tmp/run-members-${process.pid}.exit`;
  // As launch.ts's wrapper names its exit file: an argument after the script.
  const leader = start(`exec /bin/sh -c 'sleep 304; :' loop-station-run ${exitFile}`);
  await expect.poll(() => processesWithArg(exitFile), { timeout: 5000 }).toEqual([leader]);
  // A prefix of an argument is not the argument.
  expect(processesWithArg(exitFile.slice(0, -1))).toEqual([]);
});
