import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { type DurableRun, findPriorRun, launch, type LaunchOptions } from '../../activities/agents/launch.js';
import { commandText, isAlive } from '../../activities/agents/process-tree.js';
import { helperPid } from '../../activities/agents/spawner.js';
import { testdir } from '../helpers/testdir.js';

/**
 * Durable runs (launch.ts DurableRun) with real processes and files, no Temporal: what a retried
 * activity attempt finds after its predecessor's worker died, and who may stop an adopted run.
 * The command counts its runs in runs.txt, so a second start would show.
 */

const COMMAND = 'echo run >> runs.txt; sleep 1.5; echo finished';

async function setup() {
  const dir = await testdir();
  const run = (attempt: number): DurableRun => ({ base: join(dir, 'EXEC-EXECUTOR'), owner: 'loop-x/run-1/7', attempt });
  const options = (attempt: number, extra: Partial<LaunchOptions> = {}): LaunchOptions => ({
    command: COMMAND,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdoutFile: join(dir, 'out.log'),
    stderrFile: join(dir, 'err.log'),
    timeoutMs: 30_000,
    durable: run(attempt),
    ...extra,
  });
  const runs = async () => (await readFile(join(dir, 'runs.txt'), 'utf8')).split('\n').filter(Boolean).length;
  return { dir, run, options, runs };
}

