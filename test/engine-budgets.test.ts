import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { isAlive } from '../activities/agents/process-tree.js';
import { flagsInOrder, node, runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

/**
 * The statuses of a loop's runs, sorted, as the server's list shows them. The list is read from
 * visibility, which the server updates after the run closes: right after a result it may still say
 * RUNNING, hence the poll.
 */
async function runStatuses(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const wf of worker.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push(wf.status.name);
  return runs.sort();
}
const VISIBILITY = { timeout: 10_000, interval: 200 };

const read = (root: string, rel: string) => readFile(join(root, rel), 'utf8');

describe('budgets and limits', () => {
  test('the wall-clock budget cancels the running executor and ends the loop with budget_wall_clock', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ sleep: { 2: 60_000 } }) });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 5, wallClock: '4s', perRun: '2m' },
      reviewers: [],
    });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.stopReason).toBe('budget_wall_clock');
    expect(result.history.map((h) => [h.session, h.class])).toEqual([
      [1, 'promote'],
      [2, 'stop'],
    ]);
    const blocked = await read(root, 'loop_station/flags/session_002/TOY_EXEC-SESSION002-EXECUTOR-BLOCKED.flag');
    expect(blocked).toMatch(/^reason: cancelled: budget_wall_clock$/m);
    expect(await read(root, 'loop_station/sessions/session_002/decision.md')).toMatch(
      /^stop_reason: budget_wall_clock$/m,
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('a hung executor is stopped at the per-run limit: EXECUTOR-TIMEOUT, its whole process tree gone', async () => {
    const root = await toyRoot();
    // Outside the root: a file the agent writes in it would be a footprint violation of its own.
    const pidFile = join(await testdir(), 'tree.json');
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1, perRun: '2s' },
      reviewers: [],
      executor: { name: 'hung', agent: 'shell', command: node('spawn-tree.mjs', pidFile) },
    });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: null, best: 0 }]);
    const tree = JSON.parse(await readFile(pidFile, 'utf8')) as Record<string, number>;
    expect(Object.values(tree).filter(isAlive)).toEqual([]);
    expect(await flagsInOrder(root, 1)).toEqual([
      'HUNG-SESSION001-EXECUTOR-RUNNING.flag',
      'HUNG-SESSION001-EXECUTOR-TIMEOUT.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-RUNNING.flag',
      'LOOP_STATION-SESSION001-SUPERVISOR-DONE.flag',
    ]);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('an executor that edits the protected evaluator is caught: VIOLATION, byte-exact restore, no promotion', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ touch: [2], 2: 50 }) });
    const original = await read(root, 'eval.mjs');
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 3 }, reviewers: [] });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'promote', 1],
      [2, 'return_to_best', 1],
      [3, 'stop', 2],
    ]);
    expect(await read(root, 'eval.mjs')).toBe(original);
    const flags = await flagsInOrder(root, 2);
    expect(flags).toEqual([
      'TOY_EXEC-SESSION002-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION002-EXECUTOR-BLOCKED.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-REPAIRED.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-RUNNING.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-DONE.flag',
    ]);
    expect(
      await read(root, 'loop_station/flags/session_002/LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag'),
    ).toMatch(/^code: PROTECTED_FILE_CHANGED\nsubject: eval\.mjs$/m);
    // Session 3 opened after return_to_best: x was restored to session 1's 1 before it ran (1 + 1 = 2).
    expect(await read(root, 'work/x.txt')).toBe('2\n');
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('return_to_best restores the best variant byte for byte and records it', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 1: 10, 2: 3 }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 3 }, reviewers: [], workspace: ['work/**'] });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.history.map((h) => h.class)).toEqual(['promote', 'return_to_best', 'stop']);
    const restore = JSON.parse(await read(root, 'loop_station/sessions/session_003/restore_manifest.json')) as {
      edited_files: { path: string; sha256_after_edit: string }[];
      restore_verified: boolean;
    };
    expect(restore.restore_verified).toBe(true);
    // The workspace held session 1's bytes again when session 3 began: its executor started from x = 10.
    expect(restore.edited_files.map((f) => [f.path, f.sha256_after_edit])).toEqual([
      ['work/x.txt', createHash('sha256').update('10\n').digest('hex')],
    ]);
    expect(await read(root, 'loop_station/sessions/session_003/executor_report.md')).toMatch(/^x: 10 -> 11$/m);
  });

  test('a restore that does not verify stops the loop with protocol_violation before the executor runs', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 1: 10, 2: 3, sleep: { 2: 1000 } }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 4 }, reviewers: [], workspace: ['work/**'] });
    const running = runLoop(worker.client, worker.taskQueue, config);
    // Someone edits the best variant's stored copy: restoring it can no longer give the recorded bytes.
    const copy = join(root, 'loop_station/code_variants/session_001/candidate/files/work/x.txt');
    for (
      let i = 0;
      i < 300 &&
      !(await readFile(copy).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    await writeFile(copy, '99\n');
    const { result } = await running;
    expect([result.stopReason, result.history.map((h) => h.class)]).toEqual([
      'protocol_violation',
      ['promote', 'return_to_best', 'stop'],
    ]);
    expect(await read(root, 'loop_station/flags/session_003/TOY_EXEC-SESSION003-EXECUTOR-BLOCKED.flag')).toMatch(
      /^reason: cancelled: protocol_violation$/m,
    );
    const decision = await read(root, 'loop_station/sessions/session_003/decision.md');
    expect(decision).toMatch(/^stop_reason: protocol_violation$/m);
    expect(decision).toMatch(
      /^reason: the restore of loop_station\/code_variants\/session_001\/candidate did not verify: the workspace is not what the protocol needs$/m,
    );
    expect(await readdir(join(root, 'loop_station/sessions/session_003'))).not.toContain('executor_report.md');
  });

  test('a loop continues as new every N sessions, carrying its state across runs', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 5 }, reviewers: [], continueAsNewEvery: 2 });
    const { workflowId, result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'promote', 1],
      [2, 'promote', 2],
      [3, 'promote', 3],
      [4, 'promote', 4],
      [5, 'stop', 5],
    ]);
    await expect
      .poll(() => runStatuses(workflowId), VISIBILITY)
      .toEqual(['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);
    expect((await readdir(join(root, 'loop_station/sessions'))).sort()).toEqual([
      'session_001',
      'session_002',
      'session_003',
      'session_004',
      'session_005',
    ]);
  });

  test('a long loop finishes on the default cadence: 51 sessions, continued as new after 25 and 50', async () => {
    // Longer loops are the \`long\` benchmark's (1,000 sessions); two turns of the default cadence are what runs differ in.
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 51 }, reviewers: [] });
    const { workflowId, result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.sessions).toBe(51);
    expect(result.best).toEqual({ session: 51, value: 51 });
    await expect
      .poll(() => runStatuses(workflowId), VISIBILITY)
      .toEqual(['COMPLETED', 'CONTINUED_AS_NEW', 'CONTINUED_AS_NEW']);
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  }, 300_000);
});
