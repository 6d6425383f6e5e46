import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type DurableRun, findPriorRun, launch, type LaunchOptions } from '../../activities/agents/launch.js';
import {
  commandLine,
  commandLineHas,
  descendantsOf,
  groupMembers,
  groupOrSessionMembers,
  isAlive,
  killTree,
  processTable,
} from '../../activities/agents/process-tree.js';
import { testdir } from '../helpers/testdir.js';

/**
 * Process control without /proc (macOS): the `ps` way of reading the process table, forced on
 * Linux with LOOP_STATION_PROCESS_TABLE=ps. It must find a tree the way /proc does, kill all of
 * it (tools in sessions of their own included), and let a retried attempt adopt a run a dead
 * worker left going instead of starting a second agent beside it.
 */

beforeEach(() => {
  vi.stubEnv('LOOP_STATION_PROCESS_TABLE', 'ps');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A detached shell with a child in its own session and a plain background child: an agent and its tools. */
function startTree(): number {
  const child = spawn('/bin/sh', ['-c', 'setsid sleep 301 & sleep 302 & wait'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

const withTable = <T>(table: 'ps' | 'proc', read: () => T): T => {
  vi.stubEnv('LOOP_STATION_PROCESS_TABLE', table);
  try {
    return read();
  } finally {
    vi.stubEnv('LOOP_STATION_PROCESS_TABLE', 'ps');
  }
};

describe('the ps process table', () => {
  test('is chosen when forced, and reads the same tree, group and command line as /proc', async () => {
    expect(processTable()).toBe('ps');
    const pid = startTree();
    try {
      // Settled: both children have become sleep. Before its exec, the one `setsid` starts may not
      // have left the shell's group yet, and the group would count three.
      await expect
        .poll(() => withTable('proc', () => descendantsOf(pid).map((d) => commandLine(d)?.[0] ?? '')).sort(), {
          timeout: 5000,
        })
        .toEqual(['sleep', 'sleep']);
      const read = () => ({
        tree: descendantsOf(pid).sort(),
        group: groupMembers(pid).sort(),
        // The tool in a session of its own is neither: only the leader and its plain child.
        groupOrSession: groupOrSessionMembers(pid).sort(),
        // ps gives one line (arguments with spaces are split); /proc the arguments themselves.
        line: commandLine(pid)?.join(' '),
      });
      const byPs = read();
      expect(byPs).toEqual(withTable('proc', read));
      expect(byPs.groupOrSession).toEqual(byPs.group);
      expect(byPs.group).toHaveLength(2);
      expect(byPs.line).toBe('/bin/sh -c setsid sleep 301 & sleep 302 & wait');
      expect(commandLineHas(pid, 'wait')).toBe(true);
      expect(commandLineHas(pid, 'wai')).toBe(false);
    } finally {
      expect((await killTree(pid, 500)).survivors).toEqual([]);
    }
  });

  test('killTree ends the leader, its group and the tool that left it for a session of its own', async () => {
    const pid = startTree();
    await expect.poll(() => descendantsOf(pid).length, { timeout: 5000 }).toBe(2);
    const tree = [pid, ...descendantsOf(pid)];
    const { survivors } = await killTree(pid, 500);
    expect(survivors).toEqual([]);
    expect(tree.filter((p) => isAlive(p))).toEqual([]);
    // And /proc agrees that they are gone.
    expect(withTable('proc', () => tree.filter((p) => isAlive(p)))).toEqual([]);
  });

  test('a retried attempt adopts the run a dead worker left going, and no second run starts', async () => {
    const dir = await testdir();
    const run = (attempt: number): DurableRun => ({
      base: join(dir, 'EXEC-EXECUTOR'),
      owner: 'loop-x/run-1/7',
      attempt,
    });
    const options = (attempt: number, extra: Partial<LaunchOptions> = {}): LaunchOptions => ({
      command: 'echo run >> runs.txt; sleep 1.5; echo finished',
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdoutFile: join(dir, 'out.log'),
      stderrFile: join(dir, 'err.log'),
      timeoutMs: 30_000,
      durable: run(attempt),
      ...extra,
    });
    // Attempt 1 starts the run; its worker "dies": nobody awaits it any more.
    void launch(options(1, { cancelSignal: new AbortController().signal }));
    await expect.poll(() => findPriorRun(run(2))?.kind, { timeout: 5000 }).toBe('running');
    const prior = findPriorRun(run(2));
    const adopted = await launch(options(2, { adopt: prior }));
    expect(adopted).toMatchObject({ status: 'exited', exitCode: 0, adopted: 'running', pid: prior!.pid });
    expect((await readFile(join(dir, 'runs.txt'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
  });

  test('a recycled pid whose command line is not our wrapper is not adopted', async () => {
    const dir = await testdir();
    const run: DurableRun = { base: join(dir, 'EXEC-EXECUTOR'), owner: 'o', attempt: 1 };
    const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    other.unref();
    await writeFile(
      `${run.base}.run.json`,
      JSON.stringify({ owner: 'o', attempt: 1, host: hostname(), pid: other.pid, startedMs: 0 }),
    );
    expect(findPriorRun({ ...run, attempt: 2 })).toBeNull();
    await killTree(other.pid!, 200);
  });
});
