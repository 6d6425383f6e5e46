import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runShellAgent } from '../activities/agents/shell.js';
import { isAlive } from '../activities/agents/process-tree.js';
import type { RunAgentInput } from '../activities/agents/run-agent.js';
import type { AgentConfigOf } from '../protocol/schemas/loop-config.js';
import { cancelPendingRuns, mockActivity, runInput } from './helpers/agent-runs.js';
import { testdir } from './helpers/testdir.js';

/**
 * The run mechanics every adapter shares, through the shell adapter and real processes: what an
 * agent leaves running, stalls, file activity, the failure a command states, appended logs.
 */

afterEach(cancelPendingRuns);

const RUN = 'loop_station/sessions/session_001/runs/SH-EXECUTOR';

function shell(command: string, fields: { idleTimeoutMs?: number | null; waitForChildren?: boolean } = {}) {
  return {
    token: 'SH',
    kind: 'shell',
    model: null,
    command,
    required: true,
    timeoutMs: null,
    env: [],
    instructions: null,
    options: {},
    ...fields,
  } as AgentConfigOf<'shell'>;
}

async function run(command: string, overrides: Partial<RunAgentInput> = {}, activityId?: string) {
  const root = (overrides.root as string | undefined) ?? (await testdir());
  const input = runInput(root, shell(command), { timeoutMs: 60_000, ...overrides });
  const result = await mockActivity(undefined, activityId).run(runShellAgent, input);
  return { root, result };
}

describe('what an agent leaves running', () => {
  test('a job under nohup, one in a session of its own, and one re-parented to init are listed and killed', async () => {
    const { root, result } = await run(
      [
        'nohup sleep 601 >/dev/null 2>&1 &',
        // Its own session, and its parent gone: only the run's marker variable still finds it.
        "(setsid sh -c 'echo $$ > detached.pid; exec sleep 602' >/dev/null 2>&1 &)",
        'while [ ! -s detached.pid ]; do :; done',
        'echo done > report.md',
      ].join('\n'),
    );
    const detached = Number(await readFile(join(root, 'detached.pid'), 'utf8'));
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(result.leftovers).toEqual(
      expect.arrayContaining([
        { pid: expect.any(Number), command: 'sleep 601', waitedFor: false },
        { pid: detached, command: 'sleep 602', waitedFor: false },
      ]),
    );
    expect(result.leftovers!.filter((l) => isAlive(l.pid))).toEqual([]);
    const record = JSON.parse(await readFile(join(root, `${RUN}.json`), 'utf8')) as { leftovers: unknown[] };
    expect(record.leftovers).toEqual(result.leftovers);
  });

  test('with waitForChildren the activity returns only once the job has ended, heartbeating meanwhile', async () => {
    const root = await testdir();
    const input = runInput(
      root,
      shell("nohup sh -c 'sleep 2; echo done > job.txt' >/dev/null 2>&1 &\necho started > report.md"),
      { waitForChildren: true, timeoutMs: 60_000 },
    );
    const { run: start, heartbeats } = mockActivity();
    const result = await start(runShellAgent, input);
    expect(await readFile(join(root, 'job.txt'), 'utf8')).toBe('done\n');
    expect(result.leftovers).toContainEqual({
      pid: expect.any(Number),
      command: 'sh -c sleep 2; echo done > job.txt',
      waitedFor: true,
    });
    // The command itself ended at once; the heartbeats went on while the job ran.
    expect(heartbeats.at(-1)!.elapsedMs).toBeGreaterThanOrEqual(1500);
  });

  test('a job still running at the time limit is killed, and the run is a timeout', async () => {
    const { result } = await run('nohup sleep 603 >/dev/null 2>&1 &\necho started > report.md', {
      waitForChildren: true,
      timeoutMs: 2000,
    });
    expect(result).toMatchObject({ status: 'timeout' });
    expect(result.leftovers).toEqual([{ pid: expect.any(Number), command: 'sleep 603', waitedFor: true }]);
    expect(isAlive(result.leftovers![0]!.pid)).toBe(false);
  });

  test('a leftover is named by what it runs at its latest sighting, not by the shell that started it', async () => {
    // The job is a shell for its first 0.3 s, then sleep 604 (the same pid): the first listing sees the shell.
    const { result } = await run("sh -c 'sleep 0.3; exec sleep 604' >/dev/null 2>&1 &\necho started > report.md", {
      waitForChildren: true,
      timeoutMs: 2000,
    });
    expect(result).toMatchObject({ status: 'timeout' });
    const job = result.leftovers!.find((l) => l.command.includes('604'));
    expect(job).toEqual({ pid: expect.any(Number), command: 'sleep 604', waitedFor: true });
    expect(isAlive(job!.pid)).toBe(false);
  });
});

describe('stalls', () => {
  test('a command silent for longer than its idle timeout is killed within the timeout + 5 s', async () => {
    const started = Date.now();
    const { result } = await run('echo working\nexec sleep 300', { idleTimeoutMs: 2000 });
    expect(Date.now() - started).toBeLessThan(2000 + 5000);
    expect(result).toMatchObject({
      status: 'timeout',
      failure: {
        kind: 'stall',
        code: 'idle',
        message: expect.stringMatching(/^no output and no file change for \d+s/),
      },
    });
  });

  test('a silent command that keeps changing files under the root is not stalled', async () => {
    const root = await testdir();
    await mkdir(join(root, 'work'));
    const { result } = await run('for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 0.3; touch work/step-$i; done', {
      root,
      idleTimeoutMs: 2000,
    });
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(result.failure ?? null).toBeNull();
  });

  test('shell agents have no idle timeout unless their spec sets one', async () => {
    const { result } = await run('sleep 3; echo late > report.md');
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 });
  });
});

describe('failures a shell agent states', () => {
  test('a usage limit written to LOOP_STATION_FAILURE_FILE becomes the run status, with its reset', async () => {
    const { result } = await run(
      `printf '{"kind":"usage_limit","code":"gpu_quota","message":"GPU hours used up","resetAt":"2027-01-15T08:00:00Z"}' > "$LOOP_STATION_FAILURE_FILE"; exit 1`,
    );
    expect(result).toMatchObject({
      status: 'usage_limit',
      resetAt: '2027-01-15T08:00:00.000Z',
      failure: { kind: 'usage_limit', code: 'gpu_quota', message: 'GPU hours used up', fix: null },
    });
  });

  test('exit 75 is transient; another code is the agent failing; a bad failure file names itself and the fix', async () => {
    expect((await run('exit 75')).result.failure).toMatchObject({ kind: 'transient', code: 'exit_75' });
    expect((await run('exit 3')).result.failure).toMatchObject({
      kind: 'agent',
      code: 'exit',
      message: 'exited with code 3',
    });
    const bad = await run(`echo '{"kind":"maybe"}' > "$LOOP_STATION_FAILURE_FILE"; exit 1`);
    expect(bad.result.failure).toMatchObject({
      kind: 'agent',
      code: 'failure_file_invalid',
      message: expect.stringMatching(/^loop_station\/sessions\/session_001\/runs\/SH-EXECUTOR\.failure\.json: kind: /),
      fix: expect.stringContaining('write one JSON object'),
    });
  });
});

test('a second run of the same role appends to the log below a separator; the first run is kept', async () => {
  const { root } = await run('echo first run');
  await run('echo second run', { root }, 'a-later-activity');
  const log = await readFile(join(root, `${RUN}.log`), 'utf8');
  expect(log).toMatch(/^first run\n--- loop-station: \S+ run ---\nsecond run\n$/);
});