describe('durable runs', () => {
  test('a later attempt adopts a run that is still going and gets its exit status', async () => {
    const { run, options, runs } = await setup();
    const first = new AbortController();
    // Attempt 1 starts the run; its worker "dies": nobody awaits it any more.
    void launch(options(1, { cancelSignal: first.signal }));
    await expect.poll(() => findPriorRun(run(2))?.kind, { timeout: 5000 }).toBe('running');
    const prior = findPriorRun(run(2));
    const adopted = await launch(options(2, { adopt: prior }));
    expect(adopted).toMatchObject({ status: 'exited', exitCode: 0, adopted: 'running', pid: prior!.pid });
    expect(await runs()).toBe(1);
  });

  test('a cancelled earlier attempt leaves alone the run a later attempt adopted', async () => {
    const { run, options, runs } = await setup();
    const first = new AbortController();
    const stale = launch(options(1, { cancelSignal: first.signal }));
    await expect.poll(() => findPriorRun(run(2))?.kind, { timeout: 5000 }).toBe('running');
    const adopting = launch(options(2, { adopt: findPriorRun(run(2)) }));
    // Attempt 1 learns it timed out (its heartbeat was late) and is cancelled.
    first.abort();
    const cancelled = await stale;
    expect(cancelled.status).toBe('cancelled');
    expect(isAlive(cancelled.pid!)).toBe(true);
    expect(await adopting).toMatchObject({ status: 'exited', exitCode: 0, adopted: 'running' });
    expect(await runs()).toBe(1);
  });

  test('the attempt that owns the run still stops it on cancel', async () => {
    const { run, options } = await setup();
    const owner = new AbortController();
    const running = launch(options(1, { cancelSignal: owner.signal }));
    await expect.poll(() => findPriorRun(run(1))?.kind, { timeout: 5000 }).toBe('running');
    owner.abort();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(isAlive(result.pid!)).toBe(false);
  });

  test('a run that ended unobserved is taken as ended: no second start', async () => {
    const { dir, run, options, runs } = await setup();
    await launch(options(1));
    expect(findPriorRun(run(2))).toMatchObject({ kind: 'finished', exitCode: 0 });
    const adopted = await launch(options(2, { adopt: findPriorRun(run(2)) }));
    expect(adopted).toMatchObject({ status: 'exited', exitCode: 0, adopted: 'finished' });
    expect(await runs()).toBe(1);
    expect(await readFile(join(dir, 'out.log'), 'utf8')).toBe('finished\n');
  });

  test('the exit status is written in place by the wrapper and taken only whole, with its newline', async () => {
    const { dir, run, options } = await setup();
    await launch(options(1, { command: 'exit 42' }));
    const exitFile = join(dir, 'EXEC-EXECUTOR.exit');
    expect(await readFile(exitFile, 'utf8')).toBe('42\n');
    // No temporary file is left beside it.
    expect((await readdir(dir)).filter((name) => name.startsWith('EXEC-EXECUTOR.exit'))).toEqual([
      'EXEC-EXECUTOR.exit',
    ]);
    expect(findPriorRun(run(2))).toMatchObject({ kind: 'finished', exitCode: 42 });
    // As a reader could find it mid-write: empty, or without its newline. Neither is an exit status.
    for (const partial of ['', '4']) {
      await writeFile(exitFile, partial);
      expect(findPriorRun(run(2))).toBeNull();
    }
  });

  test('another activity, or a record that does not parse, adopts nothing', async () => {
    const { dir, run, options } = await setup();
    await launch(options(1));
    expect(findPriorRun({ ...run(2), owner: 'loop-x/run-1/8' })).toBeNull();
    await writeFile(join(dir, 'EXEC-EXECUTOR.run.json'), '{"owner": 1}');
    expect(findPriorRun(run(2))).toBeNull();
  });

  test('runs start from a helper process; if it dies mid-run the run goes on and its exit status still comes back', async () => {
    const { run, options, runs } = await setup();
    const running = launch(options(1, { command: 'echo run >> runs.txt; sleep 1; exit 7' }));
    await expect.poll(() => findPriorRun(run(1))?.kind, { timeout: 5000 }).toBe('running');
    const helper = helperPid();
    expect(helper).not.toBeNull();
    // What `ps` shows for it.
    expect(commandText(helper!)).toBe('loop-station-spawner');
    // A Ctrl-C to the worker's process group leaves it be: the worker decides when to go.
    process.kill(helper!, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isAlive(helper!)).toBe(true);
    // The run is not the helper's process group: killing the helper leaves it running.
    process.kill(helper!, 'SIGKILL');
    await expect.poll(() => isAlive(helper!), { timeout: 5000 }).toBe(false);
    expect(isAlive(findPriorRun(run(1))!.pid)).toBe(true);
    expect(await running).toMatchObject({ status: 'exited', exitCode: 7 });
    expect(await runs()).toBe(1);
    // The next run starts a new helper.
    expect(await launch(options(2, { command: 'exit 3' }))).toMatchObject({ status: 'exited', exitCode: 3 });
    expect(helperPid()).not.toBe(helper);
  });

  test('a run that cannot start (its folder is gone) is a spawn failure that says why', async () => {
    const { dir, options } = await setup();
    const result = await launch(options(1, { cwd: join(dir, 'missing') }));
    expect(result).toMatchObject({ status: 'spawn_failed', exitCode: null });
    expect(result.spawnError).toMatch(/ENOENT/);
  });

  test('the helper ends with the process that started it, and keeps no finished process waiting', () => {
    // A process that launches one durable run and exits at once: it must not hang on the helper.
    const script = `
      import { launch } from './activities/agents/launch.ts';
      import { helperPid } from './activities/agents/spawner.ts';
      import { mkdtempSync, rmSync } from 'node:fs';
      import { join } from 'node:path';
      import { tmpdir } from 'node:os';
      const d = mkdtempSync(join(tmpdir(), 'ls-helper-'));
      const r = await launch({ command: 'exit 0', cwd: d, env: {}, stdoutFile: join(d, 'o'), stderrFile: join(d, 'e'), timeoutMs: 10000, durable: { base: join(d, 'X'), owner: 'o', attempt: 1 } });
      rmSync(d, { recursive: true });
      process.stdout.write(JSON.stringify({ helper: helperPid(), status: r.status }));
    `;
    const out = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 30_000,
      }),
    ) as { helper: number; status: string };
    expect(out.status).toBe('exited');
    expect(out.helper).toBeGreaterThan(0);
    return expect.poll(() => isAlive(out.helper), { timeout: 5000 }).toBe(false);
  });

  test('where the helper cannot start at all, runs start from the worker itself', async () => {
    const { options, runs } = await setup();
    // The helper is started with this process's node: one that is gone cannot start it.
    const running = helperPid();
    if (running !== null) {
      process.kill(running, 'SIGKILL');
      await expect.poll(() => isAlive(running), { timeout: 5000 }).toBe(false);
    }
    const execPath = process.execPath;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.execPath = '/nonexistent/node';
    try {
      const result = await launch(options(1, { command: 'echo run >> runs.txt; exit 4' }));
      expect(result).toMatchObject({ status: 'exited', exitCode: 4 });
      expect(await runs()).toBe(1);
      expect(stderr.mock.calls.map(([text]) => String(text)).join('')).toMatch(/could not start.*starts them itself/);
    } finally {
      process.execPath = execPath;
      stderr.mockRestore();
    }
    // With node back, the next run goes through a helper again.
    expect(await launch(options(2, { command: 'exit 0' }))).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(helperPid()).not.toBeNull();
    expect(isAlive(helperPid()!)).toBe(true);
  });
});
