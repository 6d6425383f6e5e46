import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { runCli, writeToySpec } from './helpers/cli.js';
import { flagsInOrder, runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { useTestWorker } from './helpers/worker.js';

/** Protection by pattern on a real server: what a pattern names is guarded, a pattern naming nothing is refused. */
const worker = useTestWorker();

const read = (root: string, rel: string) => readFile(join(root, rel), 'utf8');
const FIX =
  '  fix: make each protected pattern name files that exist, or remove it (docs/patterns.md); then submit again';

describe('protected patterns', () => {
  test('an executor that edits a file a brace pattern protects is caught in that session: VIOLATION naming it, the session BLOCKED, the file restored', async () => {
    const root = await toyRoot({
      'eval.json': '{"split": "val"}\n',
      'plan.json': JSON.stringify({ edit: { 2: 'eval.json' } }),
    });
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 3 },
      reviewers: [],
      protected: ['eval.{mjs,json}', 'plan.json'],
    });
    const { result } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.history.map((h) => [h.session, h.class, h.best])).toEqual([
      [1, 'promote', 1],
      [2, 'return_to_best', 1],
      [3, 'stop', 2],
    ]);
    expect(await flagsInOrder(root, 2)).toEqual([
      'TOY_EXEC-SESSION002-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION002-EXECUTOR-BLOCKED.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-REPAIRED.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-RUNNING.flag',
      'LOOP_STATION-SESSION002-SUPERVISOR-DONE.flag',
    ]);
    expect(
      await read(root, 'loop_station/flags/session_002/LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag'),
    ).toMatch(/^code: PROTECTED_FILE_CHANGED\nsubject: eval\.json$/m);
    expect(await read(root, 'eval.json')).toBe('{"split": "val"}\n');
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('a protected pattern that matches no file stops the loop at frame lock, before anything is written', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, { reviewers: [], protected: ['eval.mjs', 'eval.{py,jsn}'] });
    const workflowId = `loop-unmatched-${process.pid}-${Date.now()}`;
    const failure = await runLoop(worker.client, worker.taskQueue, config, workflowId).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((await readdir(root)).sort()).toEqual(['eval.mjs', 'work']);
    // `watch` (as `submit --wait` does) says what the worker found and how to fix it, under its progress line.
    const watched = await runCli(['watch', workflowId]);
    expect([watched.code, watched.stderr.slice(watched.stderr.indexOf('loop-station: '))]).toEqual([
      1,
      `loop-station: loop ${workflowId} failed: protected.1: "eval.{py,jsn}" matches no file under ${root}\n${FIX}\n`,
    ]);
  });

  test('submit --wait refuses a protected pattern that matches no file (exit 1, nothing started) and warns of a workspace pattern that matches none yet', async () => {
    const root = await toyRoot();
    const refused = await writeToySpec(root, worker.taskQueue, { protected: ['eval.mjs', 'evaluator/**'] });
    const res = await runCli(['submit', refused.file, '--wait']);
    expect([res.code, res.stderr]).toEqual([
      1,
      `loop-station: loop.yaml: protected.1: "evaluator/**" matches no file under ${root}\n${FIX} (nothing was started)\n`,
    ]);
    await expect(worker.client.workflow.getHandle(`loop-${refused.name}`).describe()).rejects.toThrow(/not found/);

    const warned = await writeToySpec(root, worker.taskQueue, {
      budget: { sessions: 1, perRun: '30s' },
      workspace: ['work/**', 'gen/*.txt'],
    });
    const ok = await runCli(['submit', warned.file, '--wait']);
    expect(ok.code).toBe(0);
    const warning = `workspace.1: "gen/*.txt" matches no file under ${root} yet: fine if the executor creates these files, else correct the pattern`;
    expect(ok.stderr.split('\n')[0]).toBe(`warning: loop.yaml: ${warning}`);
    // The worker found the same and told the agents in the frame.
    expect((await read(root, 'loop_station/FRAME.md')).split('\n')).toContain(`- ${warning}`);
  });

  test('patterns written with ./ as a shell names files protect them: the edit is caught and undone', async () => {
    const root = await toyRoot({ 'plan.json': JSON.stringify({ touch: [2] }) });
    const spec = await writeToySpec(root, worker.taskQueue, {
      budget: { sessions: 2, perRun: '30s' },
      reviewers: [],
      workspace: ['./work/'],
      protected: ['./eval.mjs', './plan.json'],
    });
    const res = await runCli(['submit', spec.file, '--wait']);
    expect([res.code, res.stderr.split('\n').filter((l) => l.startsWith('warning'))]).toEqual([0, []]);
    expect(await read(root, 'loop_station/FRAME.md')).toMatch(/eval\.mjs/);
    expect(
      await read(root, 'loop_station/flags/session_002/LOOP_STATION-SESSION002-SUPERVISOR-VIOLATION.flag'),
    ).toMatch(/^code: PROTECTED_FILE_CHANGED\nsubject: eval\.mjs$/m);
    expect(await read(root, 'eval.mjs')).not.toContain('// edited');
  });
});
